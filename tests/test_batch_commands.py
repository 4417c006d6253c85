"""manage.py scan (--inline: pages run in the command's own process), tasks, cancel, retry, export."""

import json

import pytest
from django.core.management import CommandError, call_command

from batches.models import BatchTask
from tests.batch_support import book_dir, write_page  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def run(capsys, *args):
    """(exit status, stdout, stderr) of a command."""
    try:
        call_command(*args)
        code = 0
    except SystemExit as error:
        code = error.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def field(output: str, name: str) -> str:
    return next(part.split("=", 1)[1] for part in output.split() if part.startswith(name + "="))


def test_scan_inline_with_a_bad_page_then_retry_and_export(book_dir, capsys, tmp_path):
    write_page(book_dir / "卷一" / "001.png", ["第1页"])
    (book_dir / "卷一" / "002.png").write_bytes(b"broken")
    code, out, err = run(capsys, "scan", "赵氏族谱", str(book_dir), "--inline")
    assert code == 2  # completed, with a failed page
    assert "status=completed processed=2 success=1 failed=1" in out and "2/2" in err
    assert "failed: 卷一/002.png: UNSUPPORTED_FORMAT" in out  # the failed pages are named at the end
    task_id = field(out, "task_id")

    code, out, _ = run(capsys, "tasks", "--book", "赵氏族谱")
    assert task_id in out and "completed" in out and "1/1/2" in out

    write_page(book_dir / "卷一" / "002.png", ["第2页"])
    code, out, _ = run(capsys, "retry", task_id, "--inline")
    assert "retried=1" in out and "status=completed success=2 failed=0" in out

    target = tmp_path / "out.json"
    code, out, _ = run(capsys, "export", task_id, "--format", "json", "--output", str(target))
    assert code == 0 and "pages=2" in out
    assert [p["raw_text"] for p in json.loads(target.read_text(encoding="utf-8"))["pages"]] == ["第1页", "第2页"]


def test_scan_keeps_its_progress_bar_clear_of_info_lines(book_dir, caplog):
    write_page(book_dir / "001.png", ["第1页"])
    caplog.set_level("INFO")
    call_command("scan", "钱氏族谱", str(book_dir), "--inline", "--layout", "auto")
    assert [record for record in caplog.records if record.levelname == "INFO"] == []
    call_command("scan", "钱氏族谱二", str(book_dir), "--inline", "--verbosity", "2")
    assert any(record.levelname == "INFO" for record in caplog.records)


def test_scan_layout_choices_include_auto():
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("scan", "b", "/tmp", "--layout", "diagonal")


def test_scan_refusals_exit_non_zero(book_dir, capsys):
    with pytest.raises(CommandError, match="PATH_NOT_ALLOWED"):
        call_command("scan", "b", "/etc", "--inline")
    write_page(book_dir / "001.png", ["第1页"])
    code, out, _ = run(capsys, "scan", "b", str(book_dir), "--no-wait")
    assert code == 0 and field(out, "total_files") == "1"
    with pytest.raises(CommandError, match="DUPLICATE_TASK"):
        call_command("scan", "b", str(book_dir), "--inline")


def test_cancel_command_and_cancelled_scan_exit_status(book_dir, capsys):
    write_page(book_dir / "001.png", ["第1页"])
    code, out, _ = run(capsys, "scan", "b", str(book_dir), "--no-wait")
    task_id = field(out, "task_id")
    code, out, _ = run(capsys, "cancel", task_id)
    assert code == 0 and "status=cancelled" in out
    assert BatchTask.objects.get(task_id=task_id).status == "cancelled"
    with pytest.raises(CommandError, match="TASK_NOT_FOUND"):
        call_command("cancel", "nope")
