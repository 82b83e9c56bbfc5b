"""addresses.py: US addresses (usaddress) and the street / postcode shapes of other countries."""

from __future__ import annotations

import pytest
from support.pii import run

from privscan.detectors.pii import addresses


@pytest.mark.parametrize(("text", "kind", "lines"), [
    ("88 Quarry Hill Road\nBurlington, VT 05401", "address", 2),
    ("Springfield, IL 62704", "address_partial", 1),
    ("Lindenstraße 27\n10115 Berlin", "address", 2),
    ("14 rue des Lilas\n69003 Lyon", "address", 2),
    ("Calle de Alcalá 112\n28009 Madrid", "address", 2),
    ("Via Garibaldi 45\n10122 Torino", "address", 2),
    ("22 Kingsley Road\nLeeds LS6 2AB", "address", 2),
    ("14, MG Road, Indiranagar\nBengaluru 560038", "address", 2),
    ("Rua das Flores, 350\n01310-100 São Paulo", "address", 2),
    ("Keizersgracht 221\n1016 DV Amsterdam", "address", 2),
    ("NO.23 BATU 10, TAMAN SENTOSA,\nJALAN KAPAR, 42200 KLANG, SELANGOR.", "address", 2),
    ("London SW1A 2AA", "address_partial", 1),
])  # fmt: skip
def test_addresses(text: str, kind: str, lines: int) -> None:
    (m,) = run(addresses.addresses, text)
    assert m.kind == kind and len(m.spans) == lines


@pytest.mark.parametrize("text", [
    "VALID THRU 09/29",
    "TOTAL 12.50",
    "Invoice 123456",  # a 6-digit number is an Indian PIN only next to a street line
    "Thank you for shopping with us",
])  # fmt: skip
def test_not_addresses(text: str) -> None:
    assert run(addresses.addresses, text) == []


@pytest.mark.parametrize(("text", "value"), [
    ("Am Mühlbach 44a\n80331 München", "Am Mühlbach 44a, 80331 München"),
    ("22 Kingsley Road\nLeeds LS6 2AB", "22 Kingsley Road, Leeds LS6 2AB"),
    ("Rua das Flores, 350\n20040-002 Rio de Janeiro", "Rua das Flores, 350, 20040-002 Rio de Janeiro"),
])  # fmt: skip
def test_whole_place_line_is_kept(text: str, value: str) -> None:
    (m,) = run(addresses.addresses, text)
    assert m.value == value
