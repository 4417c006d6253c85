"""Text detection at a resolution chosen for the page (the resize policy), boxes in the page's pixels.

The detector (DB) finds text best when characters are some 15 to 60 pixels high in its input, and its cost
grows with the pixels it is given. So (figures in bench/README.md):
- an image is never enlarged: blind upscaling to a 736-pixel shorter side made a 280 x 32 line a
  6440 x 736 input, 15 times slower, and found no more text;
- it is reduced to at most DET_MAX_SIDE on its longer side for a first look;
- when the text found there is too small for the detector (a large scan with small print, reduced a lot),
  or none is found on a reduced page, the page is detected again at the resolution that brings its text
  to DET_TARGET_TEXT_HEIGHT (within DET_MAX_PIXELS), in overlapping tiles of DET_TILE: the detector
  (PP-OCRv6 det) finds nothing at all on some inputs over about 2600 pixels a side (measured: a line it
  finds on a 2400 x 1800 page is lost on 2400 x 3200), and tiles keep its memory bounded;
- a margin copied from the border is added around the image, so that text touching the frame (tight word
  crops, cut-out lines) has the background the detector expects around it.
Recognition always reads crops from the page at full resolution: only detection is resized.
"""

import cv2
import numpy as np

from ..engines import OcrEngine
from .geometry import side_lengths

DET_MAX_SIDE = 2000
# Text this small (pixels high in the detector's input) is detected again at a higher resolution.
DET_MIN_TEXT_HEIGHT = 12
DET_TARGET_TEXT_HEIGHT = 24
DET_MAX_PIXELS = 24_000_000
DET_TILE = 1600
DET_TILE_OVERLAP = 320
# The margin added around the image: a fraction of its shorter side, within bounds (pixels).
MARGIN_FRACTION = 0.5
MARGIN_MIN, MARGIN_MAX = 8, 32


def detect_boxes(engine: OcrEngine, image: np.ndarray) -> np.ndarray:
    """Text boxes (N, 4, 2) in the pixels of `image`."""
    height, width = image.shape[:2]
    scale = min(1.0, DET_MAX_SIDE / max(height, width))
    boxes = _detect_scaled(engine, image, scale)
    if scale == 1.0:
        return boxes
    budget = min(1.0, (DET_MAX_PIXELS / (height * width)) ** 0.5)
    if not len(boxes):
        return _detect_tiled(engine, image, budget)
    # The shorter side of a box is the height of its text, whichever its direction.
    text_height = float(np.median([min(side_lengths(box)) for box in boxes])) * scale
    if text_height >= DET_MIN_TEXT_HEIGHT:
        return boxes
    finer = min(budget, scale * DET_TARGET_TEXT_HEIGHT / max(text_height, 1.0))
    return _detect_tiled(engine, image, finer) if finer > scale * 1.25 else boxes


def _detect_tiled(engine: OcrEngine, image: np.ndarray, scale: float) -> np.ndarray:
    """Detection at `scale` in overlapping tiles; a line cut by a tile's edge is one box again."""
    height, width = image.shape[:2]
    tile = int(DET_TILE / scale)
    step = int((DET_TILE - DET_TILE_OVERLAP) / scale)
    found = []
    for top in range(0, max(1, height - tile + step), step):
        for left in range(0, max(1, width - tile + step), step):
            piece = image[top:top + tile, left:left + tile]
            boxes = _detect_scaled(engine, piece, min(1.0, DET_TILE / max(piece.shape[:2])))
            found.extend(box + [left, top] for box in boxes)
    return _merge_overlapping(found)


def _merge_overlapping(boxes: list[np.ndarray]) -> np.ndarray:
    """Boxes found twice in the overlap of two tiles, or in pieces on both sides of a tile's edge, merged
    into one rotated rectangle each."""
    groups: list[list[np.ndarray]] = []
    for box in sorted(boxes, key=lambda b: (b[:, 1].min(), b[:, 0].min())):
        for group in groups:
            if any(_same_line(box, other) for other in group):
                group.append(box)
                break
        else:
            groups.append([box])
    merged = [group[0] if len(group) == 1 else cv2.boxPoints(cv2.minAreaRect(np.concatenate(group).astype(np.float32)))
              for group in groups]
    return np.asarray(merged, dtype=np.float64).reshape(-1, 4, 2)


def _same_line(first: np.ndarray, second: np.ndarray) -> bool:
    """Overlapping boxes of one line: they overlap along it, and across it by most of the thinner one."""
    (x0, y0), (x1, y1) = first.min(axis=0), first.max(axis=0)
    (u0, v0), (u1, v1) = second.min(axis=0), second.max(axis=0)
    overlap_x, overlap_y = min(x1, u1) - max(x0, u0), min(y1, v1) - max(y0, v0)
    if overlap_x <= 0 or overlap_y <= 0:
        return False
    horizontal = (x1 - x0) >= (y1 - y0)
    across = overlap_y / min(y1 - y0, v1 - v0) if horizontal else overlap_x / min(x1 - x0, u1 - u0)
    return across > 0.6


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

