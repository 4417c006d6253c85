"""Sending pages to the workers: the dispatch window and the messages.

A task keeps at most TASK_DISPATCH_WINDOW pages in flight: a page is in flight from the moment a message for
it is sent (its `sent_at`) until it is done. Starting a task sends its first window, every recorded page sends
the next one (`top_up`), and the sweeper re-sends the pages whose message or worker was lost (`resend`).
So a cancel leaves at most a window of stale messages in the queue, a book started later waits at most for
the windows ahead of it, and how far the dispatch got is on record in the rows, whatever dies.

Pages are marked under the task row lock, inside the caller's transaction, so two workers recording pages at
once never send the same page; the messages go once that transaction has committed. They are sent by job
name through the Celery app, so this module does not import batches.tasks (which imports the services).
"""

import logging
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.statuses import PageStatus
from ocrsite.celery import app

from ..models import BatchTask, OcrResult
from .rows import update_rows

logger = logging.getLogger("batches.services")

PAGE_JOB = "batches.process_page"
UNDONE = (PageStatus.PENDING, PageStatus.PROCESSING)


def lease_expired(now) -> Q:
    """Pages taken by a worker whose lease ran out: that worker is gone (a claim from before leases existed
    has none)."""
    return Q(status=PageStatus.PROCESSING) & (Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now))


def waiting(now) -> Q:
    """Pages with a message out that no live worker holds: the message is queued, or lost."""
    return Q(sent_at__isnull=False) & (Q(status=PageStatus.PENDING) | lease_expired(now))


# The next unsent pages of a task in book order, each with the count of the task's pages in flight: one
# statement, written as SQL because every recorded page runs it and building it was most of its cost
# (bench/README.md, "The job system's cost per page").
_NEXT_PAGES_SQL = (
    f"SELECT id, (SELECT COUNT(*) FROM {OcrResult._meta.db_table} WHERE task_id = %s AND status IN (%s, %s) "
    f"AND sent_at IS NOT NULL) FROM {OcrResult._meta.db_table} WHERE task_id = %s AND status = %s "
    "AND sent_at IS NULL ORDER BY sequence LIMIT %s")


def top_up(task: BatchTask) -> list[int]:
    """Marks the next pages of the task's window as sent and returns their ids: as many pages as the window
    has room for, the first unsent ones in book order. Call under the task row lock, in a transaction, and
    send the ids after the commit."""
    window = settings.TASK_DISPATCH_WINDOW
    with connection.cursor() as cursor:
        cursor.execute(_NEXT_PAGES_SQL, [task.task_id, *UNDONE, task.task_id, PageStatus.PENDING, window])
        candidates = cursor.fetchall()
    room = window - candidates[0][1] if candidates else 0
    ids = [pk for pk, _ in candidates[:max(room, 0)]]
    _mark_sent(ids)
    return ids


def resend(task: BatchTask, *, waiting_sent_before=None) -> list[int]:
    """Marks as sent again, and returns, the task's pages whose worker was lost (lease expired, and not sent
    again since) and, with waiting_sent_before, the waiting pages whose last message went before then (it may
    be lost). Call under the task row lock, in a transaction, and send the ids after the commit. A page sent
    twice is harmless: the claim rules make the second message a no-op."""
    now = timezone.now()
    due = lease_expired(now) & (Q(sent_at__isnull=True) | Q(lease_expires_at__isnull=True) |
                                Q(sent_at__lte=F("lease_expires_at")))
    if waiting_sent_before is not None:
        due |= waiting(now) & Q(sent_at__lte=waiting_sent_before)
    ids = list(OcrResult.objects.filter(due, task=task).order_by("sequence").values_list("pk", flat=True))
    _mark_sent(ids, now)
    return ids


def _mark_sent(ids: list[int], now=None) -> None:
    update_rows(OcrResult, ids, {"sent_at": now or timezone.now()})


def send(task: BatchTask, ids: list[int]) -> None:
    """One process_page message per page, over one broker connection. Raises when the broker cannot take
    them (no retry here: the caller decides what a refusal means)."""
    if not ids:
        return
    with app.producer_or_acquire() as producer:
        for result_id in ids:
            app.send_task(PAGE_JOB, args=[result_id], priority=task.priority, producer=producer, retry=False)


def send_after_commit(task: BatchTask, ids: list[int]) -> None:
    """Sends the pages once the current transaction commits. A broker that refuses them is logged and
    nothing more: the pages stay marked as sent, so the sweeper sends them again once their messages are
    found missing."""
    if ids:
        transaction.on_commit(partial(_send_or_log, task, ids))


def _send_or_log(task: BatchTask, ids: list[int]) -> None:
    try:
        send(task, ids)
    except Exception as error:  # the broker's connection errors come in several types
        logger.warning("task %s: %d pages not sent (broker: %s); the sweeper sends them again",
                       task.task_id, len(ids), error)
