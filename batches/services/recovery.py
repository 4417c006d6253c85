"""Recovery: the sweeper, and the requeue a starting worker (or `manage.py tasks --requeue`) runs.

Nothing here is needed while everything works: each recorded page sends the next (dispatch.py). What can go
wrong is a lost worker (its pages stay `processing` until their lease runs out), a lost message (a broker
restarted without persistence, a send refused while the broker was away, a page job that gave up during a
database outage) and a task whose last page was recorded while its completion could not be. The sweeper,
`batches.sweep` every TASK_SWEEP_INTERVAL seconds from the workers' embedded beat, repairs all of them:

- pages whose lease expired are sent again (the claim counts the interruption);
- when the broker's queue holds fewer messages than there are pages waiting for one, the waiting pages whose
  last message went more than an interval ago are sent again (a duplicate is harmless: the claim skips it);
- every active task's window is topped up, and a task whose pages are all done is completed;
- the pages waiting to be posted to the search index are posted (search_index.py: a page is found at most a
  sweep after it is recorded, whatever its task's speed or fate);
- a `scanning` task whose listing has not moved for TASK_LEASE_SECONDS (its job was lost with its worker or
  its message) gets its listing job again: a listing resumes without duplicates (listing.py).

Several beats may run (one per worker): a cache lock (Redis in the full mode, files in the embedded one) lets
one sweep run per interval.
"""

import logging
import os
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.statuses import ACTIVE_STATUSES, PageStatus, TaskStatus

from ..models import BatchTask, OcrResult
from . import dispatch, lifecycle, listing, pages, search_index

logger = logging.getLogger("batches.services")

SWEEP_LOCK = "batches:sweep"


def sweep() -> int | None:
    """One sweep (see the module's docstring). Returns the number of pages sent, or None when another
    process's sweep holds this interval."""
    interval = settings.TASK_SWEEP_INTERVAL
    if not cache.add(SWEEP_LOCK, os.getpid(), timeout=max(1, interval - 1)):
        return None
    now = timezone.now()
    lost_before = now - timedelta(seconds=interval) if _messages_missing(now) else None
    sent = completed = 0
    for task_id in BatchTask.objects.filter(status__in=ACTIVE_STATUSES).values_list("task_id", flat=True):
        sent_now, done = _repair(task_id, lost_before)
        sent, completed = sent + sent_now, completed + done
    if sent or completed:
        logger.warning("sweep: %d pages sent again or topped up, %d tasks completed", sent, completed)
    search_index.post_all_waiting()
    listings_resend(stalled_before=now - timedelta(seconds=settings.TASK_LEASE_SECONDS))
    return sent


def listings_resend(*, stalled_before=None) -> int:
    """Sends again the listing job of every `scanning` task (with stalled_before: of those whose listing
    has not moved since then). A listing sent twice is harmless: the later run takes it over from scratch
    (listing.py). A broker that refuses is logged; the next sweep tries again."""
    tasks = BatchTask.objects.filter(status=TaskStatus.SCANNING)
    if stalled_before is not None:
        tasks = tasks.filter(updated_at__lt=stalled_before)
    count = sum(listing.send_listing(task, fail_task=False) for task in tasks)
    if count:
        logger.warning("%d stalled listings sent again", count)
    return count


def _messages_missing(now) -> bool:
    """Whether the broker's queue holds fewer messages than there are pages waiting for one: some were lost.
    (Messages a worker has reserved are not in the queue; their pages are re-sent only if their message is
    more than an interval old, and a duplicate is harmless.)"""
    from ocrsite.metrics import queue_depth

    waiting = OcrResult.objects.filter(dispatch.waiting(now), task__status__in=ACTIVE_STATUSES).count()
    if not waiting:
        return False
    try:
        queued = sum(queue_depth().values())
    except Exception as error:  # broker away: nothing could be sent anyway
        logger.warning("sweep: queue depth unavailable: %s", error)
        return False
    return queued < waiting


def _repair(task_id: str, lost_before) -> tuple[int, int]:
    with transaction.atomic():
        task = BatchTask.objects.select_for_update().filter(task_id=task_id, status__in=ACTIVE_STATUSES).first()
        if task is None:
            return 0, 0
        if lifecycle.complete_if_done(task.pk):
            return 0, 1
        ids = dispatch.resend(task, waiting_sent_before=lost_before) + dispatch.top_up(task)
        dispatch.send_after_commit(task, ids)
    return len(ids), 0


def pages_requeue_stalled(*, node: str = "", include_waiting: bool = False, expire_all: bool = False) -> int:
    """Sends again, for every active task, the pages whose lease expired, and tops up the windows.

    node: a worker starting under this node name. Leases held under that name belonged to an earlier process
    (Celery refuses two live workers with one node name), so they are expired first: a worker restarted
    under its name gets its pages back at once, without waiting for the lease. expire_all: every lease is
    expired first (embedded mode, whose one worker per machine is the one starting). include_waiting: every
    waiting page is sent again too (the file broker of the embedded mode forgets a message once taken;
    `manage.py tasks --requeue` by hand)."""
    now = timezone.now()
    held = OcrResult.objects.filter(status=PageStatus.PROCESSING, task__status__in=ACTIVE_STATUSES,
                                    lease_expires_at__gt=now)
    if expire_all or node:
        expired = (held if expire_all else held.filter(**pages.node_holders(node))).update(lease_expires_at=now)
        if expired:
            logger.warning("%d pages held by an earlier worker process%s: leases expired", expired,
                           f" of {node}" if node else "")
    sent = 0
    for task_id in BatchTask.objects.filter(status__in=ACTIVE_STATUSES).values_list("task_id", flat=True):
        with transaction.atomic():
            task = BatchTask.objects.select_for_update().filter(task_id=task_id, status__in=ACTIVE_STATUSES).first()
            if task is None or lifecycle.complete_if_done(task.pk):
                continue
            ids = (dispatch.resend(task, waiting_sent_before=timezone.now() if include_waiting else None) +
                   dispatch.top_up(task))
            dispatch.send_after_commit(task, ids)
        sent += len(ids)
    if sent:
        logger.warning("requeued %d unfinished pages", sent)
    # Which worker was listing is not on record: the stalled listings are sent again, and every one when
    # this worker is the only one (expire_all) or by hand (include_waiting). A run sent again takes a
    # listing over from scratch, so a live one is not restarted for nothing.
    listings_resend(stalled_before=None if expire_all or include_waiting else
                    now - timedelta(seconds=settings.TASK_LEASE_SECONDS))
    return sent
