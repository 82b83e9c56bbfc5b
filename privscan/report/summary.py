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


def sort_by_risk(records: Iterable[ImageRecord]) -> list[ImageRecord]:
    """Highest risk first; records without a risk figure next; failed images last; ties by path."""

    def key(r: ImageRecord) -> tuple[int, float, str]:
        risk = risk_of(r)
        tier = 2 if r.failed else (1 if risk is None else 0)
        return (tier, -(risk or 0.0), r.path)

    return sorted(records, key=key)


def summarize(records: Iterable[ImageRecord]) -> Summary:
    records = list(records)
    labels = Counter(r.verdict.label if r.verdict is not None else "unknown" for r in records if not r.failed)
    levels = Counter(risk_level(r) for r in records)
    attrs: Counter[str] = Counter()
    for r in records:
        attrs.update({a.id for a in present_attributes(r)})
    return Summary(
        images=len(records),
        private=labels["private"],
        public=labels["public"],
        unknown=labels["unknown"],
        failed=sum(r.failed for r in records),
        with_errors=sum(bool(r.errors) for r in records),
        risk_levels={level: levels[level] for level in RISK_LEVELS if levels[level]},
        attributes={k: attrs[k] for k in sorted(attrs, key=lambda k: (-attrs[k], _ORDER.get(k, 999)))},
    )
