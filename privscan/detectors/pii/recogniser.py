"""PiiRecogniser: the ordered list of small recognisers over OCR lines, and their matches as Findings.

Order matters: specific, checksummed kinds first (e-mail, IBAN, card, MRZ, IDs), then dates, phones,
usernames, addresses and names last; a later recogniser skips characters an earlier one claimed. Each
recogniser is a function (lines, found so far, settings) that appends Matches; adding one is a module
in this package plus a row here and its own table-driven test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from privscan import kinds
from privscan.detectors.base import Finding, OcrWord
from privscan.detectors.pii import addresses, cards, contact, dates, ids, names
from privscan.detectors.pii.lines import Line, Match, build_lines, span_region, text_lines
from privscan.detectors.pii.settings import PiiSettings

RecogniserFn = Callable[[list[Line], list[Match], PiiSettings], None]


@dataclass(frozen=True)
class Recogniser:
    name: str
    find: RecogniserFn


RECOGNISERS: tuple[Recogniser, ...] = (
    Recogniser("email", contact.emails),
    Recogniser("iban", cards.ibans),
    Recogniser("card", cards.cards),
    Recogniser("mrz", ids.mrz),
    Recogniser("labelled_id", ids.labelled_ids),
    Recogniser("national_id", ids.national_ids),
    Recogniser("nationality", ids.nationalities),
    Recogniser("date", dates.dates),
    Recogniser("card_expiry", cards.expiry),
    Recogniser("phone", contact.phones),
    Recogniser("username", contact.usernames),
    Recogniser("address", addresses.addresses),
    Recogniser("name", names.names),
)


class PiiRecogniser:
    """Finds personal data in OCR lines. Stateless after construction; safe to share between threads."""

    version = "pii-4"

    def __init__(self, *, phone_region: str = "US", recognisers: tuple[Recogniser, ...] = RECOGNISERS) -> None:
        self.settings = PiiSettings(phone_region=phone_region)
        self.recognisers = recognisers
        names.census()  # load the name lists now, not on the first image
        # the parsers import and load their CRF models lazily: do it at build time, not on the first photo
        self.find_in_text("Name: John Smith\n88 Quarry Hill Road\nPhone: +1 415 555 7061\nSSN 123-45-6789")

    @property
    def phone_region(self) -> str:
        return self.settings.phone_region

    def find(self, words: list[OcrWord], *, source_prefix: str = "ocr") -> list[Finding]:
        """Findings with pixel regions for the PII in these OCR words."""
        lines = build_lines(words)
        return [finding(m, lines, source_prefix) for m in self.matches(lines)]

    def find_in_text(self, text: str) -> list[Match]:
        """Matches in plain text (metadata comments, captions); spans index the text's own lines."""
        return self.matches(text_lines(text))

    def matches(self, lines: list[Line]) -> list[Match]:
        found: list[Match] = []
        for recogniser in self.recognisers:
            recogniser.find(lines, found, self.settings)
        return found


def finding(m: Match, lines: list[Line], source_prefix: str) -> Finding:
    """A Match as a Finding: its kind's attribute (privscan.kinds), pixel regions of its spans."""
    regions = [r for li, s, e in m.spans if (r := span_region(lines[li], s, e)) is not None]
    return Finding(
        attribute=kinds.attribute_of(m.kind),
        score=round(m.score, 3),
        source=f"{source_prefix}+pii:{m.recogniser}",
        regions=regions,
        kind=m.kind,
        value=m.value,
        detail=dict(m.detail),
    )
