"""Text detector: real OCR (RapidOCR's packaged PP-OCRv6 models, EasyOCR's offline English weights) on
generated documents with exact truth boxes, and the PII recognisers on their own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import synth

from privscan import weights
from privscan.detectors import ocr
from privscan.detectors.base import Box, OcrWord
from privscan.detectors.pii import PiiRecogniser
from privscan.detectors.text import TextDetector, text_mask
from privscan.errors import WeightsError
from privscan.io.decode import DecodedImage, load_image

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def decoded(img: Image.Image | np.ndarray, name: str = "synthetic.png") -> DecodedImage:
    rgb = np.asarray(img.convert("RGB") if isinstance(img, Image.Image) else img, dtype=np.uint8)
    return DecodedImage(Path(name), np.ascontiguousarray(rgb), "0" * 64, 0, "PNG", "RGB")


@pytest.fixture(scope="module")
def detector() -> TextDetector:
    return TextDetector(ocr.build_engine("rapidocr"))


@pytest.fixture(scope="module")
def pii() -> PiiRecogniser:
    return PiiRecogniser()


DOCUMENTS = {
    "id_card": lambda: synth.id_card(seed=7),
    "credit_card": lambda: synth.credit_card(seed=8),
    "letter": lambda: synth.letter(seed=9),
    "passport": lambda: synth.passport(seed=4),
    "account_page": lambda: synth.account_page(seed=5),
}


def assert_all_found(findings, items) -> None:
    for item in items:
        best = max(
            (r.box.iou(item.box) for f in findings for r in f.regions if f.attribute in item.attributes),
            default=0.0,
        )
        assert best >= 0.5, f"{item.kind} {item.text!r}: best IoU {best:.2f} among {[f.kind for f in findings]}"


@pytest.fixture(scope="module")
def documents(detector: TextDetector) -> dict[str, tuple[synth.SynthImage, object]]:
    """Each generated document and its detection, computed once for the module."""
    out = {}
    for name, make in DOCUMENTS.items():
        doc = make()
        out[name] = (doc, detector.detect(decoded(doc.image)))
    return out


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_pii_item_is_found_with_its_box(documents, name: str) -> None:
    doc, result = documents[name]
    assert result.words and result.seconds > 0
    assert_all_found(result.findings, doc.items)
    for f in result.findings:
        assert f.source.startswith("ocr:rapidocr+pii:")
        assert 0 < f.score <= 1 and f.value


def test_pii_kinds_cover_the_issue_list(documents) -> None:
    kinds = {f.kind for _, result in documents.values() for f in result.findings}
    expected = {"name_full", "name_first", "name_last", "birth_date", "date", "credit_card", "phone", "email",
                "address", "id_number", "passport", "iban", "username"}
    assert expected <= kinds


def test_example_files_match_truth_json(detector: TextDetector) -> None:
    truth = json.loads((EXAMPLES / "truth.json").read_text())
    for name, items in truth.items():
        result = detector.detect(load_image(EXAMPLES / name))
        objs = [synth.TruthItem(i["kind"], i["text"], Box(*i["box"])) for i in items]
        assert_all_found(result.findings, objs)


def test_big_photo_is_downscaled_and_boxes_map_back(detector: TextDetector) -> None:
    doc = synth.credit_card(seed=2)
    big = doc.image.resize((3000, 1900), Image.Resampling.BICUBIC)
    sx, sy = 3000 / doc.image.width, 1900 / doc.image.height
    result = detector.detect(decoded(big))
    card = [f for f in result.findings if f.kind == "credit_card"]
    assert card, [w.text for w in result.words]
    truth = doc.boxes("card")[0]
    assert card[0].regions[0].box.iou(Box(truth.x0 * sx, truth.y0 * sy, truth.x1 * sx, truth.y1 * sy)) >= 0.5
    assert max(w.box.x1 for w in result.words) > 1600  # mapped back beyond the OCR size
    assert result.masks["text"].shape == (1900, 3000)


def test_real_photo_without_text_has_no_pii(detector: TextDetector) -> None:
    from skimage import data

    result = detector.detect(decoded(data.coffee()))
    assert result.findings == []
    assert result.words == [] and result.masks == {}


def test_text_mask_fills_word_quads() -> None:
    words = [OcrWord("abc", Box(10, 10, 30, 20), 0.9, ((10, 10), (30, 10), (30, 20), (10, 20)), 0)]
    mask = text_mask(words, 40, 50)
    assert mask.dtype == np.float32 and mask.shape == (40, 50)
    assert mask[15, 20] == 1.0 and mask[35, 45] == 0.0


def test_rapidocr_word_pieces_are_rejoined() -> None:
    quad = lambda x0, x1: ((x0, 0.0), (x1, 0.0), (x1, 10.0), (x0, 10.0))  # noqa: E731
    pieces = [("N", 0.9, quad(0, 5)), ("O", 0.9, quad(5, 10)), ("birth", 0.8, quad(15, 40)), ("：", 0.9, quad(40, 42))]
    merged = ocr.merge_pieces(pieces, "NO birth：")
    assert [m[0] for m in merged] == ["NO", "birth:"]
    assert merged[1][2][1][0] == 42


# ---- PII on text ----------------------------------------------------------------------------------------


def kinds(pii: PiiRecogniser, text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in pii.find_in_text(text):
        out.setdefault(m.kind, []).append(m.value)
    return out


def test_dates_of_birth_are_told_from_other_dates(pii: PiiRecogniser) -> None:
    assert kinds(pii, "Date of birth: 19.02.1966") == {"birth_date": ["19.02.1966"]}
    assert kinds(pii, "DOB 1966-02-19") == {"birth_date": ["1966-02-19"]}
    assert kinds(pii, "Meeting on March 20, 2024") == {"date": ["March 20, 2024"]}
    assert "date" not in kinds(pii, "Version 31.02.2024")  # no such day


def test_cards_need_luhn_or_card_shape(pii: PiiRecogniser) -> None:
    assert kinds(pii, "4111 1111 1111 1111")["credit_card"] == ["4111111111111111"]
    bad = pii.find_in_text("4111 1111 1111 1112")  # one digit off: Luhn fails, still card-shaped
    assert bad and bad[0].score <= 0.5 and bad[0].detail["luhn"] is False
    assert "credit_card" not in kinds(pii, "Order 1234567890123")


def test_iban_phone_email_username_ids(pii: PiiRecogniser) -> None:
    assert kinds(pii, "IBAN: DE89 3704 0044 0532 0130 00")["iban"] == ["DE89370400440532013000"]
    assert "iban" not in kinds(pii, "IBAN: DE88 3704 0044 0532 0130 00")  # wrong check digits
    assert kinds(pii, "Phone: +1 (415) 555-7061")["phone"] == ["+14155557061"]
    assert kinds(pii, "Tel: 020 7946 0958")["phone"] == ["+442079460958"]  # labelled: other regions tried
    assert kinds(pii, "write to jane.doe@example.org today")["email"] == ["jane.doe@example.org"]
    found = kinds(pii, "follow @jane_doe and mail jane@example.org")
    assert found["username"] == ["@jane_doe"] and found["email"] == ["jane@example.org"]
    assert kinds(pii, "Passport No: X1234567")["passport"] == ["X1234567"]
    assert kinds(pii, "Driver's license number: D123-4567-8901")["drivers_license"] == ["D123-4567-8901"]
    assert kinds(pii, "SSN 123-45-6789")["id_number"] == ["123-45-6789"]


def test_names_use_parsers_and_labels(pii: PiiRecogniser) -> None:
    assert kinds(pii, "Johanna Whitfield") == {"name_full": ["Johanna Whitfield"]}
    assert kinds(pii, "Surname: Whitfield") == {"name_last": ["Whitfield"]}
    assert kinds(pii, "Dear Johanna, thanks") == {"name_first": ["Johanna"]}
    assert kinds(pii, "NOWHERE BANK") == {}
    assert kinds(pii, "Grand Central Station") == {}
    assert kinds(pii, "Summer Sale") == {} and kinds(pii, "Exit Only") == {}  # census names, but sign words


def test_addresses_use_usaddress(pii: PiiRecogniser) -> None:
    found = pii.find_in_text("88 Quarry Hill Road\nBurlington, VT 05401")
    assert [m.kind for m in found] == ["address"] and len(found[0].spans) == 2
    assert "address_partial" not in kinds(pii, "VALID THRU 09/29")  # usaddress: a place; no state, no ZIP
    assert kinds(pii, "Springfield, IL 62704") == {"address_partial": ["Springfield, IL 62704"]}


def test_passport_mrz_check_digit(pii: PiiRecogniser) -> None:
    doc = synth.passport(seed=1)
    mrz = next(i.text for i in doc.items if i.kind == "passport" and "<" in i.text)
    first = "P<NWH" + "X" * 39
    assert kinds(pii, f"{first}\n{mrz}").get("passport")
    broken = mrz[:9] + str((int(mrz[9]) + 1) % 10) + mrz[10:]
    assert "passport" not in kinds(pii, f"{first}\n{broken}")


# ---- EasyOCR (slow on CPU: one small crop) ---------------------------------------------------------------


def test_easyocr_reads_words_with_boxes() -> None:
    doc = synth.credit_card(seed=2)
    card = doc.boxes("card")[0]
    crop = doc.image.crop((int(card.x0) - 20, int(card.y0) - 20, int(card.x1) + 20, int(card.y1) + 20))
    engine = ocr.build_engine("easyocr")
    words = ocr.read_words(engine, np.asarray(crop))
    digits = "".join(w.text for w in words if w.text.isdigit())
    assert digits == "4539148803436467"[: len(digits)] and len(digits) >= 12
    assert all(w.line == 0 for w in words) and all(w.box.width > 0 for w in words)


def test_easyocr_refuses_weights_whose_sha256_differs(tmp_path, monkeypatch) -> None:
    item = weights.entry("easyocr_craft")
    item.sha256 = "0" * 64  # a user manifest that disagrees with the file: the pickle must not be opened
    weights.register(item, tmp_path)
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(WeightsError, match="sha256"):
        ocr.build_engine("easyocr")


def test_detector_input_table_equals_rapidocr_preprocessing(detector: TextDetector, skimage_photo) -> None:
    """The table-driven detector input (ocr.TableDetInput) is installed in the engine and gives exactly the
    float32 tensor RapidOCR's own preprocessing computes, on a real photo and on every byte value."""
    det = detector.engine._engine.text_det  # type: ignore[attr-defined]
    fast = det.get_preprocess()
    assert isinstance(fast, ocr.TableDetInput)
    own = fast._pre  # RapidOCR's DetPreProcess, whose __call__ the table replaces
    tile = np.arange(256, dtype=np.uint8).reshape(16, 16)  # 64 x 64 (RapidOCR sizes to multiples of 32)
    every_byte = np.repeat(np.kron(tile, np.ones((4, 4), np.uint8))[:, :, None], 3, axis=2)
    for bgr in (np.ascontiguousarray(skimage_photo("astronaut")[:, :, ::-1]), every_byte):
        expected, got = own(bgr), fast(bgr)
        assert got.dtype == np.float32 and got.shape == expected.shape
        assert np.array_equal(got, expected)
