"""One boolean pixel mask per image from what is to be hidden; each region grown by a margin relative to
its size, faces as the ellipse through their box's corners, PrivObfNet masks grown per blob."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from privscan.engine.redaction.policy import face_ids
from privscan.engine.redaction.sources import ToHide
from privscan.io.decode import DecodedImage
from privscan.masks.regions import ellipse_around, grow_components, mask_bbox, regions_mask
from privscan.report.redaction import HiddenItem


def build_mask(image: DecodedImage, found: ToHide, margin: float) -> tuple[NDArray[Any], list[HiddenItem]]:
    """(H x W bool mask, the items actually painted, each with its painted regions)."""
    hw = (image.height, image.width)
    mask = np.zeros(hw, dtype=bool)
    hidden: list[HiddenItem] = []
    faces = face_ids()
    for item, regions in found.items:
        if item.attribute in faces:
            regions = [ellipse_around(r) for r in regions]
        part, painted = regions_mask(regions, hw, margin=margin, named_masks=found.named)
        if not painted:
            continue
        mask |= part
        item.regions = [p.as_dict() for p in painted]
        hidden.append(item)
    for item, m in found.model_masks:
        grown = grow_components(m, margin)
        mask |= grown
        box = mask_bbox(grown)
        item.regions = [{"box": list(box), "shape": "mask", "mask": f"privobfnet:{item.attribute}"}] if box else []
        hidden.append(item)
    return mask, hidden
