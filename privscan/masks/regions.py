"""Rasterise detector Regions into boolean pixel masks, grown by a margin relative to each region's size.

Why a margin: detector boxes are tight (OCR boxes stop at the glyphs' ink, face boxes leave out hair and
ears, segmentation edges are soft), and anti-aliased edges just outside a box still show a letter's shape.
The margin is a fraction of the region's smaller side (so a 30 px word grows by a few pixels and a 400 px
face by tens), never less than `MIN_MARGIN_PX`.

Shapes: 'box' fills the grown box; 'ellipse' fills the ellipse inscribed in the box with its semi-axes
grown by the margin (faces); 'polygon' fills the polygon (OCR quads of rotated text) and grows it by a
Euclidean distance; 'mask' takes the named soft mask (e.g. the person segmentation) at >= 0.5 inside the
region's grown box and grows it the same way. A 'mask' region whose named mask is missing falls back to
its box: filling too much is a nuisance, filling too little is a leak.

Everything works on the region's bounding rectangle only, so a 12-megapixel image with a handful of
regions costs a few milliseconds, not a full-image pass per region.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from privscan.detectors.base import Box, Region

DEFAULT_MARGIN = 0.15  # fraction of a region's smaller side
MIN_MARGIN_PX = 2  # anti-aliased glyph edges reach about two pixels beyond the ink box
MASK_THRESHOLD = 0.5  # soft masks (segmentation probabilities) count from here


@dataclass(frozen=True)
class PaintedRegion:
    """What one region turned into: the integer pixel rectangle it touched and how it was drawn."""

    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (half-open), clipped to the image
    shape: str  # the shape actually drawn ('box' when a 'mask' region fell back)
    margin_px: float
    pixels: int  # pixels set by this region (before OR-ing with the others)
    fallback: str | None = None  # why the drawn shape differs from the region's, if it does

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"box": list(self.bbox), "shape": self.shape, "margin_px": round(self.margin_px, 1)}
        if self.fallback:
            out["fallback"] = self.fallback
        return out


def ellipse_around(region: Region) -> Region:
    """A box region as the ellipse through its four corners (semi-axes x sqrt 2), for faces.

    Face detectors box the face from brows to chin; the ellipse through the box's corners also covers the
    forehead, jaw line and ears around it while leaving the corners of a square fill out, so the result
    looks like a face mask rather than a black square and hides more of the head, not less.
    """
    if region.shape != "box":
        return region
    b = region.box
    cx, cy = (b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2
    hw, hh = b.width / 2 * math.sqrt(2), b.height / 2 * math.sqrt(2)
    return Region(box=Box(cx - hw, cy - hh, cx + hw, cy + hh), shape="ellipse")


def margin_pixels(box: Box, margin: float, *, min_px: float = MIN_MARGIN_PX) -> float:
    """The margin in pixels for a region of this size: `margin` x its smaller side, at least `min_px`."""
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    return max(float(min_px), margin * min(box.width, box.height))


def _grown_rect(box: Box, m: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer half-open rectangle covering `box` grown by `m` pixels, clipped; None when empty."""
    x0 = max(0, math.floor(box.x0 - m))
    y0 = max(0, math.floor(box.y0 - m))
    x1 = min(width, math.ceil(box.x1 + m))
    y1 = min(height, math.ceil(box.y1 + m))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def grow(mask: np.ndarray, radius: float) -> np.ndarray:
    """Dilate a bool mask by a Euclidean `radius` in pixels (a distance transform: linear time, any radius)."""
    if radius <= 0 or not mask.any():
        return mask.copy()
    outside = np.where(mask, 0, 255).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return dist <= radius


def _ellipse(rect: tuple[int, int, int, int], box: Box, m: float) -> np.ndarray:
    x0, y0, x1, y1 = rect
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    a, b = box.width / 2 + m, box.height / 2 + m
    xs = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / a
    ys = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / b
    return (ys[:, None] ** 2 + xs[None, :] ** 2) <= 1.0


