"""What to hide in one image, and the interface of the two places it can come from.

A `RegionSource` answers, for one decoded image (and its content hash), a `ToHide`: regions per hidden
item, PrivObfNet's per-attribute masks, and the named soft masks ("person") that 'mask' regions refer to.
The live source runs the detectors (privscan.engine.redaction.live); the report source reads an earlier
audit's records (privscan.engine.redaction.from_report).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from privscan import vocab
from privscan.detectors.base import Box, Finding, Region
from privscan.engine.redaction.policy import PERSON_MASK
from privscan.io.decode import DecodedImage
from privscan.masks.regions import MASK_THRESHOLD
from privscan.report.masking import mask_value
from privscan.report.redaction import PERSON, HiddenItem


@dataclass
class ToHide:
    """What to hide in one image: regions per item, extra bool masks (PrivObfNet), named soft masks."""

    items: list[tuple[HiddenItem, list[Region]]] = field(default_factory=list)
    model_masks: list[tuple[HiddenItem, NDArray[Any]]] = field(default_factory=list)
    named: dict[str, NDArray[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class RegionSource(Protocol):
    """Where the regions of a run come from; built once per run."""

    #: detectors that ran for this source so far (the sidecar lists them)
    detectors: tuple[str, ...]
    #: name of the PrivObfNet model whose masks are used, if any
    privobfnet: str | None

    def find(self, image: DecodedImage, sha256: str) -> ToHide:
        """What to hide in `image`; ImageError when this image cannot be redacted safely."""
        ...


def hidden_item(attribute: str, source: str, score: float, *, kind: str | None = None,
                value_masked: str | None = None, covers: Iterable[str] = ()) -> HiddenItem:
    attr = vocab.by_id().get(attribute)
    return HiddenItem(
        attribute=attribute,
        name=attr.name if attr else "Person (segmentation)",
        source=source,
        score=round(float(min(max(score, 0.0), 1.0)), 4),
        kind=kind,
        value_masked=value_masked,
        covers=list(covers),
    )


def item_from_finding(finding: Finding) -> HiddenItem:
    """A detector's finding as a hidden item (its value masked as in the audit report)."""
    masked = mask_value(finding.kind, finding.value) if finding.value else None
    return hidden_item(finding.attribute, finding.source, finding.score, kind=finding.kind, value_masked=masked)


def person_items(person: NDArray[Any] | None, attrs: list[str], source: str) -> list[tuple[HiddenItem, list[Region]]]:
    """One item per connected person blob of the soft mask, drawn from the mask inside the blob's box."""
    if person is None or not attrs:
        return []
    import cv2

    binary = (person >= MASK_THRESHOLD).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    items = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < 16:  # specks of segmentation noise
            continue
        score = float(person[labels == label].max())
        item = hidden_item(PERSON, source, score, kind="person", covers=attrs)
        items.append((item, [Region(box=Box(x, y, x + w, y + h), shape="mask", mask=PERSON_MASK)]))
    return items
