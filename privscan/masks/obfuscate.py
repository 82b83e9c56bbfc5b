"""Obscure the pixels under a mask: solid fill (default), noisy pixelation, or blur (only on request).

Only masked pixels change; every other pixel keeps its exact value. Sizes are relative to each connected
blob of the mask (a 30 px word and a 600 px face get blocks of different sizes).

How much of the original survives, style by style:
- fill: nothing. Every masked pixel gets one fixed colour that does not depend on the image.
- pixelate: the blob is cut into blocks about a third of its smaller side (at least 8 px), so a text line
  gets about three rows of blocks, each one or two characters wide; each block's mean colour is
  quantised to steps of 24 levels and shifted by fresh random noise (brightness +-24 shared by the three
  channels, colour +-6 per channel, drawn from the OS entropy source each run). Fine detail is gone and
  the remaining per-block colour is dominated by the noise, so known de-pixelation attacks (matching
  rendered text block by block, as Depix does) have no exact block colours to match. It still keeps
  coarse colour and layout; when even that matters, use fill.
- blur: a Gaussian blur with sigma a quarter of the blob's smaller side. Weaker by design: blur is a
  known linear filter, so deconvolution and recognisers trained on blurred faces or text can recover part
  of what was there. Offered because some users want the look; never the default.
"""

from __future__ import annotations

import math
from typing import Literal

import cv2
import numpy as np

Style = Literal["fill", "pixelate", "blur"]
STYLES: tuple[str, ...] = ("fill", "pixelate", "blur")
DEFAULT_STYLE: Style = "fill"
DEFAULT_COLOR: tuple[int, int, int] = (0, 0, 0)

BLOCKS_ACROSS = 3  # pixelation blocks across a blob's smaller side
MIN_BLOCK_PX = 8
QUANT_STEP = 24  # block means are rounded to multiples of this before the noise is added
LUMA_NOISE = 24  # +- levels, one draw per block shared by R, G, B
CHROMA_NOISE = 6  # +- levels, per block and channel
BLUR_SIGMA_FRACTION = 0.25  # of a blob's smaller side
MIN_BLUR_SIGMA = 3.0


def parse_color(text: str) -> tuple[int, int, int]:
    """'#RRGGBB', 'RRGGBB' or 'R,G,B' -> (r, g, b); ValueError with a plain message otherwise."""
    t = text.strip()
    if "," in t:
        parts = [p.strip() for p in t.split(",")]
        if len(parts) == 3 and all(p.isdigit() and 0 <= int(p) <= 255 for p in parts):
            r, g, b = (int(p) for p in parts)
            return r, g, b
    else:
        h = t.removeprefix("#")
        if len(h) == 6 and all(c in "0123456789abcdefABCDEF" for c in h):
            return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    raise ValueError(f"colour {text!r} is not #RRGGBB or R,G,B (0-255)")


def _blobs(mask: np.ndarray) -> list[tuple[int, int, int, int, np.ndarray]]:
    """Connected blobs as (x0, y0, x1, y1, bool patch of the blob within that rectangle)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    out = []
    for label in range(1, count):
        x, y, w, h, _area = (int(v) for v in stats[label])
        out.append((x, y, x + w, y + h, labels[y : y + h, x : x + w] == label))
    return out


def fill(rgb: np.ndarray, mask: np.ndarray, color: tuple[int, int, int] = DEFAULT_COLOR) -> np.ndarray:
    out = rgb.copy()
    out[mask] = np.asarray(color, dtype=np.uint8)
    return out


def pixelate(rgb: np.ndarray, mask: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    rng = rng if rng is not None else np.random.default_rng()  # unseeded: OS entropy, differs every run
    out = rgb.copy()
    for x0, y0, x1, y1, blob in _blobs(mask):
        h, w = blob.shape
        block = max(MIN_BLOCK_PX, math.ceil(min(w, h) / BLOCKS_ACROSS))
        ny, nx = math.ceil(h / block), math.ceil(w / block)
        pad_h, pad_w = ny * block - h, nx * block - w
        pixels = np.pad(rgb[y0:y1, x0:x1].astype(np.float64), ((0, pad_h), (0, pad_w), (0, 0)))
        weights = np.pad(blob, ((0, pad_h), (0, pad_w))).astype(np.float64)
        # means over the blob's own pixels per block (pixels outside the mask do not count)
        sums = (pixels * weights[..., None]).reshape(ny, block, nx, block, 3).sum(axis=(1, 3))
        counts = weights.reshape(ny, block, nx, block).sum(axis=(1, 3))
        means = sums / np.maximum(counts, 1.0)[..., None]
        colours = np.round(means / QUANT_STEP) * QUANT_STEP
        colours += rng.uniform(-LUMA_NOISE, LUMA_NOISE, size=(ny, nx, 1))
        colours += rng.uniform(-CHROMA_NOISE, CHROMA_NOISE, size=(ny, nx, 3))
        colours = np.clip(np.round(colours), 0, 255).astype(np.uint8)
        tiled = np.repeat(np.repeat(colours, block, axis=0), block, axis=1)[:h, :w]
        roi = out[y0:y1, x0:x1]
        roi[blob] = tiled[blob]
    return out


def blur(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    height, width = mask.shape
    for x0, y0, x1, y1, blob in _blobs(mask):
        sigma = max(MIN_BLUR_SIGMA, BLUR_SIGMA_FRACTION * min(x1 - x0, y1 - y0))
        pad = math.ceil(3 * sigma)
        px0, py0 = max(0, x0 - pad), max(0, y0 - pad)
        px1, py1 = min(width, x1 + pad), min(height, y1 + pad)
        roi = rgb[py0:py1, px0:px1]
        # Large sigmas: blur a downscaled copy (same result to the eye, a fraction of the time).
        factor = max(1.0, sigma / 4.0)
        small = roi
        if factor > 1.0:
            size = (max(1, round(roi.shape[1] / factor)), max(1, round(roi.shape[0] / factor)))
            small = cv2.resize(roi, size, interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma / factor, borderType=cv2.BORDER_REFLECT)
        blurred = cv2.resize(small, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_LINEAR)
        sub = blurred[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]
        target = out[y0:y1, x0:x1]
        target[blob] = sub[blob]
    return out


def obscure(
    rgb: np.ndarray,
    mask: np.ndarray,
    style: str = DEFAULT_STYLE,
    *,
    color: tuple[int, int, int] = DEFAULT_COLOR,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A new H x W x 3 uint8 image: `rgb` with the masked pixels obscured in `style`."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected H x W x 3 uint8 pixels, got {rgb.shape} {rgb.dtype}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match the image {rgb.shape[:2]}")
    mask = mask.astype(bool, copy=False)
    if not mask.any():
        return rgb.copy()
    if style == "fill":
        return fill(rgb, mask, color)
    if style == "pixelate":
        return pixelate(rgb, mask, rng)
    if style == "blur":
        return blur(rgb, mask)
    raise ValueError(f"unknown style {style!r}: choose from {', '.join(STYLES)}")
