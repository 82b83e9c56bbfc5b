"""The versioned report schema: one ImageRecord per image plus a RunHeader.

Versioning: `SCHEMA_VERSION` is "MAJOR.MINOR". Added optional fields bump MINOR; anything that breaks a
reader (a renamed or removed field, a changed meaning) bumps MAJOR. Readers accept any MINOR of their own
MAJOR that they know the fields of, and refuse another MAJOR with a clear message.

Secret values are stored masked (`value_masked`, see privscan.report.masking); the clear value only appears
when the user asked for it (`--show-values`), in `value`. Coordinates are pixels of the EXIF-oriented image
whose size is the record's `width` x `height`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SCHEMA_VERSION = "1.0"
SCHEMA_MAJOR = int(SCHEMA_VERSION.split(".")[0])
_VERSION_RE = re.compile(r"^(\d+)\.(\d+)$")


def check_version(version: str, *, major: int, what: str = "report") -> str:
    """Accept "MAJOR.MINOR" with this MAJOR; refuse anything else with a message a user can act on."""
    m = _VERSION_RE.match(version)
    if m is None:
        raise ValueError(f"schema_version must look like '1.0', got {version!r}")
    if int(m.group(1)) != major:
        raise ValueError(
            f"{what} schema {version} is not readable by this privscan (it reads {major}.x); "
            "use the privscan version that wrote it"
        )
    return version


def check_schema_version(version: str) -> str:
    """The report schema's version check (see `check_version`)."""
    return check_version(version, major=SCHEMA_MAJOR)


class _Model(BaseModel):
    # Unknown fields are errors: they catch typos in the engine and make the JSON Schema strict.
    model_config = ConfigDict(extra="forbid")


class RegionModel(_Model):
    """Where an attribute shows: a box, an ellipse inscribed in the box, a polygon, or a named mask."""

    box: list[float] = Field(
        min_length=4, max_length=4, description="[x0, y0, x1, y1] in pixels of the EXIF-oriented image"
    )
    shape: Literal["box", "ellipse", "polygon", "mask"] = "box"
    polygon: list[list[float]] | None = Field(default=None, description="[[x, y], ...] points, for shape 'polygon'")
    mask: str | None = Field(default=None, description="name of the pixel mask (e.g. 'person'), for shape 'mask'")


class Evidence(_Model):
    """One source's support for an attribute."""

    source: str = Field(description="detector or model, e.g. 'face:mediapipe', 'ocr:rapidocr+pii:card', 'drag'")
    score: float = Field(ge=0, le=1)
    kind: str | None = Field(default=None, description="fine-grained label: 'credit_card', 'email', 'face', ...")
    value_masked: str | None = Field(default=None, description="detected value, masked (e.g. card: **** 1234)")
    value: str | None = Field(default=None, description="clear value; only present with --show-values")
    regions: list[RegionModel] = Field(default_factory=list)


class AttributeResult(_Model):
    id: str = Field(description="VISPR attribute id, e.g. a9_face_complete")
    name: str
    group: str
    score: float = Field(ge=0, le=1, description="fused score: max over sources")
    evidence: list[Evidence] = Field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        """Distinct sources in evidence order."""
        return list(dict.fromkeys(e.source for e in self.evidence))

    @property
    def regions(self) -> list[RegionModel]:
        return [r for e in self.evidence for r in e.regions]


class MetadataFinding(_Model):
    kind: str = Field(
        description="gps_position | capture_time | camera_serial | camera_model | owner | thumbnail | ..."
    )
    attribute: str | None = Field(default=None, description="VISPR id it maps to, if any")
    tag: str = Field(description="where it was found, e.g. 'EXIF GPSInfo', 'XMP dc:creator'")
    value_masked: str | None = None
    value: str | None = Field(default=None, description="clear value; only present with --show-values")


