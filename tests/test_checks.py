"""`manage.py check` tells what is wrong with an installation and how to fix it (ocrsite/checks.py)."""

import os

import pytest
from django.core import checks


from .deployment_support import free_port, manage, service_env


def run_check(tmp_path, **env):
    result = manage(["check"], service_env(tmp_path, **env), timeout=60)
    return result.returncode, result.stdout + result.stderr


def test_unreachable_database_is_an_error_with_the_fix(tmp_path):
    code, output = run_check(tmp_path, DB_HOST="127.0.0.1", DB_PORT=free_port(), REDIS_HOST="")
    assert code == 1
    assert "(ocr.E001) Database unreachable: cannot reach MySQL/MariaDB at 127.0.0.1:" in output
    assert "HINT: start the database server" in output


def test_missing_database_names_the_create_statement(tmp_path):
    if not os.environ.get("DB_HOST"):
        pytest.skip("needs MariaDB")
    code, output = run_check(tmp_path, DB_NAME="ocr_deploy_test_no_such_db")
    assert code == 1
    assert "database 'ocr_deploy_test_no_such_db' does not exist" in output
    assert "CREATE DATABASE `ocr_deploy_test_no_such_db` CHARACTER SET utf8mb4" in output


def test_unreachable_redis_is_an_error_with_the_fix(tmp_path):
    code, output = run_check(tmp_path, DB_HOST="", REDIS_HOST="127.0.0.1", REDIS_PORT=free_port())
    assert code == 1
    assert "(ocr.E002) Celery broker unreachable: cannot reach Redis at 127.0.0.1:" in output
    assert "HINT: start Redis" in output
    assert "(ocr.W010)" in output  # only one of DB_HOST / REDIS_HOST


def test_missing_scan_root_is_an_error_when_configured(tmp_path):
    missing = tmp_path / "no-such-books"
    code, output = run_check(tmp_path, embedded=True, SCAN_ROOTS=f"{missing}")
    assert code == 1
    assert f"(ocr.E005) Scan root {missing} does not exist" in output
    assert f"mkdir -p {missing}" in output


def test_unknown_model_lists_the_models_of_the_engine(tmp_path):
    code, output = run_check(tmp_path, embedded=True, OCR_MODEL="PP-OCRv9_huge")
    assert code == 1
    assert "(ocr.E003) OCR_MODEL='PP-OCRv9_huge' is not a model of engine onnxruntime" in output
    assert "PP-OCRv6_small" in output


def test_example_secret_key_is_an_error_in_full_mode(tmp_path):
    code, output = run_check(tmp_path, DB_HOST="127.0.0.1", DB_PORT=free_port(), SECRET_KEY="change-me")
    assert "(ocr.E007) SECRET_KEY is the example value" in output
    assert "secrets.token_urlsafe(50)" in output


def test_healthy_embedded_installation_passes(tmp_path):
    # A fresh DATA_DIR: the default scan root is created, so no warning about it.
    code, output = run_check(tmp_path, embedded=True)
    assert code == 0, output
    assert "ocr." not in output
    assert (tmp_path / "data" / "scans").is_dir()


def test_healthy_full_installation_passes(tmp_path):
    if not (os.environ.get("DB_HOST") and os.environ.get("REDIS_HOST")):
        pytest.skip("needs MariaDB and Redis")
    (tmp_path / "data" / "scans").mkdir(parents=True)
    code, output = run_check(tmp_path)
    assert code == 0, output
    assert "ocr." not in output


def test_checks_are_registered_under_the_ocr_tag():
    assert checks.registry.registry.tag_exists("ocr")
    names = {check.__name__ for check in checks.registry.registry.get_checks() if "ocr" in check.tags}
    assert {"check_database", "check_broker", "check_ocr_model", "check_scan_roots", "check_secret_key"} <= names
