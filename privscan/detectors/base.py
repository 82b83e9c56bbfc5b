"""The contract every detector honours: pixel regions, findings in VISPR ids, and a result per image.

Coordinates are pixels of the decoded image (EXIF orientation already applied), x to the right, y down,
boxes half-open [x0, x1) x [y0, y1). A Finding's `value` holds a detected secret in clear (a card number,
an e-mail); it exists so redaction and `--show-values` can use it, and the report layer masks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, Protocol

from numpy.typing import NDArray

from privscan.io.decode import DecodedImage


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return max(0.0, self.x1 - self.x0)

    @property
    def height(self) -> float:
        return max(0.0, self.y1 - self.y0)

    @property
    def area(self) -> float:
        return self.width * self.height

    def union(self, other: Box) -> Box:
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def intersection(self, other: Box) -> Box:
        return Box(max(self.x0, other.x0), max(self.y0, other.y0), min(self.x1, other.x1), min(self.y1, other.y1))

    def iou(self, other: Box) -> float:
        inter = self.intersection(other).area
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def clip(self, width: int, height: int) -> Box:
        return Box(
            min(max(self.x0, 0.0), width),
            min(max(self.y0, 0.0), height),
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
        )

    def scaled(self, sx: float, sy: float | None = None) -> Box:
        sy = sx if sy is None else sy
        return Box(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)

    def as_list(self) -> list[float]:
        return [round(self.x0, 1), round(self.y0, 1), round(self.x1, 1), round(self.y1, 1)]

    @staticmethod
    def union_all(boxes: list[Box]) -> Box:
        out = boxes[0]
        for b in boxes[1:]:
            out = out.union(b)
        return out


RegionShape = Literal["box", "ellipse", "polygon", "mask"]


@dataclass(frozen=True)
class Region:
    """Where a finding is. `polygon` (x, y) points refine a box (OCR quads); 'mask' regions point to a
    named mask in the DetectorResult (e.g. 'person') and carry its bounding box."""

    box: Box
    shape: RegionShape = "box"
    polygon: tuple[tuple[float, float], ...] | None = None
    mask: str | None = None


#: a Finding's attribute for a fact with no VISPR id (a camera serial): reports list it as metadata only
NO_ATTRIBUTE = ""


@dataclass
class Finding:
    attribute: str  # VISPR attribute id, e.g. "a30_credit_card", or NO_ATTRIBUTE
    score: float  # 0..1 confidence of this source
    source: str  # e.g. "ocr:rapidocr+pii:card", "face:mediapipe", "exif:gps"
    regions: list[Region] = field(default_factory=list)
    kind: str | None = None  # fine-grained label: "credit_card", "email", "gps_position", ...
    value: str | None = None  # the secret in clear; reports mask it unless --show-values
    detail: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: Box
    confidence: float
    polygon: tuple[tuple[float, float], ...] | None = None
    line: int = 0  # index of the text line the word belongs to (reading order)


@dataclass
class DetectorResult:
    detector: str
    findings: list[Finding] = field(default_factory=list)
    words: list[OcrWord] = field(default_factory=list)  # text detectors only
    masks: dict[str, NDArray[Any]] = field(default_factory=dict)  # name -> H x W float32 in 0..1
    seconds: float = 0.0


#: what the engine hands a detector: the results of the detectors that already ran on this image, by name
Prior = Mapping[str, DetectorResult]
NO_PRIOR: Prior = MappingProxyType({})


class Detector(Protocol):
    """A detector: built once (models loaded), then called per image. `version` == its SPEC.version.

    `prior` holds the results of the detectors that ran before it on the same image; a detector reads only
    those its SPEC `requires` (the registry runs them first). No state carries from one image to the next.
    """

    name: str
    version: str

    def detect(self, image: DecodedImage, prior: Prior) -> DetectorResult: ...
