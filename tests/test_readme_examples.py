"""The README's client examples, run as written against a live server.

Taken from README.md itself, so that an example changed or added there is run too: every line of the ```bash
blocks, and every ```python block, under the sections EXAMPLE_SECTIONS (with their subsections), plus the
block of admins' commands after "**Commands**" wherever README.md puts it. A shell line is a `curl` command, a
`NAME=value` assignment or a `python manage.py` command, and is run; any other line must be listed, with the
reason, in NOT_RUN, or the test fails (so that no line added to the README goes untested unnoticed).

Only placeholders are replaced: the server's address (`http://localhost:8000`, `http://ocr.example.com:8000`),
the scanned directory (`/srv/scans/...`) and, given as shell variables, a real API token (`$OCR_TOKEN`) and a
task (`$TASK`, `TASK_ID` in the manage.py lines) in the state the command is for (`start`: a task created with
auto_start false, `cancel`: a running task, `retry`: a cancelled one, `delete`: a running one, every other: a
completed book 廖氏族谱). Each image a command uploads (`file=@test.jpg`) is a rendered page. The book is a
folder `liao` under the first scan root, so that the relative `liao` of the manage.py lines is the same book.

Each curl must exit 0 and answer JSON with `"success": true` (every entry of an array), or save the file it
downloads (`-OJ`) under a name with the format's extension and with the format's first bytes (`%PDF-`, ...).
Each manage.py command runs in the client's folder (where `manage.py` links to the project's), as the shell
would run it, with the service's environment (its database, Redis, scan roots and export folder) and
`.venv/bin/python` for `python`; it must exit 0 and say, and do, what it is for (COMMAND_CHECKS: the scan's
task completed with the book's pages, the task list lists the tasks the scans created, an export's file starts
as its format does, ...). A real Celery worker runs throughout, as in the `make run` service: it reads the
pages of `manage.py scan` and of the API's scans, so that the book's first scan (curl) has finished when the
manage.py lines scan the same book again with the same options.
"""

import ast
import json
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from batches import services
from batches.models import BatchTask
from core.models import ApiToken
from core.statuses import TaskStatus
from tests.batch_support import child_env, new_book_dir, purge_broker, running_worker, write_page
from tests.deployment_support import PYTHON, ROOT
from tests.pages import render_lines

README = ROOT / "README.md"
EXAMPLE_SECTIONS = ("The API at a glance", "Access", "Batch scanning")
COMMANDS_HEADING = "**Commands**"  # the admins' manage.py commands: run wherever README.md puts them
HOSTS = ("http://localhost:8000", "http://ocr.example.com:8000")
PAGE_LINES = ["李氏族谱第一卷", "Hello PaddleOCR 2024"]
BOOK_ID = "廖氏族谱"

# Lines of those blocks that are not run, each (as README.md writes it, continuation lines joined) with the
# reason. Every other line is run; a line that is not listed here and cannot be run fails the test.
NOT_RUN: dict[str, str] = {
}

ASSIGNMENT = re.compile(r"[A-Z_][A-Z0-9_]*=\S")
MANAGE = re.compile(r"python manage\.py \w")

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
    """(the shell lines to run: curl commands, assignments and manage.py commands; the python blocks) of the
    example sections and the Commands block. Fails on a line that is none of those and not in NOT_RUN."""
    text = README.read_text(encoding="utf-8")
    found = sections(text)
    missing = [title for title in EXAMPLE_SECTIONS if title not in found]
    assert not missing, f"README.md has no section {missing}: update EXAMPLE_SECTIONS"
    commands = re.search(rf"^{re.escape(COMMANDS_HEADING)}\n```bash\n(.*?)^```", text, flags=re.M | re.S)
    assert commands, f"README.md has no ```bash block after {COMMANDS_HEADING}: update COMMANDS_HEADING"
    blocks = [block for title in EXAMPLE_SECTIONS for block in code_blocks(found[title], "bash")]
    if commands[1] not in blocks:
        blocks.append(commands[1])
    lines = [line for block in blocks for line in shell_lines(block)]
    unknown = [line for line in lines if not runnable(line) and line not in NOT_RUN]
    assert not unknown, f"README lines that are neither run nor listed in NOT_RUN: {unknown}"
    stale = [line for line in NOT_RUN if line not in lines]
    assert not stale, f"NOT_RUN lists lines that README.md no longer has: {stale}"
    python = [block for title in EXAMPLE_SECTIONS for block in code_blocks(found[title], "python")]
    return [line for line in lines if runnable(line)], python


def runnable(line: str) -> bool:
    return line.startswith("curl ") or bool(ASSIGNMENT.match(line) or MANAGE.match(line))


