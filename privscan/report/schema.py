"""The versioned report schema: one ImageRecord per image plus a RunHeader.

Bump SCHEMA_VERSION's minor number for added optional fields and its major number for anything that
breaks readers. Secret values are stored masked (`value_masked`); the clear value only appears when the
user asked for it (`--show-values`), in `value`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegionModel(_Model):
    box: list[float] = Field(description="[x0, y0, x1, y1] in pixels of the EXIF-oriented image")
    shape: Literal["box", "ellipse", "polygon", "mask"] = "box"
    polygon: list[list[float]] | None = None


class Evidence(_Model):
    """One source's support for an attribute."""

    source: str = Field(description="detector or model, e.g. 'face:mediapipe', 'ocr:rapidocr+pii:card', 'drag'")
    score: float = Field(ge=0, le=1)
    kind: str | None = None
    value_masked: str | None = Field(default=None, description="detected value, masked (e.g. card: ****1234)")
    value: str | None = Field(default=None, description="clear value; only present with --show-values")
    regions: list[RegionModel] = Field(default_factory=list)


class AttributeResult(_Model):
    id: str = Field(description="VISPR attribute id, e.g. a9_face_complete")
    name: str
    group: str
    score: float = Field(ge=0, le=1, description="fused score: max over sources")
    evidence: list[Evidence] = Field(default_factory=list)


class MetadataFinding(_Model):
    kind: str = Field(
        description="gps_position | capture_time | camera_serial | camera_model | owner | thumbnail | ..."
    )
    attribute: str | None = Field(default=None, description="VISPR id it maps to, if any")
    tag: str = Field(description="where it was found, e.g. 'EXIF GPSInfo', 'XMP dc:creator'")
    value_masked: str | None = None
    value: str | None = None


class Verdict(_Model):
    label: Literal["private", "public", "unknown"]
    p_private: float | None = Field(default=None, ge=0, le=1, description="None when no model produced it")
    source: str = Field(description="'drag' when DRAG weights exist, else 'evidence' (detector-based risk)")
    note: str | None = None


class ErrorModel(_Model):
    kind: str
    message: str


class ImageRecord(_Model):
    schema_version: str = SCHEMA_VERSION
    path: str
    sha256: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    verdict: Verdict | None = None
    privacy_score: float | None = Field(default=None, ge=0, le=1)
    privacy_score_source: str | None = None
    attributes: list[AttributeResult] = Field(default_factory=list)
    metadata: list[MetadataFinding] = Field(default_factory=list)
    errors: list[ErrorModel] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    cached: bool = Field(default=False, description="record reused from the audit cache")


class ModelInfo(_Model):
    name: str
    kind: str
    status: Literal["loaded", "missing", "disabled", "failed"]
    weights_sha256: str | None = None
    note: str | None = None


class RunHeader(_Model):
    schema_version: str = SCHEMA_VERSION
    privscan_version: str
    started_at: str
    finished_at: str | None = None
    device: str
    models: list[ModelInfo] = Field(default_factory=list)
    options: dict[str, object] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)


class Report(_Model):
    header: RunHeader
    images: list[ImageRecord]
