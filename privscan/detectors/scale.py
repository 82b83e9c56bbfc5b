"""Downscaled copies of one image, shared by the detectors that look at the same photo.

A 4000 x 3000 photo is 36 MB of pixels; face detection, segmentation, OCR and the NSFW model all want it
smaller (1600, 1280, 960, 512, 448 px). Resizing it once per size and per image, and deriving small sizes
from the next larger copy instead of from the full image, keeps that cost at a few milliseconds.

The copies live exactly as long as their source array (a weak reference drops them when it is freed), so
the audit's decoding threads can make them ahead (`prepare`, with the sizes the run's detectors declare in
`DetectorSpec.sides`) and the analysis thread finds them ready: the resizing (about 0.05 s of a 12 MP
photo) leaves the audit's critical path. A lookup checks the weak reference, so a recycled `id()` can
never return another image's copy; `MAX_SOURCES` bounds the cache for callers that keep many images alive.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable
from functools import partial
from typing import Any

import cv2
from numpy.typing import NDArray

#: sources whose copies are kept at most (a backstop: entries go when their source is freed)
MAX_SOURCES = 64
#: copies smaller than this are made from a copy of this size, so a photo is resized from full size once
PYRAMID_BASE = 1600
# re-entrant: a weak reference's callback may run in a thread that holds the lock (an array freed there)
_lock = threading.RLock()
Copies = dict[int, tuple[NDArray[Any], float]]
# id(source array) -> (weak reference to it, {max_side: (copy, scale)})
_cache: OrderedDict[int, tuple[weakref.ref[NDArray[Any]], Copies]] = OrderedDict()


def resize_to(rgb: NDArray[Any], max_side: int) -> tuple[NDArray[Any], float]:
    """`rgb` resized so that its longer side is at most `max_side`; returns (copy, scale). No upscaling."""
    h, w = rgb.shape[:2]
    longest = max(h, w)
    if longest <= max_side:
        return rgb, 1.0
    scale = max_side / longest
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale


def _forget(key: int, ref: weakref.ref[NDArray[Any]]) -> None:
    with _lock:
        entry = _cache.get(key)
        if entry is not None and entry[0] is ref:
            del _cache[key]


def _copies(rgb: NDArray[Any]) -> Copies:
    """The copies dict of `rgb` (made empty on first use); call with the lock held."""
    key = id(rgb)
    entry = _cache.get(key)
    if entry is None or entry[0]() is not rgb:
        ref = weakref.ref(rgb, partial(_forget, key))
        entry = (ref, {})
        _cache[key] = entry
        while len(_cache) > MAX_SOURCES:
            _cache.popitem(last=False)
    _cache.move_to_end(key)
    return entry[1]


def downscaled(rgb: NDArray[Any], max_side: int) -> tuple[NDArray[Any], float]:
    """Like `resize_to`, but memoised per source image; small sizes are made from the nearest larger copy."""
    if max(rgb.shape[:2]) <= max_side:
        return rgb, 1.0
    with _lock:
        copies = _copies(rgb)
        if max_side in copies:
            return copies[max_side]
        larger = [s for s in copies if s > max_side]
        base = copies[min(larger)][0] if larger else None
    if base is None and max_side < PYRAMID_BASE < max(rgb.shape[:2]):
        base, _ = downscaled(rgb, PYRAMID_BASE)
    if base is not None:
        small, _ = resize_to(base, max_side)
        result = (small, small.shape[1] / rgb.shape[1])
    else:
        result = resize_to(rgb, max_side)
    with _lock:
        entry = _cache.get(id(rgb))
        if entry is not None and entry[0]() is rgb:
            entry[1][max_side] = result
    return result


def prepare(rgb: NDArray[Any], sides: Iterable[int]) -> None:
    """Make the copies of these sizes now, largest first (each from the one before): the audit's decoding
    threads call it so that the detectors find them made."""
    for side in sorted(set(sides), reverse=True):
        downscaled(rgb, side)


def clear() -> None:
    with _lock:
        _cache.clear()
