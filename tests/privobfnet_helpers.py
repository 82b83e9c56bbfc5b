"""A tiny VISPR-format data set with known answers, for PrivObfNet tests.

Three visual patterns stand for three attributes and are pasted at random, non-overlapping positions on
noisy backgrounds; each image's labels are the attributes whose pattern it shows (a0_safe when none).
The boxes are kept so tests can check where the attention maps point.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

PATTERN_ATTRIBUTES = ("a9_face_complete", "a30_credit_card", "a103_license_plate_complete")


def _pattern(kind: int, size: int) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size]
    out = np.zeros((size, size, 3), dtype=np.uint8)
    if kind == 0:  # red disk on its own square (the square's corners keep the background)
        r = size / 2
        inside = (yy - r + 0.5) ** 2 + (xx - r + 0.5) ** 2 <= r * r
        out[...] = 0
        out[inside] = (230, 30, 30)
        return np.where(inside[..., None], out, 0).astype(np.uint8)
    if kind == 1:  # blue / yellow horizontal stripes
        band = (yy // 6) % 2 == 0
        out[band] = (30, 60, 220)
        out[~band] = (240, 220, 40)
        return out
    check = ((yy // 8) + (xx // 8)) % 2 == 0  # black / white checkerboard
    out[check] = (250, 250, 250)
    out[~check] = (10, 10, 10)
    return out


def make_image(rng: np.random.Generator, size: int, patch: int) -> tuple[np.ndarray, dict[str, list[int]]]:
    """One image and {attribute id: [x0, y0, x1, y1]} of the patterns it shows."""
    img = rng.normal(128, 25, size=(size, size, 3)).clip(0, 255).astype(np.uint8)
    half = size // 2
    cells = [(0, 0), (half, 0), (0, half), (half, half)]
    order = rng.permutation(len(cells))
    boxes: dict[str, list[int]] = {}
    for kind, attr in enumerate(PATTERN_ATTRIBUTES):
        if rng.random() < 0.5:
            continue
        cx, cy = cells[order[kind]]
        x0 = cx + int(rng.integers(0, half - patch + 1))
        y0 = cy + int(rng.integers(0, half - patch + 1))
        pat = _pattern(kind, patch)
        region = img[y0 : y0 + patch, x0 : x0 + patch]
        mask = pat.any(axis=2, keepdims=True) if kind == 0 else np.ones((patch, patch, 1), dtype=bool)
        img[y0 : y0 + patch, x0 : x0 + patch] = np.where(mask, pat, region)
        boxes[attr] = [x0, y0, x0 + patch, y0 + patch]
    return img, boxes


def write_vispr(root: Path, counts: dict[str, int], *, size: int = 128, patch: int = 44, seed: int = 0) -> dict:
    """Write images, annotation JSONs and split lists (train2017.txt, ...); returns {split: [entries]}."""
    rng = np.random.default_rng(seed)
    truth: dict[str, list[dict]] = {}
    for split, n in counts.items():
        name = f"{split}2017"
        (root / "images" / name).mkdir(parents=True, exist_ok=True)
        (root / "annos" / name).mkdir(parents=True, exist_ok=True)
        lines, entries = [], []
        for i in range(n):
            image_id = f"2017_{split}{i:04d}"
            img, boxes = make_image(rng, size, patch)
            rel_img = f"images/{name}/{image_id}.png"
            Image.fromarray(img).save(root / rel_img)
            labels = sorted(boxes) if boxes else ["a0_safe"]
            anno = {"id": image_id, "image_path": rel_img, "labels": labels}
            rel_anno = f"annos/{name}/{image_id}.json"
            (root / rel_anno).write_text(json.dumps(anno))
            lines.append(rel_anno)
            entries.append({"id": image_id, "path": root / rel_img, "labels": labels, "boxes": boxes})
        (root / f"{name}.txt").write_text("\n".join(lines) + "\n")
        truth[split] = entries
    boxes = {s: {e["id"]: e["boxes"] for e in entries} for s, entries in truth.items()}
    (root / "boxes.json").write_text(json.dumps(boxes))  # not part of VISPR: the answers, for checks
    return truth


def write_masks_gt(val: list[dict], data: Path, path: Path, size: int = 128) -> Path:
    """The patterns' boxes as pixel ground truth in VISPR's redaction format (COCO RLE), for `--masks-gt`.
    Faces are given under VISPR's merged redaction id (a105_face_all), the rest under their own ids."""
    from privscan.train.vispr_metrics import rle_encode

    gt: dict = {"annotations": {}}
    for entry in val:
        attributes = []
        for attr, (x0, y0, x1, y1) in entry["boxes"].items():
            mask = np.zeros((size, size), dtype=bool)
            mask[y0:y1, x0:x1] = True
            attr_id = "a105_face_all" if attr == "a9_face_complete" else attr
            attributes.append({"attr_id": attr_id, "segmentation": rle_encode(mask)})
        gt["annotations"][entry["id"]] = {
            "image_id": entry["id"],
            "image_path": str(entry["path"].relative_to(data)),
            "image_height": size,
            "image_width": size,
            "attributes": attributes,
        }
    path.write_text(json.dumps(gt))
    return path


