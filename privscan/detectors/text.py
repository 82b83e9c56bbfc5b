"""TextDetector: OCR words, the personal data in them, and a text mask.

Findings name their OCR engine and recogniser in `source` ("ocr:rapidocr+pii:card"); `words` carries every
OCR word (pixels of the oriented image) for redaction and the HTML report; masks["text"] is 1 inside every
word quad, 0 elsewhere (H x W float32), the text prior that PrivObfNet's text-type attributes use.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from privscan.detectors.base import DetectorResult, OcrWord
from privscan.detectors.ocr import DEFAULT_MAX_SIDE, OcrEngine, read_words
from privscan.detectors.pii import PiiRecogniser
from privscan.io.decode import DecodedImage


def text_mask(words: list[OcrWord], height: int, width: int) -> np.ndarray:
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
        cv2.fillPoly(mask, polys, 1)
    return mask.astype(np.float32)


class TextDetector:
    """OCR + PII. Build once (loads the OCR models), call `detect` per image; thread-safe (the engine locks)."""

    name = "text"
    kind = "ocr+pii"

    def __init__(self, engine: OcrEngine, *, max_side: int = DEFAULT_MAX_SIDE, pii: PiiRecogniser | None = None):
        self.engine = engine
        self.max_side = max_side
        self.pii = pii or PiiRecogniser()
        self.version = f"text-1+{engine.version}+max{max_side}+{self.pii.version}"
        self.weight_names = engine.weight_names

    def detect(self, image: DecodedImage) -> DetectorResult:
        start = time.perf_counter()
        words = read_words(self.engine, image.rgb, max_side=self.max_side)
        findings = self.pii.find(words, source_prefix=f"ocr:{self.engine.name}")
        result = DetectorResult(
            detector=self.name,
            findings=findings,
            words=words,
            masks={"text": text_mask(words, image.height, image.width)},
        )
        result.seconds = time.perf_counter() - start
        return result
