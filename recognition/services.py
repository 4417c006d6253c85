"""Recognition of one uploaded file: the service behind /recognize, /recognize-batch, the dashboard and the
batch workers."""

import threading
import time
from contextlib import contextmanager
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.naming import snake_case_keys

from . import errors, stats
from .engines import EnginePool, EngineUnavailable, LoadedEngine, UnsupportedLanguage, available_langs, engine_for
from .pipeline import Deadline, PageOptions, read_page
from .pipeline.decode import iter_pages, page_sizes
from .pipeline.formats import OUTPUT_FORMATS, format_text
from .pipeline.reading_order import TEXT_LAYOUTS

BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


def parse_bool(field: str, value) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word not in BOOLEAN_WORDS:
        raise errors.InvalidParameter(f"参数 {field} 必须是 true 或 false", field=field, allowed=["true", "false"])
    return BOOLEAN_WORDS[word]


def parse_choice(field: str, value, allowed) -> str:
    value = str(value).strip()
    if value not in allowed:
        raise errors.InvalidParameter(
            f"参数 {field} 的值 {value!r} 无效，可选：{', '.join(allowed)}", field=field, allowed=list(allowed)
        )
    return value


@dataclass(frozen=True)
class RecognitionOptions:
    lang: str = "ch"
    use_angle_cls: bool = True
    detect_orientation: bool = True
    return_details: bool = True
    text_layout: str = "auto"
    output_format: str = "line_by_line"

    @classmethod
    def from_raw(cls, raw: Mapping) -> "RecognitionOptions":
        """Options from form or JSON fields (strings or JSON values), each also under its camelCase name
        (core/naming.py); unknown values raise InvalidParameter."""
        raw = snake_case_keys({key: raw.get(key) for key in raw})

        def given(name):
            value = raw.get(name)
            return None if value is None or (isinstance(value, str) and value.strip() == "") else value

        def flag(name, default):
            return parse_bool(name, given(name) if given(name) is not None else default)

        lang = str(given("lang") or settings.OCR_LANG).strip()
        try:
            langs = available_langs()
        except EngineUnavailable as error:
            raise errors.EngineUnavailableError(str(error)) from error
        parse_choice("lang", lang, langs)
        return cls(
            lang=lang,
            use_angle_cls=flag("use_angle_cls", settings.OCR_USE_ANGLE_CLS),
            detect_orientation=flag("detect_orientation", settings.OCR_DETECT_ORIENTATION),
            return_details=flag("return_details", True),
            text_layout=parse_choice("text_layout", given("text_layout") or settings.OCR_TEXT_LAYOUT, TEXT_LAYOUTS),
            output_format=parse_choice("output_format", given("output_format") or "line_by_line", OUTPUT_FORMATS),
        )


def engine_pool(lang: str) -> EnginePool:
    try:
        return engine_for(lang)
    except UnsupportedLanguage as error:
        raise errors.InvalidParameter(
            f"不支持的语言 {error.lang!r}，可选：{', '.join(error.available)}", field="lang", allowed=error.available
        ) from error
    except EngineUnavailable as error:
        raise errors.EngineUnavailableError(str(error)) from error


def read_image(loaded: LoadedEngine, image: np.ndarray, options: RecognitionOptions,
               deadline: Deadline | None = None) -> dict:
    """The API's result for one page; the caller has the engine checked out of its pool."""
    started = time.perf_counter()
    page_options = PageOptions(detect_orientation=options.detect_orientation, use_angle_cls=options.use_angle_cls,
                               text_layout=options.text_layout, min_confidence=settings.OCR_MIN_CONFIDENCE)
    reading = read_page(loaded.engine, image, page_options, deadline)
    details = [
        {"text": line.text, "confidence": line.confidence, "box": [list(point) for point in line.box],
         "low_confidence": line.confidence < settings.OCR_LOW_CONFIDENCE}
        for group in reading.groups for line in group
    ]
    return {
        "success": True,
        "text": format_text(reading.groups, options.output_format),
        "details": details if options.return_details else None,
        "processing_time": round(time.perf_counter() - started, 3),
        "error": None,
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "rotation": reading.rotation,
    }


def page_result(image: np.ndarray, options: RecognitionOptions) -> dict:
    """The API's result for one page already decoded."""
    with engine_pool(options.lang).checkout() as loaded:
        return read_image(loaded, image, options)


