"""`python manage.py start web|worker`: the entry point of a container or a systemd unit.

1. waits (up to DB_WAIT_TIMEOUT seconds) for the database, and for Redis in the full mode, printing what
   it waits for and how to fix it;
2. `web`: applies migrations (under a MySQL named lock, so that several web containers starting together
   migrate once) and collects static files; `worker`: waits until the migrations are applied (by the web
   role, or `--migrate` to apply them itself);
3. reports the `ocr` system checks;
4. replaces itself (exec) with gunicorn or `celery worker`, so that signals from Docker or systemd reach
   the server directly: SIGTERM is a graceful stop for both.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from ocrsite import ops
from recognition.engines import runtime

MIGRATE_LOCK = "paddleocr_api_migrate"


class Command(BaseCommand):
    help = "Waits for the database (and Redis), migrates, then execs gunicorn (web) or a Celery worker (worker)."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("role", choices=["web", "worker"])
        parser.add_argument("--wait", type=int, default=None,
                            help="seconds to wait for the database and Redis (default DB_WAIT_TIMEOUT)")
        parser.add_argument("--migrate", action="store_true", help="worker: apply migrations too")
        parser.add_argument("--no-migrate", action="store_true", help="web: do not apply migrations")
        parser.add_argument("--concurrency", type=int, default=None,
                            help="worker: child processes (default CELERY_WORKER_CONCURRENCY, else one per core)")
        parser.add_argument("--queues", default=None, help="worker: comma-separated queues (default all)")
        parser.add_argument("--dry-run", action="store_true", help="prepare, print the command, do not exec it")

    def handle(self, *args, **options):
        role = options["role"]
        wait = settings.DB_WAIT_TIMEOUT if options["wait"] is None else options["wait"]
        self.wait_for(ops.check_database, wait, "the database")
        if settings.REDIS_HOST:
            self.wait_for(ops.check_broker, wait, "Redis")

        migrate = (role == "web" and not options["no_migrate"]) or (role == "worker" and options["migrate"])
        if migrate:
            self.migrate()
        else:
            self.wait_for_migrations(wait)
        if role == "web":
            call_command("collectstatic", interactive=False, verbosity=0)

        for message in checks.run_checks(tags=["ocr"]):
            line = f"{message.id}: {message.msg}" + (f" Fix: {message.hint}" if message.hint else "")
            self.stderr.write(self.style.ERROR(line) if message.is_serious() else self.style.WARNING(line))

        connections.close_all()
        # For `manage.py healthcheck` (the image's HEALTHCHECK): which role this container runs.
        Path(settings.METRICS_DIR).mkdir(parents=True, exist_ok=True)
        (Path(settings.METRICS_DIR) / "role").write_text(role)
        # The container (or machine) runs this role alone: its plan has all the cores.
        plan = runtime.plan([role], processes={role: options["concurrency"]} if options["concurrency"] else None)[role]
        env = ops.role_environment(plan)
        argv = ops.gunicorn_argv() if role == "web" else ops.worker_argv(plan.processes, options["queues"])
        self.stdout.write(f"{plan.describe()} on {runtime.available_cores()} cores")
        self.stdout.write(f"{role}: exec {' '.join(argv)}")
        if options["dry_run"]:
            return
        self.stdout.flush()
        self.stderr.flush()
        os.execvpe(argv[0], argv, env)

    def wait_for(self, probe, timeout, what):
        result = probe()
        if not result.ok:
            self.stderr.write(f"waiting up to {timeout} s for {what}: {result.detail}")
            result = ops.wait_for(probe, timeout, what)
        if not result.ok:
            raise CommandError(f"{what} is not available after {timeout} s: {result.detail}. Fix: {result.fix}")
        self.stdout.write(f"{what}: {result.detail}")

    def migrate(self):
        connection = connections["default"]
        locked = connection.vendor == "mysql"
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT GET_LOCK(%s, %s)", [MIGRATE_LOCK, 600])
                if cursor.fetchone()[0] != 1:
                    raise CommandError("another process held the migration lock for 10 minutes")
        try:
            call_command("migrate", interactive=False, verbosity=1)
        finally:
            if locked:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT RELEASE_LOCK(%s)", [MIGRATE_LOCK])

    def wait_for_migrations(self, timeout):
        def probe():
            pending = ops.unapplied_migrations()
            return ops.Probe(not pending, f"{len(pending)} migrations not applied yet ({', '.join(pending[:3])}...)"
                             if pending else "migrations applied",
                             "start the web role (it migrates) or run `python manage.py migrate`")

        self.wait_for(probe, timeout, "the migrations")
