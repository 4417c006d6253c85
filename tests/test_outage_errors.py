"""A database or broker outage while the service runs, for real: the web role (`manage.py start web`,
gunicorn) reaches MariaDB and Redis through TCP relays of this test, which are cut and restored. Every API
path answers coded JSON (503 DATABASE_UNAVAILABLE, 503 BROKER_UNAVAILABLE, the documented health shape),
never Django's HTML error page, and answers normally again once the dependency is back."""

import json
import os
import socket
import threading
import urllib.error
import urllib.request

import pytest

from .deployment_support import ensure_database, free_port, get, kill_group, service_env, spawn, stop, wait_until

pytestmark = pytest.mark.slow


class Relay:
    """A TCP relay to host:port that can be cut (new connections refused, open ones reset) and restored:
    to the service, the server behind it is unreachable in the first case and back in the second."""

    def __init__(self, host: str, port: int):
        self.target = (host, port)
        self.port = free_port()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = None
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() blocked in the relay's thread
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.sockets.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def call(method: str, url: str, body: dict | None = None, headers: dict | None = None):
    """(status, Content-Type, parsed JSON or the raw text) of a request; never raises for an HTTP status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, headers, payload = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, payload = error.code, error.headers, error.read()
    content_type = headers.get("Content-Type", "")
    return status, content_type, json.loads(payload) if content_type.startswith("application/json") else payload


def assert_coded(answer, status: int, code: str):
    got_status, content_type, body = answer
    assert content_type.startswith("application/json"), (got_status, content_type, body[:300])
    assert got_status == status, body
    assert body["success"] is False and body["error"] == code and body["message"], body


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    if not os.environ.get("DB_HOST") or not os.environ.get("REDIS_HOST"):
        pytest.skip("needs DB_HOST and REDIS_HOST (MariaDB and Redis)")
    tmp_path = tmp_path_factory.mktemp("outage")
    database = Relay(os.environ["DB_HOST"], int(os.environ.get("DB_PORT") or 3306))
    broker = Relay(os.environ["REDIS_HOST"], int(os.environ.get("REDIS_PORT") or 6379))
    port = free_port()
    env = service_env(tmp_path, PORT=port, DB_PORT=database.port, REDIS_PORT=broker.port,
                      DB_NAME=(os.environ.get("DB_NAME") or "paddleocr_api") + "_deploy",
                      DB_POOL_TIMEOUT=5, DB_WAIT_TIMEOUT=60,
                      # This test's calls come as from outside: the probes' token check asks the database.
                      OPS_ALLOWED_NETWORKS="192.0.2.0/24")
    ensure_database(env)
    log = tmp_path / "web.out"
    web = spawn(["start", "web"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get(f"{base}/api/ocr/live", timeout=2)[0] == 200, 240, what="web /live", process=web,
                   log=log)
        book = tmp_path / "data" / "scans" / "book"
        book.mkdir(parents=True)
        (book / "001.png").write_bytes(b"x")
        yield {"base": base, "database": database, "broker": broker, "book": book, "log": log}
    finally:
        database.cut()
        broker.cut()
        try:
            stop(web, timeout=60)
        finally:
            kill_group(web)


def scan_body(book, **extra):
    return {"book_id": "outage", "directory": str(book), "auto_start": False, **extra}


def test_database_outage_is_a_coded_503_on_every_api_path_and_recovers(service):
    base, api = service["base"], service["base"] + "/api/ocr/batch"
    status, _, created = call("POST", f"{api}/scan", scan_body(service["book"]))
    assert status == 201, created
    task_id = created["task_id"]

    service["database"].cut()
    try:
        assert_coded(call("GET", f"{api}/tasks"), 503, "DATABASE_UNAVAILABLE")
        # A login session or a token is looked up in the database too, before the view runs.
        assert_coded(call("GET", f"{api}/tasks", headers={"Cookie": "sessionid=abc123"}), 503,
                     "DATABASE_UNAVAILABLE")
        assert_coded(call("GET", f"{api}/tasks", headers={"Authorization": "Bearer abc123"}), 503,
                     "DATABASE_UNAVAILABLE")
        assert_coded(call("GET", f"{api}/status/{task_id}"), 503, "DATABASE_UNAVAILABLE")
        assert_coded(call("POST", f"{api}/scan", scan_body(service["book"], text_layout="vertical_rl")), 503,
                     "DATABASE_UNAVAILABLE")
        assert_coded(call("POST", f"{api}/start/{task_id}"), 503, "DATABASE_UNAVAILABLE")
        assert_coded(call("POST", f"{api}/export", {"task_id": task_id}), 503, "DATABASE_UNAVAILABLE")
        # /status reports the engine and counters, nothing of the database: it still answers.
        status, content_type, body = call("GET", f"{base}/api/ocr/status")
        assert status == 200 and content_type.startswith("application/json") and body["engine"], body
        # The probes: their documented shapes, naming the database.
        status, content_type, body = call("GET", f"{base}/api/ocr/health")
        assert (status, body["status"]) == (503, "unhealthy") and body["checks"]["database"].startswith("error")
        status, content_type, body = call("GET", f"{base}/api/ocr/ready")
        assert (status, body["status"]) == (503, "not_ready") and "database" in body["failing"]
        # Outside DRF the probes look a token up themselves: /ready keeps its shape for everyone, naming the
        # database; /metrics cannot tell whether the token is an admin's, and says why.
        status, content_type, body = call("GET", f"{base}/api/ocr/ready", headers={"Authorization": "Bearer abc"})
        assert (status, body["status"]) == (503, "not_ready") and "database" in body["failing"]
        assert_coded(call("GET", f"{base}/metrics", headers={"Authorization": "Bearer abc"}), 503,
                     "DATABASE_UNAVAILABLE")
    finally:
        service["database"].restore()

    status, _, body = call("GET", f"{api}/status/{task_id}")
    assert status == 200 and body["task_id"] == task_id
    assert call("GET", f"{base}/api/ocr/health")[0] == 200


def test_broker_outage_is_a_coded_503_on_scan_start_and_retry_and_the_task_is_kept_for_retry(service):
    api = service["base"] + "/api/ocr/batch"
    status, _, pending = call("POST", f"{api}/scan", scan_body(service["book"], text_layout="vertical_lr"))
    assert status == 201, pending

    service["broker"].cut()
    try:
        assert_coded(call("POST", f"{api}/start/{pending['task_id']}"), 503, "BROKER_UNAVAILABLE")
        answer = call("POST", f"{api}/scan", scan_body(service["book"], text_layout="horizontal", auto_start=True))
        assert_coded(answer, 503, "BROKER_UNAVAILABLE")
        started = answer[2]["task_id"]
        assert_coded(call("POST", f"{api}/retry/{pending['task_id']}"), 503, "BROKER_UNAVAILABLE")
    finally:
        service["broker"].restore()

    # Both tasks are recorded failed with the cause, ready for a retry once the broker is back.
    for task_id in (pending["task_id"], started):
        status, _, body = call("GET", f"{api}/status/{task_id}")
        assert status == 200 and body["status"] == "failed", body
        assert "BROKER_UNAVAILABLE" in body["error"]
    status, _, body = call("POST", f"{api}/retry/{started}")
    assert status == 200, body
