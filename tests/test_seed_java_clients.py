"""The seed README's Java examples (seed/README.zh.md, "Java 调用示例"), compiled with javac and run with java
against a live server and, for the batch flow, a real Celery worker.

The sources are in tests/java/, copied from the seed with the few changes each file's header lists (what
javac needs). Here only the server's URL (and, for OkHttp, the book folder) is substituted, in a copy
compiled once per run into a temporary folder. The JDK and the Spring/Jackson jars are Debian's (Makefile
TEST_PACKAGES).
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.batch_support import book_dir, task_row, wait_finished, worker, write_page  # noqa: F401 (fixtures)
from tests.pages import render_lines

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(shutil.which("javac") is None or shutil.which("java") is None,
                                 reason="no JDK: run `make test-deps` (default-jdk-headless)")]

SOURCES = Path(__file__).resolve().parent / "java"
JARS = Path("/usr/share/java")
# Spring's RestTemplate and what it needs to run: Jackson (its JSON converter is on when Jackson is on the
# class path) and commons-logging; spring-context for the seed's @Service.
SPRING_JARS = ["spring3-web", "spring3-core", "spring3-beans", "spring3-context", "jackson-databind",
               "jackson-core", "jackson-annotations", "commons-logging"]
OKHTTP_JARS = ["okhttp", "okio"]
# Not in TEST_PACKAGES: Debian's libokhttp-java (3.13) has only RequestBody.create(MediaType, ...), so javac
# refuses the seed's calls (checked below whenever it is installed); the test runs where an OkHttp 4 is.
OKHTTP_MISSING = ("the seed's OkHttp example needs OkHttp 4 (RequestBody.create(File, MediaType) and "
                  "RequestBody.create(String, MediaType)): Debian ships only OkHttp 3.13 (libokhttp-java), "
                  "which lacks both, and no OkHttp 4 can be installed offline")
TEXT = "李氏族谱第一卷\nHello PaddleOCR 2024"
TASK_ID = re.compile(r"^任务已创建: ([0-9a-f-]{32,36})$", re.MULTILINE)


def class_path(jars: list[str]) -> list[Path]:
    paths = [JARS / f"{name}.jar" for name in jars]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        pytest.skip(f"missing {', '.join(missing)}: run `make test-deps`")
    return paths


def compile_sources(target: Path, names: list[str], jars: list[Path], replacements: dict[str, str]):
    """javac of tests/java/<names> with `replacements` applied (the seed's URL and folder) into `target`;
    the CompletedProcess (the caller decides what a failure means)."""
    target.mkdir(parents=True)
    sources = []
    for name in names:
        text = (SOURCES / name).read_text(encoding="utf-8")
        for old, new in replacements.items():
            text = text.replace(old, new)
        (target / name).write_text(text, encoding="utf-8")
        sources.append(str(target / name))
    return subprocess.run(["javac", "-encoding", "UTF-8", "-nowarn", "-d", str(target),
                           "-cp", os.pathsep.join(map(str, jars)), *sources],
                          capture_output=True, text=True, timeout=120)


def run_java(classes: Path, jars: list[Path], main: str, *args: str, cwd: Path, timeout: float = 120) -> str:
    """stdout of `java <main> <args>`, in UTF-8 whatever this machine's locale (the seed prints Chinese)."""
    done = subprocess.run(["java", "-cp", os.pathsep.join(map(str, [classes, *jars])), main, *args],
                          cwd=cwd, env={**os.environ, "LC_ALL": "C.UTF-8"}, capture_output=True, timeout=timeout)
    stdout, stderr = done.stdout.decode("utf-8"), done.stderr.decode("utf-8", "replace")
    print(stdout)
    assert done.returncode == 0 and "Exception" not in stderr, f"{main} failed ({done.returncode}):\n{stderr[-4000:]}"
    return stdout


@pytest.fixture
def test_jpg(tmp_path):
    """The seed's `test.jpg`, in the folder the Java programs run in."""
    render_lines(TEXT.split("\n"), face="serif").save(tmp_path / "test.jpg", quality=92)
    return tmp_path / "test.jpg"


@pytest.fixture(scope="module")
def spring(live_server, tmp_path_factory):
    """The seed's OcrService and its data classes with SeedSpringMain, compiled: (classes, jars)."""
    jars = class_path(SPRING_JARS)
    classes = tmp_path_factory.mktemp("java") / "spring"
    done = compile_sources(classes, ["OcrService.java", "SeedSpringMain.java"], jars,
                           {"http://localhost:8000": live_server.url})
    assert done.returncode == 0, done.stderr
    return classes, jars


def test_httpclient_example(live_server, test_jpg, tmp_path):
    # Its multipart body puts "lang=ch" and "use_angle_cls=true" inside the file part, after the JPEG's
    # bytes: the service still reads the image.
    classes = tmp_path / "classes"
    done = compile_sources(classes, ["OcrClient.java"], [], {"http://localhost:8000": live_server.url})
    assert done.returncode == 0, done.stderr
    out = run_java(classes, [], "OcrClient", cwd=test_jpg.parent)
    assert out.startswith("识别结果: {"), out
    result = json.loads(out.removeprefix("识别结果: "))
    assert result["success"] is True and result["text"] == TEXT, result
    assert result["processingTime"] == result["processing_time"] > 0


def test_spring_recognize_image(spring, test_jpg):
    out = run_java(*spring, "SeedSpringMain", "recognize", str(test_jpg), cwd=test_jpg.parent)
    assert out.startswith("success: true\n"), out
    assert float(re.search(r"^processingTime: (\S+)$", out, re.MULTILINE).group(1)) > 0, out
    assert out.split("text: ", 1)[1] == TEXT + "\n"


def test_spring_batch_scan_flow(spring, worker, book_dir):
    # The seed's processBatchScan: its request bean is posted as {"bookId", "directory", "lang",
    # "recursive"}; it reads taskId from the answer, then starts and polls until completed.
    expected = {"001.jpg": "廖氏族谱第一页", "卷二/002.jpg": "廖氏族谱第二页"}
    for relative_path, text in expected.items():
        write_page(book_dir / relative_path, [text])
    out = run_java(*spring, "SeedSpringMain", "batch", "廖氏族谱", str(book_dir), cwd=book_dir)
    task_id = TASK_ID.search(out).group(1)
    lines = out.splitlines()
    assert lines[1] == "任务已启动" and lines[-2:] == ["进度: 100.0%", "任务完成!"], out

    status = run_java(*spring, "SeedSpringMain", "status", task_id, cwd=book_dir)
    assert status.splitlines() == [f"taskId: {task_id}", "status: completed", "progress: 100.0",
                                   "processedFiles: 2", "successFiles: 2", "error: null"]
    task = task_row(task_id)
    assert (task.book_id, task.recursive) == ("廖氏族谱", True)
    assert {page.relative_path: page.raw_text for page in task.results.all()} == expected


def test_okhttp_example(live_server, worker, book_dir, test_jpg, tmp_path):
    jars = [JARS / f"{name}.jar" for name in OKHTTP_JARS]
    if not all(jar.exists() for jar in jars):
        pytest.skip(OKHTTP_MISSING)
    write_page(book_dir / "001.jpg", ["廖氏族谱第一页"])
    classes = tmp_path / "classes"
    done = compile_sources(classes, ["OcrClientOkHttp.java"], jars,
                           {"http://localhost:8000": live_server.url, "/path/to/images": str(book_dir)})
    if "no suitable method found for create(" in done.stderr:
        pytest.skip(OKHTTP_MISSING)
    assert done.returncode == 0, done.stderr
    out = run_java(classes, jars, "OcrClientOkHttp", cwd=test_jpg.parent)
    result = json.loads(re.search(r"^识别结果: (.*)$", out, re.MULTILINE).group(1))
    assert result["text"] == TEXT and result["processingTime"] > 0
    created = json.loads(re.search(r"^任务创建: (.*)$", out, re.MULTILINE).group(1))
    assert created["success"] is True and created["taskId"] == created["task_id"]
    assert wait_finished(created["task_id"]).results.get().raw_text == "廖氏族谱第一页"
