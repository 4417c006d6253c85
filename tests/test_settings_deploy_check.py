"""`manage.py check --deploy` in a production configuration (full mode behind a TLS proxy) reports nothing,
and the full mode's defaults are safe without any setting."""

import secrets

from .deployment_support import manage, service_env


def production_env(tmp_path, **extra):
    (tmp_path / "scans").mkdir(exist_ok=True)
    settings = dict(SECRET_KEY=secrets.token_urlsafe(50), DEBUG="false", ALLOWED_HOSTS="ocr.example.com",
                    CSRF_TRUSTED_ORIGINS="https://ocr.example.com", HTTPS_ONLY="true", SECURE_HSTS_PRELOAD="true",
                    SCAN_ROOTS=str(tmp_path / "scans"))
    return service_env(tmp_path, **{**settings, **extra})


def test_check_deploy_is_clean_in_a_production_configuration(tmp_path):
    result = manage(["check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_names_what_is_missing_without_https(tmp_path):
    result = manage(["check", "--deploy"], production_env(tmp_path, HTTPS_ONLY="false", SECURE_HSTS_PRELOAD=""))
    report = result.stdout + result.stderr
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in report, report


def test_full_mode_defaults_answer_only_local_host_names_and_require_tokens(tmp_path):
    env = service_env(tmp_path)
    for name in ("ALLOWED_HOSTS", "API_TOKEN_REQUIRED"):
        env.pop(name, None)
    result = manage(["shell", "-c", "from django.conf import settings as s; "
                     "print(s.ALLOWED_HOSTS, s.API_TOKEN_REQUIRED, s.API_TRUSTED_NETWORKS)"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['localhost', '127.0.0.1', '[::1]'] True ['127.0.0.0/8', '::1/128']"
