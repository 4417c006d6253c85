"""Text detection at a resolution chosen for the page (the resize policy), boxes in the page's pixels.

The detector (DB) finds text best when characters are some 15 to 60 pixels high in its input, and its cost
grows with the pixels it is given. So (figures in bench/README.md):
- an image is never enlarged: blind upscaling to a 736-pixel shorter side made a 280 x 32 line a
  6440 x 736 input, 15 times slower, and found no more text;
- it is reduced to at most DET_MAX_SIDE on its longer side for a first look;
- when the text found there is too small for the detector (a large scan with small print, reduced a lot),
  the page is detected again at the resolution that brings its text to DET_TARGET_TEXT_HEIGHT, within a
  budget of DET_MAX_PIXELS so that memory stays bounded;
- a margin copied from the border is added around the image, so that text touching the frame (tight word
  crops, cut-out lines) has the background the detector expects around it.
Recognition always reads crops from the page at full resolution: only detection is resized.
"""

import cv2
import numpy as np

from ..engines import OcrEngine

DET_MAX_SIDE = 2000
# Text this small (pixels high in the detector's input) is detected again at a higher resolution.
DET_MIN_TEXT_HEIGHT = 12
DET_TARGET_TEXT_HEIGHT = 24
DET_MAX_PIXELS = 16_000_000
# The margin added around the image: a fraction of its shorter side, within bounds (pixels).
MARGIN_FRACTION = 0.5
MARGIN_MIN, MARGIN_MAX = 8, 32


def detect_boxes(engine: OcrEngine, image: np.ndarray) -> np.ndarray:
    """Text boxes (N, 4, 2) in the pixels of `image`."""
    height, width = image.shape[:2]
    scale = min(1.0, DET_MAX_SIDE / max(height, width))
    boxes = _detect_scaled(engine, image, scale)
    if scale < 1.0 and len(boxes):
        text_height = float(np.median([_thickness(box) for box in boxes])) * scale
        if text_height < DET_MIN_TEXT_HEIGHT:
            finer = min(1.0, scale * DET_TARGET_TEXT_HEIGHT / max(text_height, 1.0),
                        (DET_MAX_PIXELS / (height * width)) ** 0.5)
            if finer > scale * 1.25:
                boxes = _detect_scaled(engine, image, finer)
    return boxes


def _detect_scaled(engine: OcrEngine, image: np.ndarray, scale: float) -> np.ndarray:
    height, width = image.shape[:2]
    # Sides a multiple of 32, as the network needs, so that the engine does not resize again.
    target_h = max(32, int(round(height * scale / 32)) * 32)
    target_w = max(32, int(round(width * scale / 32)) * 32)
    resized = image if (target_h, target_w) == (height, width) else cv2.resize(
        image, (target_w, target_h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    margin = int(np.clip(MARGIN_FRACTION * min(target_h, target_w), MARGIN_MIN, MARGIN_MAX))
    margin = (margin + 15) // 16 * 16  # 2 margins keep the sides multiples of 32
    padded = cv2.copyMakeBorder(resized, margin, margin, margin, margin, cv2.BORDER_REPLICATE)
    boxes = engine.detect(padded)
    if not len(boxes):
        return boxes
    boxes = boxes.astype(np.float64) - margin
    boxes[..., 0] = np.clip(boxes[..., 0] * (width / target_w), 0, width - 1)
    boxes[..., 1] = np.clip(boxes[..., 1] * (height / target_h), 0, height - 1)
    return boxes


def _thickness(box: np.ndarray) -> float:
    """The shorter side of a box: the height of its text, whichever its direction."""
    first = np.linalg.norm(box[0] - box[1])
    second = np.linalg.norm(box[1] - box[2])
    return float(min(first, second))
