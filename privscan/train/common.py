"""What every trainer shares: seeding, self-describing atomic checkpoints, mixed precision, progress bars.

Checkpoints are plain dicts of tensors and primitives so that `torch.load(weights_only=True)` reads them
(no pickled code is ever executed on load): {"format": ..., "config": {...}, "state_dict": {...},
"epoch": int, "metrics": {...}, "optimizer": {...}?, ...}.
"""

from __future__ import annotations

import io
import os
import random
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from privscan.device import autocast
from privscan.errors import WeightsError
from privscan.io.atomic import atomic_write_bytes


def seed_everything(seed: int) -> torch.Generator:
    """Seed python, numpy and torch (CPU and CUDA); returns a torch.Generator for data order."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """torch.save to memory, then an atomic write: a crash never leaves a half-written checkpoint."""
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(path: Path, *, expected_format: str | None = None) -> dict[str, Any]:
    """Load a checkpoint written by save_checkpoint (weights_only: tensors and primitives only)."""
    if not Path(path).is_file():
        raise WeightsError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"cannot read checkpoint {path}: {type(e).__name__}: {e}") from e
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise WeightsError(f"{path} is not a privscan checkpoint (no state_dict)")
    if expected_format is not None and payload.get("format") != expected_format:
        raise WeightsError(f"{path} holds a {payload.get('format')!r} checkpoint, expected {expected_format!r}")
    return payload


def mixed_precision(device: torch.device, enabled: bool = True) -> AbstractContextManager[Any]:
    """Autocast on CUDA (bf16 when supported, else fp16), nothing on CPU."""
    return autocast(device, enabled)


def grad_scaler(device: torch.device, enabled: bool = True) -> torch.amp.GradScaler:
    """A GradScaler that is active only for fp16 autocast on CUDA (bf16 and CPU need none)."""
    active = enabled and device.type == "cuda" and not torch.cuda.is_bf16_supported()
    return torch.amp.GradScaler("cuda", enabled=active)


def progress(transient: bool = False) -> Progress:
    """A rich progress bar with count, elapsed time, ETA and a free-text field for loss/accuracy."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        transient=transient,
    )
