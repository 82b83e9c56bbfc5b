"""CGL initialisation: group backbone channels by where they fire, with K-means over peak responses.

For every training image and channel, the (row, col) of the channel's strongest response is a peak. A
channel's descriptor is the list of its peaks over the training set (2 numbers per image); channels that
fire at the same places on the same images describe the same part of the scene. K-means with N clusters
over these descriptors gives each channel a region; the one-hot N x C matrix is what CGL is pretrained to
output. The cluster result is saved as JSON so a resumed run (and anyone reading the run folder) sees it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.cluster import KMeans

from privscan.io.atomic import atomic_write_text


def peak_positions(features: torch.Tensor) -> torch.Tensor:
    """(B, C, h, w) -> (B, C, 2) integer (row, col) of each channel's maximum (first one on ties)."""
    b, c, h, w = features.shape
    flat = features.reshape(b, c, h * w).argmax(dim=-1)
    return torch.stack([flat // w, flat % w], dim=-1)


@torch.no_grad()
def collect_peaks(
    extract: Callable[[torch.Tensor], torch.Tensor],
    batches: Iterable[torch.Tensor],
    *,
    max_images: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Run `extract` (images -> features) over batches; returns descriptors (C, 2 * images) as float32."""
    chunks: list[np.ndarray] = []
    seen = 0
    for images in batches:
        if max_images is not None and seen >= max_images:
            break
        if max_images is not None:
            images = images[: max_images - seen]
        peaks = peak_positions(extract(images)).cpu().numpy()  # (B, C, 2)
        chunks.append(peaks.transpose(1, 0, 2).reshape(peaks.shape[1], -1))
        seen += images.shape[0]
        if on_batch is not None:
            on_batch(images.shape[0])
    if not chunks:
        raise ValueError("no images to extract channel peaks from")
    return np.concatenate(chunks, axis=1).astype(np.float32)


@dataclass
class ChannelGroups:
    """The K-means result: labels[c] is channel c's region; plus what it was computed from."""

    labels: list[int]
    regions: int
    images: int
    inertia: float
    seed: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sizes(self) -> list[int]:
        return np.bincount(np.asarray(self.labels), minlength=self.regions).tolist()

    def one_hot(self) -> torch.Tensor:
        """(N, C) float: row i marks the channels of region i."""
        labels = torch.as_tensor(self.labels, dtype=torch.long)
        out = torch.zeros(self.regions, labels.numel())
        out[labels, torch.arange(labels.numel())] = 1.0
        return out

    def save(self, path: Path) -> None:
        raw = asdict(self)
        raw["sizes"] = self.sizes
        atomic_write_text(path, json.dumps(raw, indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> ChannelGroups:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        raw.pop("sizes", None)
        return cls(**raw)


def cluster_channels(descriptors: np.ndarray, regions: int, *, seed: int = 0, n_init: int = 10) -> ChannelGroups:
    """K-means over channel descriptors (C, D) into `regions` groups."""
    if descriptors.ndim != 2:
        raise ValueError(f"descriptors must be (channels, dims), got {descriptors.shape}")
    if descriptors.shape[0] < regions:
        raise ValueError(f"cannot split {descriptors.shape[0]} channels into {regions} groups")
    km = KMeans(n_clusters=regions, n_init=n_init, random_state=seed)
    labels = km.fit_predict(descriptors.astype(np.float64))
    return ChannelGroups(
        labels=[int(v) for v in labels],
        regions=regions,
        images=descriptors.shape[1] // 2,
        inertia=float(km.inertia_),
        seed=seed,
    )
