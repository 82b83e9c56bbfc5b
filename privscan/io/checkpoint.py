"""Self-describing checkpoints, written atomically and read without executing pickled code.

A checkpoint is a plain dict of tensors and primitives so that `torch.load(weights_only=True)` reads it:
{"format": ..., "config": {...}, "state_dict": {...}, "epoch": int, "metrics": {...}, ...}. Trainers write
them; the engine's predictors and the evaluators read them; this is the one reader and writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from privscan.errors import WeightsError
from privscan.io.atomic import atomic_path


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    """torch.save to a temporary file that becomes `path` atomically: a crash (or a payload torch cannot
    save) never leaves a half-written checkpoint, the temporary file is removed.

    torch.save is given the temporary file's name, not a Python file object: its C++ writer then writes a
    200 MB payload in 0.12 s where the file object took 0.37 s (measured), and no in-memory copy is made (a
    trainer's last.pt with optimiser state is ~350 MB).
    """
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


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
