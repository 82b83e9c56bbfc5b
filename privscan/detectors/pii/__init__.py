"""Personal data in OCR text, as an ordered list of small recognisers (recogniser.py):
cards/IBAN (cards.py), IDs and machine-readable zones (ids.py, mrz.py), dates (dates.py), contact data
(contact.py), addresses (addresses.py) and names (names.py), each mapped to a VISPR id through the one
kind table (privscan.kinds).

Built on maintained libraries wherever one exists, with small patterns only to propose candidates:
phone numbers: `phonenumbers`; cards: `stdnum.luhn` plus issuer prefixes; IBAN: `stdnum.iban`; national
IDs with a checksum: `stdnum` validators; US street addresses: `usaddress`; person names: `probablepeople`
and the US Census name lists (package `names`). presidio-analyzer was measured and left out (README
"Detectors": 380 MB with spaCy, 1.8 s import, its e-mail recogniser reaches for the network, and it adds
nothing these validators lack).
"""

from __future__ import annotations

from privscan import kinds
from privscan.detectors.pii.lines import Line, Match, build_lines, span_region
from privscan.detectors.pii.names import census
from privscan.detectors.pii.recogniser import RECOGNISERS, PiiRecogniser, Recogniser, finding

#: the kinds the recognisers emit
KINDS = ("name_full", "name_first", "name_last", "birth_date", "nationality", "date", "credit_card", "card_expiry",
         "iban", "phone", "email", "address", "address_partial", "id_number", "passport", "drivers_license",
         "student_id", "username")
#: PII kind -> VISPR attribute, as privscan.kinds gives it (for callers that map Matches themselves)
ATTRIBUTES: dict[str, str] = {k: kinds.attribute_of(k) for k in KINDS}
_census = census  # the name used by privscan.detectors.metadata

__all__ = ["ATTRIBUTES", "KINDS", "RECOGNISERS", "Line", "Match", "PiiRecogniser", "Recogniser", "build_lines",
           "census",
           "finding", "span_region"]
