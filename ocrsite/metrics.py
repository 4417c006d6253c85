"""Prometheus metrics, served at `/metrics` in the text format.

What is measured:
- `ocr_http_requests_total{method,route,status}`, `ocr_http_request_duration_seconds{method,route}` and
  `ocr_http_requests_in_progress`: every HTTP request (route = the Django URL pattern, so that ids in paths
  do not make new series);
- `ocr_pages_processed_total{source,outcome}` and `ocr_page_duration_seconds{source}`: pages recognised,
  `source` = `api` (the recognize endpoints, read from their responses) or `batch` (scan tasks, counted
  by ocrsite/worker.py), `outcome` = `success` or `failure`;
- `ocr_celery_tasks_total{task,outcome}` and `ocr_celery_task_duration_seconds{task}`: Celery tasks run
  by the workers on this machine (outcome `success`, `failure`, `retry`, `rejected`, `revoked`);
- `ocr_failures_total{kind}`: failures that need an operator (engine warm-up, task errors);
- `ocr_engines_loaded`: processes on this machine holding a loaded OCR engine;
- `ocr_queue_depth{queue}`: messages waiting in the broker, read from Redis (or the broker folder in the
  embedded mode) when `/metrics` is scraped, so it is the same on every web machine.

Several processes: gunicorn runs WORKERS processes and a Celery worker runs CELERY_WORKER_CONCURRENCY
children, each with its own memory. The launchers (ocrsite/gunicorn.conf.py, `manage.py runservice`,
`manage.py start`) therefore set PROMETHEUS_MULTIPROC_DIR to `METRICS_DIR/web` or `METRICS_DIR/worker`
before any process imports prometheus_client, and empty that folder when the service starts; each process
writes its values to memory-mapped files there (prometheus_client's multiprocess mode) and `/metrics` adds
up the files of both folders, so that one scrape of the web server also shows the pages processed by a
worker on the same machine. A worker on another machine (or in another container, where METRICS_DIR is
local to the container) serves its own numbers on WORKER_METRICS_PORT. Without PROMETHEUS_MULTIPROC_DIR
(runserver, tests, a shell) the metrics live in the one process.
"""

import glob
import logging
import os
import time
from pathlib import Path

from django.conf import settings
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from . import ops

logger = logging.getLogger(__name__)

ROLES = ("web", "worker")
# OCR of a batch of big pages takes minutes: the buckets reach 10 minutes.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

HTTP_REQUESTS = Counter(
    "ocr_http_requests", "HTTP requests answered.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "ocr_http_request_duration_seconds", "Time to answer an HTTP request.", ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "ocr_http_requests_in_progress", "HTTP requests being answered.", multiprocess_mode="livesum"
)
PAGES = Counter(
    "ocr_pages_processed", "Pages (images or PDF pages) recognised.", ["source", "outcome"]
)
PAGE_SECONDS = Histogram(
    "ocr_page_duration_seconds", "Time to recognise one page.", ["source"], buckets=LATENCY_BUCKETS
)
TASKS = Counter("ocr_celery_tasks", "Celery tasks finished.", ["task", "outcome"])
TASK_SECONDS = Histogram(
    "ocr_celery_task_duration_seconds", "Run time of a Celery task.", ["task"], buckets=LATENCY_BUCKETS
)
FAILURES = Counter("ocr_failures", "Failures an operator should look at.", ["kind"])
ENGINES_LOADED = Gauge(
    "ocr_engines_loaded", "Processes holding a loaded OCR engine.", multiprocess_mode="livesum"
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def metrics_root() -> Path:
    return Path(settings.METRICS_DIR)


def mark_process_dead(pid: int) -> None:
    path = multiprocess_dir()
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)


def record_page(source: str, success: bool, seconds: float | None = None) -> None:
    """Counts one recognised page. `source` is `api` or `batch`."""
    PAGES.labels(source=source, outcome="success" if success else "failure").inc()
    if seconds is not None:
        PAGE_SECONDS.labels(source=source).observe(seconds)


def record_failure(kind: str) -> None:
    FAILURES.labels(kind=kind).inc()


