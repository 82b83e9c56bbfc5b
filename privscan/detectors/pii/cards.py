"""Payment data: card numbers (Luhn via `stdnum.luhn` plus issuer prefixes), IBANs (`stdnum.iban`: country
length and mod-97) and card expiry dates next to a "valid thru" label."""

from __future__ import annotations

import re

from privscan.detectors.pii.lines import Line, Match, context, free
from privscan.detectors.pii.settings import PiiSettings

_CARD_LABEL = re.compile(r"\b(card|visa|mastercard|amex|credit|debit)\b", re.I)
_EXPIRY_LABEL = re.compile(r"\b(valid\s*thru|valid\s*through|good\s*thru|exp(iry|ires|\.)?|expiration)\b", re.I)
_CARD_CANDIDATE = re.compile(r"(?<![\dA-Za-z])\d(?:[ \-]?\d){12,18}(?![\dA-Za-z])")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){10,32}")
#: IBAN lengths (ISO 13616 registry) of the countries whose lost last group is worth catching
IBAN_LENGTHS = {"DE": 22, "FR": 27, "ES": 24, "IT": 27, "GB": 22, "NL": 18, "BE": 16, "AT": 20, "CH": 21, "PT": 25,
                "IE": 22, "PL": 28, "BR": 29, "LU": 20, "DK": 18, "SE": 24, "NO": 15, "FI": 18}
_IBAN_LABEL = re.compile(r"\b(iban|bank\s*account|konto|compte|cuenta|conto|rekening)\b", re.I)
_EXPIRY = re.compile(r"(?<!\d)(0[1-9]|1[0-2])\s?/\s?(\d{2}|20\d\d)(?!\d)")


def issuer(digits: str) -> str | None:
    """The card scheme a number's prefix and length belong to, or None."""
    n = len(digits)
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65 or 622126 <= p6 <= 622925) and 16 <= n <= 19:
        return "discover"
    if 3528 <= p4 <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38)) and 14 <= n <= 19:
        return "diners"
    if p2 == 62 and 16 <= n <= 19:
        return "unionpay"
    if (p2 == 50 or 56 <= p2 <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


def ibans(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    from stdnum import iban

    for ln in lines:
        for m in _IBAN_CANDIDATE.finditer(ln.text):
            raw = m.group(0)
            s = m.start()
            # the pattern may run into the next word: try the longest valid prefix
            for end in range(len(raw), 14, -1):
                candidate = raw[:end].rstrip()
                if iban.is_valid(candidate):
                    if free(found, ln.index, s, s + len(candidate)):
                        span = (ln.index, s, s + len(candidate))
                        found.append(Match("iban", 0.95, iban.compact(candidate), "iban", [span]))
                    break
            else:
                # after an "IBAN" label, an IBAN up to 4 characters short of its country's length: OCR lost a
                # group (a last short group is easily lost); kept with a low score, like a card failing Luhn.
                # One of the right length that fails mod 97 is not an IBAN.
                value = raw.rstrip()
                short = IBAN_LENGTHS.get(value[:2], 0) - len(value.replace(" ", ""))
                if 0 < short <= 4 and _IBAN_LABEL.search(ln.text[:s]) and free(found, ln.index, s, s + len(value)):
                    found.append(Match("iban", 0.5, value.replace(" ", ""), "iban", [(ln.index, s, s + len(value))],
                                       {"checksum": False}))


def cards(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    from stdnum import luhn

    for ln in lines:
        for m in _CARD_CANDIDATE.finditer(ln.text):
            s, e = m.span()
            if not free(found, ln.index, s, e):
                continue
            digits = re.sub(r"\D", "", m.group(0))
            scheme = issuer(digits)
            luhn_ok = luhn.is_valid(digits)
            labelled = bool(_CARD_LABEL.search(context(lines, ln.index, s)))
            grouped = bool(re.fullmatch(r"\d{4}([ \-]\d{4}){3}", m.group(0)))
            if luhn_ok and scheme:
                score = 0.95
            elif luhn_ok and (labelled or grouped):
                score = 0.8
            elif grouped and (scheme or labelled):
                score = 0.5  # a card-shaped number that fails Luhn: likely one misread digit
            else:
                continue
            detail: dict[str, object] = {"issuer": scheme, "luhn": luhn_ok}
            found.append(Match("credit_card", score, digits, "card", [(ln.index, s, e)], detail))


def expiry(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for ln in lines:
        for m in _EXPIRY.finditer(ln.text):
            s, e = m.span()
            if free(found, ln.index, s, e) and _EXPIRY_LABEL.search(context(lines, ln.index, s)):
                found.append(Match("card_expiry", 0.5, m.group(0), "card", [(ln.index, s, e)]))
