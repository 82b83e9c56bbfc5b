"""Per-attribute pixel masks from PrivObfNet's attention maps, at the image's own resolution.

For each asked attribute: its CAM is upsampled (bilinear) to the image, negative evidence is cut (ReLU)
and the map is scaled to 0..1 by its maximum; a Human attribute's map is then multiplied by the person
mask and a Text attribute's by the text mask (when that mask is given and not empty: detectors miss
things, and an empty refinement would silently drop a region the model found), rescaled to 0..1 again so
the strongest refined evidence always survives, and thresholded. Masks come back as bool H x W arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from privscan.masks.mask_types import MaskType, mask_type
from privscan.vocab import by_id

DEFAULT_THRESHOLD = 0.4  # fraction of the map's maximum; lower covers more (safer for redaction, coarser)


def normalise(cam: torch.Tensor) -> torch.Tensor:
    """ReLU, then divide each map by its maximum (maps with no positive evidence stay all zero)."""
    cam = cam.float().clamp_min(0.0)  # a new tensor: the in-place steps below never touch the caller's
    peak = cam.flatten(-2).amax(dim=-1)[..., None, None]
    return cam.div_(peak.clamp_min(1e-12))  # all-zero maps stay zero (0 / eps)


def upsample(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(h, w) or (A, h, w) -> same rank at `size` = (H, W), bilinear with pixel-centre alignment."""
    x = cam.float()
    squeeze = x.dim() == 2
    x = x[None, None] if squeeze else x[None]
    out = F.interpolate(x, size=size, mode="bilinear", align_corners=False)[0]
    return out[0] if squeeze else out


def cam_peak(cam: torch.Tensor, image_hw: tuple[int, int]) -> tuple[float, float]:
    """(x, y) pixel position where an (h, w) map peaks: the centre of its strongest cell in the image.

    The upsampled map reaches the same maximum there; taking the cell centre avoids the flat border band
    that bilinear upsampling leaves around edge cells.
    """
    h, w = cam.shape[-2:]
    i, j = divmod(int(torch.argmax(cam.float())), w)
    return (j + 0.5) * image_hw[1] / w, (i + 0.5) * image_hw[0] / h


def _as_guide(mask: np.ndarray | torch.Tensor | None, size: tuple[int, int]) -> torch.Tensor | None:
    """A person/text mask as a float tensor at `size`, or None when absent or empty."""
    if mask is None:
        return None
    t = torch.as_tensor(np.asarray(mask, dtype=np.float32)) if not isinstance(mask, torch.Tensor) else mask.float()
    if t.dim() != 2:
        raise ValueError(f"person/text masks must be H x W, got {tuple(t.shape)}")
    if not bool((t > 0).any()):
        return None
    if tuple(t.shape) != size:
        t = F.interpolate(t[None, None], size=size, mode="bilinear", align_corners=False)[0, 0]
    return t.clamp(0.0, 1.0)


def refine(heat: torch.Tensor, kind: MaskType, person: torch.Tensor | None, text: torch.Tensor | None) -> torch.Tensor:
    """Weight a normalised H x W map by the guide its mask type asks for, then rescale to 0..1."""
    guide = person if kind == MaskType.HUMAN else text if kind == MaskType.TEXT else None
    if guide is None:
        return heat
    return normalise(heat * guide)


def attribute_masks(
    cams: torch.Tensor,
    image_hw: tuple[int, int],
    attributes: Sequence[str],
    *,
    person_mask: np.ndarray | torch.Tensor | None = None,
    text_mask: np.ndarray | torch.Tensor | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, np.ndarray]:
    """{attribute id: bool H x W mask} for the asked attributes from (68, h, w) CAMs."""
    known = by_id()
    size = (int(image_hw[0]), int(image_hw[1]))
    person = _as_guide(person_mask, size)
    text = _as_guide(text_mask, size)
    out: dict[str, np.ndarray] = {}
    for attr in attributes:
        if attr not in known:
            raise KeyError(f"unknown attribute id {attr!r}")
        heat = normalise(upsample(cams[known[attr].index], size))
        heat = refine(heat, mask_type(attr), person, text)
        out[attr] = ((heat > 0) if threshold <= 0 else (heat >= threshold)).numpy()
    return out
