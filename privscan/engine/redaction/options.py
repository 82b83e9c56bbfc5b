"""The options of one redaction run (what to hide, how it looks, where copies go, where regions come from)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from privscan.errors import UsageError
from privscan.io.decode import DEFAULT_MAX_PIXELS
from privscan.masks.obfuscate import DEFAULT_COLOR, DEFAULT_STYLE, STYLES
from privscan.masks.regions import DEFAULT_MARGIN

#: PrivObfNet masks are used for attributes the model scores at least this likely present
DEFAULT_MODEL_THRESHOLD = 0.5


@dataclass
class RedactOptions:
    hide: tuple[str, ...]  # attribute ids (vocab.resolve_names)
    style: str = DEFAULT_STYLE
    color: tuple[int, int, int] = DEFAULT_COLOR
    margin: float = DEFAULT_MARGIN
    out_dir: Path | None = None  # None: a `redacted/` folder beside each input
    overwrite: bool = False
    dry_run: bool = False
    from_report: Path | None = None
    device: str = "auto"
    ocr_engine: str = "auto"
    max_pixels: int = DEFAULT_MAX_PIXELS
    privobfnet_weights: Path | None = None
    model_threshold: float = DEFAULT_MODEL_THRESHOLD
    recursive: bool = True
    include_hidden: bool = False

    def check(self) -> None:
        if not self.hide:
            raise UsageError("nothing to hide", hint="pass --hide with attribute names, see `privscan attributes`")
        if self.style not in STYLES:
            raise UsageError(f"unknown --style {self.style!r}", hint=f"choose from {', '.join(STYLES)}")
        if not 0 <= self.margin <= 2:
            raise UsageError(f"--margin must be between 0 and 2 (a fraction of each region's size), got {self.margin}")
