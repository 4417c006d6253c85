"""The search tests (tests/test_batch_search.py) again on SQLite, the embedded mode's database: the same
module in a pytest of its own with no DB_HOST (ocrsite/settings.py then uses SQLite), since one process
has one database configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_search_on_sqlite(tmp_path):
    env = {**os.environ, "DB_HOST": "", "DATA_DIR": str(tmp_path / "data"), "LOG_DIR": str(tmp_path / "logs"),
           "SCAN_ROOTS": str(tmp_path / "scans")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    (tmp_path / "scans").mkdir()
    probe = "import django; django.setup(); from django.db import connection; print(connection.vendor)"
    vendor = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**env, "DJANGO_SETTINGS_MODULE": "ocrsite.settings"})
    assert vendor.stdout.split() == ["sqlite"], vendor.stderr[-2000:]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_batch_search.py",
                          "-o", "addopts="], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout and "skipped" not in run.stdout
