"""Derived figures of a task shown by the dashboard and the admin: elapsed time, pages per second, time left."""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from core.statuses import ACTIVE_STATUSES, FINISHED_STATUSES


@dataclass(frozen=True)
class TaskTiming:
    elapsed: timedelta | None
    pages_per_second: float | None
    eta: timedelta | None

    def as_dict(self) -> dict:
        return {
            "elapsed_seconds": round(self.elapsed.total_seconds(), 1) if self.elapsed is not None else None,
            "elapsed": format_duration(self.elapsed),
            "pages_per_second": round(self.pages_per_second, 2) if self.pages_per_second is not None else None,
            "eta_seconds": round(self.eta.total_seconds()) if self.eta is not None else None,
            "eta": format_duration(self.eta),
        }


def task_timing(task, now=None) -> TaskTiming:
    now = now or timezone.now()
    if not task.started_at:
        return TaskTiming(None, None, None)
    end = task.completed_at if task.completed_at and task.status in FINISHED_STATUSES else now
    elapsed = max(end - task.started_at, timedelta(0))
    seconds = elapsed.total_seconds()
    rate = task.processed_files / seconds if seconds > 0 and task.processed_files else None
    eta = None
    if task.status in ACTIVE_STATUSES and rate:
        eta = timedelta(seconds=max(task.total_files - task.processed_files, 0) / rate)
    return TaskTiming(elapsed, rate, eta)


def format_duration(value: timedelta | None) -> str:
    """`1 小时 02 分 03 秒` / `2 分 05 秒` / `4.2 秒`; `—` when unknown."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} 秒"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} 小时 {minutes:02d} 分 {secs:02d} 秒"
    return f"{minutes} 分 {secs:02d} 秒"
