"""Shared by the DRAG tests and benchmarks/bench_drag.py: plain-loop loss references and a tiny generated dataset.

The loop references restate paper eq. 3 element by element in plain Python (no tensor ops), so the
vectorised losses in privscan.models.drag_losses are checked against an independent formulation.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image
from support import synth


def _nested(maps) -> list:
    return maps.detach().double().tolist() if hasattr(maps, "detach") else np.asarray(maps, dtype=float).tolist()


def dis_loop(maps) -> float:
    """Dis = mean over (b, i, x, y) of Fw_i(x,y)^2 * squared grid distance to argmax of Fw_i (first on ties)."""
    m = _nested(maps)
    total, count = 0.0, 0
    for image in m:
        for region in image:
            h, w = len(region), len(region[0])
            best, peak = None, (0, 0)
            for x in range(h):
                for y in range(w):
                    if best is None or region[x][y] > best:
                        best, peak = region[x][y], (x, y)
            for x in range(h):
                for y in range(w):
                    total += region[x][y] ** 2 * ((x - peak[0]) ** 2 + (y - peak[1]) ** 2)
                    count += 1
    return total / count


def div_loop(maps) -> float:
    """Div = mean over (b, i, x, y) of Fw_i(x,y)^2 * (max_{j != i} Fw_j(x,y) - mrg)^2, mrg = the batch's mean."""
    m = _nested(maps)
    values = [v for image in m for region in image for row in region for v in row]
    margin = sum(values) / len(values)
    total, count = 0.0, 0
    for image in m:
        n, h, w = len(image), len(image[0]), len(image[0][0])
        for i in range(n):
            for x in range(h):
                for y in range(w):
                    other = max(image[j][x][y] for j in range(n) if j != i)
                    total += image[i][x][y] ** 2 * (other - margin) ** 2
                    count += 1
    return total / count


PUBLIC_SCENES = (
    "coffee",
    "chelsea",
    "rocket",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "brick",
    "grass",
    "gravel",
    "moon",
    "coins",
    "colorwheel",
)


def _scene(name: str) -> Image.Image:
    from skimage import data

    arr = np.asarray(getattr(data, name)())
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return Image.fromarray(np.ascontiguousarray(arr[..., :3]).astype(np.uint8), "RGB")


def _random_crop(img: Image.Image, rng: random.Random, lo: float, size: int) -> Image.Image:
    w, h = img.size
    scale = rng.uniform(lo, 1.0)
    cw, ch = max(8, int(w * scale)), max(8, int(h * scale))
    x0, y0 = rng.randint(0, w - cw), rng.randint(0, h - ch)
    out = img.crop((x0, y0, x0 + cw, y0 + ch)).resize((size, size), Image.Resampling.BILINEAR)
    return out.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if rng.random() < 0.5 else out


def private_image(seed: int, size: int = 160) -> Image.Image:
    """A synthetic document with fake personal data (ID card, payment card or letter), lightly cropped."""
    rng = random.Random(seed)
    kind = seed % 3
    if kind == 0:
        doc = synth.id_card(seed, size=(480, 300)).image
    elif kind == 1:
        doc = synth.credit_card(seed, size=(450, 285)).image
    else:
        doc = synth.letter(seed, size=(372, 526)).image
    return _random_crop(doc, rng, 0.75, size)


def public_image(seed: int, size: int = 160) -> Image.Image:
    """A crop of a real scene or texture photo shipped by scikit-image."""
    rng = random.Random(10_000 + seed)
    return _random_crop(_scene(PUBLIC_SCENES[seed % len(PUBLIC_SCENES)]), rng, 0.45, size)


def make_private_public_folders(root: Path, per_class: int = 24, size: int = 160, *, bad_files: bool = False) -> Path:
    """root/private/*.jpg (documents) and root/public/*.jpg (scenes); optionally a few broken files too."""
    (root / "private").mkdir(parents=True, exist_ok=True)
    (root / "public").mkdir(parents=True, exist_ok=True)
    for i in range(per_class):
        private_image(i, size).save(root / "private" / f"doc_{i:03d}.jpg", quality=90)
        public_image(i, size).save(root / "public" / f"scene_{i:03d}.jpg", quality=90)
    if bad_files:
        (root / "private" / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
        (root / "public" / "not_an_image.png").write_text("this is text, not a PNG")
    return root


def held_out_scores(data: Path, checkpoint: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(p_private, label) of the readable held-out test images of a folder data set, from a DRAG checkpoint
    (None: the registered one), computed as the audit computes them."""
    import torch

    from privscan.engine.drag_predictor import load_drag_predictor
    from privscan.io.decode import load_image
    from privscan.models.preprocess import batch_inputs
    from privscan.train.drag_data import load_privacy_data

    predictor = load_drag_predictor(torch.device("cpu"), checkpoint)
    assert predictor is not None
    test = load_privacy_data(data).splits["test"]
    held_out = [s for s in test if s.path.suffix == ".jpg" and s.path.stat().st_size > 100]  # not the broken files
    p = predictor.predict(batch_inputs([load_image(s.path).rgb for s in held_out], predictor.input_size))
    return np.asarray(p, dtype=np.float64), np.array([s.label for s in held_out])


def held_out_auc(data: Path, checkpoint: Path | None = None) -> float:
    """ROC AUC of p_private on the held-out images: how well DRAG ranks private above public, whatever
    the calibration a short run leaves (0.5 for any constant answer)."""
    from sklearn.metrics import roc_auc_score

    p, labels = held_out_scores(data, checkpoint)
    return float(roc_auc_score(labels, p))
