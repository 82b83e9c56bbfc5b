"""Contact data: e-mail addresses, phone numbers (Google's libphonenumber port `phonenumbers`, VALID
leniency) and usernames (@handles and "Username:" fields).

Numbers written with a country code (+44, +49, +91, +55, ...) parse in any region. A national number
(no "+") is tried in the configured region first; next to a phone label ("Tel", "Telefon", "Téléphone",
"Telefone", "Mobil", ...) the regions of `LABELLED_REGIONS` are tried too, so UK, EU, Indian and
Brazilian national formats count as much as US ones.
"""

from __future__ import annotations

import re

from privscan.detectors.pii.lines import Line, Match, context, free
from privscan.detectors.pii.settings import PiiSettings

PHONE_LABEL = re.compile(
    r"\b(phone|tel|t[ée]l[ée]?phone|telefon[eo]?|tel[ée]fono|telefoon|mobile?|mob|cell|handy|portable|"
    r"celular|fax|call|whatsapp|ph|contact)\b",
    re.I,
)
#: regions tried for a labelled national number (after the configured one), in this order
LABELLED_REGIONS = ("GB", "DE", "FR", "IN", "BR", "ES", "IT", "NL", "IE", "PT", "PL", "AU", "CA", "MY", "SG")
_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")
_HANDLE = re.compile(r"(?<![\w.@])@(?P<u>[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?)(?![\w@])")
_USER_LABEL = re.compile(
    r"\b(user\s*name|username|user\s*id|login|handle|account\s*name|user|benutzername|utilisateur|usuario)\s*:",
    re.I,
)


def emails(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for ln in lines:
        for m in _EMAIL.finditer(ln.text):
            value = m.group(0).rstrip(".")
            found.append(Match("email", 0.95, value, "email", [(ln.index, m.start(), m.start() + len(value))]))


def phones(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    import phonenumbers

    style = phonenumbers.PhoneNumberFormat
    for ln in lines:
        regions = [settings.phone_region]
        if PHONE_LABEL.search(ln.text) or (ln.index > 0 and PHONE_LABEL.search(lines[ln.index - 1].text)):
            regions += [r for r in LABELLED_REGIONS if r != settings.phone_region]
        # a national number can be valid in several regions ("06 12 34 56 78"): the region whose own
        # national layout is the one printed wins, else the first region in order
        best: dict[tuple[int, int], tuple[bool, int, phonenumbers.PhoneNumber]] = {}
        for rank, region in enumerate(regions):
            for pm in phonenumbers.PhoneNumberMatcher(ln.text, region, leniency=phonenumbers.Leniency.VALID):
                key = (pm.start, pm.end)
                as_printed = phonenumbers.format_number(pm.number, style.NATIONAL) == pm.raw_string.strip()
                if key not in best or (as_printed and not best[key][0]):
                    best[key] = (as_printed, rank, pm.number)
            if best and rank == 0:
                break  # the configured region reads it: no need to guess
        for (s, e), (_printed, _rank, number) in sorted(best.items()):
            if not free(found, ln.index, s, e):
                continue
            labelled = bool(PHONE_LABEL.search(context(lines, ln.index, s)))
            found.append(
                Match("phone", 0.95 if labelled else 0.8, phonenumbers.format_number(number, style.E164), "phone",
                      [(ln.index, s, e)], {"region": phonenumbers.region_code_for_number(number)})
            )


def usernames(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for ln in lines:
        for m in _HANDLE.finditer(ln.text):
            s, e = m.span()
            if free(found, ln.index, s, e):
                found.append(Match("username", 0.8, m.group(0), "handle", [(ln.index, s, e)]))
        for lm in _USER_LABEL.finditer(ln.text):
            rest = ln.text[lm.end():]
            tm = re.match(r"\s*(@?[A-Za-z0-9_][A-Za-z0-9_.\-]{1,39})", rest)
            if tm is None:
                continue
            s, e = lm.end() + tm.start(1), lm.end() + tm.end(1)
            if free(found, ln.index, s, e):
                found.append(Match("username", 0.85, tm.group(1), "label:username", [(ln.index, s, e)]))
