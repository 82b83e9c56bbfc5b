"""The detectors that read the text detector's words: documents (MRZ, titles, labels), receipts / tickets /
mail, and screens (chats, e-mails). Real OCR (RapidOCR's packaged models) on generated images of several
countries; the OCR runs once per image and the three detectors reuse its words through `prior`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from support import synth, synth_intl

from privscan.detectors import registry
from privscan.detectors.base import Box, DetectorResult, Finding, OcrWord, Region
from privscan.detectors.documents import find_documents
from privscan.detectors.receipts import find_paper
from privscan.detectors.screens import find_screens
from privscan.detectors.textlayout import lines_of
from privscan.io.decode import DecodedImage

NAMES = ["text", "documents", "receipts", "screens"]


def decoded(img: Image.Image) -> DecodedImage:
    rgb = np.ascontiguousarray(np.asarray(img.convert("RGB"), dtype=np.uint8))
    return DecodedImage(Path("generated.png"), rgb, "0" * 64, 0, "PNG", "RGB")


@pytest.fixture(scope="module")
def detectors():
    return registry.build_detectors(NAMES, ocr_engine="rapidocr")


def run(detectors, doc: synth.SynthImage) -> dict[str, DetectorResult]:
    return registry.detect_all(detectors, decoded(doc.image))


def covered(regions, box: Box) -> float:
    return min(1.0, sum(r.box.intersection(box).area for r in regions) / max(box.area, 1.0))


def test_specs_require_text_and_declare_what_they_locate() -> None:
    specs = registry.specs()
    for name in ("documents", "receipts", "screens"):
        assert specs[name].requires == ("text",) and specs[name].locates
    assert registry.locating(["a37_receipt"]) == ("receipts",)
    assert registry.locating(["a97_online_conversation"]) == ("screens",)
    assert "documents" in registry.locating(["a31_passport"])


@pytest.mark.parametrize(("country", "make", "attribute"), [
    ("DE", synth_intl.id_card, "a29_ausweis"),
    ("IT", synth_intl.id_card, "a29_ausweis"),
    ("IN", synth_intl.id_card, "a29_ausweis"),  # no MRZ: title and labels
    ("FR", synth_intl.passport, "a31_passport"),
])  # fmt: skip
def test_documents_are_flagged_and_their_zone_located(detectors, country, make, attribute) -> None:
    doc = make(31, country)
    results = run(detectors, doc)
    found = [f for f in results["documents"].findings if f.attribute == attribute]
    assert found, [(f.attribute, f.detail) for f in results["documents"].findings]
    regions = [r for f in found for r in f.regions]
    zone = [i for i in doc.items if "<" in i.text]
    for line in zone:  # every MRZ line lies under the document's regions: --hide document removes it
        assert covered(regions, line.box) >= 0.9, line.text
    if zone:
        assert found[0].detail["evidence"] == "mrz" and found[0].detail["checks"].split("/")[0] != "0"


def test_documents_read_rotated_words_no_differently() -> None:
    """The detector reads words, not pixels: a zone whose words arrive in reading order is found wherever
    it sits (here: made-up word boxes, one per MRZ line)."""
    td3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
    words = [OcrWord(t, Box(10, 10 + 30 * i, 600, 35 + 30 * i), 0.9, None, i) for i, t in enumerate(td3)]
    (f,) = find_documents(words)
    assert f.attribute == "a31_passport" and f.detail["checks"] == "5/5" and len(f.regions) == 2


def _words(lines: list[str]) -> list[OcrWord]:
    """Made-up OCR words, one per space-separated token, 12 px per character, 40 px per line."""
    words = []
    for i, line in enumerate(lines):
        x = 10
        for token in line.split():
            words.append(OcrWord(token, Box(x, 10 + 40 * i, x + 12 * len(token), 40 + 40 * i), 0.9, None, i))
            x += 12 * (len(token) + 1)
    return words


def test_document_regions_are_the_values_not_the_title_or_labels() -> None:
    """What --hide document paints on a card without an MRZ: each labelled value (on its label's line, or
    on the next line under a label that ends its line), never the title or the labels themselves."""
    lines = ["REPÚBLICA FEDERATIVA DO BRASIL CARTEIRA DE IDENTIDADE", "Sobrenome: FONSECA", "Nome: BEATRIZ",
             "Data de nascimento: 04/09/1958", "Sexo: F Nacionalidade: BRA", "Surname / Nom", "DUPONT"]  # fmt: skip
    words = _words(lines)
    (doc,) = find_documents(words)
    assert doc.attribute == "a29_ausweis"
    for w in words:
        painted = covered(doc.regions, w.box)
        if w.text in ("FONSECA", "BEATRIZ", "04/09/1958", "F", "BRA", "DUPONT"):
            assert painted >= 0.9, w.text
        else:
            assert painted == 0.0, w.text


def test_email_regions_leave_out_field_labels_and_the_action_bar() -> None:
    lines = ["Inbox", "From: Rohan Deshpande", "To: team@example.com", "Subject: Our trip next month",
             "Hi all, the train leaves at nine.", "Mobile: +91 81234 56741", "Reply Forward Archive"]  # fmt: skip
    words = _words(lines)
    (mail,) = [f for f in find_screens(lines_of(words), 1000) if f.attribute == "a92_email_content"]
    for w in words:
        painted = covered(mail.regions, w.box)
        if w.line in (3, 4, 5) and not w.text.endswith(":"):
            assert painted >= 0.9, w.text
        elif w.line in (0, 6) or w.text in ("Subject:", "Mobile:"):
            assert painted == 0.0, w.text


def test_receipt_header_and_shop_address(detectors) -> None:
    doc = synth_intl.receipt(8, "GB")
    results = run(detectors, doc)
    paper = results["receipts"].findings
    kinds = {f.kind for f in paper}
    assert {"receipt", "merchant", "visited_address"} <= kinds, kinds
    address = [r for f in paper if f.kind == "visited_address" for r in f.regions]
    for item in doc.items:
        if item.kind == "visited_address":
            assert covered(address, item.box) >= 0.7, item.text


def test_ticket_and_mail_from_text_structure() -> None:
    def words(text: str) -> list[OcrWord]:
        out = []
        for i, line in enumerate(text.splitlines()):
            x = 0.0
            for token in line.split():
                out.append(OcrWord(token, Box(x, 20.0 * i, x + 10 * len(token), 20.0 * i + 15), 0.9, None, i))
                x += 10 * len(token) + 10
        return out

    ticket = lines_of(words("BOARDING PASS\nPassenger DOE/JANE\nFlight LH 404 Gate B22 Seat 14C\nBooking ref XK7Q2P"))
    assert [f.attribute for f in find_paper(ticket, [])] == ["a38_ticket"]
    letter = lines_of(words("14 rue des Lilas\n69003 Lyon\nDear Anna,\nsee you soon\nKind regards"))
    assert find_paper(letter, []) == []  # wording alone: the text detector found no postal address
    home = Finding("a78_address_home_complete", 0.9, "ocr+pii:address", [Region(Box(0, 0, 160, 35))],
                   kind="address", value="14 rue des Lilas, 69003 Lyon")
    (mail,) = find_paper(letter, [home])
    assert mail.attribute == "a35_mail" and mail.detail["cues"] == ["closing", "salutation"]


def test_chat_screenshot_is_a_conversation(detectors) -> None:
    doc = synth_intl.chat(4, "ES")
    results = run(detectors, doc)
    (conv,) = [f for f in results["screens"].findings if f.attribute == "a97_online_conversation"]
    assert conv.detail["two_sided"] and conv.detail["times"] >= 3
    messages = [i for i in doc.items if i.kind == "conversation"]
    assert all(covered(conv.regions, m.box) >= 0.7 for m in messages)
    assert not any(covered(conv.regions, w.box) > 0.5 for w in results["text"].words if w.text == "online")


def test_email_screenshot_is_email_content(detectors) -> None:
    doc = synth_intl.email_screen(6, "FR")
    results = run(detectors, doc)
    (mail,) = [f for f in results["screens"].findings if f.attribute == "a92_email_content"]
    assert {"from", "subject", "to"} <= set(mail.detail["headers"])
    body = [i for i in doc.items if i.kind == "email_content"]
    assert all(covered(mail.regions, b.box) >= 0.7 for b in body)


def test_pages_without_these_structures_give_nothing(detectors) -> None:
    for doc in (synth.credit_card(seed=3), synth_intl.bank_page(2, "NL")):
        results = run(detectors, doc)
        assert results["documents"].findings == [] and results["receipts"].findings == []
        assert results["screens"].findings == []
    assert find_screens([], 100) == [] and find_documents([]) == []


@pytest.mark.parametrize("turns", [1, 2])
def test_turned_pages_are_read_upright_and_mapped_back(detectors, turns: int) -> None:
    """A passport photographed sideways or upside down: the text detector reads it the right way up (one
    more OCR pass per candidate turn, only for such pages), the zone is found, and its regions are in the
    pixels of the photo as given."""
    doc = synth_intl.passport(12, "NL", size=(1100, 720))
    upright = np.asarray(doc.image.convert("RGB"))
    turned = np.ascontiguousarray(np.rot90(upright, turns))
    results = registry.detect_all(detectors, decoded(Image.fromarray(turned)))
    (passport,) = [f for f in results["documents"].findings if f.attribute == "a31_passport"]
    assert passport.detail["evidence"] == "mrz"
    h, w = upright.shape[:2]
    line = [i for i in doc.items if "<" in i.text][-1].box
    corners = [(line.x0, line.y0), (line.x1, line.y1)]
    # where the MRZ line's corners went in the turned photo (np.rot90 turns counter-clockwise)
    moved = [(y, w - x) if turns == 1 else (w - x, h - y) for x, y in corners]
    expected = Box(min(p[0] for p in moved), min(p[1] for p in moved), max(p[0] for p in moved),
                   max(p[1] for p in moved))
    assert covered(passport.regions, expected) >= 0.8
    text = results["text"].findings
    assert text and all(f.detail.get("page_turned_deg") == 90 * (4 - turns) % 360 for f in text)
