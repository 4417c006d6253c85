"""Accuracy with reading order, and latency, of the service's whole page pipeline on the issue-9 set.

    .venv/bin/python bench/run_pipeline.py                          # this checkout, default options
    .venv/bin/python bench/run_pipeline.py --code-root /tmp/before --label before   # an older checkout
    .venv/bin/python bench/run_pipeline.py --categories rot90,columns2 --layout auto
    .venv/bin/python bench/run_pipeline.py --compare before.json after.json

Each image goes through recognition.services.recognize_bytes exactly as the API calls it, with
RecognitionOptions.from_raw({}) (what a client that sends no options gets; --layout adds text_layout), in
this process after django.setup(). OCR_ENGINE, OCR_MODEL, OCR_THREADS, ... pass through the environment.
CER: NFKC, whitespace removed, Levenshtein distance of the service's `text` (its lines in its own order)
to the labelled lines joined in reading order, over the truth's length; a category's CER is its errors over
its characters. Seconds are the wall time of recognize_bytes, after one warm-up call. "order-free CER"
(characters compared as multisets) is a diagnostic only: it is never above the CER, and CER minus it is about
what the reading order costs.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Imported before --code-root goes on sys.path: the set and the metric are this checkout's, whatever tree
# the service code comes from.
from bench.pipeline_set import DEFAULT_DIR, SIZE_CLASSES, generate, load_labels  # noqa: E402
from tests import pages  # noqa: E402
from tests.textmetrics import cer, normalise, weighted_cer  # noqa: E402

RESULTS = ROOT / "bench" / "results"


def load_service(code_root: Path | None):
    """recognize_bytes and RecognitionOptions from `code_root` (default: this checkout), Django set up."""
    if code_root:
        sys.path.insert(0, str(code_root.resolve()))
        # Celery's Django fixup puts the working directory first on sys.path when the app loads: from this
        # checkout it would bring this checkout's apps back in front of code_root's.
        os.chdir(code_root)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
    data = tempfile.mkdtemp(prefix="bench-data-")
    os.environ.setdefault("DATA_DIR", data)
    os.environ.setdefault("LOG_DIR", os.path.join(data, "logs"))
    import django

    django.setup()
    import recognition
    from recognition.services import RecognitionOptions, recognize_bytes

    print(f"service code: {Path(recognition.__file__).resolve().parent.parent}", flush=True)
    return recognize_bytes, RecognitionOptions


def read_image(recognize_bytes, options, data: bytes) -> tuple[str, float, str | None]:
    """The service's text for one file, the seconds it took and its error (None when it answered)."""
    started = time.perf_counter()
    try:
        result = recognize_bytes(data, options)
    except Exception as error:  # an ApiError or worse: the image scores as all wrong, the run goes on
        return "", time.perf_counter() - started, f"{type(error).__name__}: {error}"
    return result.get("text") or "", time.perf_counter() - started, None


def order_free_cer(recognised: str, truth: str) -> float:
    """Errors when order does not count: the longer side's characters that the other side lacks (multisets),
    over the truth's length. A lower bound of the CER, as every edit script leaves these characters unmatched."""
    recognised, truth = normalise(recognised), normalise(truth)
    if not truth:
        return 0.0 if not recognised else 1.0
    common = sum((Counter(recognised) & Counter(truth)).values())
    return (max(len(recognised), len(truth)) - common) / len(truth)


def run(set_dir: Path, code_root: Path | None, categories: set[str] | None, layout: str | None) -> dict:
    records = [r for r in load_labels(set_dir) if not categories or r["category"] in categories]
    recognize_bytes, RecognitionOptions = load_service(code_root)
    options = RecognitionOptions.from_raw({"text_layout": layout} if layout else {})
    warm_up = pages.encode(pages.render_lines(["预热 warm-up 第一页"], size=32))
    read_image(recognize_bytes, options, warm_up)
    images = []
    started = time.perf_counter()
    for number, record in enumerate(records, 1):
        text, seconds, error = read_image(recognize_bytes, options, (set_dir / record["file"]).read_bytes())
        images.append({"file": record["file"], "category": record["category"], "size_class": record["size_class"],
                       "chars": len(normalise(record["text"])), "cer": round(cer(text, record["text"]), 4),
                       "order_free_cer": round(order_free_cer(text, record["text"]), 4),
                       "seconds": round(seconds, 3), "text": text, "error": error})
        print(f"[{number}/{len(records)}] {record['file']}: CER {100 * images[-1]['cer']:.1f} %, {seconds:.2f} s"
              + (f", {error}" if error else ""), flush=True)
    from django.conf import settings

    return {"set": str(set_dir), "code_root": str(code_root.resolve() if code_root else ROOT), "layout": layout,
            "engine": settings.OCR_ENGINE, "model": settings.OCR_MODEL,
            "wall_s": round(time.perf_counter() - started, 1), "images": images}


