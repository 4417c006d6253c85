"""gunicorn configuration: `gunicorn -c ocrsite/gunicorn.conf.py ocrsite.wsgi:application`.

Every value comes from ocrsite/settings.py (so from the environment or `.env`):

- bind HOST:PORT; WORKERS processes (planned with the engine threads by recognition/engines/runtime.py;
  see README "Deployment" for sizing);
- worker class `gthread` with GUNICORN_THREADS threads: each process holds one OCR engine that one thread
  uses at a time, the other threads keep answering /live, /ready, /status and /metrics during a long OCR;
  its subclass in ocrsite/gunicorn_worker.py answers the requests gunicorn refuses itself (an unencoded URL,
  a malformed header: 400) with the API's JSON error instead of an HTML page;
- timeout GUNICORN_TIMEOUT (300 s): a process that stops answering the master for that long is restarted.
  With gthread the main thread keeps answering while another thread runs OCR, so a 10-image batch of big
  scans (minutes on a small CPU) is not cut off (tests/test_deployment_gunicorn.py); 300 s also covers such
  a batch if the worker class is ever changed to `sync`, where the timeout is per request;
  graceful_timeout GUNICORN_GRACEFUL_TIMEOUT: on SIGTERM running requests get that long to finish;
- request bodies: gunicorn de-chunks a chunked body (wsgi.input_terminated); ocrsite/wsgi.py reads it into a
  temporary file within the body limits and gives Django its length (Django reads by Content-Length only);
- preload_app off: each process imports Django and loads its own engine after the fork (ONNX Runtime and
  Paddle thread pools do not survive a fork); the engine is warmed in post_worker_init (OCR_WARMUP), before
  the process accepts requests;
- max_requests GUNICORN_MAX_REQUESTS with jitter: processes are replaced now and then, which bounds the
  memory the OCR libraries may leak;
- access log: through Python logging (logger `gunicorn.access`, propagated to the root logger that
  settings.LOGGING gives the console and LOG_DIR/api.log, rotated at 20 MB x 5), with the request id;
- Prometheus multiprocess mode: PROMETHEUS_MULTIPROC_DIR = METRICS_DIR/web, emptied at start.
"""

import os

# Reading the settings module does not start Django (nor import prometheus_client).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
from ocrsite import settings as _settings  # noqa: E402
from recognition.engines.runtime import plan  # noqa: E402

_METRICS_DIR = os.path.join(str(_settings.METRICS_DIR), "web")
# Before any worker imports prometheus_client (workers inherit the environment of this master process).
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS_DIR
os.environ.setdefault("LOG_FILE_NAME", _settings.LOG_FILE_NAME)

wsgi_app = "ocrsite.wsgi:application"
bind = [f"{_settings.HOST}:{_settings.PORT}"]
# WORKERS as the start commands set it from the plan; the plan of a web role alone when gunicorn is started
# by hand with WORKERS unset.
workers = _settings.WORKERS if _settings.WORKERS > 0 else plan(["web"])["web"].processes
worker_class = "ocrsite.gunicorn_worker.JsonErrorThreadWorker"  # gthread
threads = max(1, _settings.GUNICORN_THREADS)
timeout = _settings.GUNICORN_TIMEOUT
graceful_timeout = _settings.GUNICORN_GRACEFUL_TIMEOUT
keepalive = 5
preload_app = False
max_requests = max(0, _settings.GUNICORN_MAX_REQUESTS)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = _settings.FORWARDED_ALLOW_IPS
# Uploads are spooled by Django; gunicorn only bounds the request line and headers.
limit_request_line = 8190
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "paddleocr-api"
loglevel = _settings.LOG_LEVEL.lower()

# The access line: client, request, status, bytes, milliseconds, request id (the X-Request-ID response
# header that ocrsite.middleware sets).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s ua="%(a)s"'
accesslog = None
logconfig_dict = {
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": _settings.LOG_LEVEL, "handlers": ["error_console"], "propagate": False},
        # No handler of its own: records go to the root logger, which Django configures in each worker
        # from settings.LOGGING (console + rotated LOG_DIR/api.log).
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
    },
}


def on_starting(server):
    os.makedirs(_METRICS_DIR, exist_ok=True)
    for name in os.listdir(_METRICS_DIR):
        if name.endswith(".db"):
            os.unlink(os.path.join(_METRICS_DIR, name))


def when_ready(server):
    for address in server.cfg.bind:
        server.log.info("paddleocr-api listening on http://%s (%d workers x %d threads)", address, workers, threads)


def post_worker_init(worker):
    # Django is loaded in this process now (preload off): load and run the engine once.
    from ocrsite import ops

    ops.warm_up("web")


def child_exit(server, worker):
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _METRICS_DIR)
    except Exception:  # metrics must never stop the server
        pass