def _polygon(rect: tuple[int, int, int, int], points: tuple[tuple[float, float], ...], m: float) -> np.ndarray:
    x0, y0, x1, y1 = rect
    roi = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
    shift = 4  # sub-pixel precision: coordinates in 1/16 pixel
    pts = np.array([[(x - x0) * (1 << shift), (y - y0) * (1 << shift)] for x, y in points], dtype=np.float64)
    cv2.fillPoly(roi, [np.round(pts).astype(np.int32)], (1,), lineType=cv2.LINE_8, shift=shift)
    return grow(roi.astype(bool), m)


def _named(rect: tuple[int, int, int, int], soft: np.ndarray, height: int, width: int, m: float) -> np.ndarray | None:
    if soft.shape[:2] != (height, width):  # a detector that worked at another resolution
        soft = cv2.resize(soft.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
    x0, y0, x1, y1 = rect
    roi = np.asarray(soft[y0:y1, x0:x1]) >= MASK_THRESHOLD
    if not roi.any():
        return None
    return grow(roi, m)


def paint_region(
    target: np.ndarray,
    region: Region,
    *,
    margin: float = DEFAULT_MARGIN,
    named_masks: Mapping[str, np.ndarray] | None = None,
    min_margin_px: float = MIN_MARGIN_PX,
) -> PaintedRegion | None:
    """OR one region, grown by its margin, into the H x W bool `target`; None when it lies outside."""
    height, width = target.shape[:2]
    box = region.box
    m = margin_pixels(box, margin, min_px=min_margin_px)
    rect = _grown_rect(box, m, width, height)
    if rect is None:
        return None
    x0, y0, x1, y1 = rect
    shape: str = region.shape
    fallback: str | None = None
    patch: np.ndarray | None
    if region.shape == "ellipse" and box.width > 0 and box.height > 0:
        patch = _ellipse(rect, box, m)
    elif region.shape == "polygon" and region.polygon and len(region.polygon) >= 3:
        patch = _polygon(rect, region.polygon, m)
    elif region.shape == "mask":
        soft = (named_masks or {}).get(region.mask or "")
        patch = None if soft is None else _named(rect, soft, height, width, m)
        if patch is None:
            shape = "box"
            fallback = (
                f"mask {region.mask!r} not available: filled its box"
                if soft is None
                else f"mask {region.mask!r} empty inside its box: filled the box"
            )
            patch = np.ones((y1 - y0, x1 - x0), dtype=bool)
    else:
        shape = "box"
        patch = np.ones((y1 - y0, x1 - x0), dtype=bool)
    target[y0:y1, x0:x1] |= patch
    return PaintedRegion(bbox=rect, shape=shape, margin_px=m, pixels=int(patch.sum()), fallback=fallback)


def regions_mask(
    regions: Iterable[Region],
    hw: tuple[int, int],
    *,
    margin: float = DEFAULT_MARGIN,
    named_masks: Mapping[str, np.ndarray] | None = None,
    min_margin_px: float = MIN_MARGIN_PX,
) -> tuple[np.ndarray, list[PaintedRegion]]:
    """One bool H x W mask for all regions, plus what each region painted."""
    mask = np.zeros(hw, dtype=bool)
    painted = []
    for region in regions:
        done = paint_region(mask, region, margin=margin, named_masks=named_masks, min_margin_px=min_margin_px)
        if done is not None:
            painted.append(done)
    return mask, painted


def grow_components(mask: np.ndarray, margin: float, *, min_px: float = MIN_MARGIN_PX) -> np.ndarray:
    """Grow each connected blob of a bool mask by `margin` x its bounding box's smaller side.

    For masks that come without regions (PrivObfNet's per-attribute masks): the same margin rule as
    for detector regions, applied per blob so a small blob is not swollen by a large neighbour's margin.
    """
    if not mask.any():
        return mask.copy()
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = mask.copy()
    height, width = mask.shape
    for label in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[label])
        m = max(float(min_px), margin * min(w, h))
        rect = _grown_rect(Box(x, y, x + w, y + h), m, width, height)
        assert rect is not None
        x0, y0, x1, y1 = rect
        out[y0:y1, x0:x1] |= grow(labels[y0:y1, x0:x1] == label, m)
    return out


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Half-open bounding rectangle of a bool mask's set pixels, or None when it is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
