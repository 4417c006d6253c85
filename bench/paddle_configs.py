"""Paddle Inference CPU settings of the paddle engine compared: wall and CPU seconds on the same pages.

    .venv/bin/python bench/paddle_configs.py --eval-dir bench/results/generated [--images 8] [CONFIG ...]

Each configuration runs in its own process (one engine, warmed up, each page read once). CPU seconds (user +
system of the process) are steadier than wall seconds on a machine shared with other work.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONFIGS = {
    "pir_plain": {"run_mode": "paddle", "enable_new_ir": True},  # PaddleOCR's CPU setting with enable_mkldnn=False
    "pir_mkldnn": {"run_mode": "mkldnn", "enable_new_ir": True},  # fails on paddlepaddle 3.3.1
    "oldir_plain": {"run_mode": "paddle", "enable_new_ir": False},
    "oldir_mkldnn": {"run_mode": "mkldnn", "enable_new_ir": False},  # the engine's CPU_ENGINE_CONFIG
    "oldir_mkldnn_t1": {"run_mode": "mkldnn", "enable_new_ir": False, "threads": 1},
    "oldir_mkldnn_cache100": {"run_mode": "mkldnn", "enable_new_ir": False, "mkldnn_cache_capacity": 100},
}


def child(config: dict, files: list[str]) -> dict:
    data = tempfile.mkdtemp(prefix="bench-data-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
    os.environ.setdefault("DATA_DIR", data)
    os.environ.setdefault("LOG_DIR", os.path.join(data, "logs"))
    import django

    django.setup()
    import numpy as np
    from PIL import Image

    from recognition.engines import paddle_engine
    from recognition.engines.models import find_model
    from recognition.pipeline import PageOptions, read_page

    threads = config.pop("threads", 2)
    paddle_engine.CPU_ENGINE_CONFIG = {**paddle_engine.CPU_ENGINE_CONFIG, **config}

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    engine = paddle_engine.PaddleEngine(find_model("PP-OCRv4_mobile"), threads, False)
    engine.warm_up()
    rows = []
    for file in files:
        image = np.asarray(Image.open(file).convert("RGB"))
        started_cpu, started = cpu(), time.perf_counter()
        read_page(engine, image, PageOptions())
        rows.append((Path(file).name, round(time.perf_counter() - started, 2), round(cpu() - started_cpu, 2)))
    return {"wall_s": round(sum(r[1] for r in rows), 1), "cpu_s": round(sum(r[2] for r in rows), 1), "pages": rows,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", default=list(CONFIGS))
    parser.add_argument("--eval-dir", type=Path, default=ROOT / "bench" / "results" / "generated")
    parser.add_argument("--images", type=int, default=8, help="pages, one per category in turn")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        request = json.loads(args.child)
        print("RESULT " + json.dumps(child(request["config"], request["files"])))
        return
    records = [json.loads(l) for l in (args.eval_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
    by_category: dict[str, list] = {}
    for record in records:
        by_category.setdefault(record["category"], []).append(record)
    files: list[str] = []
    while len(files) < min(args.images, len(records)):
        for items in by_category.values():
            if items and len(files) < args.images:
                files.append(str(args.eval_dir / items.pop(0)["file"]))
    for name in args.configs:
        request = json.dumps({"config": dict(CONFIGS[name]), "files": files})
        process = subprocess.run([sys.executable, __file__, "--child", request], capture_output=True, text=True, cwd=ROOT)
        result = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")]
        if result:
            print(name, result[-1][len("RESULT "):], flush=True)
        else:
            print(name, "FAILED:", (process.stderr.strip().splitlines() or ["?"])[-1], flush=True)


if __name__ == "__main__":
    main()