class Verdict(_Model):
    label: Literal["private", "public", "unknown"]
    p_private: float | None = Field(default=None, ge=0, le=1, description="None when no model produced it")
    source: str = Field(description="'drag' when DRAG weights exist, else 'evidence' (detector-based risk)")
    note: str | None = Field(default=None, description="why p_private is missing, e.g. 'no DRAG weights'")


class ErrorModel(_Model):
    kind: str = Field(description="empty | truncated | corrupt | not-an-image | too-large | unreadable | ...")
    message: str


def _version_field() -> Any:
    return Field(
        default=SCHEMA_VERSION,
        description="MAJOR.MINOR of the schema that wrote this",
        json_schema_extra={"pattern": rf"^{SCHEMA_MAJOR}\.[0-9]+$"},
    )


class ImageRecord(_Model):
    schema_version: str = _version_field()
    path: str
    sha256: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)
    width: int | None = Field(default=None, ge=1, description="width of the EXIF-oriented image in pixels")
    height: int | None = Field(default=None, ge=1, description="height of the EXIF-oriented image in pixels")
    format: str | None = None
    verdict: Verdict | None = None
    privacy_score: float | None = Field(default=None, ge=0, le=1)
    privacy_score_source: str | None = None
    attributes: list[AttributeResult] = Field(default_factory=list)
    metadata: list[MetadataFinding] = Field(default_factory=list)
    errors: list[ErrorModel] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict, description="seconds per stage")
    cached: bool = Field(default=False, description="record reused from the audit cache")

    _check_version = field_validator("schema_version")(check_schema_version)

    @property
    def failed(self) -> bool:
        """The image could not be analysed at all (errors and no verdict, score or attributes)."""
        return bool(self.errors) and self.verdict is None and self.privacy_score is None and not self.attributes


class ModelInfo(_Model):
    name: str
    kind: str = Field(description="classifier | attributes | detector | ...")
    status: Literal["loaded", "missing", "disabled", "failed"]
    weights: str | None = Field(default=None, description="weights file name or package the model loaded")
    weights_sha256: str | None = None
    note: str | None = None


class RunHeader(_Model):
    schema_version: str = _version_field()
    privscan_version: str
    started_at: str = Field(description="ISO 8601 time the run started")
    finished_at: str | None = Field(default=None, description="None while running or when interrupted")
    device: str
    show_values: bool = Field(default=False, description="clear values are in `value` fields (--show-values)")
    inputs: list[str] = Field(default_factory=list, description="paths given on the command line")
    models: list[ModelInfo] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)

    _check_version = field_validator("schema_version")(check_schema_version)


class Summary(_Model):
    """Counts over a run's records; privscan.report.summary.summarize computes it."""

    images: int = Field(ge=0, description="records, failed ones included")
    private: int = Field(ge=0)
    public: int = Field(ge=0)
    unknown: int = Field(ge=0, description="analysed, but with no verdict or verdict 'unknown'")
    failed: int = Field(ge=0, description="records whose image could not be analysed")
    with_errors: int = Field(ge=0, description="records with at least one error (failed ones included)")
    risk_levels: dict[str, int] = Field(
        default_factory=dict, description="high | medium | low | n/a | failed -> records"
    )
    attributes: dict[str, int] = Field(
        default_factory=dict, description="attribute id -> records where it is present (score >= 0.5)"
    )


class Report(_Model):
    header: RunHeader
    summary: Summary | None = Field(default=None, description="filled by write_report_json when absent")
    images: list[ImageRecord]


def report_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the final report file."""
    schema = Report.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = f"privscan report schema {SCHEMA_VERSION}"
    return schema


def record_json_schema() -> dict[str, Any]:
    """JSON Schema of one line of the streamed JSON-lines file."""
    schema = ImageRecord.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$comment"] = f"privscan image record schema {SCHEMA_VERSION}"
    return schema


def schema_text(which: Literal["report", "record"] = "report") -> str:
    return json.dumps(report_json_schema() if which == "report" else record_json_schema(), indent=2) + "\n"