# --- Queue depth ---------------------------------------------------------------------------------------
def queue_names() -> list[str]:
    names = [getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery"]
    queues = getattr(settings, "CELERY_TASK_QUEUES", None) or []
    for queue in queues:
        name = getattr(queue, "name", queue if isinstance(queue, str) else None)
        if name and name not in names:
            names.append(name)
    routes = getattr(settings, "CELERY_TASK_ROUTES", None)
    if isinstance(routes, dict):
        for route in routes.values():
            name = route.get("queue") if isinstance(route, dict) else None
            if name and name not in names:
                names.append(name)
    return names


# kombu's Redis transport keeps one list per priority step: `<queue>` and `<queue>\x06\x16<step>`.
_REDIS_PRIORITY_SEP = "\x06\x16"


def queue_depth() -> dict[str, int]:
    """Messages waiting in the broker per queue (not counting the ones workers have already taken)."""
    names = queue_names()
    if settings.REDIS_HOST:
        client = ops.redis_client()
        try:
            pipe = client.pipeline()
            for name in names:
                pipe.llen(name)
                for step in range(1, 10):
                    pipe.llen(f"{name}{_REDIS_PRIORITY_SEP}{step}")
            counts = pipe.execute()
        finally:
            client.close()
        return {name: sum(counts[i * 10:(i + 1) * 10]) for i, name in enumerate(names)}
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
    # kombu's filesystem transport names a message file `<time>_<uuid>.<queue>.msg`.
    return {name: len(glob.glob(str(folder / f"*.{glob.escape(name)}.msg"))) for name in names}


class QueueDepthCollector:
    def collect(self):
        family = GaugeMetricFamily("ocr_queue_depth", "Messages waiting in the broker.", labels=["queue"])
        up = GaugeMetricFamily("ocr_broker_up", "1 when the broker answered the last scrape.")
        try:
            for name, count in queue_depth().items():
                family.add_metric([name], count)
            up.add_metric([], 1)
        except Exception as error:  # the scrape still answers, with ocr_broker_up 0
            logger.warning("queue depth unavailable: %s", error)
            up.add_metric([], 0)
        yield family
        yield up


class _FilesCollector:
    """prometheus_client's MultiProcessCollector over several folders (web and worker of this machine)."""

    def __init__(self, folders: list[str]):
        self.folders = folders

    def collect(self):
        files = [f for folder in self.folders for f in glob.glob(os.path.join(folder, "*.db"))]
        return MultiProcessCollector.merge(files, accumulate=True)


class _DefaultCollector:
    def collect(self):
        return REGISTRY.collect()


def registry_for_scrape(include_queue: bool = True, roles: tuple[str, ...] = ROLES) -> CollectorRegistry:
    registry = CollectorRegistry()
    path = multiprocess_dir()
    if path:
        folders = {os.path.abspath(path)}
        root = metrics_root()
        if Path(path).resolve().parent == root.resolve():
            folders.update(str(root / role) for role in roles if (root / role).is_dir())
        registry.register(_FilesCollector(sorted(folders)))
    else:
        registry.register(_DefaultCollector())
    if include_queue:
        registry.register(QueueDepthCollector())
    return registry


def render(include_queue: bool = True) -> tuple[bytes, str]:
    return generate_latest(registry_for_scrape(include_queue)), CONTENT_TYPE_LATEST


def count_api_pages(route: str, response) -> None:
    """Pages of a successful /recognize or /recognize-batch response (its `success` per image, or per page
    of a PDF or multi-page TIFF, and its `processing_time`)."""
    if response.status_code != 200 or not route.endswith(("/recognize", "/recognize-batch")):
        return
    data = getattr(response, "data", None)
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict) or "success" not in item:
            continue
        for page in item.get("pages") or [item]:
            seconds = page.get("processing_time")
            record_page("api", bool(page.get("success", item["success"])),
                        float(seconds) if isinstance(seconds, (int, float)) else None)


class MetricsMiddleware:
    """Counts requests and their latency per URL pattern."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        HTTP_IN_PROGRESS.inc()
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            HTTP_IN_PROGRESS.dec()
            match = getattr(request, "resolver_match", None)
            route = "/" + str(match.route) if match is not None else "<unmatched>"
            HTTP_REQUESTS.labels(request.method, route, str(status)).inc()
            HTTP_LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
            if request.method == "POST" and status == 200:
                try:
                    count_api_pages(route, response)
                except Exception:  # metrics must never fail a request
                    logger.exception("counting recognised pages failed")
