"""What every trainer shares: seeding, optimisers, mixed precision, progress bars.

Checkpoints are read and written by privscan.io.checkpoint (the engine's predictors load them too).
"""

from __future__ import annotations

import os
import random
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from privscan.device import autocast


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


def _fused(groups: list[dict[str, Any]]) -> bool:
    """torch's fused optimiser kernels take float parameters on one CPU or CUDA device."""
    params = [p for g in groups for p in g["params"]]
    kinds = {p.device.type for p in params}
    return len(kinds) == 1 and kinds <= {"cpu", "cuda"} and all(p.is_floating_point() for p in params)


def adam(groups: list[dict[str, Any]], *, weight_decay: float) -> torch.optim.Adam:
    """Adam over parameter groups (each with its own "lr"), on torch's fused kernel where it applies: one
    pass over the weights per step instead of one per operation, 11x faster on DRAG's 16M-weight
    channel-grouping layer on one CPU thread (0.016 vs 0.169 s a step, measured)."""
    return torch.optim.Adam(groups, weight_decay=weight_decay, fused=_fused(groups))


def sgd(groups: list[dict[str, Any]], *, lr: float, momentum: float, weight_decay: float) -> torch.optim.SGD:
    """SGD with momentum over parameter groups, fused like `adam` (6x faster a step on the CPU, measured)."""
    return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay, fused=_fused(groups))


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
