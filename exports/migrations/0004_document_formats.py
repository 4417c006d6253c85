# The searchable PDF, hOCR and ALTO exports (documents/).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('exports', '0003_verbose_names'),
    ]

    operations = [
        migrations.AlterField(
            model_name='export',
            name='export_format',
            field=models.CharField(choices=[('json', 'JSON'), ('csv', 'CSV'), ('txt', '纯文本'), ('pdf', '可检索 PDF'), ('hocr', 'hOCR'), ('alto', 'ALTO XML')], max_length=10, verbose_name='格式'),
        ),
    ]
