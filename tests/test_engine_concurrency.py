"""Concurrent requests share one loaded engine safely: each gets the text of its own image."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from recognition.services import RecognitionOptions, page_result
from tests.pages import render_lines

TEXTS = ["床前明月光", "疑是地上霜", "举头望明月", "低头思故乡"]


def test_threads_sharing_an_engine_get_their_own_results():
    images = [np.asarray(render_lines([text], face="serif")) for text in TEXTS]

    def read(index):
        result = page_result(images[index % len(images)], RecognitionOptions())
        return index, [detail["text"] for detail in result["details"]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read, range(8)))
    assert all(texts == [TEXTS[index % len(TEXTS)]] for index, texts in results)
