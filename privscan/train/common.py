"""What every trainer shares: seeding, mixed precision, progress bars.

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
