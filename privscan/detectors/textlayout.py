"""What the document, receipt and screen detectors share: the text detector's OCR words as lines with
pixel boxes, and tables of cue phrases counted over them.

These detectors never run OCR themselves: they read the words the text detector already found
(`prior["text"].words`), so a photo is read once whatever the number of text-based detectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from privscan.detectors.base import Box, DetectorResult, OcrWord, Region
from privscan.detectors.pii.lines import Line, build_lines, span_region


@dataclass(frozen=True)
class Cue:
    """A phrase that is evidence for something, and what it says ("total", "vat", ...)."""

    name: str
    pattern: re.Pattern[str]


def cues(table: Iterable[tuple[str, str]]) -> tuple[Cue, ...]:
    """(name, regex) rows -> compiled, case-insensitive cues."""
    return tuple(Cue(name, re.compile(rx, re.I)) for name, rx in table)


def words_of(prior: Mapping[str, DetectorResult]) -> list[OcrWord]:
    """The OCR words the text detector found on this image (none when it did not run)."""
    text = prior.get("text")
    return list(text.words) if text is not None else []


def lines_of(words: list[OcrWord]) -> list[Line]:
    return build_lines(words)


def line_region(line: Line) -> Region | None:
    return span_region(line, 0, len(line.text))


def line_box(line: Line) -> Box:
    return Box.union_all([w.box for w in line.words])


def found_cues(lines: list[Line], table: tuple[Cue, ...]) -> dict[str, list[int]]:
    """cue name -> indices of the lines it occurs on."""
    out: dict[str, list[int]] = {}
    for ln in lines:
        for cue in table:
            if cue.pattern.search(ln.text):
                out.setdefault(cue.name, []).append(ln.index)
    return out


def regions_of(lines: list[Line], indices: Iterable[int]) -> list[Region]:
    return [r for i in sorted(set(indices)) if (r := line_region(lines[i])) is not None]
