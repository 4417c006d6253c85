"""PP-OCR models on ONNX Runtime, through the `rapidocr` package (pinned: this uses its pipeline steps)."""

import numpy as np
from rapidocr import RapidOCR
from rapidocr.ch_ppocr_cls.utils import TextClsOutput
from rapidocr.main import RapidOCRError
from rapidocr.utils.typings import ModelType, OCRVersion

from .base import OcrEngine, PageReading, TextLine, box_to_points, is_upside_down, mean_confidence
from .models import ModelSpec


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
            "Rec.model_path": str(spec.path("rec")),
            "Rec.ocr_version": OCRVersion(spec.ocr_version),
            "Rec.model_type": ModelType(spec.size),
            "Cls.model_path": str(spec.path("cls")),
        }
        if spec.keys:
            params["Rec.rec_keys_path"] = str(spec.path("keys"))
        self._ocr = RapidOCR(params=params)

    def read(self, image: np.ndarray, use_angle_cls: bool) -> PageReading:
        # rapidocr works on BGR arrays, as OpenCV reads them.
        ocr = self._ocr
        original = np.ascontiguousarray(image[:, :, ::-1])
        resized, op_record = ocr.preprocess_img(original)
        try:
            crops, detected = ocr.detect_and_crop(resized, op_record)
        except RapidOCRError:  # rapidocr's answer for a page where no text is detected
            return PageReading(lines=[])

        recognised = ocr.recognize_txt(crops)
        upside_down = False
        if use_angle_cls and crops:
            classified = ocr.cls_and_rotate(crops)[1]
            if is_upside_down([(label == "180", score) for label, score in classified.cls_res]):
                # The line classifier is unsure on long Latin lines, so a page is only taken as upside
                # down when reading it that way also gives the recogniser more confidence.
                flipped = ocr.recognize_txt([np.ascontiguousarray(np.rot90(crop, 2)) for crop in crops])
                if mean_confidence(flipped.txts, flipped.scores) > mean_confidence(recognised.txts, recognised.scores):
                    recognised, upside_down = flipped, True
        output = ocr.build_final_output(original, detected, TextClsOutput(), recognised, crops, op_record)
        if output.boxes is None or output.txts is None:
            return PageReading(lines=[], upside_down=upside_down)
        lines = [
            TextLine(text=text, confidence=round(float(score), 4), box=box_to_points(box))
            for box, text, score in zip(output.boxes, output.txts, output.scores)
        ]
        return PageReading(lines=lines, upside_down=upside_down)
