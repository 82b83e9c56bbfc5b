"""Mask detected values for display, so the report does not become the leak.

The engine calls `mask_value(kind, value)` (or `masked_fields`) when it turns a detector Finding into
report Evidence or a MetadataFinding. Each kind keeps only what helps a user recognise the finding:
card: last 4 digits; IBAN: country + last 4; e-mail: first letter + domain; phone: last 2-3 digits;
GPS: rounded to ~11 km; names: initials; dates: the year; ID and serial numbers: last 2 characters;
anything else: the first letter of each word, digits hidden. Kinds that are not secrets (camera model,
software) pass through. The clear value is only kept when the user passes --show-values.
Which rule a kind gets is written once, in privscan.kinds (the same table gives each kind its attribute).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from privscan import kinds
from privscan.kinds import Mask

STAR = "*"
#: decimals GPS positions keep: 1 decimal of a degree is about 11 km
GPS_DECIMALS = 1
#: masked free text longer than this is cut (masking long OCR lines helps nobody)
MAX_MASKED_LEN = 48

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def mask_value(kind: str | None, value: str) -> str:
    """A display form of `value` that does not reveal it; see the module docstring for each kind."""
    value = value.strip()
    if not value:
        return ""
    rule = kinds.rule_for(kind)
    return _MASKS[rule.mask if rule is not None else Mask.WORDS](value)


def masked_fields(kind: str | None, value: str | None, *, show_values: bool = False) -> dict[str, str | None]:
    """Keyword arguments for Evidence / MetadataFinding: `value_masked` always, `value` only when asked."""
    if value is None:
        return {"value_masked": None, "value": None}
    return {"value_masked": mask_value(kind, value), "value": value if show_values else None}


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _mask_card(value: str) -> str:
    digits = _digits(value)
    return f"{STAR * 4} {digits[-4:]}" if len(digits) >= 12 else STAR * 4


def _mask_iban(value: str) -> str:
    compact = re.sub(r"\s+", "", value)
    if len(compact) < 10 or not compact[:2].isalpha():
        return _keep_tail(value, 2)
    return f"{compact[:2].upper()}{STAR * 2} {STAR * 4} {compact[-4:]}"


def _mask_email(value: str) -> str:
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        return _mask_words(value)
    return f"{local[0]}{STAR * 3}@{domain}"


def _mask_phone(value: str) -> str:
    digits = _digits(value)
    if len(digits) < 5:
        return STAR * 3
    keep = 3 if len(digits) >= 10 else 2
    return f"{STAR * 3}{digits[-keep:]}"


def _mask_gps(value: str) -> str:
    """Decimal "lat, lon" or degrees/minutes/seconds with N/S/E/W: rounded to GPS_DECIMALS."""
    numbers = [float(n.replace(",", ".")) for n in _NUMBER.findall(value)]
    letters = [c for c in value.upper() if c in "NSEW"]
    if len(numbers) == 6:  # d, m, s, d, m, s
        lat = numbers[0] + numbers[1] / 60 + numbers[2] / 3600
        lon = numbers[3] + numbers[4] / 60 + numbers[5] / 3600
    elif len(numbers) == 2:
        lat, lon = numbers
    else:
        return "[position hidden]"
    if len(letters) >= 2:
        lat = -abs(lat) if letters[0] == "S" else abs(lat) if letters[0] == "N" else lat
        lon = -abs(lon) if letters[1] == "W" else abs(lon) if letters[1] == "E" else lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return "[position hidden]"
    return f"~{lat:.{GPS_DECIMALS}f}, {lon:.{GPS_DECIMALS}f}"


def _initials(value: str) -> str:
    words = [w for w in _WORD.findall(value) if not w.isdigit()]
    return " ".join(f"{w[0].upper()}." for w in words) if words else STAR * 3


def _mask_date(value: str) -> str:
    """Keep a 4-digit year, hide every other number and shorten words (month names) to their first letter."""

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.isdigit():
            return word if len(word) == 4 and word[:2] in ("19", "20") else STAR * len(word)
        return word[0] + STAR * (len(word) - 1)

    return _WORD.sub(repl, value)


def _keep_tail(value: str, keep: int) -> str:
    compact = [c for c in value if c.isalnum()]
    if len(compact) <= keep * 2:
        return STAR * max(len(compact), 3)
    return STAR * (len(compact) - keep) + "".join(compact[-keep:])


def _mask_words(value: str) -> str:
    """Generic: each word keeps its first letter, numbers vanish entirely; punctuation stays."""

    def repl(m: re.Match[str]) -> str:
        word = m.group(0)
        return STAR * len(word) if word.isdigit() else word[0] + STAR * (len(word) - 1)

    masked = _WORD.sub(repl, value)
    return masked if len(masked) <= MAX_MASKED_LEN else masked[: MAX_MASKED_LEN - 1] + "…"


def _mask_username(value: str) -> str:
    return value[0] + STAR * 3


_MASKS: dict[Mask, Callable[[str], str]] = {
    Mask.PLAIN: lambda value: value,
    Mask.CARD: _mask_card,
    Mask.IBAN: _mask_iban,
    Mask.EMAIL: _mask_email,
    Mask.PHONE: _mask_phone,
    Mask.GPS: _mask_gps,
    Mask.INITIALS: _initials,
    Mask.DATE: _mask_date,
    Mask.TAIL: lambda value: _keep_tail(value, 2),
    Mask.USERNAME: _mask_username,
    Mask.WORDS: _mask_words,
}
