"""contact.py: e-mails, phone numbers of several countries (labelled national formats too), usernames."""

from __future__ import annotations

import pytest
from support.pii import pairs

from privscan.detectors.pii import contact


@pytest.mark.parametrize(("text", "expected"), [
    ("write to jane.doe@example.org today", [("email", "jane.doe@example.org")]),
    ("E-mail: j.muller+news@post.example.de.", [("email", "j.muller+news@post.example.de")]),
    ("no mail here @ all", []),
])  # fmt: skip
def test_emails(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(contact.emails, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Phone: +1 (415) 555-7061", [("phone", "+14155557061")]),
    ("Tel: 020 7946 0958", [("phone", "+442079460958")]),  # UK national, labelled
    ("Telefon: 030 901820", [("phone", "+4930901820")]),  # German national, labelled
    ("Téléphone : 06 12 34 56 78", [("phone", "+33612345678")]),
    ("Mobile: 081234 56789", [("phone", "+918123456789")]),  # Indian national
    ("Telefone: (11) 96123-4567", [("phone", "+5511961234567")]),  # Brazilian national
    ("+49 1512 3456789", [("phone", "+4915123456789")]),  # any country with its code
    ("+55 11 96123-4567", [("phone", "+5511961234567")]),
    ("Invoice 2024-0042", []),
])  # fmt: skip
def test_phones(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(contact.phones, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("follow @jane_doe now", [("username", "@jane_doe")]),
    ("Username: jwhit42", [("username", "jwhit42")]),
    ("Benutzername: lhoff_1", [("username", "lhoff_1")]),
    ("mail jane@example.org", []),
])  # fmt: skip
def test_usernames(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(contact.usernames, text) == expected
