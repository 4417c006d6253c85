"""Time and peak memory of the probe's costly requests (security issue 13), through the service's own
recognize_files, in one process:

    .venv/bin/python bench/request_limits.py posters     # 10 PDF pages of 14400 pt (a 7 KB file)
    .venv/bin/python bench/request_limits.py parallel    # 8 threads, each one 7745 x 7745 PNG (60 MP)

Settings come from the environment as for the service (PDF_MAX_PAGE_PIXELS, MAX_REQUEST_PIXELS, ...).
Peak memory is the process's maximum resident set (ru_maxrss), measured after the engine is loaded and
warmed, so that the figure printed is what the request added.
"""

import io
import os
import resource
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ocrsite.settings")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def posters() -> list[bytes]:
    from tests.pages import render_lines

    image = render_lines(["李氏族谱第一卷"], size=40)
    buffer = io.BytesIO()
    image.save(buffer, "PDF", resolution=image.width * 72 / 14400, save_all=True, append_images=[image] * 9)
    return [buffer.getvalue()]


def big_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (7745, 7745), 255).save(buffer, "PNG")
    return buffer.getvalue()


def main(case: str) -> None:
    import django

    django.setup()
    from recognition import errors
    from recognition.services import RecognitionOptions, recognize_files, warm_up

    warm_up()
    options = RecognitionOptions.from_raw({})
    before, started = peak_mb(), time.perf_counter()
    outcomes = []

    def run(files):
        try:
            outcomes.extend(recognize_files([lambda data=data: data for data in files], options))
        except errors.ApiError as error:
            outcomes.append(error)

    if case == "posters":
        run(posters())
    else:
        data = big_png()
        threads = [threading.Thread(target=run, args=([data],)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    seconds = time.perf_counter() - started
    summary = [outcome.code if isinstance(outcome, errors.ApiError) else f"ok {len(outcome.get('pages') or [1])} pages"
               for outcome in outcomes]
    print(f"{case}: {seconds:.1f} s, peak RSS +{peak_mb() - before:.0f} MB (from {before:.0f} MB); {summary}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "posters")
