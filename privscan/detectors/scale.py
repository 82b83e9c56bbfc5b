"""Downscaled copies of one image, shared by the detectors that look at the same photo.

A 4000 x 3000 photo is 36 MB of pixels; face detection, segmentation, OCR and the NSFW model all want it
smaller (1600, 1024, 512, 256 px). Resizing it once per size and per image, and deriving small sizes from
the next larger copy instead of from the full image, keeps that cost at a few milliseconds. The cache holds
only the last few source images (the engine calls detectors on one image after the other), keeps a reference
to each source array so a recycled `id()` can never return another image's copy, and is guarded by a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import cv2
from numpy.typing import NDArray

_MAX_SOURCES = 2
#: copies smaller than this are made from a copy of this size, so a photo is resized from full size once
PYRAMID_BASE = 1600
_lock = threading.Lock()
# id(source array) -> (source array, {max_side: (copy, scale)})
_cache: OrderedDict[int, tuple[NDArray[Any], dict[int, tuple[NDArray[Any], float]]]] = OrderedDict()


def resize_to(rgb: NDArray[Any], max_side: int) -> tuple[NDArray[Any], float]:
    """`rgb` resized so that its longer side is at most `max_side`; returns (copy, scale). No upscaling."""
    h, w = rgb.shape[:2]
    longest = max(h, w)
    if longest <= max_side:
        return rgb, 1.0
    scale = max_side / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def downscaled(rgb: NDArray[Any], max_side: int) -> tuple[NDArray[Any], float]:
    """Like `resize_to`, but memoised per source image; small sizes are made from the nearest larger copy."""
    if max(rgb.shape[:2]) <= max_side:
        return rgb, 1.0
    key = id(rgb)
    with _lock:
        entry = _cache.get(key)
        if entry is None or entry[0] is not rgb:
            entry = (rgb, {})
            _cache[key] = entry
            while len(_cache) > _MAX_SOURCES:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
        copies = entry[1]
        if max_side in copies:
            return copies[max_side]
        larger = [s for s in copies if s > max_side]
    if not larger and max_side < PYRAMID_BASE < max(rgb.shape[:2]):
        copies_base = downscaled(rgb, PYRAMID_BASE)
        larger, copies = [PYRAMID_BASE], {PYRAMID_BASE: copies_base}
    if larger:
        base, _ = copies[min(larger)]
        small, _ = resize_to(base, max_side)
        result = (small, small.shape[1] / rgb.shape[1])
    else:
        result = resize_to(rgb, max_side)
    with _lock:
        if key in _cache and _cache[key][0] is rgb:
            _cache[key][1][max_side] = result
    return result


def clear() -> None:
    with _lock:
        _cache.clear()
