"""The heartbeat that keeps the leases of the pages a process is reading.

A page held here has its lease renewed every third of TASK_LEASE_SECONDS from when it was taken, until it is
let go: a lease runs out only when its holder stays silent for a whole lease. One thread per process does
the renewals, from a database connection of its own, for every page the process holds; a thread started
and joined for each page cost a worker about 0.6 ms a page (bench/README.md, "The job system's cost per
page").
"""

import logging
import os
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from core.statuses import PageStatus

from ..models import OcrResult

logger = logging.getLogger("batches.services")


class _Heartbeat:
    def __init__(self):
        self._due: dict[int, tuple[str, float]] = {}  # page id: (holder, monotonic time of its next renewal)
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def hold(self, result_id: int, holder: str) -> None:
        with self._changed:
            self._due[result_id] = (holder, time.monotonic() + settings.TASK_LEASE_SECONDS / 3)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lease-heartbeat", daemon=True)
                self._thread.start()
            self._changed.notify()

    def release(self, result_id: int) -> None:
        with self._changed:
            self._due.pop(result_id, None)

    def _run(self) -> None:
        while True:
            with self._changed:
                now = time.monotonic()
                due = [(result_id, holder) for result_id, (holder, at) in self._due.items() if at <= now]
                if not due:
                    soonest = min((at for _, at in self._due.values()), default=None)
                    self._changed.wait(None if soonest is None else soonest - now)
                    continue
                for result_id, holder in due:
                    self._due[result_id] = (holder, now + settings.TASK_LEASE_SECONDS / 3)
            try:
                self._renew(due)
            except Exception:  # the thread must outlive any one renewal: every lease of the process needs it
                logger.exception("leases not renewed")

    @staticmethod
    def _renew(due: list[tuple[int, str]]) -> None:
        # The rules a request applies to its connection: replaced past CONN_MAX_AGE or after an error,
        # checked before its first query.
        close_old_connections()
        for result_id, holder in due:
            try:
                OcrResult.objects.filter(pk=result_id, status=PageStatus.PROCESSING, claimed_by=holder).update(
                    lease_expires_at=timezone.now() + timedelta(seconds=settings.TASK_LEASE_SECONDS))
            except DatabaseError as error:
                logger.warning("page #%s: lease not renewed: %s", result_id, error)
                connection.close()  # a broken connection is opened again at the next renewal


_heartbeat = _Heartbeat()


def _after_fork_in_child() -> None:
    # A forked process (a prefork pool's child) has no thread of its parent's, and must not wait on a lock
    # the parent's thread held at the fork: it starts its own heartbeat.
    global _heartbeat
    _heartbeat = _Heartbeat()


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def lease_heartbeat(result_id: int, holder: str):
    """Keeps the holder's lease of the page while the block runs. A renewal the database refuses is tried
    again at the next one. A renewal already under way when the block ends may still land: it only touches
    the page while the same holder has it `processing`."""
    heartbeat = _heartbeat
    heartbeat.hold(result_id, holder)
    try:
        yield
    finally:
        heartbeat.release(result_id)
