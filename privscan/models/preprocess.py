"""Pixels to model input: uint8 RGB arrays -> float tensors in [0, 1], resized to the model's square size.

Pure tensor functions shared by training, inference and benchmarks; normalisation lives in the backbone.
Images are resized (not cropped) to a square: privacy cues at the border (a name tag, a card corner)
must stay visible, and both papers train on whole resized images.

Two resizers: "torch" (antialiased bilinear on floats, privscan's own) and "pil" (PIL's bilinear on the
uint8 image, which is what torchvision's Resize does to a PIL image and so what the DRAG authors' loader
feeds their model). They differ by up to 1/255 per pixel, enough to move a trained model's probability by
about 0.01 (measured on the import test's model), so imported checkpoints keep the authors' resizer.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """H x W x 3 uint8 -> 3 x H x W float32 in [0, 1]."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.shape} {rgb.dtype}")
    arr = np.ascontiguousarray(rgb)
    if not arr.flags.writeable:  # torch.from_numpy warns on read-only memory (e.g. np.asarray of a PIL image)
        arr = arr.copy()
    return torch.from_numpy(arr).permute(2, 0, 1).float().div_(255.0)


def resize_square(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) or (B, 3, H, W) -> same rank at size x size; antialiased when shrinking."""
    batched = image.dim() == 4
    x = image if batched else image.unsqueeze(0)
    if x.shape[-2:] != (size, size):
        shrinking = x.shape[-1] > size or x.shape[-2] > size
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking)
    return x if batched else x.squeeze(0)


def model_input(rgb: np.ndarray, size: int) -> torch.Tensor:
    """One decoded image -> a 3 x size x size tensor ready for a Backbone."""
    return resize_square(to_tensor(rgb), size).clamp_(0.0, 1.0)


RESIZERS = ("torch", "pil")


def pil_model_input(rgb: np.ndarray, size: int) -> torch.Tensor:
    """One decoded image -> 3 x size x size in [0, 1] through PIL's bilinear resize of the uint8 pixels."""
    from PIL import Image

    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an H x W x 3 uint8 array, got {rgb.shape} {rgb.dtype}")
    resized = Image.fromarray(np.ascontiguousarray(rgb), "RGB").resize((size, size), Image.Resampling.BILINEAR)
    return to_tensor(np.asarray(resized))


def batch_inputs(images: list[np.ndarray], size: int, resize: str = "torch") -> torch.Tensor:
    if resize not in RESIZERS:
        raise ValueError(f"resize must be one of {', '.join(RESIZERS)}, got {resize!r}")
    one = pil_model_input if resize == "pil" else model_input
    return torch.stack([one(rgb, size) for rgb in images])
