"""PP-OCR models on ONNX Runtime, through the `rapidocr` package (pinned: this uses its model steps)."""

import numpy as np
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_rec.typings import TextRecInput
from rapidocr.utils.typings import ModelType, OCRVersion

from .base import OcrEngine, Recognised
from .models import ModelSpec

# The pipeline sizes the detector's input itself: a limit no image reaches leaves rapidocr's detector
# rounding the sides to multiples of 32 only.
NO_RESIZE_LIMIT = 1_000_000


class OnnxRuntimeEngine(OcrEngine):
    name = "onnxruntime"

    def __init__(self, spec: ModelSpec, threads: int, use_gpu: bool):
        super().__init__(spec, threads, use_gpu)
        params = {
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "EngineConfig.onnxruntime.use_cuda": use_gpu,
            "Det.model_path": str(spec.path("det")),
            "Det.ocr_version": OCRVersion(spec.ocr_version),
            "Det.model_type": ModelType(spec.size),
            "Det.limit_type": "max",
            "Det.limit_side_len": NO_RESIZE_LIMIT,
            "Rec.model_path": str(spec.path("rec")),
            "Rec.ocr_version": OCRVersion(spec.ocr_version),
            "Rec.model_type": ModelType(spec.size),
            "Cls.model_path": str(spec.path("cls")),
        }
        if spec.keys:
            params["Rec.rec_keys_path"] = str(spec.path("keys"))
        ocr = RapidOCR(params=params)
        self._detector = ocr._load_det_model()
        self._recognizer = ocr._load_rec_model()
        self._classifier = ocr._load_cls_model()

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


def _bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])
