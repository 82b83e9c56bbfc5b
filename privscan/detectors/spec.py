"""What a detector declares about itself, so that adding one is one module and no list elsewhere.

Each detector module exposes a module-level `SPEC = DetectorSpec(...)`; `privscan.detectors.registry`
finds them by walking this package. Everything the rest of privscan needs to know about a detector without
loading its models is here: its CLI name, run-header kind, version (enters the audit cache key, so a cached
re-run needs no model), the weights and packages it needs (status listings), the detectors whose results it
reads (`requires`, run first and passed in `prior`), and the VISPR ids it can report (`finds`) and place
regions for (`locates`: redaction's choice of detectors and `privscan attributes` come from it).

Detector modules import heavy libraries only inside `build` and `detect`, so finding the specs is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from privscan import vocab

if TYPE_CHECKING:
    from privscan.detectors.base import Detector


@dataclass(frozen=True)
class BuildContext:
    """What a builder may use: the device, the OCR settings of the run and the threads its native sessions
    may use (None: the library's own default, every core; the audit's analysis lanes give each lane its
    share, privscan.engine.lanes)."""

    device: str = "cpu"
    ocr_engine: str | None = "auto"
    ocr_max_side: int | None = None
    threads: int | None = None


@dataclass(frozen=True)
class DetectorSpec:
    name: str  # CLI / options name, e.g. "faces"
    kind: str  # run-header kind: "face", "ocr+pii", ...
    version: str  # == the built detector's `version`; enters the audit cache key
    build: Callable[[BuildContext], Detector]  # loads the models once; imports heavy libraries inside
    order: int  # run order among independent detectors (lower first)
    requires: tuple[str, ...] = ()  # detectors whose results `detect` reads from `prior`
    weights: tuple[str, ...] = ()  # weights-manifest names it loads
    packages: tuple[str, ...] = ()  # importable module names it needs
    locates: frozenset[str] = frozenset()  # VISPR ids it can place regions for
    finds: frozenset[str] = frozenset()  # VISPR ids it can report at all (locates is added to it)
    default: bool = True  # part of the default audit
    #: named pixel masks its results carry in DetectorResult.masks ("person", "text"): PrivObfNet's guides
    masks: frozenset[str] = frozenset()
    #: the downscaled copies (longest side, px) `detect` reads through `scale.downscaled` on every image: the
    #: audit's decoding threads make them ahead, off the analysis thread
    sides: tuple[int, ...] = ()
    #: for a detector whose version, weights or packages depend on the build context (the text detector's
    #: OCR engine): returns the spec as it is for that context, without loading anything
    contextual: Callable[[BuildContext], DetectorSpec] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = f"detector {self.name!r}"
        object.__setattr__(self, "locates", vocab.check_ids(self.locates, where=where))
        object.__setattr__(self, "finds", vocab.check_ids(self.finds, where=where) | self.locates)
        object.__setattr__(self, "masks", frozenset(self.masks))
        if self.name in self.requires:
            raise ValueError(f"{where} requires itself")

    def resolved(self, context: BuildContext) -> DetectorSpec:
        """This spec as it is for `context` (itself unless the version or weights depend on it)."""
        if self.contextual is None:
            return self
        return replace(self.contextual(context), contextual=None)
