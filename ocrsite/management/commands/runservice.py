"""`python manage.py runservice`: the web server and one Celery worker on this machine (what `make run` runs).

Starts gunicorn (ocrsite/gunicorn.conf.py, bound to HOST:PORT) and `celery worker` as child processes, their
processes and engine threads planned together so that they never ask for more than the cores
(recognition/engines/runtime.py: on 2 cores one web process and one worker child of 1 thread each), prints the URLs once the web server answers, and
stays in the foreground. Ctrl-C or SIGTERM stops both gracefully (gunicorn lets running requests finish,
the worker finishes its running pages and hands the rest back to the queue); a second Ctrl-C stops them
at once. When either child dies the other is stopped too and the command exits with an error, so that a
supervisor (systemd, a container runtime) restarts the pair.

Works in both modes: embedded (SQLite, broker in files under DATA_DIR) and full (MySQL/MariaDB + Redis).
"""

import ctypes
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core import checks
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ocrsite import ops
from recognition.engines import runtime

PR_SET_PDEATHSIG = 1


def _die_with_parent():  # runs in the child between fork and exec
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except Exception:
        pass


class Command(BaseCommand):
    help = "Runs gunicorn and a Celery worker in the foreground; Ctrl-C stops both."
    requires_system_checks = []  # reported below, without stopping the start

    def add_arguments(self, parser):
        parser.add_argument("--no-worker", action="store_true", help="start the web server only")
        parser.add_argument("--no-web", action="store_true", help="start the Celery worker only")
        parser.add_argument("--no-collectstatic", action="store_true",
                            help="do not collect static files into STATIC_ROOT first")

    def handle(self, *args, **options):
        if options["no_worker"] and options["no_web"]:
            raise CommandError("--no-worker and --no-web leave nothing to run")
        self.report_checks()
        if not options["no_web"] and not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        from django.db import connections

        connections.close_all()  # the children open their own

        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = 0
        roles = [role for role, off in (("web", options["no_web"]), ("worker", options["no_worker"])) if not off]
        plans = runtime.plan(roles)
        self.stdout.write(f"{runtime.available_cores()} cores: " + "; ".join(plan.describe() for plan in plans.values()))
        if "web" in plans:
            self.spawn(plans["web"], ops.gunicorn_argv())
        if "worker" in plans:
            self.spawn(plans["worker"], ops.worker_argv(plans["worker"].processes))
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.on_signal)
        return self.supervise(announce=not options["no_web"])

    # --- start ---------------------------------------------------------------------------------------------
    def report_checks(self):
        messages = checks.run_checks(tags=["ocr"])
        for message in messages:
            style = self.style.ERROR if message.is_serious() else self.style.WARNING
            self.stderr.write(style(f"{message.id}: {message.msg}"))
            if message.hint:
                self.stderr.write(f"    fix: {message.hint}")

    def spawn(self, plan: runtime.RolePlan, argv: list[str]):
        role = plan.role
        env = ops.role_environment(plan)
        env["PYTHONUNBUFFERED"] = "1"
        # A session of their own: a terminal's Ctrl-C reaches this command only, which stops the children
        # in order (gunicorn and Celery each treat a second SIGINT as "stop now").
        self.children[role] = subprocess.Popen(argv, cwd=settings.BASE_DIR, env=env, start_new_session=True,
                                               preexec_fn=_die_with_parent)
        self.stdout.write(f"started {role} (pid {self.children[role].pid}): {' '.join(argv[1:])}")

    def urls(self) -> list[tuple[str, str]]:
        host = "localhost" if settings.HOST in ("0.0.0.0", "::", "") else settings.HOST
        base = f"http://{host}:{settings.PORT}"
        api = settings.API_PREFIX
        return [("API docs", f"{base}/docs"), ("Recognize", f"{base}/"), ("Dashboard", f"{base}/batch"),
                ("Health", f"{base}{api}/health"),
                ("Live / ready", f"{base}{api}/live  {base}{api}/ready"), ("Metrics", f"{base}/metrics"),
                ("Admin", f"{base}/admin/")]

    def web_answers(self) -> bool:
        host = "127.0.0.1" if settings.HOST in ("0.0.0.0", "::", "") else settings.HOST
        try:
            with urllib.request.urlopen(f"http://{host}:{settings.PORT}{settings.API_PREFIX}/live", timeout=2):
                return True
        except Exception:
            return False

    # --- run -----------------------------------------------------------------------------------------------
    def on_signal(self, signum, frame):
        self.stopping += 1
        if self.stopping == 1:
            self.stderr.write("stopping: running requests and pages finish first (Ctrl-C again to stop now)")
            self.signal_children(signal.SIGTERM)
        else:
            self.signal_children(signal.SIGINT, only="web")  # gunicorn: quick shutdown
            self.signal_children(signal.SIGQUIT, only="worker")  # Celery: cold shutdown

    def signal_children(self, signum, only: str | None = None):
        for role, child in self.children.items():
            if (only is None or role == only) and child.poll() is None:
                try:
                    child.send_signal(signum)
                except ProcessLookupError:
                    pass

    def supervise(self, announce: bool):
        announced = not announce
        started = time.monotonic()
        failed = None
        while True:
            for role, child in self.children.items():
                if child.poll() is not None and failed is None and not self.stopping:
                    failed = role
                    self.stderr.write(self.style.ERROR(f"{role} exited with status {child.returncode}; stopping"))
                    self.stopping = 1
                    self.signal_children(signal.SIGTERM)
            if all(child.poll() is not None for child in self.children.values()):
                break
            if not announced and not self.stopping and time.monotonic() - started > 0.5 and self.web_answers():
                announced = True
                mode = ops.mode_name()
                self.stdout.write(self.style.SUCCESS(
                    f"{settings.APP_NAME} {settings.APP_VERSION} is running ({mode} mode)"))
                for label, url in self.urls():
                    self.stdout.write(f"  {label:<13} {url}")
                self.stdout.write(f"  Logs          {settings.LOG_DIR}/api.log, {settings.LOG_DIR}/celery_worker.log")
                self.stdout.write("The dashboard and the admin need a login: create one with "
                                  f"`{sys.executable} manage.py createsuperuser`.")
                self.stdout.write("Press Ctrl-C to stop.")
            if self.stopping and time.monotonic() - self.stop_deadline_base() > self.grace():
                self.stderr.write("children did not stop in time: killing them")
                self.signal_children(signal.SIGKILL)
            time.sleep(0.3)
        codes = {role: child.returncode for role, child in self.children.items()}
        if failed is not None:
            raise CommandError(f"{failed} exited unexpectedly ({codes})", returncode=1)
        self.stdout.write(f"stopped ({', '.join(f'{role} {code}' for role, code in codes.items())})")
        return None

    def stop_deadline_base(self) -> float:
        if not hasattr(self, "_stop_started"):
            self._stop_started = time.monotonic()
        return self._stop_started

    @staticmethod
    def grace() -> float:
        return max(settings.GUNICORN_GRACEFUL_TIMEOUT, 60) + 30
