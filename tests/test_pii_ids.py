"""ids.py and mrz.py: ICAO 9303 zones with their check digits, labelled IDs in several languages,
national numbers with their own checksums."""

from __future__ import annotations

import pytest
from support.pii import pairs, run

from privscan.detectors.pii import ids
from privscan.detectors.pii import mrz as icao

# ICAO 9303 part 4/5 specimen zones (Utopia), as printed in the standard
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
TD2 = ("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")


@pytest.mark.parametrize(("lines", "fmt", "fields"), [
    (TD3, "TD3", {"document_number": "L898902C3", "birth_date": "740812", "nationality": "UTO",
                  "surname": "ERIKSSON", "given_names": "ANNA MARIA", "expiry_date": "120415"}),
    (TD1, "TD1", {"document_number": "D23145890", "birth_date": "740812", "nationality": "UTO",
                  "name": "ANNA MARIA ERIKSSON"}),
    (TD2, "TD2", {"document_number": "D23145890", "birth_date": "740812", "sex": "F"}),
])  # fmt: skip
def test_mrz_formats_parse_with_every_check_digit(lines, fmt: str, fields: dict[str, str]) -> None:
    zone = icao.parse(list(lines))
    assert zone is not None and zone.format == fmt
    assert all(zone.checks) and zone.score == 0.99
    assert {k: zone.fields[k].value for k in fields} == fields


def test_mrz_check_digit_and_ocr_confusions() -> None:
    assert icao.check_digit("L898902C3") == 6 and icao.check_digit("740812") == 2
    assert icao.check_digit("ab") is None
    # OCR reads a filler as '«' and an O for a 0 in the birth date: the zone still checks out
    noisy = ("P<UTOERIKSSON«<ANNA<MARIA", "L898902C36UTO74O8122F1204159ZE184226B<<<<<10")
    zone = icao.parse([icao.compact(x)[0] for x in noisy])
    assert zone is not None and zone.fields["birth_date"].valid


@pytest.mark.parametrize(("text", "expected"), [
    ("\n".join(TD3), [("passport", "L898902C3"), ("name_full", "ANNA MARIA ERIKSSON"),
                      ("birth_date", "740812"), ("nationality", "UTO")]),
    ("\n".join(TD1), [("id_number", "D23145890"), ("name_full", "ANNA MARIA ERIKSSON"),
                      ("birth_date", "740812"), ("nationality", "UTO")]),
    ("\n".join((TD3[0], TD3[1][:9] + "7" + TD3[1][10:])), [("name_full", "ANNA MARIA ERIKSSON"),
                                                          ("birth_date", "740812"), ("nationality", "UTO")]),
    ("THIS IS NOT<A ZONE AT ALL<<<<<\nNOR<THIS<ONE<EITHER<<<<<<<<<<", []),
])  # fmt: skip
def test_mrz_recogniser(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(ids.mrz, text) == expected


def test_mrz_number_match_covers_the_whole_zone() -> None:
    number = run(ids.mrz, "\n".join(TD1))[0]
    assert [s[0] for s in number.spans] == [0, 1, 2] and number.detail["format"] == "TD1"


@pytest.mark.parametrize(("text", "expected"), [
    ("Passport No: X1234567", [("passport", "X1234567")]),
    ("Reisepass-Nr. C01X00T47", [("passport", "C01X00T47")]),
    ("Driver's license number: D123-4567-8901", [("drivers_license", "D123-4567-8901")]),
    ("Führerschein Nr: B072RRE2I55", [("drivers_license", "B072RRE2I55")]),
    ("Ausweisnummer: T22000129", [("id_number", "T22000129")]),
    ("N° du document: 880692310285", [("id_number", "880692310285")]),
    ("CPF: 390.533.447-05", [("id_number", "390.533.447-05")]),
    ("password: hunter22x", []),
])  # fmt: skip
def test_labelled_ids(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(ids.labelled_ids, text) == expected


@pytest.mark.parametrize(("text", "scheme"), [
    ("SSN 123-45-6789", "us_ssn"),
    ("NHS 943 476 5919", "gb_nhs"),
    ("NI AB 12 34 56 C", "gb_nino"),
    ("DNI 12345678Z", "es_dni"),
    ("NIE X1234567L", "es_nie"),
    ("CF RSSMRA85T10A562S", "it_codicefiscale"),
    ("Aadhaar 2345 6789 0124", "in_aadhaar"),
    ("PAN ABCPE1234F", "in_pan"),
    ("CPF 390.533.447-05", "br_cpf"),
    ("CNPJ 11.222.333/0001-81", "br_cnpj"),
])  # fmt: skip
def test_national_ids(text: str, scheme: str) -> None:
    (m,) = run(ids.national_ids, text)
    assert m.kind == "id_number" and m.recogniser == f"stdnum:{scheme}"


@pytest.mark.parametrize("text", ["DNI 12345678A", "Aadhaar 2345 6789 0125", "CPF 390.533.447-06", "123-45-678"])
def test_national_ids_with_a_wrong_checksum_are_not_ids(text: str) -> None:
    assert run(ids.national_ids, text) == []


@pytest.mark.parametrize(("text", "expected"), [
    ("Passport No / N°: K90059916", [("passport", "K90059916")]),
])  # fmt: skip
def test_bilingual_id_labels(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(ids.labelled_ids, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Nationalité: FRA", [("nationality", "FRA")]),
    ("Staatsangehörigkeit: DEUTSCH", [("nationality", "DEUTSCH")]),
    ("Nationality/Nationalité\nBRITISH CITIZEN", [("nationality", "BRITISH")]),
    ("Nacionalidad:", []),
])  # fmt: skip
def test_nationalities(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(ids.nationalities, text) == expected
