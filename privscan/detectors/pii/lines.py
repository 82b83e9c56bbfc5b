"""The text model every recogniser reads: OCR lines of words with character offsets, the matches found so
far (a recogniser skips characters an earlier one claimed), and the pixels of a character span.

A match inside a word (the date in "birth:19.02.1966") gets the matching part of the word's quad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from privscan.detectors.base import Box, OcrWord, Region


@dataclass
class Line:
    index: int
    text: str
    words: list[OcrWord]
    spans: list[tuple[int, int]]  # char range of each word in `text`


def build_lines(words: list[OcrWord]) -> list[Line]:
    """Group words by their line index and join each line with single spaces, remembering offsets."""
    grouped: dict[int, list[OcrWord]] = {}
    for w in words:
        grouped.setdefault(w.line, []).append(w)
    lines = []
    for i, idx in enumerate(sorted(grouped)):
        parts, spans, pos = [], [], 0
        for w in grouped[idx]:
            text = w.text.strip()
            spans.append((pos, pos + len(text)))
            parts.append(text)
            pos += len(text) + 1
        lines.append(Line(i, " ".join(parts), grouped[idx], spans))
    return lines


def text_lines(text: str) -> list[Line]:
    """Lines of plain text (metadata comments, captions) as Lines whose words have no pixels."""
    lines = []
    for i, raw in enumerate(text.splitlines()):
        tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", raw)]
        joined = " ".join(raw[s:e] for s, e in tokens)
        spans, pos = [], 0
        for s, e in tokens:
            spans.append((pos, pos + e - s))
            pos += e - s + 1
        dummy = [OcrWord(joined[s:e], Box(0, 0, 0, 0), 1.0, None, i) for s, e in spans]
        lines.append(Line(i, joined, dummy, spans))
    return lines


@dataclass
class Match:
    kind: str
    score: float
    value: str
    recogniser: str
    spans: list[tuple[int, int, int]]  # (line, start, end)
    detail: dict[str, object] = field(default_factory=dict)

    def overlaps(self, line: int, start: int, end: int) -> bool:
        return any(li == line and s < end and start < e for li, s, e in self.spans)


def free(found: list[Match], line: int, start: int, end: int) -> bool:
    """No earlier match claims any character of [start, end) on this line."""
    return not any(m.overlaps(line, start, end) for m in found)


def context(lines: list[Line], line: int, start: int) -> str:
    """The text just before a match: its line up to the match, and the previous line."""
    before = lines[line].text[:start]
    prev = lines[line - 1].text if line > 0 else ""
    return prev + "\n" + before


def _lerp(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def span_region(line: Line, start: int, end: int) -> Region | None:
    """The pixels of characters [start, end) of a line: the covered words' quads (cut by character share
    where the span starts or ends inside a word), as a box plus the covering quadrilateral."""
    quads: list[tuple[tuple[float, float], ...]] = []
    for word, (ws, we) in zip(line.words, line.spans, strict=True):
        if we <= start or ws >= end or we <= ws:
            continue
        poly = word.polygon if word.polygon and len(word.polygon) == 4 else None
        if poly is None:
            b = word.box
            poly = ((b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1))
        t0 = (max(start, ws) - ws) / (we - ws)
        t1 = (min(end, we) - ws) / (we - ws)
        tl, tr, br, bl = poly
        quads.append((_lerp(tl, tr, t0), _lerp(tl, tr, t1), _lerp(bl, br, t1), _lerp(bl, br, t0)))
    if not quads:
        return None
    xs = [p[0] for q in quads for p in q]
    ys = [p[1] for q in quads for p in q]
    box = Box(min(xs), min(ys), max(xs), max(ys))
    hull = (quads[0][0], quads[-1][1], quads[-1][2], quads[0][3])
    return Region(box=box, shape="polygon", polygon=tuple((round(x, 1), round(y, 1)) for x, y in hull))
