"""What the service benchmarks share: the service started as `manage.py runservice` in embedded mode on a
free port with its own DATA_DIR, images posted to it, latency percentiles and the memory of a process tree."""

import ctypes
import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def multipart(content: bytes, name: str = "p.png") -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 2**20


def stop_with_parent() -> None:
    """In a child between fork and exec: SIGTERM when the benchmark dies, however it dies (the service then
    stops its own children), so that no server is left running and loading the machine."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def embedded_env(label: str, **extra) -> dict:
    """The environment of a service of its own: embedded mode, a fresh DATA_DIR, the given settings."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{label}-"))
    return {**os.environ, "DB_HOST": "", "REDIS_HOST": "", "DATA_DIR": str(data_dir),
            "LOG_DIR": str(data_dir / "logs"), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1",
            **{key: str(value) for key, value in extra.items()}}


def full_mode_env(work: Path, redis_port: int, database: str, **extra) -> dict:
    """The environment of a full-mode run of its own: this machine's MariaDB (DB_* from the environment, a
    scratch database `<DB_NAME>_<database>`), a private Redis on redis_port, folders under `work`, the given
    settings."""
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(DB_HOST=env.get("DB_HOST", "127.0.0.1"), DB_PORT=env.get("DB_PORT", "3306"),
               DB_USER=env.get("DB_USER", "root"), DB_PASSWORD=env.get("DB_PASSWORD", ""),
               DB_NAME=f"{env.get('DB_NAME', 'paddleocr_api')}_{database}", REDIS_HOST="127.0.0.1",
               REDIS_PORT=str(redis_port), REDIS_DB="0", DATA_DIR=str(work / "data"), LOG_DIR=str(work / "logs"),
               SCAN_ROOTS=str(work / "scans"), DJANGO_SETTINGS_MODULE="ocrsite.settings", PYTHONUNBUFFERED="1",
               **{key: str(value) for key, value in extra.items()})
    return env


@contextmanager
def running_service(env: dict, *args: str, ready_timeout: float = 300):
    """`manage.py runservice ARGS` with `env` (a PORT is chosen); yields (base URL, process, seconds until
    /ready answered 200). Stopped with SIGTERM to its process group at the end."""
    env = {**env, "PORT": str(free_port())}
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    started = time.monotonic()
    service = subprocess.Popen([PYTHON, "manage.py", "runservice", "--no-collectstatic", *args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                               preexec_fn=stop_with_parent)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        deadline = started + ready_timeout
        while True:
            try:
                if urllib.request.urlopen(f"{base}/api/ocr/ready", timeout=5).status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or service.poll() is not None:
                    raise RuntimeError(f"the service did not become ready ({env.get('DATA_DIR')}/logs)")
                time.sleep(0.5)
        yield base, service, time.monotonic() - started
    finally:
        os.killpg(service.pid, 15)
        service.wait(timeout=180)


def post_recognize(base: str, content: bytes, name: str = "p.png", timeout: float = 600) -> tuple[int, dict, dict]:
    """POST /api/ocr/recognize with one file: (status, JSON answer, headers)."""
    body, content_type = multipart(content, name)
    request = urllib.request.Request(f"{base}/api/ocr/recognize", data=body, method="POST",
                                     headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def load_average() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())