def check_request_pixels(reads: Sequence[Callable[[], bytes]]) -> None:
    """TOO_MANY_PIXELS when the pages of all the files, as they would be decoded, hold more than
    MAX_REQUEST_PIXELS: known from headers and PDF page boxes, before any page is decoded or rendered. A
    file that cannot be measured counts nothing here: it fails with its own error when it is read."""
    total = 0
    for read in reads:
        try:
            total += sum(width * height for width, height in page_sizes(read()))
        except errors.ApiError:
            continue
    if total > settings.MAX_REQUEST_PIXELS:
        raise errors.TooManyPixels(
            f"本次请求共 {total} 像素（所有文件的页数×每页像素），超过上限 {settings.MAX_REQUEST_PIXELS} 像素，"
            "请减少文件或页数",
            pixels=total, max_pixels=settings.MAX_REQUEST_PIXELS,
        )


def file_result(loaded: LoadedEngine, data: bytes, options: RecognitionOptions, deadline: Deadline) -> dict:
    """The API's result for one file. Multi-page files (PDF, TIFF) add `pages` and join their text with a
    blank line."""
    started = time.perf_counter()
    pages = []
    # A page's time starts before it is decoded: rendering a PDF page is part of it.
    deadline.start_page()
    for image in iter_pages(data):
        pages.append(read_image(loaded, image, options, deadline))
        deadline.start_page()
    if not pages:
        raise errors.CorruptImage("文件中没有可识别的页面")
    stats.count_images(len(pages))
    if len(pages) == 1:
        result = pages[0]
    else:
        details = None
        if options.return_details:
            details = [{**detail, "page": number} for number, page in enumerate(pages, 1) for detail in page["details"]]
        result = {
            "success": True,
            "text": "\n\n".join(page["text"] for page in pages),
            "details": details,
            "error": None,
            "pages": pages,
        }
    result["processing_time"] = round(time.perf_counter() - started, 3)
    return result


_request_slots = threading.BoundedSemaphore(settings.OCR_MAX_REQUESTS_PER_PROCESS)


@contextmanager
def request_slot():
    """One of this process's OCR_MAX_REQUESTS_PER_PROCESS places for a recognition request, or BUSY at once:
    a request never waits for a place, so the threads a process has beyond them stay free for the probes and
    status. Taken by the web views before they read the upload, so that refusing costs no body parsing."""
    if not _request_slots.acquire(blocking=False):
        stats.count_error()
        raise errors.Busy(f"本进程已有 {settings.OCR_MAX_REQUESTS_PER_PROCESS} 个识别请求在处理或排队，请稍后重试",
                          retry_after=2)
    try:
        yield
    finally:
        _request_slots.release()


def recognize_files(reads: Sequence[Callable[[], bytes]], options: RecognitionOptions) -> list[dict | errors.ApiError]:
    """The results of one request's files, in order, each file given as a function returning its bytes. A
    file's own error (a bad file, one over a limit, a page over OCR_PAGE_TIMEOUT) takes its place in the
    list; an error of the whole request (TOO_MANY_PIXELS, OCR_TIMEOUT past OCR_REQUEST_TIMEOUT, the engine)
    is raised, and nothing is returned half-done.

    Everything from reading a file's bytes to the last page happens with an engine checked out of the
    process's pool, so that a process holds the bytes and decoded pages of as many requests as it has
    engines, however many threads wait (their uploads wait in Django's temporary files). The request's
    time starts when it has an engine."""
    with engine_pool(options.lang).checkout() as loaded:
        deadline = Deadline(settings.OCR_REQUEST_TIMEOUT, settings.OCR_PAGE_TIMEOUT)
        check_request_pixels(reads)
        outcomes: list[dict | errors.ApiError] = []
        for read in reads:
            try:
                outcomes.append(file_result(loaded, read(), options, deadline))
            except errors.RequestTimeout:
                raise
            except errors.ApiError as error:
                outcomes.append(error)
    return outcomes


def recognize_file(read: Callable[[], bytes], options: RecognitionOptions) -> dict:
    """The API's result for one file (read with an engine checked out, see recognize_files); its error raised."""
    (outcome,) = recognize_files([read], options)
    if isinstance(outcome, errors.ApiError):
        raise outcome
    return outcome


def recognize_bytes(data: bytes, options: RecognitionOptions) -> dict:
    """The API's result for one file's bytes; bad input raises errors.ApiError subclasses."""
    return recognize_file(lambda: data, options)


def warm_up() -> None:
    """Loads the engine for OCR_LANG and the page pipeline's own model, and reads one page with them, so
    that the first request pays for neither."""
    canvas = np.full((240, 320, 3), 255, dtype=np.uint8)
    canvas[100:124, 40:280] = 0
    page_result(canvas, RecognitionOptions(lang=settings.OCR_LANG))


def result_confidence(result: dict) -> float:
    """The mean confidence of the recognised lines (0 when nothing was read)."""
    lines = [detail for page in result.get("pages") or [result] for detail in page.get("details") or []]
    return round(sum(line["confidence"] for line in lines) / len(lines), 4) if lines else 0.0
