"""List settings read from the environment: URLs and host names stay whole, directory lists also split at
the path separator."""

from ocrsite.settings import env_list


def test_origins_with_a_scheme_stay_whole(monkeypatch):
    monkeypatch.setenv("CSRF_TRUSTED_ORIGINS", "https://ocr.example.com, http://127.0.0.1:8000")
    assert env_list("CSRF_TRUSTED_ORIGINS", []) == ["https://ocr.example.com", "http://127.0.0.1:8000"]


def test_directory_lists_also_split_at_the_path_separator(monkeypatch):
    monkeypatch.setenv("SCAN_ROOTS", "/srv/scans:/mnt/books, /data")
    assert env_list("SCAN_ROOTS", [], paths=True) == ["/srv/scans", "/mnt/books", "/data"]


def test_unset_gives_the_default(monkeypatch):
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert env_list("ALLOWED_HOSTS", ["*"]) == ["*"]
