"""DRAG inference for the audit engine: p_private for a batch of images, or nothing when no weights exist.

Weights come only from the weights manifest (an entry of kind "drag", sha256-checked by
privscan.weights.verified_path) or from a checkpoint path the user names. When neither exists the engine
gets None and says "no DRAG weights"; it never invents a probability. A checkpoint may name the resizer
its model was trained with (`preprocess.resize`: "pil" for checkpoints imported from the DRAG authors);
`inputs` uses it, so the audit feeds such a model the pixels its authors' loader would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from privscan import weights
from privscan.engine.entries import default_entry
from privscan.errors import WeightsError
from privscan.io.checkpoint import load_checkpoint
from privscan.models.drag import PRIVATE_INDEX, Drag, drag_from_payload
from privscan.models.preprocess import RESIZERS, batch_inputs, resize_square


@dataclass
class DragPredictor:
    """An eval-mode DRAG model on a device, with what the report header needs to name it."""

    model: Drag
    device: torch.device
    name: str
    weights_sha256: str
    input_size: int
    config: dict[str, Any] = field(default_factory=dict)
    resize: str = "torch"  # privscan.models.preprocess.RESIZERS

    def inputs(self, rgbs: list[NDArray[Any]]) -> torch.Tensor:
        """Decoded uint8 RGB images -> the (B, 3, S, S) batch this model expects, resized its way."""
        return batch_inputs(rgbs, self.input_size, self.resize)

    @torch.inference_mode()
    def predict(self, batch: torch.Tensor) -> NDArray[Any]:
        """(B, 3, S, S) floats in [0, 1] -> p_private (B,) float32. Other sizes are resized to input_size."""
        if batch.dim() != 4 or batch.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, S, S) batch, got {tuple(batch.shape)}")
        if batch.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        x = batch.to(self.device, torch.float32)
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            x = resize_square(x, self.input_size)
        logits = self.model(x).logits.float()
        return np.asarray(logits.softmax(dim=1)[:, PRIVATE_INDEX].cpu().numpy(), dtype=np.float32)


def _drag_entry() -> weights.WeightEntry | None:
    return default_entry("drag")


def load_drag_predictor(device: torch.device, path: Path | None = None) -> DragPredictor | None:
    """The registered (or given) DRAG checkpoint on `device`; None when no DRAG weights are registered.

    Raises WeightsError when a registered entry's file is missing or its sha256 differs, or when a given
    file is not a DRAG checkpoint.
    """
    if path is not None:
        file = Path(path).expanduser()
        name = file.stem
        if not file.is_file():
            raise WeightsError(f"DRAG checkpoint not found: {file}")
    else:
        entry = _drag_entry()
        if entry is None:
            return None
        file = weights.verified_path(entry.name)
        name = entry.name
    payload = load_checkpoint(file)
    try:
        model = drag_from_payload(payload)
    except (ValueError, KeyError, RuntimeError) as e:
        raise WeightsError(f"{file} is not a usable DRAG checkpoint: {e}") from e
    resize = str(payload.get("preprocess", {}).get("resize", "torch"))
    if resize not in RESIZERS:
        raise WeightsError(f"{file} names an unknown resizer {resize!r} (known: {', '.join(RESIZERS)})")
    config = {
        **payload["config"],
        "classes": list(payload.get("classes", [])),
        "epoch": payload.get("epoch"),
        "resize": resize,
    }
    return DragPredictor(
        model=model.to(device).eval(),
        device=device,
        name=name,
        weights_sha256=weights.sha256_file(file),
        input_size=int(model.config.input_size),
        config=config,
        resize=resize,
    )