def summarise(images: list[dict]) -> dict:
    by_category: dict[str, list] = {}
    for image in images:
        by_category.setdefault(image["category"], []).append(image)
    categories = {name: {"images": len(chosen), "cer": weighted_cer(chosen),
                         "order_free_cer": weighted_cer(chosen, "order_free_cer"),
                         "total_s": round(sum(i["seconds"] for i in chosen), 2),
                         "median_s": round(statistics.median(i["seconds"] for i in chosen), 2)}
                  for name, chosen in by_category.items()}
    size_classes = {name: {"images": len(chosen), "median_s": round(statistics.median(i["seconds"] for i in chosen), 2)}
                    for name in SIZE_CLASSES if (chosen := [i for i in images if i["size_class"] == name])}
    category_cers = [row["cer"] for row in categories.values() if row["cer"] is not None]
    overall = {"images": len(images), "cer": weighted_cer(images),
               "order_free_cer": weighted_cer(images, "order_free_cer"),
               "category_mean_cer": round(statistics.mean(category_cers), 1) if category_cers else None,
               "total_s": round(sum(i["seconds"] for i in images), 1),
               "errors": sum(1 for i in images if i["error"])}
    return {"categories": categories, "size_classes": size_classes, "overall": overall}


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join("–" if cell is None else str(cell) for cell in row) + " |" for row in rows]


def markdown(summary: dict) -> str:
    categories = table(["category", "images", "CER %", "order-free CER %", "total s", "median s"],
                       [[name, row["images"], row["cer"], row["order_free_cer"], row["total_s"], row["median_s"]]
                        for name, row in summary["categories"].items()])
    overall = summary["overall"]
    categories.append(f"| **all** | {overall['images']} | {overall['cer']} | {overall['order_free_cer']} | "
                      f"{overall['total_s']} | |")
    sizes = table(["size class", "images", "median s"],
                  [[name, row["images"], row["median_s"]] for name, row in summary["size_classes"].items()])
    notes = [f"Mean of the category CERs: {overall['category_mean_cer']} %. Images the service refused or failed: "
             f"{overall['errors']}."]
    return "\n".join(categories + [""] + sizes + [""] + notes)


def compare(before_file: Path, after_file: Path) -> str:
    """Per category CER and total seconds of two runs, and the after/before ratio of total time. The `all` row
    counts only the categories both runs have, so that a partial run compares like with like."""
    runs = [json.loads(f.read_text(encoding="utf-8"))["images"] for f in (before_file, after_file)]
    names = list(dict.fromkeys(i["category"] for images in runs for i in images))
    common = {i["category"] for i in runs[0]} & {i["category"] for i in runs[1]}
    before, after = (summarise([i for i in images if i["category"] in common]) for images in runs)
    for summary, images in zip((before, after), runs):
        summary["categories"] = summarise(images)["categories"]

    def ratio(old, new):
        return round(new / old, 2) if old and new is not None else None

    rows = []
    for name in names + ["all"]:
        old = before["overall"] if name == "all" else before["categories"].get(name, {})
        new = after["overall"] if name == "all" else after["categories"].get(name, {})
        rows.append(["**all** (categories in both)" if name == "all" else name, old.get("cer"), new.get("cer"), old.get("total_s"),
                     new.get("total_s"), ratio(old.get("total_s"), new.get("total_s"))])
    header = ["category", "CER % before", "CER % after", "total s before", "total s after", "time after/before"]
    return "\n".join([f"before: {before_file}", f"after: {after_file}", ""] + table(header, rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=DEFAULT_DIR, help="the set's directory (generated when missing)")
    parser.add_argument("--code-root", type=Path, help="a checkout whose recognition/ and ocrsite/ are scored")
    parser.add_argument("--label", default="run", help="name in the result files' names")
    parser.add_argument("--categories", help="comma-separated categories (default: all)")
    parser.add_argument("--layout", help="text_layout sent with every image (default: none, the service's default)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"), help="two result JSON files")
    args = parser.parse_args()

    if args.compare:
        print(compare(*args.compare))
        return
    if not (args.set / "labels.jsonl").exists():
        generate(args.set)
    categories = {c.strip() for c in args.categories.split(",") if c.strip()} if args.categories else None
    stamp = time.strftime("%Y%m%d-%H%M%S")  # before django.setup(), which sets TZ to the service's TIME_ZONE
    result = run(args.set.resolve(), args.code_root, categories, args.layout)
    result["summary"] = summarise(result["images"])
    text = markdown(result["summary"])
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = RESULTS / f"pipeline-{args.label}-{stamp}"
    stem.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    stem.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print(f"written: {stem}.json, {stem}.md")


if __name__ == "__main__":
    main()