def pattern_figures(predictor, val: list[dict]) -> dict[str, float]:
    """What the training test asserts, from a loaded PrivObfNet predictor on the `val` entries of write_vispr:
    accuracy on the three patterns at p >= 0.5, the best constant answer's accuracy, and the pointing game
    (share of shown patterns whose CAM peak falls inside their box)."""
    from sklearn.metrics import roc_auc_score

    from privscan.io.decode import load_image
    from privscan.masks.cam_masks import cam_peak
    from privscan.models.preprocess import batch_inputs
    from privscan.vocab import by_id

    correct = total = hits = points = majority = 0
    # per pattern, (probability, shown) of each image: ranked by ROC AUC, which unlike accuracy at p >= 0.5
    # does not depend on where a short training run left the calibration; any constant answer scores 0.5
    scores: dict[str, list[tuple[float, bool]]] = {attr: [] for attr in PATTERN_ATTRIBUTES}
    for entry in val:
        image = load_image(entry["path"])
        out = predictor.predict(batch_inputs([image.rgb], predictor.input_size))[0]
        assert out.attribute_probs.shape == (68,) and 0.0 <= out.privacy_score <= 1.0
        for attr in PATTERN_ATTRIBUTES:
            index = by_id()[attr].index
            present = attr in entry["boxes"]
            correct += int((out.attribute_probs[index] >= 0.5) == present)
            scores[attr].append((float(out.attribute_probs[index]), present))
            total += 1
            if present:
                x, y = cam_peak(out.cams[index], (image.height, image.width))
                x0, y0, x1, y1 = entry["boxes"][attr]
                hits += int(x0 <= x < x1 and y0 <= y < y1)
                points += 1
    for attr in PATTERN_ATTRIBUTES:  # the best constant answer per attribute
        shown = sum(attr in e["boxes"] for e in val)
        majority += max(shown, len(val) - shown)
    aucs = [float(roc_auc_score([y for _, y in pairs], [p for p, _ in pairs])) for pairs in scores.values()]
    return {
        "accuracy": correct / total, "chance": majority / total, "pointing": hits / points, "points": points,
        "auc_mean": sum(aucs) / len(aucs), "auc_min": min(aucs),
    }  # fmt: skip


def random_checkpoint(path: Path, *, input_size: int = 64, model=None) -> Path:
    """An untrained Model-Image (or `model`) saved in the trainer's best.pt format: for wiring tests, not accuracy."""
    import torch

    from privscan import vocab
    from privscan.io.checkpoint import save_checkpoint
    from privscan.masks.mask_types import mask_type_vector
    from privscan.models.privobfnet import CHECKPOINT_FORMAT, PrivObfNet

    if model is None:
        torch.manual_seed(0)
        model = PrivObfNet("mobilenet_v2", mask_types=mask_type_vector())
    config = {
        "model": "privobfnet",
        "backbone": "mobilenet_v2",
        "num_attributes": vocab.num_attributes(),
        "attribute_ids": vocab.attribute_ids(),
        "mask_types": mask_type_vector(),
        "hidden": 128,
        "input_size": input_size,
        "profile": [1.0] * vocab.num_attributes(),
        "profile_source": "test",
        "mask_threshold": 0.4,
        "trained_on": "nothing (random weights, wiring test)",
    }
    save_checkpoint(path, {"format": CHECKPOINT_FORMAT, "config": config, "state_dict": model.state_dict(), "epoch": 0})
    return path
