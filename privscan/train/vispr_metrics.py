"""VISPR metrics as PrivObfNet reports them, plus COCO RLE masks for VISPR's pixel-level redaction set.

- Privacy score: mean absolute error (L1), Pearson and Spearman correlation with the targets.
- Attributes: accuracy per attribute at a 0.5 threshold, and VISPR's class-based (macro) mean average
  precision: the mean over attributes with at least one positive of sklearn's average precision.
- Masks: IoU per (image, attribute) where ground truth or prediction is non-empty (0 when either is
  empty, as VISPR's own evaluation does), averaged per attribute, then over attributes (mIoU).
RLE follows COCO: column-major run lengths starting with a run of zeros; `counts` is either a list of
ints or COCO's compressed string (6-bit chunks offset by 48, runs after the second delta-coded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score

from privscan.vocab import attribute_ids

# VISPR's redaction set (Orekondy et al., CVPR 2018) merges some attributes; each maps onto our ids.
REDACTION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a105_face_all": ("a9_face_complete", "a10_face_partial"),
    "a106_address_current_all": ("a74_address_current_complete", "a75_address_current_partial"),
    "a107_address_home_all": ("a78_address_home_complete", "a79_address_home_partial"),
    "a108_license_plate_all": ("a103_license_plate_complete", "a104_license_plate_partial"),
    "a110_nudity_all": ("a12_semi_nudity", "a13_full_nudity"),
    "a111_name_all": ("a19_name_full", "a20_name_first", "a21_name_last"),
}


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def privacy_score_metrics(predicted: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """{"l1", "pearson", "spearman"}; correlations are None when either side is constant."""
    p = np.asarray(predicted, dtype=np.float64).ravel()
    t = np.asarray(target, dtype=np.float64).ravel()
    if p.shape != t.shape or p.size == 0:
        raise ValueError(f"need equal, non-empty score arrays, got {p.shape} and {t.shape}")
    out: dict[str, float | None] = {"l1": float(np.abs(p - t).mean())}
    if p.size < 2 or np.ptp(p) == 0 or np.ptp(t) == 0:
        out["pearson"] = out["spearman"] = None
    else:
        out["pearson"] = _finite(stats.pearsonr(p, t)[0])
        out["spearman"] = _finite(stats.spearmanr(p, t)[0])
    return out


def attribute_accuracy(probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(N, A) probabilities and 0/1 labels -> (A,) fraction of images where (prob >= threshold) == label."""
    return ((np.asarray(probs) >= threshold) == (np.asarray(labels) > 0.5)).mean(axis=0)


def macro_map(probs: np.ndarray, labels: np.ndarray) -> tuple[float | None, dict[int, float]]:
    """VISPR's class-based mAP: mean AP over attributes with a positive; (mAP, {attribute index: AP})."""
    probs, labels = np.asarray(probs), np.asarray(labels) > 0.5
    aps: dict[int, float] = {}
    for a in range(labels.shape[1]):
        if labels[:, a].any():
            aps[a] = float(average_precision_score(labels[:, a], probs[:, a]))
    return (float(np.mean(list(aps.values()))) if aps else None), aps


def attribute_report(probs: np.ndarray, labels: np.ndarray, threshold: float = 0.5) -> dict[str, Any]:
    """Accuracy and AP per attribute id, their means, and how many positives each attribute had."""
    acc = attribute_accuracy(probs, labels, threshold)
    m_ap, aps = macro_map(probs, labels)
    ids = attribute_ids()
    positives = (np.asarray(labels) > 0.5).sum(axis=0)
    return {
        "mean_accuracy": float(acc.mean()),
        "macro_map": m_ap,
        "attributes_with_positives": len(aps),
        "per_attribute": {
            ids[a]: {"accuracy": float(acc[a]), "ap": aps.get(a), "positives": int(positives[a])}
            for a in range(len(ids))
        },
    }


# ---- COCO RLE --------------------------------------------------------------------------------------


def _counts_from_string(s: str) -> list[int]:
    counts: list[int] = []
    p = 0
    data = s.encode("ascii")
    while p < len(data):
        x, k, more = 0, 0, True
        while more:
            c = data[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def _counts_to_string(counts: Sequence[int]) -> str:
    out = bytearray()
    for i, value in enumerate(counts):
        x = int(value) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(c + 48)
    return out.decode("ascii")


def rle_decode(rle: Mapping[str, Any]) -> np.ndarray:
    """COCO RLE {"size": [h, w], "counts": str | list[int]} -> bool h x w mask."""
    h, w = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    runs = _counts_from_string(counts) if isinstance(counts, str) else [int(c) for c in counts]
    if sum(runs) != h * w or any(r < 0 for r in runs):
        raise ValueError(f"RLE runs sum to {sum(runs)}, expected {h * w} for size {h}x{w}")
    values = np.zeros(len(runs), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, runs)
    return flat.reshape((w, h)).T  # column-major


def rle_encode(mask: np.ndarray) -> dict[str, Any]:
    """bool h x w mask -> COCO RLE with a compressed string `counts`."""
    m = np.asarray(mask, dtype=bool)
    flat = m.T.ravel()  # column-major
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": _counts_to_string(runs)}


def polygons_to_mask(polygons: Sequence[Sequence[float]], height: int, width: int) -> np.ndarray:
    """VISPR polygons [[x1, y1, x2, y2, ...], ...] -> bool mask (for ground truth without `segmentation`)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for poly in polygons:
        pts = [(float(poly[i]), float(poly[i + 1])) for i in range(0, len(poly) - 1, 2)]
        if len(pts) >= 3:
            draw.polygon(pts, fill=1)
    return np.asarray(canvas, dtype=bool)


def mask_iou(gt: np.ndarray, pred: np.ndarray) -> float:
    """IoU of two bool masks; 0 when either is empty (VISPR's convention)."""
    gt, pred = np.asarray(gt, dtype=bool), np.asarray(pred, dtype=bool)
    if gt.shape != pred.shape:
        raise ValueError(f"mask shapes differ: {gt.shape} vs {pred.shape}")
    if not gt.any() or not pred.any():
        return 0.0
    return float(np.logical_and(gt, pred).sum() / np.logical_or(gt, pred).sum())


class MaskIoU:
    """Accumulates IoU per (image, attribute) and reports per-attribute means and their mean (mIoU)."""

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}

    def add(self, attribute: str, gt: np.ndarray, pred: np.ndarray) -> float | None:
        """Count one (image, attribute) pair when either mask is non-empty; returns its IoU or None."""
        if not np.any(gt) and not np.any(pred):
            return None
        iou = mask_iou(gt, pred)
        self.values.setdefault(attribute, []).append(iou)
        return iou

    def report(self) -> dict[str, Any]:
        per = {a: float(np.mean(v)) for a, v in sorted(self.values.items())}
        return {
            "miou": float(np.mean(list(per.values()))) if per else None,
            "per_attribute": per,
            "pairs": {a: len(v) for a, v in sorted(self.values.items())},
        }
