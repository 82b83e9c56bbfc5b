"""cards.py: payment cards (Luhn + issuer), IBANs (mod 97) and expiry dates, one table row per case."""

from __future__ import annotations

import pytest
from support.pii import pairs, run

from privscan.detectors.pii import cards


@pytest.mark.parametrize(("text", "expected"), [
    ("4111 1111 1111 1111", [("credit_card", "4111111111111111")]),
    ("Card: 5425-2334-3010-9903", [("credit_card", "5425233430109903")]),
    ("AMEX 3714 496353 98431", [("credit_card", "371449635398431")]),
    ("Order 1234567890123", []),  # no issuer, no card shape, fails Luhn
    ("phone 4155557061", []),
])  # fmt: skip
def test_cards(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(cards.cards, text) == expected


def test_card_shape_that_fails_luhn_is_kept_with_a_low_score() -> None:
    (m,) = run(cards.cards, "4111 1111 1111 1112")
    assert m.score <= 0.5 and m.detail == {"issuer": "visa", "luhn": False}


@pytest.mark.parametrize(("text", "expected"), [
    ("IBAN: DE89 3704 0044 0532 0130 00", [("iban", "DE89370400440532013000")]),
    ("FR14 2004 1010 0505 0001 3M02 606", [("iban", "FR1420041010050500013M02606")]),
    ("GB29 NWBK 6016 1331 9268 19 is mine", [("iban", "GB29NWBK60161331926819")]),
    ("NL91ABNA0417164300", [("iban", "NL91ABNA0417164300")]),
    ("IBAN: DE88 3704 0044 0532 0130 00", []),  # wrong check digits
])  # fmt: skip
def test_ibans(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(cards.ibans, text) == expected


def test_labelled_iban_with_a_lost_group_is_kept_with_a_low_score() -> None:
    (m,) = run(cards.ibans, "IBAN: NL42 ABNA 5535 4072")  # OCR lost the last group "36"
    assert m.score == 0.5 and m.detail == {"checksum": False}
    assert run(cards.ibans, "ref NL42 ABNA 5535 4072") == []  # no label: not an IBAN


@pytest.mark.parametrize(("text", "expected"), [
    ("VALID THRU 09/29", [("card_expiry", "09/29")]),
    ("Expires 12 / 2027", [("card_expiry", "12 / 2027")]),
    ("ratio 09/29", []),  # no expiry label
])  # fmt: skip
def test_expiry(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(cards.expiry, text) == expected
