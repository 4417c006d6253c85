"""The dashboard shows a user only their own tasks (staff see all): lists, task and page views, downloads
and actions of another user's task are refused."""

import pytest
from django.test import Client

from batches import services
from batches.models import BatchTask, OcrResult
from tests.pages import encode, render_lines

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_task(tmp_path, settings, django_user_model):
    root = tmp_path / "scans"
    (root / "陈氏族谱").mkdir(parents=True)
    (root / "陈氏族谱" / "001.png").write_bytes(encode(render_lines(["陈氏族谱"], size=32, margin=20)))
    settings.SCAN_ROOTS = [root.resolve()]
    alice = django_user_model.objects.create_user("alice", password="pw-12345678")
    task = services.task_create(book_id="陈氏族谱", directory=str(root / "陈氏族谱"), options=services.ScanOptions(),
                                auto_start=False, owner=alice)
    return task


def login(django_user_model, name, staff=False):
    client = Client()
    client.force_login(django_user_model.objects.get_or_create(username=name, defaults={"is_staff": staff})[0])
    return client


def test_another_users_task_is_hidden_and_refused(alices_task, django_user_model):
    task_id = alices_task.task_id
    page_id = OcrResult.objects.get(task=alices_task).page_id
    bob = login(django_user_model, "bob")
    assert task_id not in bob.get("/batch").content.decode()
    assert bob.get(f"/batch/state?ids={task_id}").json() == {"tasks": []}
    for url in (f"/batch/tasks/{task_id}", f"/batch/tasks/{task_id}/state", f"/batch/tasks/{task_id}/download",
                f"/batch/tasks/{task_id}/pages/{page_id}", f"/batch/tasks/{task_id}/pages/{page_id}/image"):
        assert bob.get(url).status_code == 403, url
    refused = bob.post(f"/batch/tasks/{task_id}/delete", follow=True)
    assert "该任务属于其他用户" in refused.content.decode()
    assert BatchTask.objects.filter(task_id=task_id).exists()


def test_owner_and_staff_see_the_task(alices_task, django_user_model):
    task_id = alices_task.task_id
    for client in (login(django_user_model, "alice"), login(django_user_model, "boss", staff=True)):
        assert task_id in client.get("/batch").content.decode()
        assert client.get(f"/batch/tasks/{task_id}").status_code == 200
    alice = login(django_user_model, "alice")
    assert alice.post(f"/batch/tasks/{task_id}/delete").status_code == 302
    assert not BatchTask.objects.filter(task_id=task_id).exists()
