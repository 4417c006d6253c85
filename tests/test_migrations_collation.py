"""`manage.py migrate` on a MariaDB database created with the server's default utf8mb4 collation (or any
other utf8mb4 collation), as an operator's own server creates it."""

import subprocess

import pytest

from .deployment_support import manage, service_env

COLLATIONS = ["utf8mb4_general_ci", "utf8mb4_bin"]


def mariadb(env, sql):
    return subprocess.run(["mariadb", "-h", env["DB_HOST"], "-P", env.get("DB_PORT", "3306"), "-u", env["DB_USER"],
                           f"-p{env['DB_PASSWORD']}" if env.get("DB_PASSWORD") else "--skip-password", "-N",
                           "-e", sql], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("collation", COLLATIONS)
def test_migrate_on_a_database_of_any_utf8mb4_collation(tmp_path, collation):
    name = f"paddleocr_collation_{collation}"
    env = service_env(tmp_path, DB_NAME=name)
    mariadb(env, f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE {collation}")
    try:
        result = manage(["migrate", "--noinput", "--skip-checks"], env, timeout=300)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
        charsets = mariadb(env, "SELECT DISTINCT c.CHARACTER_SET_NAME FROM information_schema.TABLES t JOIN "
                                "information_schema.COLLATION_CHARACTER_SET_APPLICABILITY c ON "
                                f"c.COLLATION_NAME = t.TABLE_COLLATION WHERE t.TABLE_SCHEMA = '{name}'")
        assert charsets.split() == ["utf8mb4"]
        stored = manage(["shell", "-c", "from books.services import book_upsert; "
                         "print(book_upsert(book_id='𠀋氏族谱', source_directory='/x').book_id)"], env)
        assert stored.stdout.strip().splitlines()[-1] == "𠀋氏族谱", stored.stderr
    finally:
        mariadb(env, f"DROP DATABASE IF EXISTS `{name}`")
