"""Evaluate a DRAG checkpoint on one split with the paper's metrics (accuracy, per-class P/R/F1, confusion).

The data layouts and splits are DRAG's training data (privscan.train.drag_data); the model is rebuilt from
the self-describing checkpoint alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from privscan import weights
from privscan.device import resolve_device
from privscan.io.checkpoint import load_checkpoint
from privscan.models.drag import CHECKPOINT_FORMAT, CLASSES
from privscan.train.classification_metrics import ClassificationMetrics, classification_metrics
from privscan.train.drag_data import load_privacy_data
from privscan.train.drag_trainer import make_loader, predict_batches, readable_batches


@dataclass
class EvaluationResult:
    checkpoint: Path
    split: str
    metrics: ClassificationMetrics
    data: dict[str, Any]
    skipped: dict[str, str]
    config: dict[str, Any]
    epoch: int | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "checkpoint": str(self.checkpoint),
            "sha256": weights.sha256_file(self.checkpoint),
            "split": self.split,
            "metrics": self.metrics.to_dict(),
            "data": self.data,
            "unreadable": self.skipped,
            "model": self.config,
            "epoch": self.epoch,
            "seconds": self.seconds,
        }


def evaluate_checkpoint(
    checkpoint: Path,
    data_dir: Path,
    *,
    fmt: str = "auto",
    split: str = "test",
    fold: str = "0",
    private_label: int | None = None,
    batch_size: int = 16,
    workers: int = 2,
    device: str = "auto",
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """The paper's metrics (accuracy, per-class P/R/F1, confusion) of a DRAG checkpoint on one split."""
    from privscan.models.drag import drag_from_payload

    started = time.perf_counter()
    payload = load_checkpoint(checkpoint, expected_format=CHECKPOINT_FORMAT)
    model = drag_from_payload(payload)
    dev = resolve_device(device)
    model.to(dev)
    data = load_privacy_data(data_dir, fmt, fold=fold, private_label=private_label, seed=seed)
    samples = data.split(split)
    skipped: dict[str, str] = {}
    size = int(model.config.input_size)
    loader = make_loader(samples, size, batch_size, workers, pin_memory=dev.type == "cuda")
    probs, labels, _ = predict_batches(model, readable_batches(loader, samples, skipped, log), dev)
    metrics = classification_metrics(labels, (probs >= 0.5).astype(np.int64), CLASSES)
    return EvaluationResult(
        checkpoint=Path(checkpoint),
        split=split,
        metrics=metrics,
        data={**data.describe(), "missing": [asdict(p) for p in data.problems], "notes": data.notes},
        skipped=skipped,
        config=payload["config"],
        epoch=payload.get("epoch"),
        seconds=round(time.perf_counter() - started, 2),
    )
