"""PrivObfNet inference for audit and redaction: attribute probabilities, privacy score and attribute masks.

Weights come only from the weights manifest (an entry of kind "privobfnet", sha256-checked by
privscan.weights.verified_path) or from a checkpoint path the user names. With neither, the loader
returns None and the engine says "no PrivObfNet weights"; nothing is made up.

Only Model-Image runs here. `predict` takes a batch already resized to `input_size` (other sizes are
resized); `masks` turns one image's CAMs into bool masks at the image's own resolution, refined by the
person/text masks the detectors found (see privscan.masks.cam_masks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from privscan import weights
from privscan.device import autocast
from privscan.engine.entries import default_entry
from privscan.errors import WeightsError
from privscan.io.checkpoint import load_checkpoint
from privscan.masks.cam_masks import DEFAULT_THRESHOLD, attribute_masks
from privscan.models.preprocess import resize_square
from privscan.models.privobfnet import CHECKPOINT_FORMAT, PrivObfNet, model_from_payload
from privscan.vocab import attribute_ids


@dataclass
class PrivObfNetOutput:
    attribute_probs: NDArray[Any]  # (68,) float32, VISPR vector order
    privacy_score: float  # 0..1, the privacy head's estimate
    cams: torch.Tensor  # (68, h, w) float32 on CPU: class activation maps before any person/text weighting


@dataclass
class PrivObfNetPredictor:
    """An eval-mode Model-Image on a device, with what the report header needs to name it."""

    model: PrivObfNet
    device: torch.device
    name: str
    weights_sha256: str
    input_size: int
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def mask_threshold(self) -> float:
        return float(self.config.get("mask_threshold", DEFAULT_THRESHOLD))

    @torch.inference_mode()
    def predict(self, batch: torch.Tensor, guides: torch.Tensor | None = None) -> list[PrivObfNetOutput]:
        """(B, 3, S, S) floats in [0, 1] -> one output per image.

        `guides` (optional, (B, 2, S, S): person mask, text mask in 0..1) weight Human/Text attributes'
        maps as in training; without them every map is used as it is.
        """
        if batch.dim() != 4 or batch.shape[1] != 3:
            raise ValueError(f"expected a (B, 3, S, S) batch, got {tuple(batch.shape)}")
        if batch.shape[0] == 0:
            return []
        x = batch.to(self.device, torch.float32)
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            x = resize_square(x, self.input_size)
        g = None
        if guides is not None:
            g = guides.to(self.device, torch.float32)
            if tuple(g.shape[-2:]) != (self.input_size, self.input_size):
                g = resize_square(g, self.input_size)
        with autocast(self.device):
            out = self.model(x, g)
        probs = torch.sigmoid(out.logits.float()).cpu().numpy().astype(np.float32)
        assert out.privacy is not None
        scores = out.privacy.float().cpu().numpy()
        cams = out.raw_maps.float().cpu()
        return [
            PrivObfNetOutput(attribute_probs=probs[i], privacy_score=float(scores[i]), cams=cams[i].clone())
            for i in range(len(probs))
        ]

    def masks(
        self,
        output: PrivObfNetOutput,
        image_hw: tuple[int, int],
        attributes: Sequence[str],
        person_mask: NDArray[Any] | None = None,
        text_mask: NDArray[Any] | None = None,
        *,
        threshold: float | None = None,
    ) -> dict[str, NDArray[Any]]:
        """{attribute id: bool H x W} for the asked attributes, at the image's own resolution."""
        return attribute_masks(
            output.cams,
            image_hw,
            list(attributes),
            person_mask=person_mask,
            text_mask=text_mask,
            threshold=self.mask_threshold if threshold is None else threshold,
        )


def _entry() -> weights.WeightEntry | None:
    return default_entry("privobfnet")


def predictor_from_file(file: Path, device: torch.device, name: str) -> PrivObfNetPredictor:
    """Build a predictor from a best checkpoint written by `privscan train privobfnet`."""
    payload = load_checkpoint(file, expected_format=CHECKPOINT_FORMAT)
    try:
        model = model_from_payload(payload, attribute_ids())
    except ValueError as e:
        raise WeightsError(f"{file} is not a usable PrivObfNet checkpoint: {e}") from e
    config = dict(payload["config"])
    config["epoch"] = payload.get("epoch")
    config["metrics"] = payload.get("metrics")
    return PrivObfNetPredictor(
        model=model.to(device).eval(),
        device=device,
        name=name,
        weights_sha256=weights.sha256_file(file),
        input_size=int(config["input_size"]),
        config=config,
    )


def load_privobfnet_predictor(device: torch.device, path: Path | None = None) -> PrivObfNetPredictor | None:
    """The registered (or given) PrivObfNet checkpoint on `device`; None when no weights are registered.

    Raises WeightsError when a registered entry's file is missing or its sha256 differs, or when a given
    file is not a PrivObfNet checkpoint.
    """
    if path is not None:
        file = Path(path).expanduser()
        if not file.is_file():
            raise WeightsError(f"PrivObfNet checkpoint not found: {file}")
        return predictor_from_file(file, device, file.stem)
    entry = _entry()
    if entry is None:
        return None
    return predictor_from_file(weights.verified_path(entry.name), device, entry.name)
