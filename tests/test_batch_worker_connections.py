"""A worker child reads a whole book on one MariaDB connection: Celery's Django fixup would close it after
every page (a new connection each page, a large share of the job system's cost per page), unless
CELERY_DB_REUSE_MAX is set; Django's own rules (CONN_MAX_AGE, health checks) then decide, as for a request.
Counted with the server's own `Connections` status (every connection opened, by anyone), with a real
worker (Redis broker) and real pages."""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.batch_support import book_dir, clean_broker, running_worker, wait_finished, write_page  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PAGES = 12


def connections_opened() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
        return int(cursor.fetchone()[1])


def test_a_worker_child_reads_a_book_on_one_database_connection(book_dir, tmp_path, clean_broker):
    if connection.vendor != "mysql":
        pytest.skip("MariaDB's connection count")
    for number in range(1, PAGES + 1):
        write_page(book_dir / f"{number:03d}.png", [f"第{number}页"])
    with running_worker(tmp_path) as worker:
        before = connections_opened()
        response = APIClient().post("/api/ocr/batch/scan", {"book_id": "连接", "directory": str(book_dir)},
                                    format="json")
        assert response.status_code == 201, response.content
        task = wait_finished(response.json()["task_id"], timeout=180)
        opened = connections_opened() - before
    assert (task.status, task.success_files) == ("completed", PAGES), worker.output()[-3000:]
    # The child's one connection (it runs the listing job too), with room for the worker's main process; a
    # connection per page was at least PAGES.
    assert opened <= 3, f"{opened} connections opened for {PAGES} pages"
