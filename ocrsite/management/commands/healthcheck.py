"""`python manage.py healthcheck`: the image's Docker HEALTHCHECK, for both roles of the container.

web: GET /api/ocr/ready on this machine must answer 200 (database, engine and broker ready).
worker: the Celery worker of this host (`ocr@<hostname>`, as `manage.py start worker` names it) must answer
a ping through the broker. The role is the one `manage.py start` recorded in METRICS_DIR/role (local to
the container), or `--role`. Exit status 0 = healthy, 1 = not, with the reason on stderr.
"""

import socket
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

ROLE_FILE_NAME = "role"


def role_file() -> Path:
    return Path(settings.METRICS_DIR) / ROLE_FILE_NAME


class Command(BaseCommand):
    help = "Exits 0 when the web server (ready endpoint) or the Celery worker (ping) of this host answers."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=["web", "worker"], default=None,
                            help="default: the role `manage.py start` recorded, else web")
        parser.add_argument("--timeout", type=float, default=8.0)

    def handle(self, *args, **options):
        role = options["role"]
        if role is None:
            try:
                role = role_file().read_text().strip() or "web"
            except OSError:
                role = "web"
        if role == "worker":
            self.check_worker(options["timeout"])
        else:
            self.check_web(options["timeout"])

    def check_web(self, timeout: float):
        host = "127.0.0.1" if settings.HOST in ("0.0.0.0", "::", "") else settings.HOST
        url = f"http://{host}:{settings.PORT}{settings.API_PREFIX}/ready"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                if response.status == 200:
                    return
                raise CommandError(f"{url} answered {response.status}")
        except urllib.error.HTTPError as error:
            raise CommandError(f"{url} answered {error.code}: {error.read()[:1000].decode(errors='replace')}") from None
        except OSError as error:
            raise CommandError(f"{url}: {error}") from None

    def check_worker(self, timeout: float):
        from ocrsite.celery import app

        name = f"ocr@{socket.gethostname()}"
        try:
            replies = app.control.ping(destination=[name], timeout=timeout)
        except Exception as error:
            raise CommandError(f"cannot ping {name} through the broker: {error}") from None
        if not any(name in reply for reply in replies):
            raise CommandError(f"worker {name} did not answer a ping within {timeout} s")
