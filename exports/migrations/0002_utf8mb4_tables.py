"""utf8mb4 for the batch tables on MySQL/MariaDB, whatever the database's default character set was when
it was created (Chinese file names and text need 4-byte UTF-8). Nothing to do on SQLite."""

from django.db import migrations

TABLES = ["books", "batch_tasks", "ocr_results", "exports"]


def to_utf8mb4(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0001_initial"),
        ("batches", "0001_initial"),
        ("exports", "0001_initial"),
    ]

    operations = [migrations.RunPython(to_utf8mb4, migrations.RunPython.noop)]
