"""Batch throughput, the job system's cost per page, and the workers' memory over a long book (issue 11,
targets 4 and 5), side by side with the engine alone on the same pages in one run.

    .venv/bin/python bench/run_batch.py                          # 300-page book, 1 and 2 workers; ~45 min
    .venv/bin/python bench/run_batch.py --parts memory --memory-pages 3000
    .venv/bin/python bench/run_batch.py --pages 60 --parts throughput,cost   # a quick look
    .venv/bin/python bench/run_batch.py --parts cost --repeat 3   # how much the job system's cost varies

Needs MariaDB (DB_HOST, DB_PORT, DB_USER, DB_PASSWORD; a database `<DB_NAME>_batch_bench` is dropped and
created) and `redis-server` on the PATH (a Redis of the script's own is the broker): the full mode, as a
deployment runs it. The workers are `manage.py start worker --concurrency N` (the service's own worker
command: prefork children with one engine of OCR_THREADS=1 each, beat, limits). Parts (`--parts`):

- `throughput`: a generated book of --pages pages (rendered 700x900 genealogy and document pages, each
  with its own text: Chinese documents, vertical right-to-left columns, English, noisy scans) read by the
  engine alone in N processes in parallel (`recognition.services.recognize_bytes`, 1 thread each, the pages
  split between them), then scanned and read by the service with N worker children, then read by the
  engine alone again: pages per second from the scan request to the task's completion, and the ratio to
  the mean of the engine's two readings around it (this VM's speed drifts by 5-10 % over the minutes a
  book takes, as much as the target's margin; the two readings are reported). The page pipeline's own
  time in the workers is set beside the engine's per page. For N in --processes.
- `cost`: the same with --pages tiny blank pages (64x64 PNGs: the engine finds nothing in a few ms), where
  most of the time is the job system's own: queue, claim, lease, database writes, progress. For every run
  the job system's cost per page is (service seconds x N - the pages' own pipeline seconds, as the workers
  recorded them - the last page's wait) / pages: the workers' time not spent in the page pipeline,
  measured in the same run. The last page's wait is the time a child sat idle at the end because the
  book's last pages were being read by the others (each child's last record to the task's completion): a
  book is read in whole pages, so with N > 1 it ends with some children idle whatever the job system costs
  (about half a page's time); it is reported in its own column, not in the job system's.
  With --repeat R the service reads each set R times, a row each, the engine alone before, between and
  after them: on a shared VM the cost moves between runs by more than the changes it measures.
- `memory`: --memory-pages small pages (lines and words, 20 sizes, each page its own text) read by 2 worker
  children with CELERY_WORKER_MAX_TASKS_PER_CHILD=0 (never replaced, so growth shows); the RSS of each
  child is sampled every second. Reported: peak RSS per child after the first 10 % of the pages (warm-up)
  and at the end, and the growth between them.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_support import PYTHON, full_mode_env, load_average, percentile, stop_with_parent  # noqa: E402


# --- Pages -------------------------------------------------------------------------------------------------
CHINESE = "始祖德明公生於洪武二年配王氏生子三長文華次文富三文貴文華公遷居長沙府娶陳氏生子二長曰廷玉次曰廷璋俱業儒" \
          "光緒甲辰年重修族譜宗祠在縣城東門外祭田二十畝歲收租穀以供春秋二祭之需凡我族人務宜遵守毋得私自典賣"
ENGLISH = ("the family record was kept by the eldest son of each generation and copied every thirty years "
           "births marriages and the land held by the clan in the county with the dates of each purchase").split()


# Pages of a small scanned book (0.6 MP): the book's 300 pages read in minutes on 2 cores.
PAGE_SIZE = (700, 900)


def book_page(number: int):
    """Page `number` of the generated book: its image and kind, its text drawn from the pools by number."""
    from tests import pages

    rng = random.Random(number)
    kind = ("doc_zh", "vertical", "en", "scan")[number % 4]
    if kind == "vertical":
        columns = ["".join(rng.choice(CHINESE) for _ in range(rng.randint(10, 14))) for _ in range(9)]
        image = pages.render_vertical_rl([f"第{number}頁", *columns], size=56)
    elif kind == "en":
        lines = [" ".join(rng.choice(ENGLISH) for _ in range(7)).capitalize() for _ in range(14)]
        image = pages.render_lines([f"Page {number}", *lines], face="latin", size=30)
    else:
        lines = ["".join(rng.choice(CHINESE) for _ in range(18)) for _ in range(15)]
        image = pages.render_lines([f"第{number}页", *lines], face=rng.choice(("sans", "serif", "kai")), size=36)
        if kind == "scan":
            image = pages.scanned(image, seed=number)
    return image.convert("RGB").resize(PAGE_SIZE), kind


def small_page(number: int):
    """A line or word image, one of 20 sizes, with the page's own text."""
    from tests import pages

    rng = random.Random(number)
    text = "".join(rng.choice(CHINESE) for _ in range(2 + number % 6)) + str(number)
    if number % 2:
        image, _ = pages.render_single_line(text, height=24 + 4 * (number % 10))
    else:
        image, _ = pages.render_word_crop(text, height=32 + 6 * (number % 10), background="paper", seed=number)
    return image


