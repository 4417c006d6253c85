"""Accuracy, latency and memory of every OCR engine and model, on pages rendered with exact ground truth.

    .venv/bin/python bench/run_engines.py                 # generated set, all engines (see bench/README.md)
    .venv/bin/python bench/run_engines.py --quick         # one page per category
    .venv/bin/python bench/run_engines.py --engines PP-OCRv6_small,PP-OCRv4_mobile
    .venv/bin/python bench/run_engines.py --eval-dir ../shared/eval-dev   # a directory with labels.jsonl

Each engine runs in its own subprocess, so that its peak RSS (ru_maxrss) is its own. Character error rate:
NFKC, whitespace removed, edit distance over the ground truth's length, lines in reading order (the
service's page pipeline, recognition.pipeline.read_page; layout from the label, else the service's `auto` layout).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.textmetrics import weighted_cer  # noqa: E402 (after the repository is on the path)

ENGINES = ["PP-OCRv6_small", "PP-OCRv6_tiny", "PP-OCRv5_mobile", "PP-OCRv4_mobile"]  # model names
CATEGORIES = ["doc_zh", "en", "vertical", "mixed", "rot180", "scan"]

POEMS = [
    "床前明月光疑是地上霜举头望明月低头思故乡", "春眠不觉晓处处闻啼鸟夜来风雨声花落知多少",
    "白日依山尽黄河入海流欲穷千里目更上一层楼", "千山鸟飞绝万径人踪灭孤舟蓑笠翁独钓寒江雪",
    "红豆生南国春来发几枝愿君多采撷此物最相思", "松下问童子言师采药去只在此山中云深不知处",
]
NEWS = [
    "文物部门在古城遗址中新发现一批陶器和青铜器。", "铁路部门介绍，春运期间将加开临时旅客列车。",
    "气象台预计明天白天多云转晴，最高气温十八度。", "图书馆新增古籍数字化阅览服务，读者可在线查阅。",
    "本次展览共展出书画作品一百二十件，免费向公众开放。", "研究人员对族谱文献进行整理，建立了检索数据库。",
    "市民可通过手机预约办理户籍和社保相关业务。", "当地政府加大投入，改善乡村道路和供水设施。",
]
ENGLISH = [
    "The library opened a new reading room for rare books.", "Scanned pages are indexed and searchable online.",
    "Each volume of the family record lists births and marriages.", "Please return borrowed items before the end of May.",
    "The committee approved the budget for the next year.", "Weather permitting, the ferry leaves at half past nine.",
    "Researchers compared several recognition models on old prints.", "Quality control found no missing pages in the batch.",
]
GENEALOGY = [
    "第十六世祖文華字光遠號竹溪", "生於嘉慶二十年乙亥三月十五日", "公幼失恬事母至孝家貧力學",
    "娶李氏生子三長子承德次子承業", "卒葬於祖塋之東山向南", "配王氏合葬享年七十有二",
    "第十七世承德字厚之號静山", "修祠堂置祭田以奉先祖", "子孫繁衍分居四鄉",
]


def generate(out: Path, quick: bool) -> Path:
    """Renders the evaluation set into `out` with labels.jsonl (file, category, layout, lines, text)."""
    from tests import pages

    rng = random.Random(7)
    out.mkdir(parents=True, exist_ok=True)
    count = 1 if quick else 3
    records = []

    def save(name, category, image, lines, layout="horizontal", fmt="PNG"):
        file = f"{name}.{'jpg' if fmt == 'JPEG' else 'png'}"
        image.save(out / file, fmt)
        records.append({"file": file, "category": category, "layout": layout, "lines": lines,
                        "text": "".join(lines), "width": image.width, "height": image.height})

    faces = ["sans", "serif", "kai", "ming"]
    for n in range(count):
        doc = rng.sample(NEWS, 6) + rng.sample(POEMS, 2)
        save(f"doc_zh_{n}", "doc_zh", pages.render_lines(doc, face=faces[n % 4], size=28, margin=50), doc)
        en = rng.sample(ENGLISH, 5)
        save(f"en_{n}", "en", pages.render_lines(en, face="latin", size=26, margin=40), en)
        columns = rng.sample(GENEALOGY, 7)
        face = ("kai", "ming")[n % 2]
        save(f"vertical_{n}", "vertical",
             pages.render_vertical_rl(columns, face=face, size=36, margin=50, ruled=n % 2 == 1), columns, "vertical_rl")
        receipt = [f"发票号码：{rng.randrange(10**7, 10**8)}", f"开票日期：2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                   "购买方：上海图书馆有限公司", f"品名：Scanner A4 x{rng.randrange(1, 9)}", f"单价：{rng.randrange(100, 999)}.00元",
                   f"合计：RMB {rng.randrange(1000, 9999)}.50", "Tel: 021-6438-5500"]
        save(f"mixed_{n}", "mixed", pages.render_lines(receipt, face="sans", size=28, margin=40), receipt)
        flipped = rng.sample(NEWS, 4) if n % 2 == 0 else rng.sample(ENGLISH, 4)
        save(f"rot180_{n}", "rot180",
             pages.render_lines(flipped, face="serif" if n % 2 == 0 else "latin", size=28, margin=40).rotate(180), flipped)
        if n % 3 == 2:
            scan_lines, layout = rng.sample(GENEALOGY, 6), "vertical_rl"
            page = pages.render_vertical_rl(scan_lines, face="kai", size=38, margin=50)
        else:
            scan_lines, layout = rng.sample(NEWS, 5), "horizontal"
            page = pages.render_lines(scan_lines, face=faces[n % 2], size=30, margin=50)
        save(f"scan_{n}", "scan", pages.scanned(page, seed=n, angle=(1.5, -1.0, 2.0)[n % 3]), scan_lines, layout, "JPEG")
    with open(out / "labels.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


def worker(model: str, eval_dir: Path, limit: int, threads: int, options: dict | None = None) -> dict:
    """Runs in the engine's own process: loads it (with the engine's own keyword `options`, as
    bench/run_runtimes.py passes them), reads every labelled image, reports figures as JSON."""
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
    data = tempfile.mkdtemp(prefix="bench-data-")
    os.environ.setdefault("DATA_DIR", data)
    os.environ.setdefault("LOG_DIR", os.path.join(data, "logs"))
    import django

    django.setup()
    import numpy as np
    from PIL import Image

    from recognition.engines import engine_class
    from recognition.engines.models import find_model
    from recognition.pipeline import PageOptions, read_page
    from tests.textmetrics import cer

    spec = find_model(model)
    started = time.perf_counter()
    engine = engine_class(spec.engine)(spec, threads, False, **(options or {}))
    engine.warm_up()
    load_s = time.perf_counter() - started
    records = [json.loads(line) for line in (eval_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit:
        # Every category keeps pages: take them round-robin.
        by_category: dict[str, list] = {}
        for record in records:
            by_category.setdefault(record["category"], []).append(record)
        picked = []
        while len(picked) < min(limit, len(records)):
            for items in by_category.values():
                if items and len(picked) < limit:
                    picked.append(items.pop(0))
        records = picked
    results = []
    for record in records:
        image = np.asarray(Image.open(eval_dir / record["file"]).convert("RGB"))
        started = time.perf_counter()
        reading = read_page(engine, image, PageOptions(text_layout=record.get("layout") or "auto"))
        seconds = time.perf_counter() - started
        text = "".join(line.text for group in reading.groups for line in group)
        results.append({"file": record["file"], "category": record["category"], "seconds": round(seconds, 3),
                        "cer": cer(text, record["text"]), "errors": round(cer(text, record["text"]) * len(
                            "".join(record["text"].split())), 1), "chars": len("".join(record["text"].split())),
                        "rotation": reading.rotation, "text": text})
    return {"model": model, "engine": spec.engine, "threads": threads, "load_s": round(load_s, 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "images": results}


def summarise(run: dict, categories: list[str]) -> dict:
    images = run["images"]
    row = {"model": run["model"], "engine": run["engine"], "n": len(images)}
    for category in ["all"] + categories:
        row[category] = weighted_cer([i for i in images if category == "all" or i["category"] == category])
    row["median_s"] = round(statistics.median(i["seconds"] for i in images), 2) if images else None
    row["peak_rss_mb"] = run["peak_rss_mb"]
    row["load_s"] = run["load_s"]
    return row


def markdown(rows: list[dict], categories: list[str]) -> str:
    head = ["engine", "model", "images", "all"] + categories + ["median s/image", "peak RSS MB", "load s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["engine"], row["model"], row["n"], row["all"]] + [row[c] for c in categories] + [
            row["median_s"], row["peak_rss_mb"], row["load_s"]]
        lines.append("| " + " | ".join("–" if c is None else str(c) for c in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one generated page per category")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated model names (default: all)")
    parser.add_argument("--eval-dir", type=Path, help="a directory with labels.jsonl instead of the generated set")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results go")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads of each engine")
    parser.add_argument("--paddle-limit", type=int, default=0,
                        help="read at most this many images with the (slow) paddle engine, spread over categories")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, args.eval_dir, args.limit, args.threads), ensure_ascii=False))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    if args.eval_dir:
        eval_dir, name = args.eval_dir.resolve(), args.eval_dir.resolve().name
    else:
        eval_dir, name = generate(args.out / ("generated-quick" if args.quick else "generated"), args.quick), "generated"
    records = [json.loads(line) for line in (eval_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    categories = list(dict.fromkeys(r["category"] for r in records))
    print(f"{len(records)} images in {eval_dir}", flush=True)

    runs, rows = [], []
    for model in [m.strip() for m in args.engines.split(",") if m.strip()]:
        limit = args.paddle_limit if model == "PP-OCRv4_mobile" else 0
        started = time.perf_counter()
        command = [sys.executable, __file__, "--worker", model, "--eval-dir", str(eval_dir), "--threads", str(args.threads),
                   "--limit", str(limit)]
        process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        result = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if process.returncode != 0 or not result:
            print(f"{model}: failed\n{process.stderr[-3000:]}", flush=True)
            continue
        run = json.loads(result[-1][len("RESULT "):])
        runs.append(run)
        rows.append(summarise(run, categories))
        print(f"{model}: {rows[-1]['all']} % CER, {rows[-1]['median_s']} s median, "
              f"{time.perf_counter() - started:.0f} s in all", flush=True)
    table = markdown(rows, categories)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (args.out / f"{name}-{stamp}.json").write_text(json.dumps({"eval_dir": str(eval_dir), "runs": runs, "rows": rows},
                                                            ensure_ascii=False, indent=1), encoding="utf-8")
    (args.out / f"{name}-{stamp}.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
