"""The seed README's Python batch example (create, start, poll until completed/failed, export) runs unchanged
against a live server and a real worker; only the host and the directory are replaced."""

import json

import pytest
from django.conf import settings

from tests.batch_support import book_dir, worker, write_page  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Verbatim from seed/README.zh.md, "Python 调用示例 / 批量扫描".
SEED_EXAMPLE = '''
import requests
import time

# 1. 创建任务
url = "http://localhost:8000/api/ocr/batch/scan"
data = {
    "book_id": "廖氏族谱",
    "directory": "/path/to/images",
    "lang": "ch",
    "recursive": True
}
response = requests.post(url, json=data)
task_id = response.json()["task_id"]

# 2. 启动任务
requests.post(f"http://localhost:8000/api/ocr/batch/start/{task_id}")

# 3. 轮询状态
while True:
    status = requests.get(f"http://localhost:8000/api/ocr/batch/status/{task_id}").json()
    print(f"进度: {status['progress']}%")
    if status["status"] in ["completed", "failed"]:
        break
    time.sleep(5)

# 4. 导出结果
export = requests.post("http://localhost:8000/api/ocr/batch/export", json={
    "task_id": task_id,
    "format": "json"
}).json()
print(f"导出文件: {export['file_path']}")
'''


def test_seed_python_batch_example(live_server, worker, book_dir, capsys):
    for volume, folder in ((1, "卷一"), (2, "卷二")):
        for page in (1, 2):
            write_page(book_dir / folder / f"{page:03d}.jpg", [f"廖氏族谱卷{volume}第{page}页"])
    code = SEED_EXAMPLE.replace("http://localhost:8000", live_server.url).replace("/path/to/images", str(book_dir))
    namespace = {}
    exec(compile(code, "seed_batch_example", "exec"), namespace)

    assert namespace["status"]["status"] == "completed"
    assert namespace["status"]["progress"] == 100.0
    out = capsys.readouterr().out
    assert "进度: 100.0%" in out and f"导出文件: {namespace['export']['file_path']}" in out
    # file_path is relative to EXPORT_DIR (the server's own paths are not given out).
    document = json.loads((settings.EXPORT_DIR / namespace["export"]["file_path"]).read_text(encoding="utf-8"))
    assert [page["raw_text"] for page in document["pages"]] == \
        ["廖氏族谱卷1第1页", "廖氏族谱卷1第2页", "廖氏族谱卷2第1页", "廖氏族谱卷2第2页"]
    assert [(page["volume"], page["page_number"]) for page in document["pages"]] == [(1, 1), (1, 2), (2, 1), (2, 2)]
