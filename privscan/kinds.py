"""The one kind table: each fine-grained finding kind -> the VISPR attribute it reveals -> how reports mask it.

Detectors label a Finding with a `kind` ("credit_card", "birth_date", "gps_position", ...). This table is the
single place that says which attribute a kind stands for (the PII recognisers and the test truth read it)
and which masking rule the report applies to its value (report/masking.py reads it). Aliases are other
spellings of a kind (a generated document's truth says "card" and "name"; other tools say "dob" or
"e_mail"); `rule_for` resolves them, and an unknown kind gets the generic word mask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache


class Mask(StrEnum):
    """How a value is shown in a report (report/masking.py implements each)."""

    CARD = "card"  # last 4 digits
    IBAN = "iban"  # country + last 4
    EMAIL = "email"  # first letter + domain
    PHONE = "phone"  # last 2-3 digits
    GPS = "gps"  # rounded to ~11 km
    INITIALS = "initials"  # names
    DATE = "date"  # the year
    TAIL = "tail"  # ID and serial numbers: last 2 characters
    USERNAME = "username"  # first character
    PLAIN = "plain"  # not a secret (camera model, a document's type)
    WORDS = "words"  # anything else: first letter of each word, digits hidden


@dataclass(frozen=True)
class KindRule:
    kind: str
    attribute: str | None  # the VISPR id the kind reveals; None where the detector decides (EXIF owner)
    mask: Mask
    aliases: tuple[str, ...] = ()


_RULES: tuple[KindRule, ...] = (
    # personal data in text (privscan.detectors.pii)
    KindRule("name_full", "a19_name_full", Mask.INITIALS, ("name", "person", "person_name", "full_name")),
    KindRule("name_first", "a20_name_first", Mask.INITIALS, ("first_name",)),
    KindRule("name_last", "a21_name_last", Mask.INITIALS, ("last_name",)),
    KindRule("birth_date", "a24_birth_date", Mask.DATE, ("date_of_birth", "dob")),
    KindRule("birth_place", "a23_birth_city", Mask.WORDS, ("place_of_birth",)),
    KindRule("nationality", "a25_nationality", Mask.PLAIN),
    KindRule("date", "a82_date_time", Mask.DATE, ("date_time", "datetime", "timestamp")),
    KindRule("credit_card", "a30_credit_card", Mask.CARD,
             ("card", "card_number", "payment_card", "creditcard", "debit_card")),
    KindRule("card_expiry", "a30_credit_card", Mask.DATE),
    KindRule("iban", "a30_credit_card", Mask.IBAN, ("bank_account", "account_number")),
    KindRule("phone", "a49_phone", Mask.PHONE, ("phone_number", "telephone", "mobile", "fax")),
    KindRule("email", "a90_email", Mask.EMAIL, ("e_mail", "email_address")),
    KindRule("address", "a78_address_home_complete", Mask.WORDS),
    KindRule("address_partial", "a79_address_home_partial", Mask.WORDS),
    KindRule("id_number", "a29_ausweis", Mask.TAIL, ("id", "national_id", "ssn", "tax_id")),
    KindRule("passport", "a31_passport", Mask.TAIL, ("passport_number",)),
    KindRule("drivers_license", "a32_drivers_license", Mask.TAIL, ("license_number",)),
    KindRule("student_id", "a33_student_id", Mask.TAIL),
    KindRule("username", "a85_username", Mask.USERNAME, ("user", "handle", "account")),
    # documents, receipts, screens (documents.py, receipts.py, screens.py): the value names the evidence
    KindRule("mrz", None, Mask.TAIL),
    KindRule("identity_document", "a29_ausweis", Mask.PLAIN),
    KindRule("passport_document", "a31_passport", Mask.PLAIN),
    KindRule("drivers_license_document", "a32_drivers_license", Mask.PLAIN),
    KindRule("student_id_document", "a33_student_id", Mask.PLAIN),
    KindRule("receipt", "a37_receipt", Mask.PLAIN),
    KindRule("ticket", "a38_ticket", Mask.PLAIN),
    KindRule("mail", "a35_mail", Mask.PLAIN),
    KindRule("merchant", "a37_receipt", Mask.WORDS),
    KindRule("visited_address", "a74_address_current_complete", Mask.WORDS),
    KindRule("conversation", "a97_online_conversation", Mask.PLAIN),
    KindRule("email_content", "a92_email_content", Mask.PLAIN),
    # vehicles
    KindRule("license_plate", "a103_license_plate_complete", Mask.TAIL, ("plate",)),
    KindRule("license_plate_partial", "a104_license_plate_partial", Mask.TAIL),
    KindRule("vin", "a102_vehicle_ownership", Mask.TAIL),
    # image content
    KindRule("face_complete", "a9_face_complete", Mask.PLAIN, ("face",)),
    KindRule("face_partial", "a10_face_partial", Mask.PLAIN),
    KindRule("person_region", None, Mask.PLAIN),
    KindRule("nudity_explicit", "a13_full_nudity", Mask.PLAIN, ("nudity",)),
    KindRule("nudity_suggestive", "a12_semi_nudity", Mask.PLAIN),
    # metadata (privscan.io.metadata facts)
    KindRule("gps_position", "a74_address_current_complete", Mask.GPS,
             ("gps", "gps_coordinates", "coordinates", "geo", "geolocation", "location", "position")),
    KindRule("location_name", "a75_address_current_partial", Mask.WORDS),
    KindRule("capture_time", "a82_date_time", Mask.DATE),
    KindRule("digitized_time", "a82_date_time", Mask.DATE),
    KindRule("modify_time", "a82_date_time", Mask.DATE),
    KindRule("owner", None, Mask.INITIALS,
             ("owner_name", "artist", "author", "creator", "copyright", "signature_name", "person_in_image")),
    KindRule("camera_serial", None, Mask.TAIL,
             ("serial", "serial_number", "body_serial", "lens_serial", "device_id", "imei")),
    KindRule("camera_model", None, Mask.PLAIN,
             ("camera_make", "make", "model", "lens", "lens_model", "software", "thumbnail", "orientation",
              "color_profile")),
)  # fmt: skip


@cache
def table() -> dict[str, KindRule]:
    """kind or alias -> its rule."""
    out: dict[str, KindRule] = {}
    for rule in _RULES:
        for name in (rule.kind, *rule.aliases):
            assert name not in out, f"kind {name!r} listed twice"
            out[name] = rule
    return out


def rules() -> tuple[KindRule, ...]:
    return _RULES


def normalise(kind: str | None) -> str:
    """'PII:Credit-Card' -> 'credit_card': the last ':'-part, lower case, '-' and spaces as '_'."""
    if not kind:
        return ""
    return re.sub(r"[\s\-]+", "_", kind.rsplit(":", 1)[-1].strip().lower())


def rule_for(kind: str | None) -> KindRule | None:
    return table().get(normalise(kind))


def attribute_of(kind: str) -> str:
    """The VISPR id a kind reveals; KeyError for a kind without one (a detector must decide those)."""
    rule = rule_for(kind)
    if rule is None or rule.attribute is None:
        raise KeyError(f"kind {kind!r} has no attribute of its own")
    return rule.attribute
