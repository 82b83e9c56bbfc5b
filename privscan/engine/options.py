"""Options of an audit run, and which of them change results (those enter the cache key)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from privscan import vocab
from privscan.detectors.registry import default_names
from privscan.io.decode import DEFAULT_MAX_PIXELS


@dataclass(frozen=True)
class AuditOptions:
    device: str = "auto"
    #: detectors asked for (those they require are added); default: every detector whose SPEC says default
    detectors: tuple[str, ...] = field(default_factory=default_names)
    ocr_engine: str = "auto"  # "auto" = the registry's measured default
    profile_user: int | None = None
    profile_path: Path | None = None
    pooling: str = "max"
    max_pixels: int = DEFAULT_MAX_PIXELS
    batch_size: int | None = None  # None: 16 on CUDA, 1 on CPU (bigger CPU batches cost more per image)
    workers: int = 2  # decoding threads
    lanes: int | None = None  # images analysed side by side; None: by the run's size (privscan.engine.lanes)
    show_values: bool = False
    recursive: bool = True
    include_hidden: bool = False
    follow_links: bool = False  # follow symbolic links that lead outside the given folders
    drag_weights: Path | None = None
    privobfnet_weights: Path | None = None
    use_cache: bool = True
    load_drag: bool = True  # redaction turns it off: an image-level verdict locates nothing
    thumbnail_side: int = 320
    private_threshold: float = 0.5  # verdict "private" from this p_private / evidence risk on
    extra: dict[str, str] = field(default_factory=dict)

    def model_batch(self, device_type: str) -> int:
        """Images per classifier batch on this device (measured: on CPU a batch of 16 is slower per image)."""
        return self.batch_size or (16 if device_type == "cuda" else 1)

    def profile(self) -> NDArray[Any]:
        return vocab.profile_vector(user=self.profile_user, path=self.profile_path)

    def result_fields(self) -> dict[str, object]:
        """Options that change an image's record (and so enter the audit cache key)."""
        return {
            "detectors": sorted(self.detectors),
            "ocr_engine": self.ocr_engine,
            "profile_sha": hashlib.sha256(self.profile().tobytes()).hexdigest()[:16],
            "pooling": self.pooling,
            "max_pixels": self.max_pixels,
            "show_values": self.show_values,
            "private_threshold": self.private_threshold,
            "thumbnail_side": self.thumbnail_side,
        }

    def for_header(self) -> dict[str, object]:
        """What the run header records (paths as strings, no secrets)."""
        return {
            "device": self.device,
            **self.result_fields(),
            "profile": str(self.profile_path)
            if self.profile_path
            else (f"user {self.profile_user}" if self.profile_user is not None else "mean of VISPR's 30 users"),
            "batch_size": self.batch_size,
            "workers": self.workers,
            "lanes": self.lanes,
            "drag_weights": str(self.drag_weights) if self.drag_weights else None,
            "privobfnet_weights": str(self.privobfnet_weights) if self.privobfnet_weights else None,
        }
