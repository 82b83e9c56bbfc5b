"""Run one PII recogniser (or the whole list) on plain text, for the table-driven recogniser tests."""

from __future__ import annotations

from privscan.detectors.pii.lines import Match, text_lines
from privscan.detectors.pii.recogniser import RecogniserFn
from privscan.detectors.pii.settings import PiiSettings


def run(find: RecogniserFn, text: str, *, phone_region: str = "US") -> list[Match]:
    lines = text_lines(text)
    found: list[Match] = []
    find(lines, found, PiiSettings(phone_region=phone_region))
    return found


def pairs(find: RecogniserFn, text: str, **kw: str) -> list[tuple[str, str]]:
    """(kind, value) of each match, in the order found."""
    return [(m.kind, m.value) for m in run(find, text, **kw)]