def write_book(folder: Path, count: int, kind: str) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        path = folder / f"{number:05d}.png"
        if kind == "book":
            image, page_kind = book_page(number)
            if page_kind == "scan":
                path = path.with_suffix(".jpg")
                image.save(path, quality=75)
            else:
                image.save(path)
        elif kind == "small":
            small_page(number).save(path)
        else:  # blank: nothing for the engine to find, each file its own bytes
            image = Image.new("L", (64, 64), 255)
            image.putpixel((number % 64, number // 64 % 64), 254)
            image.save(path)
        paths.append(path)
    return paths


# --- The engine alone ----------------------------------------------------------------------------------
def child_engine(paths: list[str]) -> None:
    import django

    django.setup()
    from recognition.services import RecognitionOptions, recognize_bytes, warm_up

    warm_up()
    options = RecognitionOptions.from_raw({})
    started = time.perf_counter()
    # Each page's processing_time, as the workers record it, to set the two side by side page by page.
    page_seconds = {Path(path).name: recognize_bytes(Path(path).read_bytes(), options)["processing_time"]
                    for path in paths}
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - started, "pages": page_seconds}))


def engine_alone(paths: list[Path], processes: int, env: dict) -> tuple[float, dict[str, float]]:
    """Seconds for `processes` engines (1 thread each) to read `paths` between them, in parallel, and each
    page's processing_time by file name."""
    shares = [[str(path) for path in paths[start::processes]] for start in range(processes)]
    children = []
    for share in shares:
        listing = Path(tempfile.mktemp(suffix=".json"))
        listing.write_text(json.dumps(share))
        children.append(subprocess.Popen([PYTHON, __file__, "--child-engine", str(listing)], cwd=ROOT,
                                         env={**env, "OCR_THREADS": "1"}, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True))
    seconds, page_seconds = [], {}
    for child in children:
        out, err = child.communicate()
        lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
        if child.returncode != 0 or not lines:
            raise RuntimeError(err[-3000:])
        result = json.loads(lines[-1][7:])
        seconds.append(result["seconds"])
        page_seconds.update(result["pages"])
    return max(seconds), page_seconds


# --- The service ---------------------------------------------------------------------------------------
class ServiceWorker:
    """`manage.py start worker --concurrency N` in its own process group, output in a log file."""

    def __init__(self, env: dict, log: Path, processes: int):
        self.log = log
        self.handle = open(log, "ab")
        self.process = subprocess.Popen([PYTHON, "manage.py", "start", "worker", "--concurrency", str(processes)],
                                        cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=stop_with_parent)
        deadline = time.monotonic() + 180
        while " ready." not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(log.read_text(errors="replace")[-3000:])
            time.sleep(0.3)
        # Every child warms its engine before it takes a page; give them the time to be all up.
        time.sleep(3)

    def children_rss_mb(self) -> list[float]:
        import psutil

        try:
            main = psutil.Process(self.process.pid)
            return [child.memory_info().rss / 2**20 for child in main.children(recursive=True)
                    if "celery" in " ".join(child.cmdline())]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
        self.handle.close()


