"""Risk of a record, its level, the order reports list records in, and the run's counts.

One place decides these so the JSON summary, the HTML report and the terminal table agree. A record's risk
is its privacy score (VISPR's sensitivity-weighted attribute score); when the engine produced none, the
classifier's p_private; otherwise it has no risk figure ("n/a") rather than an invented one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from privscan.report.schema import AttributeResult, ImageRecord, Summary
from privscan.vocab import SAFE_ID, attributes

#: an attribute counts as present in an image from this fused score on
PRESENT_THRESHOLD = 0.5
HIGH_RISK = 0.6
MEDIUM_RISK = 0.3
#: levels in display order; "failed" is a record whose image could not be analysed
RISK_LEVELS: tuple[str, ...] = ("high", "medium", "low", "n/a", "failed")

_ORDER = {a.id: a.index for a in attributes()}


def risk_of(record: ImageRecord) -> float | None:
    if record.privacy_score is not None:
        return record.privacy_score
    if record.verdict is not None and record.verdict.p_private is not None:
        return record.verdict.p_private
    return None


def risk_level(record: ImageRecord) -> str:
    if record.failed:
        return "failed"
    risk = risk_of(record)
    if risk is None:
        return "n/a"
    if risk >= HIGH_RISK:
        return "high"
    if risk >= MEDIUM_RISK:
        return "medium"
    return "low"


def present_attributes(record: ImageRecord, threshold: float = PRESENT_THRESHOLD) -> list[AttributeResult]:
    """Attributes at or above the threshold, strongest first (a0_safe never counts as a finding)."""
    found = [a for a in record.attributes if a.id != SAFE_ID and a.score >= threshold]
    return sorted(found, key=lambda a: (-a.score, _ORDER.get(a.id, 999)))


def risk_key(record: ImageRecord) -> tuple[int, float, str]:
    """Sort key of the report order: highest risk first; no risk figure next; failed images last; ties by path."""
    risk = risk_of(record)
    tier = 2 if record.failed else (1 if risk is None else 0)
    return (tier, -(risk or 0.0), record.path)


def sort_by_risk(records: Iterable[ImageRecord]) -> list[ImageRecord]:
    """Records in report order (see `risk_key`)."""
    return sorted(records, key=risk_key)


class SummaryBuilder:
    """The run's counts, one record at a time: a library of any size is summarised in constant memory."""

    def __init__(self) -> None:
        self.images = self.failed = self.with_errors = 0
        self.labels: Counter[str] = Counter()
        self.levels: Counter[str] = Counter()
        self.attributes: Counter[str] = Counter()

    def add(self, record: ImageRecord) -> None:
        self.images += 1
        self.failed += record.failed
        self.with_errors += bool(record.errors)
        if not record.failed:
            self.labels[record.verdict.label if record.verdict is not None else "unknown"] += 1
        self.levels[risk_level(record)] += 1
        self.attributes.update({a.id for a in present_attributes(record)})

    def summary(self) -> Summary:
        attrs = self.attributes
        return Summary(
            images=self.images,
            private=self.labels["private"],
            public=self.labels["public"],
            unknown=self.labels["unknown"],
            failed=self.failed,
            with_errors=self.with_errors,
            risk_levels={level: self.levels[level] for level in RISK_LEVELS if self.levels[level]},
            attributes={k: attrs[k] for k in sorted(attrs, key=lambda k: (-attrs[k], _ORDER.get(k, 999)))},
        )


def summarize(records: Iterable[ImageRecord]) -> Summary:
    builder = SummaryBuilder()
    for record in records:
        builder.add(record)
    return builder.summary()
