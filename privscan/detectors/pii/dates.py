"""Dates: numeric (day-first or month-first, ISO) and with month names in English, German, French, Spanish,
Italian, Dutch and Portuguese (passports print "12 MAR/MARS 1985"); a date after a birth label in any of
those languages is a date of birth, every other date a date/time of activity. Impossible days are dropped."""

from __future__ import annotations

import re
from datetime import date

from privscan.detectors.pii.lines import Line, Match, context, free
from privscan.detectors.pii.settings import PiiSettings

#: birth labels; the visual zone of ID documents labels the field in the issuer's language(s)
DOB_LABEL = re.compile(
    r"(date\s*of\s*birth|birth\s*date|birthday|\bborn\b|\bd\.?\s?o\.?\s?b\b|geb(\.|urtsdatum|oren)|\bn[ée]e?\b|"
    r"naissance|nacimiento|nascita|geboortedatum|geboren|nascimento|urodzenia|narozen[ií]|ro[dđ]enja|"
    r"gimimo|syntym|f[öo]delse|f[øo]dsels|sz[üu]let[ée]si|rodenia)",
    re.I,
)

_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("january", "jan", "januar", "janvier", "janv", "enero", "ene", "gennaio", "gen", "januari", "janeiro"),
    ("february", "feb", "februar", "février", "fevrier", "févr", "fev", "febrero", "febbraio", "februari",
     "fevereiro"),
    ("march", "mar", "märz", "maerz", "mars", "marzo", "maart", "março", "marco", "mrt"),
    ("april", "apr", "avril", "avr", "abril", "abr", "aprile"),
    ("may", "mai", "mayo", "maggio", "mag", "mei", "maio"),
    ("june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"),
    ("july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"),
    ("august", "aug", "août", "aout", "agosto", "ago", "augustus"),
    ("september", "sep", "sept", "septembre", "septiembre", "settembre", "set", "setembro"),
    ("october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out"),
    ("november", "nov", "novembre", "noviembre", "novembro"),
    ("december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic", "dicembre",
     "dezembro"),
)  # fmt: skip
MONTHS: dict[str, int] = {m: i + 1 for i, names in enumerate(_MONTH_NAMES) for m in names}
_MONTH_RE = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
#: "MAR/MARS": a bilingual month as printed on passports
_MONTH_PAIR = rf"(?P<mon>{_MONTH_RE})\.?(?:\s?/\s?(?:{_MONTH_RE})\.?)?"
_PATTERNS = (
    re.compile(r"(?<![\d.])(?P<y>(19|20)\d\d)[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})(?![\d.])"),
    re.compile(r"(?<![\d./])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>(19|20)?\d\d)(?![\d./])"),
    re.compile(rf"\b{_MONTH_PAIR}\s+(?P<d>\d{{1,2}})(st|nd|rd|th)?(,\s*|\s+)(?P<y>(19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(st|nd|rd|th)?\.?\s*{_MONTH_PAIR},?\s*(?P<y>(19|20)\d\d)\b", re.I),
    re.compile(r"(?<![\d.])(?P<d>\d{1,2})\s(?P<m>\d{1,2})\s(?P<y>(19|20)\d\d)(?![\d.])"),  # "12 08 1974"
)


def valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return 1900 <= y <= 2100


def parse_date(match: re.Match[str]) -> bool:
    """Whether a pattern match is a real calendar day."""
    g = match.groupdict()
    year = int(g["y"])
    if year < 100:
        year += 2000 if year <= date.today().year % 100 else 1900
    if g.get("mon"):
        return valid_date(year, MONTHS[g["mon"].lower()], int(g["d"]))
    if g.get("a"):
        a, b = int(g["a"]), int(g["b"])
        return valid_date(year, b, a) or valid_date(year, a, b)  # day-first or month-first
    return valid_date(year, int(g["m"]), int(g["d"]))


def dates(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for ln in lines:
        for pattern in _PATTERNS:
            for m in pattern.finditer(ln.text):
                s, e = m.span()
                if not free(found, ln.index, s, e) or not parse_date(m):
                    continue
                if DOB_LABEL.search(context(lines, ln.index, s)):
                    found.append(Match("birth_date", 0.9, m.group(0), "date", [(ln.index, s, e)]))
                else:
                    found.append(Match("date", 0.6, m.group(0), "date", [(ln.index, s, e)]))
