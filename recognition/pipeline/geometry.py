"""Boxes and quarter turns: the coordinate bookkeeping the stages share.

A page is read in its upright frame (the image turned by 0, 90, 180 or 270 degrees counter-clockwise);
boxes go back to the frame of the image as the user sent it before they are returned.
"""

import numpy as np

Quad = np.ndarray  # (4, 2) float: four corner points, x then y


def turn(image: np.ndarray, degrees: int) -> np.ndarray:
    """The image turned counter-clockwise by a multiple of 90 degrees."""
    quarter_turns = (degrees // 90) % 4
    return image if quarter_turns == 0 else np.ascontiguousarray(np.rot90(image, quarter_turns))


def unturn_points(points: np.ndarray, degrees: int, turned_shape: tuple[int, ...]) -> np.ndarray:
    """Points of an image turned by `degrees` (of shape `turned_shape`) in the pixels of the image before
    the turn."""
    points = np.asarray(points, dtype=np.float64).copy()
    height, width = turned_shape[:2]
    for _ in range((degrees // 90) % 4):
        # One counter-clockwise quarter turn maps (x, y) of an H x W image to (y, W - 1 - x) of the W x H
        # result; undo it: the point (x, y) of the result was (W - 1 - y, x) before. The image before this
        # turn has width = the result's height.
        x, y = points[..., 0].copy(), points[..., 1].copy()
        points[..., 0] = (height - 1) - y
        points[..., 1] = x
        height, width = width, height
    return points


def ordered_corners(quad) -> tuple[tuple[int, int], ...]:
    """Integer corners clockwise from the top-left one."""
    points = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    centre = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - centre[1], points[:, 0] - centre[0])
    clockwise = points[np.argsort(angles)]  # image y grows downwards, so ascending angle is clockwise
    start = int(np.argmin(clockwise[:, 0] + clockwise[:, 1]))
    ordered = np.roll(clockwise, -start, axis=0)
    return tuple((int(round(x)), int(round(y))) for x, y in ordered)


def side_lengths(quad: Quad) -> tuple[float, float]:
    """(width, height) of a quad whose corners run clockwise from the top-left."""
    points = np.asarray(quad, dtype=np.float64)
    width = max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3]))
    height = max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2]))
    return float(width), float(height)
