"""utf8mb4 for the batch tables on MySQL/MariaDB when the database's default character set was another one
(Chinese file names and text need 4-byte UTF-8). Nothing to do on SQLite.

Tables already in utf8mb4 keep their collation, whichever the server chose (utf8mb4_general_ci,
utf8mb4_0900_ai_ci, ...): the tables are joined by foreign keys on text columns (book_id, task_id), and
MariaDB refuses to change the collation of one side of such a key (error 1833) even with the foreign key
checks off, so converting them would fail on a database created with the server's default collation."""

from django.db import migrations

TABLES = ["books", "batch_tasks", "ocr_results", "exports"]


def to_utf8mb4(apps, schema_editor):
    if schema_editor.connection.vendor != "mysql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.TABLE_NAME FROM information_schema.TABLES t "
            "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c "
            "ON c.COLLATION_NAME = t.TABLE_COLLATION "
            "WHERE t.TABLE_SCHEMA = DATABASE() AND c.CHARACTER_SET_NAME <> 'utf8mb4' AND t.TABLE_NAME IN %s",
            [tuple(TABLES)])
        for (table,) in cursor.fetchall():
            cursor.execute(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


class Migration(migrations.Migration):
    dependencies = [
        ("books", "0001_initial"),
        ("batches", "0001_initial"),
        ("exports", "0001_initial"),
    ]

    operations = [migrations.RunPython(to_utf8mb4, migrations.RunPython.noop)]
