"""Regions from an earlier audit (`--from-report`): its records matched to files by content hash, so
neither OCR nor face detection runs again.

Person-segmentation regions are not stored pixel-exact in a report (only their box), so for those the
person-mask detector runs on that image alone, handed what it requires (the face boxes) rebuilt from the
record; a requirement the record holds no evidence of runs too. Its mask is used inside the stored box;
when it cannot run or finds nobody there, the whole box is filled (conservative: too much hidden rather
than too little). PrivObfNet masks are not stored in reports either: those attributes need a live run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from privscan.detectors import registry
from privscan.detectors.base import Box, Detector, DetectorResult, Finding, Region
from privscan.engine.redaction.options import RedactOptions
from privscan.engine.redaction.policy import PERSON_MASK, matching_ids, narrow_to_person, person_level
from privscan.engine.redaction.sources import ToHide, hidden_item, person_items
from privscan.errors import ImageError, PrivscanError, UsageError
from privscan.io.decode import DecodedImage
from privscan.report.schema import ImageRecord, RegionModel


def region_from_model(r: RegionModel) -> Region:
    polygon = tuple((float(p[0]), float(p[1])) for p in r.polygon) if r.polygon else None
    return Region(box=Box(*r.box), shape=r.shape, polygon=polygon, mask=r.mask)


def find_report(path: Path) -> Path:
    """report.json / records.jsonl, or an audit output folder holding one."""
    path = path.expanduser()
    if not path.exists():
        raise UsageError(f"no such report: {path}")
    if path.is_dir():
        for name in ("report.json", "records.jsonl"):
            if (path / name).is_file():
                return path / name
        raise UsageError(f"{path} holds no report.json or records.jsonl")
    return path


def result_from_record(detector: str, record: ImageRecord) -> DetectorResult | None:
    """A detector's result rebuilt from an audit record (its findings with their regions), or None when the
    record holds no evidence of what that detector locates (it may not have run)."""
    located = registry.specs()[detector].locates
    findings = [
        Finding(attribute=attr.id, score=ev.score, source=ev.source, kind=ev.kind,
                regions=[region_from_model(r) for r in ev.regions])
        for attr in record.attributes
        if attr.id in located
        for ev in attr.evidence
        if ev.regions
    ]
    return DetectorResult(detector=detector, findings=findings) if findings else None


class ReportSource:
    """Regions from an earlier audit's records."""

    privobfnet: str | None = None

    def __init__(self, options: RedactOptions) -> None:
        from privscan.report.jsonl import read_records, read_report_json

        assert options.from_report is not None
        path = find_report(options.from_report)
        self.path = path
        self.records = read_records(path) if path.suffix == ".jsonl" else read_report_json(path).images
        self.by_sha = {r.sha256: r for r in self.records if r.sha256 and not r.failed}
        self.hide = matching_ids(options.hide)
        self.person_attrs = person_level(options.hide)
        self.options = options
        self.detectors: tuple[str, ...] = ()
        self._built: dict[tuple[str, ...], list[Detector]] = {}
        self._person_error: str | None = None

    def inputs(self) -> list[str]:
        """The report's own image paths (when the user names no PATH)."""
        return [r.path for r in self.records if not r.failed]

    def find(self, image: DecodedImage, sha256: str) -> ToHide:
        record = self.by_sha.get(sha256)
        if record is None:
            raise ImageError(image.path, "not-in-report", f"not in {self.path} (or changed since that audit)")
        if (record.width, record.height) != (image.width, image.height):
            raise ImageError(image.path, "not-in-report", "its size differs from the report's record")
        found = ToHide()
        wants_person_mask = bool(self.person_attrs)
        for attr in record.attributes:
            if attr.id not in self.hide:
                continue
            for ev in attr.evidence:
                regions = narrow_to_person(attr.id, [region_from_model(r) for r in ev.regions])
                if not regions:
                    if ev.source == "privobfnet":
                        found.notes.append(
                            f"{attr.id}: PrivObfNet masks are not stored in reports; re-run without --from-report"
                        )
                    continue
                wants_person_mask |= any(r.shape == "mask" for r in regions)
                item = hidden_item(attr.id, ev.source, ev.score, kind=ev.kind, value_masked=ev.value_masked)
                found.items.append((item, regions))
        if wants_person_mask:
            person = self._person_mask(image, record)
            if person is not None:
                found.named[PERSON_MASK] = person
                found.items += person_items(person, self.person_attrs, "people:segmentation (recomputed)")
            elif self._person_error:
                found.notes.append(f"person mask not recomputed ({self._person_error}): filled the person boxes")
        return found

    def _person_mask(self, image: DecodedImage, record: ImageRecord) -> NDArray[Any] | None:
        """The person-mask detector's mask for this one image (loaded on first use)."""
        producers = registry.producing([PERSON_MASK])
        if not producers:
            return None
        spec = registry.specs()[producers[0]]
        prior = {name: result_from_record(name, record) for name in spec.requires}
        given = {name: result for name, result in prior.items() if result is not None}
        wanted = tuple(n for n in registry.resolve([spec.name]) if n == spec.name or n not in given)
        if wanted not in self._built and self._person_error is None:
            try:
                from privscan.device import resolve_device

                self._built[wanted] = registry.build_detectors(
                    wanted, device=resolve_device(self.options.device), with_requirements=False
                )
                self.detectors = tuple(n for n in registry.names() if n in {*self.detectors, *wanted})
            except (PrivscanError, ImportError) as e:
                self._person_error = str(e)
        if wanted not in self._built:
            return None
        try:
            results = registry.detect_all(self._built[wanted], image, prior=given)
        except Exception as e:  # fall back to the boxes: conservative
            self._person_error = f"{type(e).__name__}: {e}"
            return None
        return results[spec.name].masks.get(PERSON_MASK)