def test_the_examples_are_found():
    shell, python = examples()
    curls = [line for line in shell if line.startswith("curl ")]
    commands = [line for line in shell if MANAGE.match(line)]
    # What README.md has today (a floor, so that a change in its layout cannot leave this test empty).
    assert len(curls) >= 13 and len(commands) >= 8 and len(python) >= 1, (curls, commands, python)
    for path in ("/recognize ", "/recognize-batch ", "$API/scan", "$API/start/$TASK", "$API/status/$TASK",
                 "$API/cancel/$TASK", "$API/retry/$TASK", "$API/delete/$TASK", "$API/tasks", "$API/export",
                 "$API/download/$TASK"):
        assert any(path in line for line in curls), path
    for command in ("scan", "tasks", "cancel", "retry", "export"):
        assert any(line.startswith(f"python manage.py {command} ") for line in commands), command
    assert any("manage.py export" in line and "--format pdf" in line for line in commands), commands


# --- What a command must have written ------------------------------------------------------------------------

# format → (the end of the file's name, its first bytes)
DOCUMENTS = {
    "json": (".json", b"{"),
    "csv": (".csv", "\ufeff文件名,卷号,页码,识别文字,置信度,状态".encode()),
    "txt": (".txt", f"{BOOK_ID}\n".encode()),
    "pdf": (".pdf", b"%PDF-"),
    "hocr": (".hocr", b'<?xml version="1.0" encoding="UTF-8"?>'),
    "alto": (".alto.xml", b'<?xml version="1.0" encoding="UTF-8"?>'),
}


def check_document(path: Path, fmt: str) -> None:
    suffix, start = DOCUMENTS[fmt]
    assert path.name.endswith(suffix), f"a {fmt} file named {path.name}"
    data = path.read_bytes()
    assert data.startswith(start), f"{path.name} starts with {data[:60]!r}"


def download_format(command: str) -> str:
    """The format a download asks for: `?format=pdf`, `-F response_format=pdf`; /recognize's default is JSON."""
    named = re.search(r"\b(?:response_)?format=(\w+)", command)
    assert named or "/recognize" in command, f"which format does this download? {command}"
    return named[1] if named else "json"


# --- Running them --------------------------------------------------------------------------------------------

def substitute(text: str, base_url: str, directory: Path) -> str:
    for host in HOSTS:
        text = text.replace(host, base_url)
    return re.sub(r"/srv/scans/[\w./-]*\w", str(directory), text)


@pytest.fixture
def book(settings, tmp_path):
    """Two pages in `liao` under a scan root of the test's own, and the export folder."""
    settings.EXPORT_DIR = tmp_path / "exports"
    settings.SCAN_ROOTS = [(tmp_path / "scans").resolve()]
    folder = settings.SCAN_ROOTS[0] / "liao"
    for page in (1, 2):
        write_page(folder / f"卷一_{page:03d}.png", [f"{BOOK_ID}第{page}页"])
    return folder


def task_in_state(directory: Path, state: str) -> str:
    """A task of book 廖氏族谱 over its own copy of the book, in the state a README command is for."""
    folder = new_book_dir(f"readme-{state}")
    for page in sorted(directory.iterdir()):
        folder.joinpath(page.name).write_bytes(page.read_bytes())
    task = services.task_create(book_id=BOOK_ID, directory=str(folder), options=services.ScanOptions(),
                                auto_start=False)
    if state != "pending":
        services.task_start(task_id=task.task_id, send=False)  # queued, no message: the worker never takes it
    if state == "cancelled":
        services.task_cancel(task_id=task.task_id)
    if state == "completed":
        services.task_run_inline(task_id=task.task_id)
    return task.task_id


def task_for(command: str) -> str:
    for path, state in (("/start/", "pending"), ("/cancel/", "queued"), ("manage.py cancel ", "queued"),
                        ("/retry/", "cancelled"), ("manage.py retry ", "cancelled"), ("/delete/", "queued")):
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
        assert len(written) == 1, (command, written, result.stderr)
        check_document(written.pop(), download_format(command))
        return None
    answer = json.loads(body)
    # /recognize-batch answers an array, one result per file; the task status has no `success`.
    for entry in answer if isinstance(answer, list) else [answer]:
        assert entry.get("success", True) is True and not entry.get("error"), (command, answer)
    return answer


def run_curl(command: str, work: Path, env: dict) -> None:
    uploads(command, work)
    before = set(work.iterdir())
    result = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True, timeout=300)
    answer = check_answer(command, result, work, before)
    if "/recognize" in command and answer is not None:  # a document download has no JSON
        assert "Hello PaddleOCR 2024" in json.dumps(answer, ensure_ascii=False), (command, answer)
    if "$OCR_TOKEN" in command:  # the token was sent: a wrong one is refused
        wrong = subprocess.run(["bash", "-c", command], cwd=work, capture_output=True, text=True, timeout=300,
                               env={**env, "OCR_TOKEN": "pocr_wrong"})
        body = wrong.stdout.rpartition(STATUS_MARK)[0]
        assert json.loads(body)["error"] == "UNAUTHENTICATED", wrong.stdout


# --- The manage.py commands: what each must say and do -------------------------------------------------------

@dataclass
class Run:
    """What the manage.py lines share, as in one terminal."""
    work: Path  # the client's folder: the commands run there
    book: Path  # the book `liao`
    service: dict  # the environment of the service (database, broker, scan roots, export folder)
    created: dict = field(default_factory=dict)  # task id → book id of the tasks the scan lines created


