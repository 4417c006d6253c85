"""The generated SECRET_KEY: processes starting together (the web server and the worker) all read the same,
complete key."""

import secrets
import stat
import threading
import time

from ocrsite.settings import stored_secret_key


def test_processes_starting_together_get_one_complete_key(tmp_path, monkeypatch):
    generate = secrets.token_urlsafe

    def slow_token(length):
        time.sleep(0.2)  # widens the window in which a half-created key file could be read
        return generate(length)

    monkeypatch.setattr(secrets, "token_urlsafe", slow_token)
    key_file = tmp_path / ".secret_key"
    start = threading.Barrier(8)
    keys = []

    def read_key():
        start.wait()
        keys.append(stored_secret_key(key_file))

    threads = [threading.Thread(target=read_key) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) >= 50
    assert key_file.read_text().strip() == keys[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == [".secret_key"]  # no private copies left behind


def test_an_existing_key_is_kept(tmp_path):
    key_file = tmp_path / ".secret_key"
    key_file.write_text("kept-" + "k" * 50 + "\n")
    assert stored_secret_key(key_file) == "kept-" + "k" * 50
