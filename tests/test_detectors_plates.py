"""Licence plates from real OCR words: plates drawn onto scikit-image's real photos, read by RapidOCR.

The plates are rendered like real ones (dark characters on a light plate with a border, a DejaVu font from
Debian) and pasted into real photos; the text detector (real RapidOCR models) reads them and the plate
detector works on its words, as in an audit.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from vision_helpers import decoded, plate

from privscan import synth
from privscan.detectors import ocr, registry
from privscan.detectors.base import Box, OcrWord
from privscan.detectors.plates import COMPLETE, PARTIAL, VEHICLE, PlateDetector, country, normalise, plate_texts
from privscan.detectors.text import TextDetector


def paste(photo: np.ndarray, patch: np.ndarray, x: int, y: int) -> Box:
    h, w = patch.shape[:2]
    photo[y : y + h, x : x + w] = patch
    return Box(x, y, x + w, y + h)


@pytest.fixture(scope="module")
def text() -> TextDetector:
    return TextDetector(ocr.build_engine("rapidocr"))


def audit_plates(text: TextDetector, rgb: np.ndarray) -> list:
    image = decoded(rgb)
    return PlateDetector().detect(image, {"text": text.detect(image)}).findings


def test_plate_on_a_photo_is_found_where_it_is(text: TextDetector) -> None:
    photo = cv2.resize(data.coffee(), (1200, 800))
    truth = paste(photo, plate("AB-123-CD"), 420, 560)
    findings = audit_plates(text, photo)
    plates = [f for f in findings if f.attribute in (COMPLETE, PARTIAL)]
    assert [f.attribute for f in plates] == [COMPLETE]
    [found] = plates
    assert found.value == "AB123CD" and found.detail["format"] == "fr-it" and found.score == 0.85
    assert found.regions[0].box.iou(truth) > 0.6  # the plate, not only its characters
    assert VEHICLE in {f.attribute for f in findings}


def test_plate_cut_by_the_frame_is_partial(text: TextDetector) -> None:
    photo = cv2.resize(data.chelsea(), (900, 600))
    paste(photo, plate("KA 4521"), 900 - 270, 520)
    photo = photo[:, : 900 - 45]  # the frame cuts the last character
    plates = [f for f in audit_plates(text, photo) if f.attribute in (COMPLETE, PARTIAL)]
    assert [f.attribute for f in plates] == [PARTIAL]


@pytest.mark.parametrize("maker", [synth.letter, synth.id_card, synth.credit_card])
def test_documents_have_no_plates(text: TextDetector, maker: object) -> None:
    page = np.asarray(maker(seed=3).image.convert("RGB"))  # type: ignore[operator]
    assert [f for f in audit_plates(text, page) if f.attribute in (COMPLETE, PARTIAL)] == []


def test_plain_photos_have_no_plates(text: TextDetector) -> None:
    for name in ("astronaut", "rocket", "coffee"):
        assert audit_plates(text, getattr(data, name)()) == []


@pytest.mark.parametrize(
    ("raw", "chars", "where"),
    [
        ("NTD-9247", "NTD9247", "br"),
        ("ABC1D23", "ABC1D23", "mercosur"),
        ("1234 BCD", "1234BCD", "es"),
        ("AB12 CDE", "AB12CDE", "uk"),
        ("7ABC123", "7ABC123", "us"),
        ("HH·AB 123", "HHAB123", "de-at"),
    ],
)
def test_plate_formats(raw: str, chars: str, where: str) -> None:
    assert normalise(raw) == chars
    assert country(chars) == where


@pytest.mark.parametrize("raw", ["12/05/2024", "10:45", "$12.50", "TOTAL", "1234", "RM 32.70", "ABCDEFGHIJ1"])
def test_not_plates(raw: str) -> None:
    assert normalise(raw) is None


def test_body_text_is_not_a_plate() -> None:
    """A plate-like code among lines of text of the same size (a document number) is not a plate."""
    line = [OcrWord("Number", Box(100, 100, 180, 120), 0.9, line=0), OcrWord("AB123CD", Box(190, 100, 280, 120),
                                                                            0.9, line=0)]
    above = [OcrWord("Surname", Box(100, 70, 190, 90), 0.9, line=1)]
    assert plate_texts(line + above) == []
    alone = [OcrWord("AB123CD", Box(190, 100, 280, 120), 0.9, line=0)]
    assert [p.text for p in plate_texts(alone)] == ["AB123CD"]


def test_registry_runs_text_before_plates() -> None:
    assert registry.resolve(["plates"]) == ["text", "plates"]
    assert registry.specs()["plates"].locates == {COMPLETE, PARTIAL}