# Each check gets the command's words (`python manage.py NAME ARGS...`, the README's comment left out), its
# output and the run.

def option(words: list[str], name: str, default=None):
    return words[words.index(name) + 1] if name in words else default


def check_scan(words, out, run):
    book_id = words[3]
    created = re.search(r"task_id=(\S+) book_id=(\S+) total_files=(\d+)", out)
    assert created and created[2] == book_id, out
    task = BatchTask.objects.get(task_id=created[1])
    pages = len(list(run.book.iterdir()))
    assert task.source_directory == str(run.book) and int(created[3]) == task.total_files == pages, \
        (task.source_directory, out)
    assert task.text_layout == option(words, "--layout", task.text_layout), task.text_layout
    if "--no-wait" in words:  # created and started
        assert task.status in (TaskStatus.QUEUED, TaskStatus.PROCESSING, TaskStatus.COMPLETED), task.status
    else:
        assert f"status=completed processed={pages} success={pages} failed=0" in out, out
        assert BOOK_ID in "".join(task.results.values_list("raw_text", flat=True))
    run.created[task.task_id] = book_id


def check_tasks(words, out, run):
    if "--requeue" in words:
        assert re.fullmatch(r"requeued \d+ pages", out.strip()), out
        return
    header, *rows = out.splitlines()
    assert header.split() == ["task_id", "status", "progress", "ok/failed/total", "book_id"], out
    listed = []
    for row in rows:
        task_id, status, _, _, book_id = row.split(maxsplit=4)
        assert status == option(words, "--status", status) and book_id == option(words, "--book", book_id), row
        listed.append(task_id)
    if "--status" not in words:  # newest first: the tasks of the scan lines above are there
        expected = [task for task, book in run.created.items() if book == option(words, "--book", book)]
        assert expected and set(expected) <= set(listed), (expected, out)


def check_cancel(words, out, run):
    assert f"task_id={words[3]} status=cancelled" in out, out
    assert BatchTask.objects.get(task_id=words[3]).status == TaskStatus.CANCELLED


def check_retry(words, out, run):
    retried = re.search(rf"task_id={words[3]} retried=(\d+) status=", out)
    assert retried and int(retried[1]) > 0, out
    if "--inline" in words:
        assert re.search(r"^status=completed success=\d+ failed=0$", out, flags=re.M), out


def check_export(words, out, run):
    written = re.search(r"export_id=\S+ pages=(\d+) size=\d+ file=(.+)", out)
    assert written and int(written[1]) == BatchTask.objects.get(task_id=words[3]).total_files, out
    output = option(words, "--output")
    check_document(run.work / output if output else Path(written[2]), option(words, "--format", "json"))


COMMAND_CHECKS = {"scan": check_scan, "tasks": check_tasks, "cancel": check_cancel, "retry": check_retry,
                  "export": check_export}


def run_command(command: str, run: Run) -> None:
    words = shlex.split(command, comments=True)
    check = COMMAND_CHECKS.get(words[2])
    assert check, f"no check for `manage.py {words[2]}`: add one to COMMAND_CHECKS ({command})"
    result = subprocess.run(["bash", "-c", re.sub(r"^python\b", PYTHON, command)], cwd=run.work,
                            env=run.service, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (command, result.returncode, result.stdout, result.stderr[-3000:])
    check(words, result.stdout, run)


def test_readme_examples_run_as_written(live_server, book, settings, tmp_path, django_user_model):
    shell, python = examples()
    work = tmp_path / "client"
    work.mkdir()
    (work / "manage.py").symlink_to(ROOT / "manage.py")  # `python manage.py` in the client's folder
    user = django_user_model.objects.create_user("integrator", "integrator@example.com", "pw-1234567")
    token = ApiToken(name="README", user=user, scope="write")
    secret = token.issue_secret()
    token.save()
    # curl reads ~/.curlrc: it prints the HTTP status after the body, the command line stays as written.
    (tmp_path / ".curlrc").write_text('write-out = "\\nREADME-TEST-HTTP-STATUS %{http_code}\\n"\n')
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), "OCR_TOKEN": secret}
    folders = {"EXPORT_DIR": settings.EXPORT_DIR, "SCAN_ROOTS": settings.SCAN_ROOTS[0]}  # the test's own
    run = Run(work, book, child_env(**folders))
    tasks = {}
    ran = []
    try:
        with running_worker(tmp_path, name="readme", **folders):
            for line in shell:
                command = substitute(line, live_server.url, book)
                if ASSIGNMENT.match(command):
                    name, _, value = command.partition("=")
                    env[name] = value
                    continue
                if "$TASK" in command or "TASK_ID" in command:
                    state = task_for(command)
                    if state not in tasks or state != "completed":
                        tasks[state] = task_in_state(book, state)
                    env["TASK"] = tasks[state]
                    command = re.sub(r"\bTASK_ID\b", tasks[state], command)
                if MANAGE.match(command):
                    run_command(command, run)
                else:
                    run_curl(command, work, env)
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
