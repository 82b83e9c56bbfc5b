"""TextDetector: OCR words, the personal data in them, and a text mask.

OCR boxes are loose (the text detector pads each line by about a third of its height), so each PII
region is tightened to the ink inside it (Otsu threshold of the crop, the minority class as ink, the
main run of ink rows and columns, plus a small margin); a region is only ever shrunk, and left as it is
when the crop has no clear ink/background contrast or the text is slanted.

Findings name their OCR engine and recogniser in `source` ("ocr:rapidocr+pii:card"); `words` carries every
OCR word (pixels of the oriented image) for redaction and the HTML report; masks["text"] is 1 inside every
word quad, 0 elsewhere (H x W float32), the text prior that PrivObfNet's text-type attributes use; it is
left out when OCR found no word (a full-size zero mask per photo would cost memory for nothing).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from privscan.detectors import ocr, pii
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, OcrWord, Prior, Region
from privscan.detectors.ocr import DEFAULT_MAX_SIDE, OcrEngine
from privscan.detectors.orientation import read_upright
from privscan.detectors.pii import PiiRecogniser
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.io.decode import DecodedImage


def text_mask(words: list[OcrWord], height: int, width: int) -> NDArray[Any]:
    """H x W float32 mask, 1 inside each word's quad (or box)."""
    mask = np.zeros((height, width), dtype=np.uint8)
    polys = []
    for w in words:
        if w.polygon and len(w.polygon) >= 3:
            pts = w.polygon
        else:
            b = w.box
            pts = ((b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1))
        polys.append(np.round(np.asarray(pts, dtype=np.float64)).astype(np.int32))
    if polys:
        cv2.fillPoly(mask, polys, (1,))
    return mask.astype(np.float32)


def _main_span(profile: NDArray[Any], threshold: float, max_gap: int) -> tuple[int, int] | None:
    """[start, end) of the heaviest run of `profile > threshold`, joined with runs at most `max_gap` away."""
    on = profile > threshold
    if not on.any():
        return None
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.view(np.int8), [0]))))
    runs = list(zip(edges[::2], edges[1::2], strict=True))
    heaviest = max(runs, key=lambda r: float(profile[r[0] : r[1]].sum()))
    start, end = heaviest
    changed = True
    while changed:
        changed = False
        for s, e in runs:
            if e <= start and start - e <= max_gap and s < start:
                start, changed = s, True
            elif s >= end and s - end <= max_gap and e > end:
                end, changed = e, True
    return int(start), int(end)


def tighten(box: Box, rgb: NDArray[Any]) -> Box | None:
    """The ink box inside `box` (with a margin), or None when the crop shows no clear text/background split."""
    x0, y0 = max(int(box.x0), 0), max(int(box.y0), 0)
    x1, y1 = min(int(np.ceil(box.x1)), rgb.shape[1]), min(int(np.ceil(box.y1)), rgb.shape[0])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    _, binary = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary.astype(bool)
    if ink.mean() > 0.5:
        ink = ~ink
    if not ink.any() or ink.all() or abs(float(gray[ink].mean()) - float(gray[~ink].mean())) < 40:
        return None
    h = y1 - y0
    rows = _main_span(ink.mean(axis=1), 0.01, max(1, round(0.15 * h)))
    if rows is None or rows[1] - rows[0] < 0.3 * h:
        return None
    band = ink[rows[0] : rows[1]]
    text_h = rows[1] - rows[0]
    cols = _main_span(band.mean(axis=0), 0.0, max(2, round(1.2 * text_h)))
    if cols is None:
        return None
    margin = 0.1 * text_h
    tight = Box(x0 + cols[0] - margin, y0 + rows[0] - margin, x0 + cols[1] + margin, y0 + rows[1] + margin)
    return tight.intersection(box)


def tighten_regions(findings: list[Finding], rgb: NDArray[Any]) -> None:
    """Shrink each axis-aligned PII region to its ink (see the module docstring), in place."""
    for f in findings:
        new = []
        for r in f.regions:
            poly = r.polygon
            level = poly is None or (len(poly) == 4 and abs(poly[0][1] - poly[1][1]) < 0.1 * max(r.box.height, 1))
            tight = tighten(r.box, rgb) if level else None
            if tight is None or tight.area <= 0:
                new.append(r)
            else:
                corners = ((tight.x0, tight.y0), (tight.x1, tight.y0), (tight.x1, tight.y1), (tight.x0, tight.y1))
                new.append(Region(box=tight, shape=r.shape, polygon=tuple(
                    (round(x, 1), round(y, 1)) for x, y in corners) if poly is not None else None, mask=r.mask))
        f.regions = new


class TextDetector:
    """OCR + PII. Build once (loads the OCR models), call `detect` per image; thread-safe (the engine locks)."""

    name = "text"

    def __init__(self, engine: OcrEngine, *, max_side: int = DEFAULT_MAX_SIDE, pii: PiiRecogniser | None = None):
        self.engine = engine
        self.max_side = max_side
        self.pii = pii or PiiRecogniser()
        self.version = text_version(engine.version, max_side, self.pii.version)

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        words, turns = read_upright(self.engine, image.rgb, max_side=self.max_side)
        findings = self.pii.find(words, source_prefix=f"ocr:{self.engine.name}")
        tighten_regions(findings, image.rgb)
        result = DetectorResult(
            detector=self.name,
            findings=findings,
            words=words,
            masks={"text": text_mask(words, image.height, image.width)} if words else {},
        )
        if turns:
            for f in findings:
                f.detail["page_turned_deg"] = 90 * turns
        result.seconds = time.perf_counter() - start
        return result


def text_version(engine_version: str, max_side: int, pii_version: str) -> str:
    return f"text-3+{engine_version}+max{max_side}+{pii_version}"


def _build(context: BuildContext) -> TextDetector:
    engine = ocr.build_engine(context.ocr_engine, device=context.device, threads=context.threads)
    return TextDetector(engine, max_side=context.ocr_max_side or DEFAULT_MAX_SIDE)


def _for_context(context: BuildContext) -> DetectorSpec:
    """The OCR engine decides the weights, packages and version (the engine's package version included)."""
    engine = ocr.engine_class(context.ocr_engine)
    version = text_version(engine.version_for(), context.ocr_max_side or DEFAULT_MAX_SIDE, PiiRecogniser.version)
    return replace(
        SPEC,
        version=version,
        weights=engine.weight_names,
        packages=engine.packages,
        sides=(context.ocr_max_side or DEFAULT_MAX_SIDE,),
    )


SPEC = DetectorSpec(
    name=TextDetector.name,
    kind="ocr+pii",
    version="text-3",  # the full version names the OCR engine: see `resolved`
    build=_build,
    order=0,
    sides=(DEFAULT_MAX_SIDE,),  # the OCR's copy; `resolved` gives the run's --ocr-max-side
    weights=ocr.RapidOcrEngine.weight_names,  # the default engine's; `resolved` gives the chosen engine's
    packages=ocr.RapidOcrEngine.packages,
    locates=frozenset(pii.ATTRIBUTES.values()),
    masks=frozenset({"text"}),
    contextual=_for_context,
)
