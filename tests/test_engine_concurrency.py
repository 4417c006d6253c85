"""Concurrent requests share one loaded engine safely: each gets the text of its own image."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from recognition.engines import engine_for
from tests.pages import render_lines

TEXTS = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]


def test_threads_sharing_an_engine_get_their_own_results():
    engine = engine_for("ch")
    images = [np.asarray(render_lines([text], face="serif")) for text in TEXTS]

    def read(index):
        return index, [line.text for line in engine.read(images[index % len(images)], True).lines]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read, range(8)))
    assert all(texts == [TEXTS[index % len(TEXTS)]] for index, texts in results)
