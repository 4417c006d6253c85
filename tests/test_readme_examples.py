"""The README's client examples, run as written against a live server.

Taken from README.md itself, so that an example changed or added there is run too: every `curl` command
(and `NAME=value` line) of the ```bash blocks, and every ```python block, under the sections EXAMPLE_SECTIONS
(with their subsections). Only placeholders are replaced: the server's address (`http://localhost:8000`,
`http://ocr.example.com:8000`), the scanned directory (`/srv/scans/...`) and, given as shell variables, a
real API token (`$OCR_TOKEN`) and a task (`$TASK`) in the state the command is for (`start`: a task created
with auto_start false, `cancel`: a running task, `retry`: a cancelled one, `delete`: a running one, every
other: a completed book 廖氏族谱). Each image a command uploads (`file=@test.jpg`) is a rendered page.

Each curl must exit 0 and answer JSON with `"success": true` (every entry of an array), or write the file it
downloads (`-O`).
"""

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from batches import services
from core.models import ApiToken
from tests.batch_support import new_book_dir, purge_broker, write_page
from tests.pages import render_lines

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_SECTIONS = ("The API at a glance", "Access", "Batch scanning")
HOSTS = ("http://localhost:8000", "http://ocr.example.com:8000")
PAGE_LINES = ["李氏族谱第一卷", "Hello PaddleOCR 2024"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# --- Reading the README --------------------------------------------------------------------------------------

def sections(text: str) -> dict[str, str]:
    """Top-level (##) section title → its text, subsections included."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.M | re.S)


def shell_lines(block: str) -> list[str]:
    """Logical lines (backslash continuations joined), without blank and comment lines."""
    lines, current = [], ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line + "\n"
        if not line.endswith("\\"):
            lines.append(current.rstrip("\n"))
            current = ""
    return lines


def examples() -> tuple[list[str], list[str]]:
    """(shell lines: curl commands and assignments, python blocks) of the example sections."""
    found = sections(README.read_text(encoding="utf-8"))
    missing = [title for title in EXAMPLE_SECTIONS if title not in found]
    assert not missing, f"README.md has no section {missing}: update EXAMPLE_SECTIONS"
    shell, python = [], []
    for title in EXAMPLE_SECTIONS:
        for block in code_blocks(found[title], "bash"):
            shell += [line for line in shell_lines(block)
                      if line.startswith("curl ") or re.match(r"[A-Z_][A-Z0-9_]*=\S", line)]
        python += code_blocks(found[title], "python")
    return shell, python


def test_the_examples_are_found():
    shell, python = examples()
    curls = [line for line in shell if line.startswith("curl ")]
    # What README.md has today (a floor, so that a change in its layout cannot leave this test empty).
    assert len(curls) >= 13 and len(python) >= 1, (curls, python)
    for path in ("/recognize ", "/recognize-batch ", "$API/scan", "$API/start/$TASK", "$API/status/$TASK",
                 "$API/cancel/$TASK", "$API/retry/$TASK", "$API/delete/$TASK", "$API/tasks", "$API/export",
                 "$API/download/$TASK"):
        assert any(path in line for line in curls), path


# --- Running them --------------------------------------------------------------------------------------------

def substitute(text: str, base_url: str, directory: Path) -> str:
    for host in HOSTS:
        text = text.replace(host, base_url)
    return re.sub(r"/srv/scans/[\w./-]*\w", str(directory), text)


@pytest.fixture
def book(settings, tmp_path):
    """Two pages under the scan root, and the export folder."""
    settings.EXPORT_DIR = tmp_path / "exports"
    folder = new_book_dir("readme")
    for page in (1, 2):
        write_page(folder / f"卷一_{page:03d}.png", [f"廖氏族谱第{page}页"])
    return folder


def task_in_state(directory: Path, state: str) -> str:
    """A task of book 廖氏族谱 over its own copy of the book, in the state a README command is for."""
    folder = new_book_dir(f"readme-{state}")
    for page in sorted(directory.iterdir()):
        folder.joinpath(page.name).write_bytes(page.read_bytes())
    task = services.task_create(book_id="廖氏族谱", directory=str(folder), options=services.ScanOptions(),
                                auto_start=False)
    if state != "pending":
        services.task_start(task_id=task.task_id, send=False)  # queued; no worker takes it
    if state == "cancelled":
        services.task_cancel(task_id=task.task_id)
    if state == "completed":
        services.task_run_inline(task_id=task.task_id)
    return task.task_id


def task_for(command: str) -> str:
    for path, state in (("/start/", "pending"), ("/cancel/", "queued"), ("/retry/", "cancelled"),
                        ("/delete/", "queued")):
        if path in command:
            return state
    return "completed"


def uploads(command: str, folder: Path) -> None:
    """The images a command uploads (`-F "file=@name"`), rendered into the folder it runs in."""
    for name in re.findall(r"=@([^\s\"';]+)", command):
        path = folder / name
        if not path.exists():
            render_lines(PAGE_LINES, face="serif").save(path, quality=92)


STATUS_MARK = "\nREADME-TEST-HTTP-STATUS "


def check_answer(command: str, result: subprocess.CompletedProcess, folder: Path, before: set):
    """The JSON answer (None for a download); the HTTP status comes from the ~/.curlrc of the test."""
    assert result.returncode == 0, (command, result.stderr)
    body, _, status = result.stdout.rpartition(STATUS_MARK)
    assert status.strip().startswith("2"), (command, status, body)
    if re.search(r"\s-\w*O", command):  # -O / -OJ: the body went to a file
        written = set(folder.iterdir()) - before
        assert written and all(path.stat().st_size > 0 for path in written), (command, result.stderr)
        return None
    answer = json.loads(body)
    # /recognize-batch answers an array, one result per file; the task status has no `success`.
    for entry in answer if isinstance(answer, list) else [answer]:
        assert entry.get("success", True) is True and not entry.get("error"), (command, answer)
    return answer


def test_readme_examples_run_as_written(live_server, book, tmp_path, django_user_model):
    shell, python = examples()
    work = tmp_path / "client"
    work.mkdir()
    user = django_user_model.objects.create_user("integrator", "integrator@example.com", "pw-1234567")
    token = ApiToken(name="README", user=user, scope="write")
    secret = token.issue_secret()
    token.save()
    # curl reads ~/.curlrc: it prints the HTTP status after the body, the command line stays as written.
    (tmp_path / ".curlrc").write_text('write-out = "\\nREADME-TEST-HTTP-STATUS %{http_code}\\n"\n')
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "OCR_TOKEN": secret}
    tasks = {}
    ran = []
    try:
        for line in shell:
            command = substitute(line, live_server.url, book)
            if not command.startswith("curl "):
                name, _, value = command.partition("=")
                env[name] = value
                continue
            if "$TASK" in command:
                state = task_for(command)
                if state not in tasks or state != "completed":
                    tasks[state] = task_in_state(book, state)
                env["TASK"] = tasks[state]
            uploads(command, work)
            before = set(work.iterdir())
            result = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                                    timeout=300)
            answer = check_answer(command, result, work, before)
            if "/recognize" in command and answer is not None:  # a document download has no JSON
                assert "Hello PaddleOCR 2024" in json.dumps(answer, ensure_ascii=False), (command, answer)
            if "$OCR_TOKEN" in command:  # the token was sent: a wrong one is refused
                wrong = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True,
                                       timeout=300, env={**env, "OCR_TOKEN": "pocr_wrong"})
                body = wrong.stdout.rpartition(STATUS_MARK)[0]
                assert json.loads(body)["error"] == "UNAUTHENTICATED", wrong.stdout
            ran.append(command)

        for block in python:
            code = substitute(block, live_server.url, book)
            module = ast.parse(code)
            last = module.body.pop() if module.body and isinstance(module.body[-1], ast.Expr) else None
            page = work / "page.jpg"
            render_lines(PAGE_LINES, face="serif").save(page, quality=92)
            with open(page, "rb") as f:
                namespace = {"requests": requests, "url": live_server.url + "/api/ocr/recognize", "f": f,
                             "token": secret}
                exec(compile(module, "README.md", "exec"), namespace)
                value = eval(compile(ast.Expression(last.value), "README.md", "eval"), namespace) if last else None
            response = value if isinstance(value, requests.Response) else namespace.get("response")
            assert isinstance(response, requests.Response), code
            assert response.status_code == 200 and response.json()["success"] is True, response.text
            assert "Hello PaddleOCR 2024" in response.json()["text"]
            ran.append(code)
    finally:
        purge_broker()
    print(f"\n{len(ran)} README examples ran")
