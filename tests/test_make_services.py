"""`make services` on a machine where nothing is running yet: a MariaDB and a Redis of this test's own (other
ports, a fresh data folder), so that the machine's servers, which the rest of the suite uses, are never
stopped. The fresh data folder is a standard Debian install: MariaDB's root logs in only through the unix
socket (unix_socket authentication), not over TCP. `make services` must start both, create the suite's
database user with rights on the suite's databases and no others, load the time zones, and on a second
run only check; after a "reboot" (both servers stopped) it must start them again."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

from .deployment_support import ROOT, free_port

MySQLdb = pytest.importorskip("MySQLdb")

USER, PASSWORD = "paddleocr_test", "paddleocr-test-only"  # the Makefile's defaults

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all(shutil.which(tool) or Path("/usr/sbin", tool).exists()
                               for tool in ("make", "mariadbd", "mariadb-install-db", "redis-server", "redis-cli")),
                       reason="MariaDB's server or Redis is not installed (make service-deps)"),
]


@pytest.fixture
def scratch():
    # Not under pytest's tmp_path: as root the server runs as `mysql`, which must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="paddleocr-services-"))
    folder.chmod(0o755)
    ports = {"TEST_DB_PORT": str(free_port()), "TEST_REDIS_PORT": str(free_port()),
             "TEST_DB_DATADIR": str(folder / "db")}
    yield folder, ports
    stop_servers(folder, ports)
    shutil.rmtree(folder, ignore_errors=True)


def stop_servers(folder: Path, ports: dict) -> None:
    for pidfile in (folder / "db" / "mariadbd.pid", folder / "db.redis" / f"redis-{ports['TEST_REDIS_PORT']}.pid"):
        try:
            pid = int(pidfile.read_text())
        except (OSError, ValueError):
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)


def make_services(ports: dict) -> tuple[subprocess.CompletedProcess, float]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TEST_")}
    env.update(ports)
    started = time.monotonic()
    result = subprocess.run(["make", "--no-print-directory", "services"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=240)
    return result, time.monotonic() - started


def connect(port, user=USER, password=PASSWORD, database=None):
    options = {"database": database} if database else {}
    return MySQLdb.connect(host="127.0.0.1", port=int(port), user=user, password=password, connect_timeout=5,
                           **options)


def error_code(call) -> int:
    with pytest.raises(MySQLdb.OperationalError) as raised:
        call()
    return raised.value.args[0]


def test_make_services_starts_both_and_creates_the_suites_user(scratch):
    folder, ports = scratch
    first, _ = make_services(ports)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    for step in ("creating a MariaDB data folder", "starting MariaDB", "creating the MariaDB user paddleocr_test",
                 "loading MariaDB's time-zone tables", f"starting Redis on 127.0.0.1:{ports['TEST_REDIS_PORT']}"):
        assert step in output, output
    db_port = ports["TEST_DB_PORT"]

    # Root of this install logs in through the socket only: the script got in that way, not over TCP.
    assert error_code(lambda: connect(db_port, user="root", password="")) == 1698  # access denied (unix_socket)

    connection = connect(db_port)
    try:
        cursor = connection.cursor()
        for name in ("test_paddleocr_test", "paddleocr_test_deploy", "paddleocr_collation_utf8mb4_bin",
                     "ocr_deploy_test_x"):
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cursor.execute(f"CREATE TABLE `{name}`.t (id INT PRIMARY KEY)")
            cursor.execute(f"DROP DATABASE `{name}`")
        # Any other database is out of reach, and no global right was given.
        for name in ("paddleocr_api", "other_project", "test_other"):
            assert error_code(lambda: cursor.execute(f"CREATE DATABASE `{name}`")) == 1044, name
        cursor.execute("SHOW GRANTS FOR CURRENT_USER()")
        grants = [row[0] for row in cursor.fetchall()]
        assert grants[0].startswith("GRANT USAGE ON *.*"), grants
        assert all(" ON *.* " not in grant for grant in grants[1:]), grants
        # The admin's date hierarchy needs named time zones.
        cursor.execute("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'UTC', 'Asia/Shanghai')")
        assert str(cursor.fetchone()[0]) == "2000-01-01 08:00:00"
    finally:
        connection.close()
    # A missing database of the suite's is "unknown" (what tests/test_checks.py expects), not "denied".
    assert error_code(lambda: connect(db_port, database="ocr_deploy_test_no_such_db")) == 1049
    assert redis.Redis(host="127.0.0.1", port=int(ports["TEST_REDIS_PORT"])).ping()

    # Everything in place: only checks, quickly.
    second, seconds = make_services(ports)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "services:" not in second.stdout + second.stderr
    assert seconds < 10, seconds
    print(f"\nmake services: {seconds:.2f} s when everything is set up")

    # After a reboot: both servers gone, the data folder and its user kept.
    stop_servers(folder, ports)
    third, _ = make_services(ports)
    output = third.stdout + third.stderr
    assert third.returncode == 0, output
    assert "starting MariaDB" in output and "starting Redis" in output
    assert "creating" not in output and "loading" not in output, output
    connect(db_port).close()
    assert redis.Redis(host="127.0.0.1", port=int(ports["TEST_REDIS_PORT"])).ping()
