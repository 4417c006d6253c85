"""PP-OCR ONNX models through the `rapidocr` package (pinned: this uses its model steps), run on ONNX Runtime
or on OpenVINO (OCR_RUNTIME).

Both runtimes execute the same ONNX files behind the same rapidocr pre- and post-processing, so the choice
changes speed and memory, not the model table: every model of this engine runs on either.
"""

import importlib.util

import numpy as np
from django.conf import settings
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_rec.typings import TextRecInput
from rapidocr.utils.typings import EngineType, ModelType, OCRVersion

from . import EngineUnavailable
from .base import OcrEngine, Recognised
from .models import ModelSpec

RUNTIMES = ("onnxruntime", "openvino")

# The pipeline sizes the detector's input itself: a limit no image reaches leaves rapidocr's detector
# rounding the sides to multiples of 32 only.
NO_RESIZE_LIMIT = 1_000_000

# Line images recognised in one network call (rapidocr sorts them by aspect ratio and pads a batch to its
# widest line). rapidocr's own 6: 1, 16 and 32 gained nothing clear on the pipeline set (bench/run_runtimes.py).
REC_BATCH = 6


class OnnxRuntimeEngine(OcrEngine):
    name = "onnxruntime"

    def __init__(self, spec: ModelSpec, threads: int, use_gpu: bool, runtime: str | None = None,
                 rec_batch: int = REC_BATCH, precision: str = "f32"):
        """`precision`: OpenVINO's inference precision; empty leaves OpenVINO's own choice (bf16 where the
        CPU has it), which bench/run_runtimes.py measures."""
        super().__init__(spec, threads, use_gpu)
        self.runtime = runtime or settings.OCR_RUNTIME
        if self.runtime not in RUNTIMES:
            raise EngineUnavailable(f"unknown OCR_RUNTIME {self.runtime!r} (use onnxruntime or openvino)")
        if importlib.util.find_spec(self.runtime) is None:
            raise EngineUnavailable(f"OCR_RUNTIME={self.runtime} needs the Python package {self.runtime!r}: "
                                    f"pip install -r requirements.txt")
        if self.runtime == "openvino" and use_gpu:
            raise EngineUnavailable("OCR_USE_GPU runs on ONNX Runtime's CUDA provider; set OCR_RUNTIME=onnxruntime")
        params = {
            "Global.log_level": "warning",
            **self._runtime_params(threads, use_gpu),
            "Det.model_path": str(spec.path("det")),
            "Det.ocr_version": OCRVersion(spec.ocr_version),
            "Det.model_type": ModelType(spec.size),
            "Det.limit_type": "max",
            "Det.limit_side_len": NO_RESIZE_LIMIT,
            "Rec.model_path": str(spec.path("rec")),
            "Rec.ocr_version": OCRVersion(spec.ocr_version),
            "Rec.model_type": ModelType(spec.size),
            "Rec.rec_batch_num": rec_batch,
            "Cls.model_path": str(spec.path("cls")),
        }
        if spec.keys:
            params["Rec.rec_keys_path"] = str(spec.path("keys"))
        ocr = RapidOCR(params=params)
        self._detector = ocr._load_det_model()
        self._recognizer = ocr._load_rec_model()
        self._classifier = ocr._load_cls_model()
        if self.runtime == "openvino" and precision:
            # Compiled a second time (at load only): rapidocr's engine config has no precision key.
            for step in (self._detector, self._recognizer, self._classifier):
                _recompile(step.session, threads, precision)

    def _runtime_params(self, threads: int, use_gpu: bool) -> dict:
        engine_type = EngineType(self.runtime)
        params = {f"{step}.engine_type": engine_type for step in ("Det", "Rec", "Cls")}
        if self.runtime == "openvino":
            # OpenVINO's CPU plugin defaults to every core and to its LATENCY hint (one stream): only the
            # thread count needs pinning down, so that processes share the cores as with ONNX Runtime.
            params["EngineConfig.openvino.inference_num_threads"] = threads
        else:
            params.update({
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "EngineConfig.onnxruntime.use_cuda": use_gpu,
            })
        return params

    def detect(self, image: np.ndarray) -> np.ndarray:
        # rapidocr's models take BGR arrays, as OpenCV reads them.
        found = self._detector(_bgr(image))
        if found.boxes is None or len(found.boxes) == 0:
            return np.zeros((0, 4, 2), dtype=np.float32)
        return np.asarray(found.boxes, dtype=np.float32).reshape(-1, 4, 2)

    def recognize(self, crops: list[np.ndarray]) -> list[Recognised]:
        if not crops:
            return []
        output = self._recognizer(TextRecInput(img=[_bgr(crop) for crop in crops]))
        return [Recognised(text, float(score)) for text, score in zip(output.txts, output.scores)]

    def classify_upside_down(self, crops: list[np.ndarray]) -> list[tuple[bool, float]]:
        if not crops:
            return []
        output = self._classifier([_bgr(crop) for crop in crops])
        return [(label == "180", float(score)) for label, score in output.cls_res]


def _recompile(session, threads: int, precision: str) -> None:
    """Compiles an OpenVINO session's model again with the given inference precision. OpenVINO's CPU plugin
    runs bf16 wherever the CPU has it (AVX512_BF16, AMX); that moves detection boxes enough to change the
    reading order of a page of the pipeline set (bench/run_runtimes.py)."""
    import openvino

    compiled = openvino.Core().compile_model(session.model, "CPU", {
        "INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": threads})
    session.session = compiled.create_infer_request()


def _bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])
