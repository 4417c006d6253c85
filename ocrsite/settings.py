"""Django settings. Every value an operator can change is read here, from the environment or `.env`.

The variable names follow the seed README (`DB_HOST`, `REDIS_HOST`, `OCR_LANG`, ...). Two modes share this
file: with no `DB_HOST` the service uses SQLite, with no `REDIS_HOST` Celery uses a broker kept in files
under `DATA_DIR` (the embedded mode, nothing to install); set both for the full mode.
"""

import os
import secrets
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env", override=False)


def env_str(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_bool(name: str, default: bool) -> bool:
    value = env_str(name)
    if not value:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name}={value!r} is not a boolean (use true or false)")


def _env_number(name: str, default, kind: type, described: str):
    value = env_str(name)
    try:
        return kind(value) if value else default
    except ValueError:
        raise ValueError(f"{name}={value!r} is not {described}") from None


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: list[str], paths: bool = False) -> list[str]:
    """Comma-separated items; lists of `paths` also split at os.pathsep (':'), which URLs and host names
    contain (`https://ocr.example.com` is one origin)."""
    value = env_str(name)
    if not value:
        return default
    if paths:
        value = value.replace(os.pathsep, ",")
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Application -----------------------------------------------------------------------------------------
APP_NAME = env_str("APP_NAME", "PaddleOCR API")
APP_VERSION = "2.1.0"
DEBUG = env_bool("DEBUG", False)
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
HOST = env_str("HOST", "0.0.0.0")
PORT = env_int("PORT", 8000)
WORKERS = env_int("WORKERS", 2)

DATA_DIR = Path(env_str("DATA_DIR", str(BASE_DIR / "data"))).resolve()
LOG_DIR = Path(env_str("LOG_DIR", str(BASE_DIR / "logs"))).resolve()
EXPORT_DIR = Path(env_str("EXPORT_DIR", str(DATA_DIR / "exports"))).resolve()
for _directory in (DATA_DIR, LOG_DIR, EXPORT_DIR):
    _directory.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment; otherwise one generated once and kept in DATA_DIR (mode 600)."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    key_file = DATA_DIR / ".secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_results",
    "recognition",
    "books",
    "batches",
    "exports",
    "dashboard",
    "ocrsite.apps.OpsConfig",  # system checks (ocrsite/checks.py)
]

MIDDLEWARE = [
    "ocrsite.metrics.MetricsMiddleware",
    "ocrsite.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ocrsite.urls"
WSGI_APPLICATION = "ocrsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: MySQL/MariaDB when DB_HOST is set, SQLite otherwise ---------------------------------------
DB_HOST = env_str("DB_HOST")
if DB_HOST:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "HOST": DB_HOST,
            "PORT": env_int("DB_PORT", 3306),
            "USER": env_str("DB_USER", "root"),
            "PASSWORD": env_str("DB_PASSWORD"),
            "NAME": env_str("DB_NAME", "paddleocr_api"),
            # Connections are kept and reused for DB_POOL_RECYCLE seconds (the seed's pool recycle time).
            "CONN_MAX_AGE": env_int("DB_POOL_RECYCLE", 3600),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "charset": "utf8mb4",
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
                "connect_timeout": env_int("DB_POOL_TIMEOUT", 30),
            },
            "TEST": {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(DATA_DIR / "paddleocr_api.sqlite3")),
            # Web server and worker write to one file: wait for the lock rather than fail at once.
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles"))).resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve app assets (the Swagger UI and ReDoc bundles included) straight from the apps, no collectstatic step.
WHITENOISE_USE_FINDERS = True

# --- Uploads ---------------------------------------------------------------------------------------------
MAX_UPLOAD_SIZE = env_int("MAX_UPLOAD_SIZE", 104857600)
MAX_BATCH_FILES = env_int("MAX_BATCH_FILES", 10)
# Decoded pixels per image (or per PDF/TIFF page): bounds memory against decompression bombs.
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 60_000_000)
MAX_PAGES_PER_FILE = env_int("MAX_PAGES_PER_FILE", 100)
PDF_RENDER_DPI = env_int("PDF_RENDER_DPI", 200)
# The whole multipart body may hold MAX_BATCH_FILES files of MAX_UPLOAD_SIZE each; Django refuses bigger.
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_SIZE * MAX_BATCH_FILES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- OCR -------------------------------------------------------------------------------------------------
OCR_ENGINE = env_str("OCR_ENGINE", "onnxruntime")
OCR_MODEL = env_str("OCR_MODEL", "PP-OCRv6_small")
OCR_LANG = env_str("OCR_LANG", "ch")
OCR_USE_GPU = env_bool("OCR_USE_GPU", False)
OCR_USE_ANGLE_CLS = env_bool("OCR_USE_ANGLE_CLS", True)
# Page orientation (0/90/180/270) decided before detection; a request's detect_orientation overrides it.
OCR_DETECT_ORIENTATION = env_bool("OCR_DETECT_ORIENTATION", True)
# Reading order when a request names none: auto reads each page (or region) in its own direction.
OCR_TEXT_LAYOUT = env_str("OCR_TEXT_LAYOUT", "auto")
# Lines recognised with less confidence are flagged `low_confidence` in details and highlighted in the
# dashboard and admin; they are never dropped.
OCR_LOW_CONFIDENCE = env_float("OCR_LOW_CONFIDENCE", 0.8)
# Text read from a whole image on which no box was detected (a word or line crop) is kept only with at
# least this confidence: below it the "text" is mostly noise read as characters.
OCR_MIN_CONFIDENCE = env_float("OCR_MIN_CONFIDENCE", 0.5)
# CPU threads of one engine; 0 = cores divided by the OCR processes on this machine (WORKERS or
# CELERY_WORKER_CONCURRENCY), so that processes together do not oversubscribe the cores.
OCR_THREADS = env_int("OCR_THREADS", 0)
# Directory holding model files that override the packaged ones (see recognition/engines/models.py).
OCR_MODEL_DIR = env_str("OCR_MODEL_DIR")
# paddle engine: let PaddleOCR download its official models for the language (needs internet), also when
# the packaged model files are installed.
OCR_PADDLE_DOWNLOAD = env_bool("OCR_PADDLE_DOWNLOAD", False)
# Load and run the engine once when a server or worker process starts.
OCR_WARMUP = env_bool("OCR_WARMUP", True)

