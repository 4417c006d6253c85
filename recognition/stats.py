"""Per-process counters shown by /api/ocr/status (Prometheus metrics aggregate across processes)."""

import threading
import time

STARTED_AT = time.time()
_lock = threading.Lock()
_counters = {"requests": 0, "images": 0, "errors": 0}


def _add(name: str, amount: int = 1) -> None:
    with _lock:
        _counters[name] += amount


def count_request() -> None:
    _add("requests")


def count_images(amount: int) -> None:
    _add("images", amount)


def count_error() -> None:
    _add("errors")


def snapshot() -> dict:
    with _lock:
        return {**_counters, "uptime_seconds": round(time.time() - STARTED_AT, 1)}
