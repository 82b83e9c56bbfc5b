"""`redact`: write redacted, metadata-free copies of photos; originals are only ever read.

Per file: read the bytes once, decode (EXIF orientation applied), find the regions of the attributes to
hide, paint them into one pixel mask (each region grown by a margin relative to its size), obscure the
masked pixels, encode a clean copy in the same format and quality, check its bytes carry no metadata, and
write it atomically beside the input (`redacted/`) or under `--out`. A bad input file becomes a one-line
error for that file and the run goes on. Each output folder gets a JSON sidecar per run listing what was
hidden in each file (values masked as in the audit report).

Where regions come from:
- the detectors, loading only those the hidden attributes need (`--hide face` loads no OCR);
- PrivObfNet, when its weights exist: its per-attribute masks, refined by the person/text masks as the
  paper does, for attributes the model finds present (probability >= `model_threshold`);
- or an earlier audit (`from_report`): the regions stored in its records, matched to files by content
  hash, so neither OCR nor face detection runs again. Person-segmentation regions are not stored
  pixel-exact in a report (only their box), so for those the people detector runs on that image alone and
  its mask is used inside the stored box; when it cannot run or finds nobody there, the whole box is
  filled (conservative: too much hidden rather than too little).

A file whose needed detector fails gets no copy: a "redacted" file that silently kept a face would be
worse than none.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from privscan import __version__, vocab
from privscan.detectors import registry
from privscan.detectors.base import Box, Detector, DetectorResult, Finding, Region
from privscan.detectors.spec import DetectorSpec
from privscan.errors import ImageError, PrivscanError, UsageError
from privscan.io.atomic import OutputExistsError, atomic_write_text
from privscan.io.clean_save import encode_clean, find_metadata, plan_output, write_clean
from privscan.io.decode import DEFAULT_MAX_PIXELS, DecodedImage, decode_bytes, read_bytes, sha256_bytes
from privscan.io.discover import discover
from privscan.masks.mask_types import MaskType, mask_type
from privscan.masks.obfuscate import DEFAULT_COLOR, DEFAULT_STYLE, STYLES, obscure
from privscan.masks.regions import (
    DEFAULT_MARGIN,
    MASK_THRESHOLD,
    ellipse_around,
    grow_components,
    mask_bbox,
    regions_mask,
)
from privscan.report.masking import mask_value
from privscan.report.schema import ImageRecord, RegionModel

REDACTED_DIRNAME = "redacted"
PERSON = "person"  # sidecar label of a person-segmentation item (VISPR has no "person" attribute)
SIDECAR_PREFIX = "privscan-redact-"
#: PrivObfNet masks are used for attributes the model scores at least this likely present
DEFAULT_MODEL_THRESHOLD = 0.5



def _spec(name: str) -> DetectorSpec:
    return registry.specs()[name]


def _faces() -> frozenset[str]:
    """Ids whose regions are face boxes (painted as the ellipse through their corners)."""
    return _spec("faces").locates


def _whole_frame() -> frozenset[str]:
    """Ids located only as the whole frame (nudity: open_nsfw does not localise): narrowed to the person mask."""
    return _spec("nudity").locates


def person_level(hide: Iterable[str]) -> list[str]:
    """Hidden attributes read off a whole person (what the people detector locates: its segmentation).

    No detector names these (VISPR's age, gender, race, clothing, relationships ...); what shows them is
    the person, so they hide the person segmentation.
    """
    located = _spec("people").locates
    return [a for a in hide if a in located]


# The address recogniser cannot tell a current address from a home address (VISPR's a74/a75 vs a78/a79):
# it reports home addresses, so hiding either kind hides every address it finds.
_SAME_PIXELS: dict[str, tuple[str, ...]] = {
    "a74_address_current_complete": ("a78_address_home_complete",),
    "a75_address_current_partial": ("a79_address_home_partial",),
    "a78_address_home_complete": ("a74_address_current_complete",),
    "a79_address_home_partial": ("a75_address_current_partial",),
}


def matching_ids(hide: Iterable[str]) -> set[str]:
    """The finding attributes that count as the hidden ones (the ids plus their same-pixel equivalents)."""
    out = set(hide)
    for attr in list(out):
        out.update(_SAME_PIXELS.get(attr, ()))
    return out


def detectors_for(hide: Iterable[str]) -> tuple[str, ...]:
    """The detectors whose findings or masks locate these attributes, in run order (their SPEC `locates`;
    metadata needs none: it is always dropped).

    Whole-frame findings (nudity) are narrowed to the person segmentation, so they need the detector that
    produces the "person" mask too. Attributes no detector locates (signatures, plates, receipts,
    landmarks, ...) only PrivObfNet can: none here.
    """
    needed: set[str] = set()
    for attr in hide:
        found = registry.locating(matching_ids([attr]))
        needed.update(found)
        if attr in _whole_frame() and found:
            needed.update(registry.producing(["person"]))
    return tuple(n for n in registry.names() if n in needed)


def guide_detectors(hide: Iterable[str]) -> tuple[str, ...]:
    """Detectors PrivObfNet's mask refinement needs for these attributes (person mask, text mask)."""
    kinds = {mask_type(a) for a in hide}
    masks = [m for m, k in (("text", MaskType.TEXT), ("person", MaskType.HUMAN)) if k in kinds]
    return registry.producing(masks)


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


@dataclass
class HiddenItem:
    """One thing hidden in one file, as the sidecar lists it (the value masked, never in clear)."""

    attribute: str
    source: str
    score: float
    kind: str | None = None
    value_masked: str | None = None
    regions: list[dict[str, object]] = field(default_factory=list)
    covers: list[str] = field(default_factory=list)  # for PERSON: the hidden attributes a person mask stands for

    def as_dict(self) -> dict[str, object]:
        attr = vocab.by_id().get(self.attribute)
        out: dict[str, object] = {
            "attribute": self.attribute,
            "name": attr.name if attr else "Person (segmentation)",
            "source": self.source,
            "score": round(float(self.score), 4),
            "kind": self.kind,
            "value_masked": self.value_masked,
            "regions": self.regions,
        }
        if self.covers:
            out["covers"] = self.covers
        return out


@dataclass
class FileResult:
    path: Path
    output: Path | None
    status: str  # redacted | clean-copy (nothing to hide found) | dry-run | error
    hidden: list[HiddenItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    input_sha256: str | None = None
    output_sha256: str | None = None
    width: int | None = None
    height: int | None = None
    masked_fraction: float = 0.0
    metadata_removed: list[str] = field(default_factory=list)
    written: dict[str, object] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def attributes(self) -> list[str]:
        return list(dict.fromkeys(h.attribute for h in self.hidden))

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "input": str(self.path),
            "output": str(self.output) if self.output else None,
            "status": self.status,
            "input_sha256": self.input_sha256,
            "output_sha256": self.output_sha256,
            "width": self.width,
            "height": self.height,
            "hidden": [h.as_dict() for h in self.hidden],
            "masked_fraction": round(self.masked_fraction, 6),
            "metadata_removed": self.metadata_removed,
            "written": self.written,
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
            "timings": self.timings,
        }
        if self.error:
            out["error"] = {"kind": self.error_kind, "message": self.error}
        return out


@dataclass
class RedactRun:
    options: RedactOptions
    results: list[FileResult] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    detectors: tuple[str, ...] = ()
    privobfnet: str | None = None  # model name when its masks were used
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(r.status == "error" for r in self.results)

    def header(self) -> dict[str, object]:
        o = self.options
        return {
            "privscan_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "hide": list(o.hide),
            "style": o.style,
            "color": list(o.color) if o.style == "fill" else None,
            "margin": o.margin,
            "regions_from": f"report {o.from_report}" if o.from_report else "detectors",
            "detectors": list(self.detectors),
            "privobfnet": self.privobfnet,
            "dry_run": o.dry_run,
            "warnings": self.warnings,
        }


# ---- where outputs go --------------------------------------------------------------------------------


@dataclass
class _Job:
    path: Path
    output: Path
    sidecar_dir: Path


def _plan_jobs(paths: Sequence[str | os.PathLike[str]], options: RedactOptions) -> tuple[list[_Job], list[FileResult]]:
    """Inputs -> output paths. Folders keep their layout under --out; nothing maps onto an input or twice."""
    out_root = options.out_dir.expanduser().resolve() if options.out_dir else None
    jobs: list[_Job] = []
    problems: list[FileResult] = []
    seen: set[Path] = set()
    targets: dict[Path, Path] = {}
    for raw in paths:
        root = Path(raw).expanduser()
        files = discover([root], recursive=options.recursive, include_hidden=options.include_hidden)
        walked = root.is_dir()
        for f in files:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if walked and _is_output(key, out_root):
                continue  # earlier copies are not inputs
            if out_root is None:
                output = f.parent / REDACTED_DIRNAME / f.name
                sidecar_dir = output.parent
            else:
                rel = f.relative_to(root) if walked else Path(f.name)
                output = out_root / rel
                sidecar_dir = out_root
            out_key = output.resolve()
            if out_key == key or (output.exists() and output.samefile(f)):
                problems.append(_error(f, output, "usage", "the output would replace the original; pick another --out"))
                continue
            if out_key in targets:
                problems.append(
                    _error(f, output, "usage", f"{output} is already the output of {targets[out_key]}; use --out")
                )
                continue
            targets[out_key] = f
            jobs.append(_Job(f, output, sidecar_dir))
    return jobs, problems


def _is_output(path: Path, out_root: Path | None) -> bool:
    if out_root is not None:
        return path.is_relative_to(out_root)
    return REDACTED_DIRNAME in path.parent.parts[-1:]


def _error(path: Path, output: Path | None, kind: str, message: str) -> FileResult:
    return FileResult(path=path, output=output, status="error", error=message, error_kind=kind)


# ---- regions ------------------------------------------------------------------------------------------


def _region_from_model(r: RegionModel) -> Region:
    polygon = tuple((float(p[0]), float(p[1])) for p in r.polygon) if r.polygon else None
    return Region(box=Box(*r.box), shape=r.shape, polygon=polygon, mask=r.mask)


@dataclass
class _Found:
    """What to hide in one image: regions per item, extra bool masks (PrivObfNet), named soft masks."""

    items: list[tuple[HiddenItem, list[Region]]] = field(default_factory=list)
    model_masks: list[tuple[HiddenItem, NDArray[Any]]] = field(default_factory=list)
    named: dict[str, NDArray[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _person_items(person: NDArray[Any] | None, attrs: list[str], source: str) -> list[tuple[HiddenItem, list[Region]]]:
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
        item = HiddenItem(attribute=PERSON, source=source, score=score, kind="person", covers=list(attrs))
        items.append((item, [Region(box=Box(x, y, x + w, y + h), shape="mask", mask="person")]))
    return items


def _narrow_to_person(attribute: str, regions: list[Region]) -> list[Region]:
    """Nudity findings cover the whole frame (open_nsfw does not localise): narrow them to the person mask.

    paint_region falls back to the box, i.e. the whole frame, when no person mask exists.
    """
    if attribute not in _whole_frame():
        return regions
    return [Region(box=r.box, shape="mask", mask="person") if r.shape == "box" else r for r in regions]


class _LiveFinder:
    """Regions from the detectors (and PrivObfNet masks), loaded once for the run."""

    def __init__(self, options: RedactOptions) -> None:
        from privscan.engine.options import AuditOptions
        from privscan.engine.pipeline import Pipeline

        hide = options.hide
        self.options = options
        self.detectors = detectors_for(hide)
        wanted = set(self.detectors)
        model_wanted = _privobfnet_available(options)
        if model_wanted:
            wanted.update(guide_detectors(hide))
        self.detectors = tuple(n for n in registry.names() if n in wanted)
        self.pipeline = Pipeline(
            AuditOptions(
                device=options.device,
                detectors=self.detectors,
                ocr_engine=options.ocr_engine,
                max_pixels=options.max_pixels,
                privobfnet_weights=options.privobfnet_weights,
                batch_size=1,
                load_drag=False,  # DRAG's image-level verdict locates nothing
            )
        )
        self.detectors = tuple(s.name for s in self.pipeline.specs)  # with those they require
        self.privobfnet = self.pipeline.privobfnet
        self.hide = matching_ids(hide)
        self.person_attrs = person_level(hide)

    def find(self, image: DecodedImage, record: ImageRecord | None = None) -> _Found:
        analysis = self.pipeline.analyze(image)
        if analysis.errors:
            kind, message = analysis.errors[0]
            raise ImageError(image.path, "detector", f"{kind} failed ({message}); no copy written")
        found = _Found()
        for result in analysis.results:
            found.named.update(result.masks)
        for finding in analysis.findings:
            if finding.attribute in self.hide and finding.regions:
                found.items.append((_item(finding), _narrow_to_person(finding.attribute, list(finding.regions))))
        found.items += _person_items(analysis.mask("person"), self.person_attrs, "people:segmentation")
        out = analysis.privobfnet_output
        if self.privobfnet is not None and out is not None:
            probs = np.asarray(out.attribute_probs)
            index = {a.id: a.index for a in vocab.attributes()}
            present = [a for a in self.options.hide if probs[index[a]] >= self.options.model_threshold]
            if present:
                masks = self.privobfnet.masks(
                    out,
                    (image.height, image.width),
                    present,
                    person_mask=analysis.mask("person"),
                    text_mask=analysis.mask("text"),
                )
                for attr, m in masks.items():
                    if m.any():
                        item = HiddenItem(attribute=attr, source="privobfnet", score=float(probs[index[attr]]))
                        found.model_masks.append((item, m))
        return found


def _privobfnet_available(options: RedactOptions) -> bool:
    if options.privobfnet_weights is not None:
        return True
    from privscan import weights

    return any(e.kind == "privobfnet" for e in weights.load_manifest().values())


def _item(finding: Finding) -> HiddenItem:
    masked = mask_value(finding.kind, finding.value) if finding.value else None
    return HiddenItem(
        attribute=finding.attribute,
        source=finding.source,
        score=float(min(max(finding.score, 0.0), 1.0)),
        kind=finding.kind,
        value_masked=masked,
    )


class _ReportFinder:
    """Regions from an earlier audit's records, matched to files by content hash."""

    def __init__(self, options: RedactOptions) -> None:
        from privscan.report.jsonl import read_records, read_report_json

        assert options.from_report is not None
        path = options.from_report.expanduser()
        if not path.exists():
            raise UsageError(f"no such report: {path}")
        if path.is_dir():  # an audit output folder
            for name in ("report.json", "records.jsonl"):
                if (path / name).is_file():
                    path = path / name
                    break
            else:
                raise UsageError(f"{path} holds no report.json or records.jsonl")
        records = read_records(path) if path.suffix == ".jsonl" else read_report_json(path).images
        self.path = path
        self.records = records
        self.by_sha = {r.sha256: r for r in records if r.sha256 and not r.failed}
        self.hide = matching_ids(options.hide)
        self.options = options
        self.detectors: tuple[str, ...] = ()
        self._built: dict[tuple[str, ...], list[Detector]] = {}
        self._people_error: str | None = None

    def inputs(self) -> list[str]:
        """The report's own image paths (when the user names no PATH)."""
        return [r.path for r in self.records if not r.failed]

    def record_for(self, sha256: str) -> ImageRecord | None:
        return self.by_sha.get(sha256)

    def find(self, image: DecodedImage, record: ImageRecord | None = None) -> _Found:
        if record is None:
            raise ImageError(image.path, "not-in-report", f"not in {self.path} (or changed since that audit)")
        if (record.width, record.height) != (image.width, image.height):
            raise ImageError(image.path, "not-in-report", "its size differs from the report's record")
        found = _Found()
        person_attrs = person_level(self.options.hide)
        wants_person_mask = bool(person_attrs)
        for attr in record.attributes:
            if attr.id not in self.hide:
                continue
            for ev in attr.evidence:
                regions = _narrow_to_person(attr.id, [_region_from_model(r) for r in ev.regions])
                if not regions:
                    if ev.source == "privobfnet":
                        found.notes.append(
                            f"{attr.id}: PrivObfNet masks are not stored in reports; re-run without --from-report"
                        )
                    continue
                wants_person_mask |= any(r.shape == "mask" for r in regions)
                item = HiddenItem(
                    attribute=attr.id, source=ev.source, score=ev.score, kind=ev.kind, value_masked=ev.value_masked
                )
                found.items.append((item, regions))
        if wants_person_mask:
            person = self._person_mask(image, record)
            if person is not None:
                found.named["person"] = person
                found.items += _person_items(person, person_attrs, "people:segmentation (recomputed)")
            elif self._people_error:
                found.notes.append(f"person mask not recomputed ({self._people_error}): filled the person boxes")
        return found

    def _person_mask(self, image: DecodedImage, record: ImageRecord) -> NDArray[Any] | None:
        """The people detector's mask for this one image (loaded on first use). What it requires (the face
        boxes) comes from the record when the record holds it, else those detectors run here too."""
        people = _spec("people")
        from_record = {name: _result_from_record(name, record) for name in people.requires}
        prior = {name: result for name, result in from_record.items() if result is not None}
        wanted = tuple(n for n in registry.resolve([people.name]) if n == people.name or n not in prior)
        if wanted not in self._built and self._people_error is None:
            try:
                from privscan.device import resolve_device

                self._built[wanted] = registry.build_detectors(
                    wanted, device=resolve_device(self.options.device), with_requirements=False
                )
                self.detectors = tuple(n for n in registry.names() if n in {*self.detectors, *wanted})
            except (PrivscanError, ImportError) as e:
                self._people_error = str(e)
        if wanted not in self._built:
            return None
        try:
            results = registry.detect_all(self._built[wanted], image, prior=prior)
        except Exception as e:  # fall back to the boxes: conservative
            self._people_error = f"{type(e).__name__}: {e}"
            return None
        return results[people.name].masks.get("person")


def _result_from_record(detector: str, record: ImageRecord) -> DetectorResult | None:
    """A detector's result rebuilt from an audit record (its findings with their regions), or None when the
    record holds no evidence from that detector (it may not have run)."""
    spec = _spec(detector)
    findings = [
        Finding(attribute=attr.id, score=ev.score, source=ev.source, kind=ev.kind,
                regions=[_region_from_model(r) for r in ev.regions])
        for attr in record.attributes
        if attr.id in spec.locates
        for ev in attr.evidence
        if ev.regions
    ]
    return DetectorResult(detector=detector, findings=findings) if findings else None


# ---- one file -----------------------------------------------------------------------------------------


def _redact_file(job: _Job, finder: _LiveFinder | _ReportFinder, options: RedactOptions) -> FileResult:
    start = time.perf_counter()
    result = FileResult(path=job.path, output=job.output, status="error")
    clock = _Stopwatch(result.timings)
    try:
        data = read_bytes(job.path)
        result.input_sha256 = sha256_bytes(data)
        image = decode_bytes(job.path, data, max_pixels=options.max_pixels)
        result.width, result.height = image.width, image.height
        settings = plan_output(data, image)
        clock.lap("decode")
        record = finder.record_for(result.input_sha256) if isinstance(finder, _ReportFinder) else None
        found = finder.find(image, record)
        clock.lap("detect")
        mask, hidden = _build_mask(image, found, options.margin)
        result.hidden = hidden
        result.notes = list(found.notes) + list(settings.notes)
        result.masked_fraction = float(mask.mean())
        result.metadata_removed = find_metadata(data)
        result.written = settings.describe()
        clock.lap("mask")
        if options.dry_run:
            result.status = "dry-run"
            return result
        pixels = obscure(image.rgb, mask, options.style, color=options.color)
        clock.lap("obscure")
        encoded = encode_clean(pixels, settings, opaque=mask)
        leftover = find_metadata(encoded)
        if leftover:  # never expected: the encoder is given no metadata; refuse rather than leak
            raise ImageError(job.path, "metadata", f"the clean copy still holds {', '.join(leftover)}; not written")
        clock.lap("encode")
        write_clean(job.output, encoded, overwrite=options.overwrite)
        clock.lap("write")
        result.output_sha256 = sha256_bytes(encoded)
        result.status = "redacted" if mask.any() else "clean-copy"
        return result
    except ImageError as e:
        result.error, result.error_kind = e.reason, e.kind
        return result
    except OutputExistsError:
        result.error, result.error_kind = f"{job.output} already exists (pass --overwrite to replace it)", "exists"
        return result
    except PrivscanError as e:
        result.error, result.error_kind = e.one_line(), e.kind
        return result
    except (OSError, ValueError, MemoryError) as e:  # an encoder or odd-image failure ends this file only
        result.error, result.error_kind = f"{type(e).__name__}: {e}", "internal"
        return result
    finally:
        result.seconds = time.perf_counter() - start


class _Stopwatch:
    """Seconds per stage into a dict (decode, detect, mask, obscure, encode, write)."""

    def __init__(self, into: dict[str, float]) -> None:
        self.into = into
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = round(now - self.last, 4)
        self.last = now


def _build_mask(image: DecodedImage, found: _Found, margin: float) -> tuple[NDArray[Any], list[HiddenItem]]:
    hw = (image.height, image.width)
    mask = np.zeros(hw, dtype=bool)
    hidden: list[HiddenItem] = []
    for item, regions in found.items:
        if item.attribute in _faces():  # face boxes become the ellipse through their corners
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


# ---- the run ------------------------------------------------------------------------------------------


def existing_outputs(jobs: Iterable[_Job]) -> list[Path]:
    return [j.output for j in jobs if j.output.exists()]


def redact(
    paths: Sequence[str | os.PathLike[str]],
    hide: Sequence[str],
    style: str = DEFAULT_STYLE,
    out_dir: Path | None = None,
    *,
    options: RedactOptions | None = None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[FileResult], None] | None = None,
) -> RedactRun:
    """Redact `paths` (files and folders) hiding the attribute ids `hide`; see the module docstring."""
    start = time.perf_counter()
    if options is None:
        options = RedactOptions(hide=tuple(hide), style=style, out_dir=out_dir)
    options.check()
    run = RedactRun(options=options)
    finder: _LiveFinder | _ReportFinder | None
    report_finder = _ReportFinder(options) if options.from_report else None
    missing: list[FileResult] = []
    if report_finder is not None and not paths:
        listed = report_finder.inputs()
        if not listed:
            raise UsageError(f"{report_finder.path} lists no readable images")
        paths = [p for p in listed if Path(p).exists()]
        missing = [
            _error(Path(p), None, "unreadable", "listed in the report but not found from here (name the files)")
            for p in listed
            if not Path(p).exists()
        ]
        if not paths:
            raise UsageError(
                f"none of the {len(listed)} images in {report_finder.path} is found from this folder",
                hint="run from the folder the audit ran in, or name the files",
            )
    if not paths:
        raise UsageError("no files or folders given")
    jobs, problems = _plan_jobs(paths, options)
    problems = missing + problems
    if not jobs and not problems:
        raise UsageError("no image files found in the given paths")
    if not options.overwrite and not options.dry_run:
        existing = existing_outputs(jobs)
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise UsageError(
                f"{existing[0]} already exists{more}; nothing was written", hint="pass --overwrite to replace"
            )
    finder = report_finder if report_finder is not None else (_live_finder(options, run) if jobs else None)
    if on_start is not None:
        on_start(len(jobs) + len(problems))
    sidecar_dirs: dict[Path, list[FileResult]] = {}
    for problem in problems:
        run.results.append(problem)
        if on_file is not None:
            on_file(problem)
    for job in jobs:
        assert finder is not None
        result = _redact_file(job, finder, options)
        run.results.append(result)
        sidecar_dirs.setdefault(job.sidecar_dir, []).append(result)
        if on_file is not None:
            on_file(result)
    run.detectors = finder.detectors if finder is not None else ()
    if not options.dry_run:
        run.sidecars = _write_sidecars(run, sidecar_dirs)
    run.seconds = time.perf_counter() - start
    return run


def _live_finder(options: RedactOptions, run: RedactRun) -> _LiveFinder:
    """Load the detectors (and PrivObfNet) once; warn about hidden attributes nothing can locate."""
    finder = _LiveFinder(options)
    run.privobfnet = finder.privobfnet.name if finder.privobfnet is not None else None
    undetectable = [a for a in options.hide if a not in _coverable(options.hide)]
    if undetectable and finder.privobfnet is None:
        names = ", ".join(undetectable[:6]) + (" ..." if len(undetectable) > 6 else "")
        run.warnings.append(
            f"no detector locates {names}; only PrivObfNet weights could (none installed): "
            "those are not hidden, metadata is still removed"
        )
    return finder


def _coverable(hide: Sequence[str]) -> set[str]:
    """Attributes some detector can locate (see detectors_for)."""
    return {a for a in hide if detectors_for([a])}


def run_json(run: RedactRun, results: Sequence[FileResult] | None = None) -> dict[str, object]:
    """The sidecar document: the run header plus one entry per file."""
    return {**run.header(), "files": [r.as_dict() for r in (run.results if results is None else results)]}


def _write_sidecars(run: RedactRun, groups: dict[Path, list[FileResult]]) -> list[Path]:
    """One JSON per output folder that received at least one file in this run."""
    import json

    written = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for folder, results in groups.items():
        if not any(r.output_sha256 for r in results):
            continue
        text = json.dumps(run_json(run, results), indent=2, ensure_ascii=False) + "\n"
        for n in range(1000):
            path = folder / f"{SIDECAR_PREFIX}{stamp}{f'-{n}' if n else ''}.json"
            try:
                atomic_write_text(path, text, exclusive=True)
            except OutputExistsError:
                continue
            written.append(path)
            break
    return written