API_PREFIX = "/" + env_str("API_PREFIX", "/api/ocr").strip("/")

# --- Batch scanning --------------------------------------------------------------------------------------
SCAN_ROOTS = [Path(p).resolve() for p in env_list("SCAN_ROOTS", [str(DATA_DIR / "scans")], paths=True)]
TASK_DEFAULT_PRIORITY = env_int("TASK_DEFAULT_PRIORITY", 5)
# A page whose worker dies more than this many times is recorded as failed (WORKER_LOST) instead of
# being handed out again. (The seed's TASK_RETRY_DELAY has no use: a lost page is re-sent at once.)
TASK_MAX_RETRIES = env_int("TASK_MAX_RETRIES", 3)
TASK_LOCK_TTL = env_int("TASK_LOCK_TTL", 3600)
TASK_DUPLICATE_DETECTION = env_bool("TASK_DUPLICATE_DETECTION", True)
EXPORT_TTL_HOURS = env_int("EXPORT_TTL_HOURS", 24)

# --- Celery: Redis in the full mode, a broker in files (kombu's filesystem transport) otherwise ---------
REDIS_HOST = env_str("REDIS_HOST")
REDIS_PORT = env_int("REDIS_PORT", 6379)
REDIS_DB = env_int("REDIS_DB", 0)
REDIS_PASSWORD = env_str("REDIS_PASSWORD")
CELERY_WORKER_CONCURRENCY = env_int("CELERY_WORKER_CONCURRENCY", 2)
CELERY_WORKER_MAX_TASKS_PER_CHILD = env_int("CELERY_WORKER_MAX_TASKS_PER_CHILD", 1000)

if REDIS_HOST:
    _auth = f":{REDIS_PASSWORD}@" if REDIS_PASSWORD else ""
    CELERY_BROKER_URL = f"redis://{_auth}{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"
    # A page that a killed worker had taken is delivered again after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": TASK_LOCK_TTL}
else:
    BROKER_DIR = DATA_DIR / "broker"
    (BROKER_DIR / "queue").mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "processed").mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast messages (remote control, e.g. revoke); the default is ./control in the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = "django-db"
CELERY_RESULT_EXTENDED = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# --- REST framework and OpenAPI --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "recognition.errors.api_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["recognition.parsers.JsonParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": APP_NAME,
    "DESCRIPTION": "PaddleOCR 图片文字识别服务：单张/批量同步识别，目录批量扫描，任务管理与导出。",
    "VERSION": APP_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Logging: console and logs/api.log (rotated) ---------------------------------------------------------
LOG_FILE_NAME = env_str("LOG_FILE_NAME", "api.log")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(process)d [%(request_id)s] %(message)s"}
    },
    "filters": {"request_id": {"()": "ocrsite.middleware.RequestIdFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]},
        "file": {
            "class": "logging.handlers.RotatingFileHandler",
            "filename": str(LOG_DIR / LOG_FILE_NAME),
            "maxBytes": 20 * 1024 * 1024,
            "backupCount": 5,
            "encoding": "utf-8",
            "formatter": "plain",
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["console", "file"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": LOG_LEVEL, "propagate": True},
        # The OCR libraries log every call at INFO; keep their warnings only.
        "RapidOCR": {"level": "WARNING"},
        "paddlex": {"level": "WARNING"},
        "ppocr": {"level": "WARNING"},
    },
}

# --- Deployment: gunicorn, Celery worker processes, probes and metrics (see README "Deployment") ---------
# gunicorn (ocrsite/gunicorn.conf.py): WORKERS processes of GUNICORN_THREADS threads each (one OCR engine
# per process, used by one thread at a time; the other threads answer health checks and status meanwhile).
GUNICORN_THREADS = env_int("GUNICORN_THREADS", 4)
GUNICORN_TIMEOUT = env_int("GUNICORN_TIMEOUT", 300)  # silent-process restart; OCR requests may run longer
GUNICORN_GRACEFUL_TIMEOUT = env_int("GUNICORN_GRACEFUL_TIMEOUT", 120)  # running requests finish on SIGTERM
GUNICORN_MAX_REQUESTS = env_int("GUNICORN_MAX_REQUESTS", 2000)  # then the process is replaced (0 = never)
FORWARDED_ALLOW_IPS = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1")  # proxies trusted for X-Forwarded-*
# A worker child is replaced once it holds more than this many KiB after a task (0 = never).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 2_000_000)
# Seconds a new worker child may take to start: it loads and warms its OCR engine first.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = env_int("CELERY_WORKER_PROC_ALIVE_TIMEOUT", 120)
# Seconds `manage.py start` waits for the database (and Redis) before giving up.
DB_WAIT_TIMEOUT = env_int("DB_WAIT_TIMEOUT", 120)
# prometheus_client multiprocess files (one folder per role); keep it local to the machine or container.
METRICS_DIR = Path(env_str("METRICS_DIR", str(DATA_DIR / "metrics"))).resolve()
# Port on which a Celery worker serves its own /metrics (0 = off; the web /metrics includes the workers
# on the same machine).
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0)
