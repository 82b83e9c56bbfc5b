"""Licence plates from the text detector's OCR words: plate-format text on a plate-shaped, isolated line.

No licence-plate model with a licence compatible with Apache-2.0 installs from the registries, and OpenCV's
plate cascades alone place boxes poorly (on real-dev: 50% covered, 4% with IoU >= 0.5; over a second per
photo on a 2-core machine). The text detector already reads every photo, and a plate is text with a
recognisable shape, so this detector reuses `prior["text"].words` (no second OCR pass) and keeps a run of
1-3 adjacent words on one line when all of these hold:
- plate text: after dropping spaces, dashes, dots, colons and middle dots (OCR reads a plate's separators
  as any of them), 4-8 letters and digits with at least one of each and at most five letter/digit runs,
  nothing else (no '/', ',', currency, no '.' or ':' between digits; bare numbers are dates, prices and
  totals, bare letters words);
- isolated: no other text at least half its height on the same line within two character heights, or
  within 1.5 heights above or below it (the words of a document or a receipt have neighbours; a plate's
  few extra words - a state name, a dealer's frame - are much smaller than its characters);
- plate-shaped: the run's box is 1 to 9 times as wide as high (OCR boxes are padded; square-ish
  plates are read as one line too).
Texts that match a country's format (`FORMATS`: EU, UK, US, Brazil, ...) score 0.85, other plate-like
texts 0.6. The region is the plate, not only its characters: the OCR box (already padded around the
characters) grown by `GROW_X` and `GROW_Y` on each side. On real-dev's 24 plates (Brazil, EU, US, Open
Images photos) the words gave 22 regions covering >= 70% of the plate; the two misses are a vanity plate
without digits and a 13 x 3 px plate.

A plate is **partial** (a104) when the frame cuts its region (its characters reach the edge) or fewer
than 5 characters were read; otherwise complete (a103). Each plate also says the photo shows a vehicle
someone owns (a102, image-level: the plate's region is the vehicle's only located part). The plate text
is the finding's value, which reports mask (its last two characters stay).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from privscan.detectors import text as text_detector
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, OcrWord, Prior, Region
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.io.decode import DecodedImage

COMPLETE, PARTIAL, VEHICLE = "a103_license_plate_complete", "a104_license_plate_partial", "a102_vehicle_ownership"
GROW_X, GROW_Y = 0.05, 0.1  # of the OCR box's width / height, added on each side (OCR boxes are padded already)
MIN_ASPECT, MAX_ASPECT = 1.0, 9.0
MIN_TEXT_HEIGHT = 6.0  # px
#: neighbours of at least this fraction of the run's height make it body text, not a plate
NEIGHBOUR_HEIGHT = 0.5

_SEPARATORS = re.compile(r"[\s\-.:\u00b7\u2022]+")
_DECIMAL = re.compile(r"\d[.,:]\d")  # 2.44, 10:45: numbers and times, not plate separators
_FORBIDDEN = re.compile(r"[^A-Za-z0-9\s\-.:\u00b7\u2022]")

#: country layouts (characters only, separators dropped); the comment names where each is used
FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx))
    for name, rx in (
        ("br", r"^[A-Z]{3}\d{4}$"),  # Brazil (old)
        ("mercosur", r"^[A-Z]{3}\d[A-Z]\d{2}$"),  # Brazil, Argentina, ... (Mercosur)
        ("fr-it", r"^[A-Z]{2}\d{3}[A-Z]{2}$"),  # France (SIV), Italy
        ("es", r"^\d{4}[A-Z]{3}$"),  # Spain
        ("uk", r"^[A-Z]{2}\d{2}[A-Z]{3}$"),  # United Kingdom
        ("de-at", r"^[A-Z]{2,5}\d{1,4}[EH]?$"),  # Germany, Austria: district, letters, digits
        ("nl", r"^(\d{1,3}[A-Z]{2,3}\d{1,2}|[A-Z]{2,3}\d{2,3}[A-Z]{1,2}|\d{2}[A-Z]{2}\d{2}|[A-Z]{2}\d{2}[A-Z]{2})$"),
        ("pl", r"^[A-Z]{2,3}(\d{4,5}|\d{3}[A-Z]{1,2}|\d{2}[A-Z]{2,3}|\d[A-Z]\d{3})$"),  # Poland
        ("us", r"^(\d[A-Z]{3}\d{3}|[A-Z]{3}\d{3,4}|\d{3}[A-Z]{3}|[A-Z]{2}\d{4,5}|\d{2,3}[A-Z]\d{3,4})$"),
    )
)


@dataclass(frozen=True)
class PlateText:
    text: str  # characters only
    box: Box
    height: float
    country: str | None


def normalise(raw: str) -> str | None:
    """The plate characters of an OCR text, or None when it cannot be a plate (see the module docstring)."""
    if _FORBIDDEN.search(raw) or _DECIMAL.search(raw):
        return None
    chars = _SEPARATORS.sub("", raw).upper()
    if not 4 <= len(chars) <= 8 or not chars.isalnum() or not chars.isascii():
        return None
    letters, digits = sum(c.isalpha() for c in chars), sum(c.isdigit() for c in chars)
    runs = len(re.findall(r"[A-Z]+|\d+", chars))
    if runs > 5 or letters == 0 or digits == 0:
        return None  # bare numbers are dates, prices, totals; bare letters are words
    return chars


def country(chars: str) -> str | None:
    for name, rx in FORMATS:
        if rx.match(chars):
            return name
    return None


def _line_runs(words: list[OcrWord], max_words: int = 3) -> list[list[OcrWord]]:
    """Runs of 1..max_words words side by side: each next word overlaps the previous one vertically by half
    the smaller height and starts less than a character height after it (OCR may give the two halves of a
    plate different line numbers when one sits a little higher)."""
    ordered = sorted(words, key=lambda w: w.box.x0)
    runs = []
    for i, first in enumerate(ordered):
        run = [first]
        runs.append(list(run))
        for nxt in ordered[i + 1 :]:
            if len(run) >= max_words:
                break
            last = run[-1].box
            b = nxt.box
            overlap = min(last.y1, b.y1) - max(last.y0, b.y0)
            gap = b.x0 - last.x1
            if overlap >= 0.5 * min(last.height, b.height) and -0.2 * last.height <= gap <= last.height:
                run.append(nxt)
                runs.append(list(run))
    return runs


def _isolated(run: list[OcrWord], words: list[OcrWord]) -> bool:
    box = Box.union_all([w.box for w in run])
    h = box.height
    for w in words:
        if w in run or w.box.height < NEIGHBOUR_HEIGHT * h:
            continue
        b = w.box
        x_gap = max(b.x0 - box.x1, box.x0 - b.x1, 0.0)
        y_gap = max(b.y0 - box.y1, box.y0 - b.y1, 0.0)
        same_line = y_gap == 0.0 and x_gap < 2.0 * h
        stacked = x_gap < box.width and y_gap < 1.5 * h
        if same_line or stacked:
            return False
    return True


def plate_texts(words: list[OcrWord]) -> list[PlateText]:
    """Candidate plates among OCR words (longest runs first, no word used twice)."""
    found: list[PlateText] = []
    used: set[int] = set()
    for run in sorted(_line_runs(words), key=lambda r: -len(r)):
        if any(id(w) in used for w in run):
            continue
        raw = " ".join(w.text for w in run)
        chars = normalise(raw)
        if chars is None:
            continue
        box = Box.union_all([w.box for w in run])
        if box.height < MIN_TEXT_HEIGHT or not MIN_ASPECT <= box.width / max(box.height, 1e-6) <= MAX_ASPECT:
            continue
        if not _isolated(run, words):
            continue
        used.update(id(w) for w in run)
        found.append(PlateText(chars, box, box.height, country(chars)))
    return found


def plate_region(text_box: Box, width: int, height: int) -> tuple[Box, bool]:
    """The plate around its characters, and whether the frame cuts it."""
    gx, gy = GROW_X * text_box.width, GROW_Y * text_box.height
    plate = Box(text_box.x0 - gx, text_box.y0 - gy, text_box.x1 + gx, text_box.y1 + gy)
    clipped = plate.clip(width, height)
    return clipped, clipped != plate


class PlateDetector:
    """Plates from the text detector's words (see the module docstring). Stateless: thread-safe."""

    name = "plates"
    kind = "plate"
    version = f"plates-1+ocr-words+g{GROW_X}x{GROW_Y}"
    weight_names: tuple[str, ...] = ()

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        text = prior.get(text_detector.SPEC.name)
        findings: list[Finding] = []
        for cand in plate_texts(text.words if text is not None else []):
            region, cut = plate_region(cand.box, image.width, image.height)
            partial = cut or len(cand.text) < 5
            findings.append(
                Finding(
                    attribute=PARTIAL if partial else COMPLETE,
                    score=0.85 if cand.country else 0.6,
                    source="plate:ocr-words",
                    regions=[Region(box=region)],
                    kind="license_plate",
                    value=cand.text,
                    detail={"format": cand.country or "plate-like", "cut_by_frame": cut},
                )
            )
        if findings:
            best = max(f.score for f in findings)
            findings.append(Finding(attribute=VEHICLE, score=best, source="plate:ocr-words", kind="vehicle",
                                    detail={"reason": "a licence plate is visible"}))
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _build(context: BuildContext) -> PlateDetector:
    return PlateDetector()


SPEC = DetectorSpec(
    name=PlateDetector.name,
    kind=PlateDetector.kind,
    version=PlateDetector.version,
    build=_build,
    order=30,
    requires=(text_detector.SPEC.name,),
    locates=frozenset({COMPLETE, PARTIAL}),
    finds=frozenset({VEHICLE}),
)
