"""The admin's index: sections named in Chinese, no empty Celery result sections."""

import pytest

pytestmark = pytest.mark.django_db


def test_admin_index_names_its_sections_in_chinese(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-12345678"))
    html = client.get("/admin/").content.decode()
    for section in ("书籍", "批量扫描", "导出", "API 令牌", "管理后台"):
        assert section in html, section
    for absent in ("Celery Results", "CELERY RESULTS", "django_celery_results", "Books", "Exports"):
        assert absent not in html, absent