def read_book(client, directory: str, book_id: str, expected: int, on_tick=None) -> tuple[float, dict, float]:
    """Seconds from POST /batch/scan (auto start) until the task was completed with every page read (its
    completed_at, written by the page that completed it, so that how often this polls adds nothing), the
    seconds each page spent in the page pipeline (its recorded processing_time, by file name), and the seconds
    the worker children sat idle at the end, their last page recorded while another child still read one
    (summed over the children)."""
    from django.db.models import Max
    from django.utils import timezone

    from batches.models import BatchTask, OcrResult

    started = timezone.now()
    response = client.post("/api/ocr/batch/scan", {"book_id": book_id, "directory": directory}, format="json")
    assert response.status_code == 201, response.content[:300]
    task_id = response.json()["task_id"]
    while True:
        task = BatchTask.objects.get(task_id=task_id)
        if task.status in ("completed", "failed", "cancelled"):
            break
        if on_tick:
            on_tick(task.processed_files)
        time.sleep(0.2)
    assert task.status == "completed" and task.processed_files == expected, (task.status, task.processed_files)
    elapsed = (task.completed_at - started).total_seconds()
    pages = OcrResult.objects.filter(task=task)
    # A page is recorded (updated_at) by the child that claimed it (claimed_by: node and pid).
    tail = sum((task.completed_at - row["last"]).total_seconds()
               for row in pages.values("claimed_by").annotate(last=Max("updated_at")))
    return elapsed, {row.relative_path: float(row.processing_time or 0) for row in pages}, tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="throughput,cost,memory")
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--memory-pages", type=int, default=3000)
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--repeat", type=int, default=1,
                        help="the service reads each set this many times (a task each), the engine alone between")
    parser.add_argument("--child-engine", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_engine:
        child_engine(json.loads(Path(args.child_engine).read_text()))
        return
    parts = set(args.parts.split(","))
    counts = [int(n) for n in args.processes.split(",")]

    from bench.run_recovery import prepare_database
    from tests.batch_support import PrivateRedis

    work = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    redis = PrivateRedis(work)
    env = full_mode_env(work, redis.port, "batch_bench", OCR_THREADS="1", TASK_LEASE_SECONDS="300")
    (work / "logs").mkdir()
    report = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "cores": os.cpu_count(), "rows": []}
    try:
        prepare_database(env)
        os.environ.update(env)
        import django

        django.setup()
        from rest_framework.test import APIClient

        client = APIClient(HTTP_HOST="localhost")
        sets = {}
        if "throughput" in parts:
            sets["book"] = write_book(work / "scans" / "book", args.pages, "book")
        if "cost" in parts:
            sets["blank"] = write_book(work / "scans" / "blank", args.pages, "blank")
        print(f"pages written (load {load_average()})", flush=True)
        for kind, paths in sets.items():
            for processes in counts:
                # The engine alone reads the set before and after every reading by the service, and the service
                # is compared with the mean of the two: this VM's speed drifts by more than the ratio's margin
                # over the minutes a book takes (the drift is reported, before / after).
                before, before_pages = engine_alone(paths, processes, env)
                for round_ in range(args.repeat):
                    worker = ServiceWorker(env, work / "logs" / f"worker-{kind}-{processes}-{round_}.out", processes)
                    try:
                        book_id = f"{kind}-{processes}-{time.time():.0f}"
                        service, page_seconds, tail = read_book(client, kind, book_id, len(paths))
                    finally:
                        worker.stop()
                    after, after_pages = engine_alone(paths, processes, env)
                    engine_s = (before + after) / 2
                    pipeline = sum(page_seconds.values())
                    # Page by page, so that a stretch where the VM was slow weighs as one page, not as a mean.
                    page_ratios = [seconds * 2 / max(before_pages[name] + after_pages[name], 0.001)
                                   for name, seconds in page_seconds.items()]
                    # The job system's share of the workers' time: everything but the page pipeline itself
                    # and the children's wait for the book's last page (a book ends with one page read).
                    row = {"set": kind, "processes": processes, "pages": len(paths), "engine_s": engine_s,
                           "engine_before_s": before, "engine_after_s": after,
                           "service_s": service, "engine_pps": len(paths) / engine_s,
                           "service_pps": len(paths) / service, "ratio": engine_s / service,
                           "pipeline_ms": 1000 * pipeline / len(paths),
                           "engine_ms": 500 * (sum(before_pages.values()) + sum(after_pages.values())) / len(paths),
                           "page_ratio_median": percentile(page_ratios, 0.5),
                           "tail_ms": 1000 * tail / len(paths),
                           "cost_ms": 1000 * (service * processes - pipeline - tail) / len(paths)}
                    report["rows"].append(row)
                    print(f"{kind}, {processes} processes: engine {len(paths) / before:.2f} / "
                          f"{len(paths) / after:.2f} pages/s (before / after), service "
                          f"{row['service_pps']:.2f} pages/s, ratio {row['ratio']:.2f}, pipeline "
                          f"{row['pipeline_ms']:.1f} ms/page in the workers against {row['engine_ms']:.1f} alone "
                          f"(median page {row['page_ratio_median']:.2f}x), "
                          f"last page's wait {row['tail_ms']:.1f} ms/page, "
                          f"job system {row['cost_ms']:.1f} ms/page (load {load_average()})", flush=True)
                    # One engine reading between two service readings serves both.
                    before, before_pages = after, after_pages
        if "memory" in parts:
            paths = write_book(work / "scans" / "small", args.memory_pages, "small")
            memory_env = {**env, "CELERY_WORKER_MAX_TASKS_PER_CHILD": "0", "CELERY_WORKER_MAX_MEMORY_PER_CHILD": "0"}
            worker = ServiceWorker(memory_env, work / "logs" / "worker-memory.out", 2)
            samples = []
            last = [0.0]

            def sample(processed: int):
                if time.monotonic() - last[0] >= 1:
                    last[0] = time.monotonic()
                    samples.append((processed, worker.children_rss_mb()))
            try:
                seconds, _, _ = read_book(client, "small", f"memory-{time.time():.0f}", len(paths), on_tick=sample)
            finally:
                worker.stop()
            warm = [rss for processed, rss in samples if processed >= len(paths) // 10]
            first, end = warm[0], warm[-1]
            peaks = [max(values) for values in zip(*[rss for rss in warm if len(rss) == len(first)])]
            report["memory"] = {"pages": len(paths), "seconds": seconds, "after_warmup_mb": first, "end_mb": end,
                                "peak_mb": peaks, "growth": [e / f - 1 for f, e in zip(first, end)],
                                "samples": samples}
            print(f"memory, {len(paths)} pages in {seconds:.0f} s: children RSS after warm-up "
                  f"{[round(v) for v in first]} MB, at the end {[round(v) for v in end]} MB, peak "
                  f"{[round(v) for v in peaks]} MB (load {load_average()})", flush=True)
    finally:
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)
    lines = ["| pages | worker processes | engine alone pages/s (before / after) | service pages/s | "
             "service / engine | page ms: pipeline in the workers / engine alone | median page: workers / alone | "
             "last page's wait ms per page | job system ms per page |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in report["rows"]:
        lines.append(f"| {row['pages']} {row['set']} | {row['processes']} | "
                     f"{row['pages'] / row['engine_before_s']:.2f} / {row['pages'] / row['engine_after_s']:.2f} | "
                     f"{row['service_pps']:.2f} | **{row['ratio']:.2f}×** | "
                     f"{row['pipeline_ms']:.1f} / {row['engine_ms']:.1f} | {row['page_ratio_median']:.2f}× | "
                     f"{row['tail_ms']:.1f} | {row['cost_ms']:.1f} |")
    if "memory" in report:
        memory = report["memory"]
        lines += ["", "| child | RSS after warm-up MB | RSS at the end MB | peak MB | growth |", "|---|---|---|---|---|"]
        for number, (first, end, peak, growth) in enumerate(zip(memory["after_warmup_mb"], memory["end_mb"],
                                                                memory["peak_mb"], memory["growth"]), 1):
            lines.append(f"| {number} | {first:.0f} | {end:.0f} | {peak:.0f} | {100 * growth:+.1f} % |")
    table = "\n".join(lines)
    print(table)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"batch-{stamp}.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    (out / f"batch-{stamp}.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
