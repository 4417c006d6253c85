"""ONNX Runtime against OpenVINO for the onnxruntime engine's models, with recognition batch sizes and
threads per engine, side by side in one run.

    .venv/bin/python bench/run_runtimes.py                      # issue-9 pipeline set (bench/pipeline_set.py)
    .venv/bin/python bench/run_runtimes.py --eval-dir ../shared/eval-dev
    .venv/bin/python bench/run_runtimes.py --configs onnxruntime:6:2,openvino:6:2 --model PP-OCRv6_tiny

A configuration is RUNTIME:REC_BATCH:THREADS. Each runs in its own subprocess (bench/run_engines.py's
worker: the service's page pipeline, peak RSS of that process alone), one after the other, runtimes
alternating so that any load from elsewhere on the machine falls on both. Figures per configuration:
CER (as bench/run_engines.py counts it), median and p95 seconds per image, images per second, peak RSS,
and on how many images the text differs from the first configuration's.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline_set import DEFAULT_DIR, generate  # noqa: E402 (after the repository is on the path)
from bench.run_engines import worker  # noqa: E402
from tests.textmetrics import weighted_cer  # noqa: E402

# Runtimes (OpenVINO in the engine's f32, and in its own default precision) and threads at the batch
# rapidocr ships with (6), then the batch sizes at 2 threads.
CONFIGS = [
    "onnxruntime:6:2", "openvino:6:2", "openvino/:6:2", "onnxruntime:6:1", "openvino:6:1",
    "onnxruntime:1:2", "openvino:1:2", "onnxruntime:16:2", "openvino:16:2", "onnxruntime:32:2", "openvino:32:2",
]


def parse(config: str) -> dict:
    """RUNTIME[/PRECISION]:REC_BATCH:THREADS; `openvino/` (no precision) is OpenVINO's own default, bf16
    where the CPU has it."""
    runtime, batch, threads = config.split(":")
    runtime, slash, precision = runtime.partition("/")
    options = {"runtime": runtime, "rec_batch": int(batch), "threads": int(threads)}
    if slash:
        options["precision"] = precision
    return options


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    vector = " ".join(flag for flag in flags if flag.startswith(("avx", "amx")) or "vnni" in flag)
    return f"{model}, {os.cpu_count()} cores, flags: {vector or 'none listed'}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for package in ("rapidocr", "onnxruntime", "openvino"):
        try:
            found.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            found.append(f"{package} not installed")
    return ", ".join(found)


def row(config: str, run: dict, baseline: dict | None) -> dict:
    images = run["images"]
    seconds = [image["seconds"] for image in images]
    differ = None
    if baseline is not None:
        texts = {image["file"]: image["text"] for image in baseline["images"]}
        differ = sum(image["text"] != texts.get(image["file"]) for image in images)
    return {"config": config, **parse(config), "n": len(images), "cer": weighted_cer(images),
            "median_s": round(statistics.median(seconds), 3), "p95_s": round(percentile(seconds, 0.95), 3),
            "images_per_s": round(len(images) / sum(seconds), 3), "peak_rss_mb": run["peak_rss_mb"],
            "load_s": run["load_s"], "differ": differ}


def markdown(rows: list[dict]) -> str:
    head = ["runtime[/precision]", "rec batch", "threads", "images", "CER %", "median s", "p95 s", "images/s",
            "median vs first", "peak RSS MB", "load s", "texts differing from first"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    first = rows[0]["median_s"] if rows else None
    for item in rows:
        cells = [item["config"].split(":")[0], item["rec_batch"], item["threads"], item["n"], item["cer"],
                 item["median_s"], item["p95_s"], item["images_per_s"], f"{item['median_s'] / first:.2f}×", item["peak_rss_mb"],
                 item["load_s"], "–" if item["differ"] is None else item["differ"]]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eval-dir", type=Path, help="a directory with labels.jsonl (default: the pipeline set)")
    parser.add_argument("--model", default="PP-OCRv6_small", help="a model of the onnxruntime engine")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated RUNTIME:REC_BATCH:THREADS")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results", help="where results go")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        options = parse(args.worker)
        threads = options.pop("threads")
        print("RESULT " + json.dumps(worker(args.model, args.eval_dir, 0, threads, options), ensure_ascii=False))
        return

    eval_dir = (args.eval_dir or generate(DEFAULT_DIR)).resolve()
    print(f"{eval_dir}; {machine()}; {versions()}", flush=True)
    runs, rows = [], []
    for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
        started = time.perf_counter()
        command = [sys.executable, __file__, "--worker", config, "--model", args.model, "--eval-dir", str(eval_dir)]
        process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        result = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if process.returncode != 0 or not result:
            print(f"{config}: failed\n{process.stderr[-3000:]}", flush=True)
            continue
        run = json.loads(result[-1][len("RESULT "):])
        rows.append(row(config, run, runs[0] if runs else None))
        runs.append(run)
        print(f"{config}: {rows[-1]['cer']} % CER, {rows[-1]['median_s']} s median, {rows[-1]['p95_s']} s p95, "
              f"{time.perf_counter() - started:.0f} s in all (load average {os.getloadavg()[0]:.1f})", flush=True)
    table = markdown(rows)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = {"eval_dir": str(eval_dir), "machine": machine(), "versions": versions(), "model": args.model,
              "rows": rows, "runs": runs}
    (args.out / f"runtimes-{eval_dir.name}-{stamp}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1),
                                                                    encoding="utf-8")
    (args.out / f"runtimes-{eval_dir.name}-{stamp}.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
