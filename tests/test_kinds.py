"""The one kind table (privscan.kinds): every kind names a real VISPR id, the PII recognisers, the report's
masking and the generated documents' truth all read it, and `privscan attributes --sources` reports who
finds each attribute."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support import synth, synth_intl

from privscan import kinds, vocab
from privscan.detectors import pii
from privscan.kinds import Mask
from privscan.report.masking import mask_value


def test_every_kind_names_a_known_attribute_once() -> None:
    known = set(vocab.attribute_ids())
    for rule in kinds.rules():
        assert rule.attribute is None or rule.attribute in known, rule
    assert len(kinds.table()) == sum(1 + len(r.aliases) for r in kinds.rules())  # no name listed twice


def test_pii_kinds_come_from_the_table() -> None:
    assert set(pii.KINDS) <= set(kinds.table())
    assert {k: kinds.attribute_of(k) for k in pii.KINDS} == pii.ATTRIBUTES
    for m in pii.PiiRecogniser().find_in_text("Name: John Smith\nPhone: +44 20 7946 0958\nNationalité: FRA"):
        assert m.kind in pii.KINDS


@pytest.mark.parametrize(("kind", "mask"), [
    ("card", Mask.CARD), ("PII:Credit-Card", Mask.CARD), ("name", Mask.INITIALS), ("dob", Mask.DATE),
    ("gps", Mask.GPS), ("camera_model", Mask.PLAIN), ("passport_document", Mask.PLAIN),
])  # fmt: skip
def test_aliases_resolve_to_one_rule(kind: str, mask: Mask) -> None:
    rule = kinds.rule_for(kind)
    assert rule is not None and rule.mask is mask


def test_masking_follows_the_table() -> None:
    assert mask_value("visited_address", "12 rue des Lilas") == "** r** d** L****"
    assert mask_value("nationality", "FRA") == "FRA"  # a code shared by millions: shown
    assert mask_value("mrz", "P<UTOERIKSSON<<ANNA") == "*" * 14 + "NA"  # 16 letters, the last 2 kept
    assert mask_value("no_such_kind", "Secret 42") == "S***** **"
    with pytest.raises(KeyError):
        kinds.attribute_of("owner")  # the metadata detector decides an owner's attribute


def test_generated_truth_uses_the_table() -> None:
    docs = [synth.id_card(1), synth.passport(2), synth.account_page(3), synth_intl.chat(1, "DE"),
            synth_intl.receipt(1, "FR"), synth_intl.email_screen(1, "BR")]
    for doc in docs:
        for item in doc.items:
            assert item.attributes == (kinds.attribute_of(item.kind),)


def test_attributes_sources_reports_who_finds_what() -> None:
    out = subprocess.run([sys.executable, "-m", "privscan", "attributes", "--sources", "--json"],
                         capture_output=True, text=True, check=True)
    payload = json.loads(out.stdout)
    sources = payload["sources"]
    assert len(sources) == 67 and vocab.SAFE_ID not in sources
    names = {a: {s["name"] for s in rows} for a, rows in sources.items()}
    assert {"text", "documents"} <= names["a31_passport"] and "receipts" in names["a37_receipt"]
    assert "screens" in names["a97_online_conversation"] and "privobfnet" in names["a55_religion"]
    counted = sum(any(s["available"] and s["default"] and s["name"] != "privobfnet" for s in rows)
                  for rows in sources.values())
    assert payload["out_of_the_box"] == counted >= 40
