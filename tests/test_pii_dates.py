"""dates.py: numeric and written dates in several languages; birth labels make a date a date of birth."""

from __future__ import annotations

import pytest
from support.pii import pairs

from privscan.detectors.pii import dates


@pytest.mark.parametrize(("text", "expected"), [
    ("Date of birth: 19.02.1966", [("birth_date", "19.02.1966")]),
    ("DOB 1966-02-19", [("birth_date", "1966-02-19")]),
    ("Geburtsdatum: 24. Juli 1995", [("birth_date", "24. Juli 1995")]),
    ("Date de naissance\n12 mars 1985", [("birth_date", "12 mars 1985")]),
    ("Fecha de nacimiento: 03/11/1979", [("birth_date", "03/11/1979")]),
    ("Data di nascita 7 settembre 1990", [("birth_date", "7 settembre 1990")]),
    ("Data de nascimento: 15/08/1972", [("birth_date", "15/08/1972")]),
    ("12 MAR/MARS 1985", [("date", "12 MAR/MARS 1985")]),
    ("Meeting on March 20, 2024", [("date", "March 20, 2024")]),
    ("Lyon, le 3 octobre 2023", [("date", "3 octobre 2023")]),
    ("Version 31.02.2024", []),  # no such day
    ("Total 12.50", []),
])  # fmt: skip
def test_dates(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(dates.dates, text) == expected
