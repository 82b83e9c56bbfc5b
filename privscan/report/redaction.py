"""The redaction record: the JSON sidecar `privscan redact` writes beside its copies (and prints with --json).

Versioned like the audit report (privscan.report.schema): `schema_version` is "MAJOR.MINOR" of this
schema, its own number. One `RedactedFile` per input says what was hidden where, with values masked as in
the audit report (never in clear), what metadata was dropped and how the copy was written. The engine
fills these models as it works, so the record and the run's result are one thing.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from privscan.report.schema import ErrorModel, check_version

SCHEMA_VERSION = "1.0"
SCHEMA_MAJOR = int(SCHEMA_VERSION.split(".")[0])
PERSON = "person"  # the attribute of a person-segmentation item (VISPR has no "person" attribute)

FileStatus = Literal["redacted", "clean-copy", "dry-run", "error"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HiddenItem(_Model):
    """One thing hidden in one file."""

    attribute: str = Field(description="VISPR id, or 'person' for a person-segmentation item")
    name: str = Field(description="the attribute's VISPR name")
    source: str = Field(description="detector or model that located it, e.g. 'face:mediapipe', 'privobfnet'")
    score: float = Field(ge=0, le=1)
    kind: str | None = None
    value_masked: str | None = Field(default=None, description="the hidden value, masked")
    regions: list[dict[str, Any]] = Field(
        default_factory=list, description="painted regions: grown box [x0, y0, x1, y1], shape, margin_px"
    )
    covers: list[str] = Field(default_factory=list, description="for 'person': the hidden ids it stands for")


class RedactedFile(_Model):
    """What happened to one input file."""

    input: str
    output: str | None = None
    status: FileStatus = Field(description="redacted | clean-copy (nothing to hide found) | dry-run | error")
    input_sha256: str | None = None
    output_sha256: str | None = None
    width: int | None = None
    height: int | None = None
    hidden: list[HiddenItem] = Field(default_factory=list)
    masked_fraction: float = Field(default=0.0, ge=0, le=1)
    metadata_removed: list[str] = Field(default_factory=list)
    written: dict[str, Any] = Field(default_factory=dict, description="format, quality, colour profile, ...")
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = Field(default_factory=dict)
    error: ErrorModel | None = None

    @property
    def failed(self) -> bool:
        return self.status == "error"

    @property
    def attributes(self) -> list[str]:
        return list(dict.fromkeys(h.attribute for h in self.hidden))


class RedactionRecord(_Model):
    """The sidecar: the run's settings plus one entry per file (of one output folder)."""

    schema_version: str = Field(default=SCHEMA_VERSION, json_schema_extra={"pattern": rf"^{SCHEMA_MAJOR}\.[0-9]+$"})
    privscan_version: str
    created_at: str
    hide: list[str]
    style: str
    color: list[int] | None = Field(default=None, description="fill colour, for style 'fill'")
    margin: float
    regions_from: str = Field(description="'detectors' or 'report <path>'")
    detectors: list[str] = Field(description="detectors that ran")
    privobfnet: str | None = Field(default=None, description="model whose masks were used")
    dry_run: bool
    warnings: list[str] = Field(default_factory=list)
    files: list[RedactedFile]

    @field_validator("schema_version")
    @classmethod
    def _check_version(cls, version: str) -> str:
        return check_version(version, major=SCHEMA_MAJOR, what="redaction record")
