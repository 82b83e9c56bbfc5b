"""names.py: labelled names in several languages (same line or the line below), greetings, parsed runs."""

from __future__ import annotations

import pytest
from support.pii import pairs

from privscan.detectors.pii import names


@pytest.mark.parametrize(("text", "expected"), [
    ("Johanna Whitfield", [("name_full", "Johanna Whitfield")]),
    ("Surname: Whitfield", [("name_last", "Whitfield")]),
    ("Nachname: SCHREIBER", [("name_last", "SCHREIBER")]),
    ("Prénoms: JULIEN", [("name_first", "JULIEN")]),
    ("Apellidos: ORTEGA", [("name_last", "ORTEGA")]),
    ("Cognome: ROMANO", [("name_last", "ROMANO")]),
    ("Surname / Nom / Apellidos\nCITIZEN", [("name_last", "CITIZEN")]),  # value under its label
    ("Dear Johanna, thanks", [("name_first", "Johanna")]),
    ("Account holder: Priya Raghunathan", [("name_full", "Priya Raghunathan")]),
    ("NOWHERE BANK", []),
    ("Grand Central Station", []),
    ("Summer Sale", []),
    # identity documents' titles (OCR of real-format cards read these as names before)
    ("KONINKRIJK DER NEDERLANDEN IDENTITEITSKAART", []),
    ("REPUBBLICA ITALIANA CARTA D'IDENTITÀ", []),
    ("REPÚBLICA FEDERATIVA DO BRASIL CARTEIRA DE IDENTIDADE", []),
    ("Ana Van Der Berg", [("name_full", "Ana Van Der Berg")]),  # the particles stay name words
])  # fmt: skip
def test_names(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(names.names, text) == expected
