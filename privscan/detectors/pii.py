"""Personal data in OCR text: names, birth dates and other dates, payment cards, phone numbers, e-mails,
street addresses, ID / passport / licence numbers, IBANs and usernames, each mapped to VISPR ids.

Built on maintained libraries wherever one exists, with small patterns only to propose candidates:
- phone numbers: Google's libphonenumber port `phonenumbers` (PhoneNumberMatcher, VALID leniency);
- payment cards: `stdnum.luhn` plus issuer prefixes; IBAN: `stdnum.iban` (country length + mod-97);
  national IDs with a checksum: `stdnum` validators (US SSN, UK NHS number, Spanish DNI, Italian codice fiscale);
- street addresses: `usaddress` (datamade's CRF address parser) tags each line;
- person names: `probablepeople` (datamade's CRF name parser) decides person vs company, and the US Census
  1990 first/last-name frequency lists (package `names`) back it up; label words ("Name:", "Surname") decide
  full vs first vs last name.
presidio-analyzer was measured and left out (README "Detectors": 380 MB with spaCy, 1.8 s import, its
e-mail recogniser reaches for the network, and it adds nothing these validators lack).

Every match is a set of character spans in OCR lines, turned into pixel regions from the words' quads (a
match inside a word, such as the date in "birth:19.02.1966", gets the matching part of the word's quad).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from privscan.detectors.base import Box, Finding, OcrWord, Region

# kind -> VISPR attribute
ATTRIBUTES: dict[str, str] = {
    "name_full": "a19_name_full",
    "name_first": "a20_name_first",
    "name_last": "a21_name_last",
    "birth_date": "a24_birth_date",
    "date": "a82_date_time",
    "credit_card": "a30_credit_card",
    "card_expiry": "a30_credit_card",
    "iban": "a30_credit_card",
    "phone": "a49_phone",
    "email": "a90_email",
    "address": "a78_address_home_complete",
    "address_partial": "a79_address_home_partial",
    "id_number": "a29_ausweis",
    "passport": "a31_passport",
    "drivers_license": "a32_drivers_license",
    "student_id": "a33_student_id",
    "username": "a85_username",
}

# ---- text model: lines of words with character offsets ---------------------------------------------------


@dataclass
class Line:
    index: int
    text: str
    words: list[OcrWord]
    spans: list[tuple[int, int]]  # char range of each word in `text`


def build_lines(words: list[OcrWord]) -> list[Line]:
    """Group words by their line index and join each line with single spaces, remembering offsets."""
    grouped: dict[int, list[OcrWord]] = {}
    for w in words:
        grouped.setdefault(w.line, []).append(w)
    lines = []
    for i, idx in enumerate(sorted(grouped)):
        parts, spans, pos = [], [], 0
        for w in grouped[idx]:
            text = w.text.strip()
            spans.append((pos, pos + len(text)))
            parts.append(text)
            pos += len(text) + 1
        lines.append(Line(i, " ".join(parts), grouped[idx], spans))
    return lines


@dataclass
class Match:
    kind: str
    score: float
    value: str
    recogniser: str
    spans: list[tuple[int, int, int]]  # (line, start, end)
    detail: dict[str, object] = field(default_factory=dict)

    def overlaps(self, line: int, start: int, end: int) -> bool:
        return any(li == line and s < end and start < e for li, s, e in self.spans)


# ---- label context ---------------------------------------------------------------------------------------

_DOB_LABEL = re.compile(
    r"(date\s*of\s*birth|birth\s*date|birthday|\bborn\b|\bd\.?\s?o\.?\s?b\b|geb(\.|urtsdatum)|\bn[ée]e?\b|"
    r"naissance|nacimiento|nascita)",
    re.I,
)
_PHONE_LABEL = re.compile(r"\b(phone|tel|telephone|mobile|mob|cell|fax|call|whatsapp)\b", re.I)
_CARD_LABEL = re.compile(r"\b(card|visa|mastercard|amex|credit|debit)\b", re.I)
_EXPIRY_LABEL = re.compile(r"\b(valid\s*thru|valid\s*through|good\s*thru|exp(iry|ires|\.)?|expiration)\b", re.I)
_ID_LABELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bpassport\s*(no|number|nr|#)?\.?\s*:?", re.I), "passport"),
    (re.compile(r"\b(driver'?s?\s*licen[cs]e|driving\s*licen[cs]e|\bDL)\s*(no|number|nr|#)?\.?\s*:?", re.I),
     "drivers_license"),
    (re.compile(r"\bstudent\s*(id|no|number|nr|#)\.?\s*:?", re.I), "student_id"),
    (re.compile(
        r"\b(id|i\.d\.|identity|identification|ausweis|document|doc|personal|national|ssn|social\s*security|"
        r"insurance|tax\s*id|nin|card)\s*(card\s*)?(no|number|nr|num|#)\.?\s*:?",
        re.I,
    ), "id_number"),
    (re.compile(r"\b(ssn|nino|dni|nie|bsn|pesel|aadhaar)\s*:?", re.I), "id_number"),
)
_USER_LABEL = re.compile(r"\b(user\s*name|username|user\s*id|login|handle|account\s*name|user)\s*:", re.I)
_NAME_LABELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(surname|last\s*name|family\s*name|nom|nachname|apellidos?)\s*[:/]", re.I), "name_last"),
    (re.compile(r"\b(first\s*names?|given\s*names?|forenames?|pr[ée]noms?|vorname)\s*[:/]", re.I), "name_first"),
    (re.compile(
        r"\b(name|full\s*name|holder|card\s*holder|account\s*holder|patient|signed|from|to|"
        r"attn|attention|sender|recipient|employee|student|passenger)\s*:",
        re.I,
    ), "name_full"),
    (re.compile(r"\b(mr|mrs|ms|miss|dr|prof)\.?(?=\s)", re.I), "name_full"),
)
_GREETING = re.compile(r"\b(dear|hi|hello|hey|love|thanks|cheers)\b[, ]*", re.I)

# ---- names -----------------------------------------------------------------------------------------------

#: capitalised words that are document furniture, not names (they are also US Census surnames: LANE, BANK)
_NOT_NAME_WORDS = (
    """name names date birth address card bank valid thru through republic identity national passport driver
    license licence id no number phone email mail tel fax street road lane avenue drive city state country
    of the and for to from dear sir madam mr mrs ms dr signature expires expiry issued issue sex nationality
    height eyes hair class type code account holder statement balance total amount invoice receipt ticket
    student university school college company inc ltd llc gmbh corp office department ministry government
    united states kingdom america federal police hospital hotel restaurant cafe coffee shop store market
    welcome thank thanks you please north south east west new old big little great grand saint st station
    airport hall park center centre building floor room place square way court plaza tower bridge river
    monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december online banking user username login password iban bic swift
    visa mastercard debit credit member since valid from until page document identification personal
    sale sales summer winter spring autumn fall happy birthday merry christmas easter holiday holidays exit
    only open closed entrance entry push pull stop off free menu special today tonight love home sweet best
    wishes congratulations party wedding welcome hello goodbye day night morning evening news weather sport
    sports team club league cup final service services parking private public toilet toilets information
    """
)
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())


@functools.cache
def _census() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names) from the US Census 1990 lists shipped by the `names` package."""
    import names as names_pkg

    base = Path(names_pkg.__file__).parent

    def load(*files: str) -> frozenset[str]:
        out: set[str] = set()
        for f in files:
            with (base / f).open(encoding="ascii", errors="ignore") as fh:
                out.update(line.split()[0] for line in fh if line.strip())
        return frozenset(out)

    return load("dist.male.first", "dist.female.first"), load("dist.all.last")


_NAME_TOKEN = re.compile(r"[A-ZÀ-Þ][A-Za-zÀ-ÿ'’\-]+|[A-ZÀ-Þ]\.")


def _person_parse(text: str) -> tuple[str, dict[str, str]] | None:
    import probablepeople

    try:
        tagged, kind = probablepeople.tag(text)
    except Exception:  # RepeatedLabelError and friends: not a clean single name
        return None
    return kind, dict(tagged)


def _name_score(tokens: list[str]) -> float:
    """How much a run of capitalised tokens looks like a person's name (0 = not at all)."""
    words = [t.strip(".,'’").upper() for t in tokens]
    if any(w.lower() in _NOT_NAME for w in words) or len(words) < 2:
        return 0.0
    parsed = _person_parse(" ".join(tokens))
    if parsed is None or parsed[0] != "Person":
        return 0.0
    labels = parsed[1]
    if "GivenName" not in labels or not ({"Surname", "LastInitial"} & set(labels)):
        return 0.0
    first, last = _census()
    score = 0.45
    if words[0] in first:
        score += 0.25
    if words[-1] in last:
        score += 0.15
    return min(score, 0.9)


# ---- dates -----------------------------------------------------------------------------------------------

_MONTHS = {
    m: i + 1
    for i, names_ in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ]
    )
    for m in names_
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_PATTERNS = (
    re.compile(r"(?<![\d.])(?P<y>(19|20)\d\d)[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})(?![\d.])"),
    re.compile(r"(?<![\d./])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<y>(19|20)?\d\d)(?![\d./])"),
    re.compile(rf"\b(?P<mon>{_MONTH_RE})\.?\s+(?P<d>\d{{1,2}})(st|nd|rd|th)?(,\s*|\s+)(?P<y>(19|20)\d\d)\b", re.I),
    re.compile(rf"\b(?P<d>\d{{1,2}})(st|nd|rd|th)?\.?\s+(?P<mon>{_MONTH_RE})\.?,?\s+(?P<y>(19|20)\d\d)\b", re.I),
)


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return 1900 <= y <= 2100


def _parse_date(match: re.Match[str]) -> bool:
    g = match.groupdict()
    year = int(g["y"])
    if year < 100:
        year += 2000 if year <= date.today().year % 100 else 1900
    if g.get("mon"):
        return _valid_date(year, _MONTHS[g["mon"].lower()], int(g["d"]))
    if g.get("a"):
        a, b = int(g["a"]), int(g["b"])
        return _valid_date(year, b, a) or _valid_date(year, a, b)  # day-first or month-first
    return _valid_date(year, int(g["m"]), int(g["d"]))


# ---- payment cards ---------------------------------------------------------------------------------------

_CARD_CANDIDATE = re.compile(r"(?<![\dA-Za-z])\d(?:[ \-]?\d){12,18}(?![\dA-Za-z])")


def _issuer(digits: str) -> str | None:
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


# ---- other patterns --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")
_IBAN_CANDIDATE = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]){10,32}")
_HANDLE = re.compile(r"(?<![\w.@])@(?P<u>[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?)(?![\w@])")
_ID_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-/ ]{3,22}[A-Z0-9]", re.I)
_EXPIRY = re.compile(r"(?<!\d)(0[1-9]|1[0-2])\s?/\s?(\d{2}|20\d\d)(?!\d)")
_MRZ_LINE = re.compile(r"^[A-Z0-9<]{28,44}$")
_US_STATE_CODES = (
    """AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH
    OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI"""
)
_US_STATES = frozenset(_US_STATE_CODES.split())
_US_STATE_NAMES = (
    """alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii idaho
    illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee texas utah
    vermont virginia washington wisconsin wyoming"""
)
_STATE_NAMES = frozenset(_US_STATE_NAMES.split())


def _mrz_check(field_: str, check: str) -> bool:
    """ICAO 9303 check digit (weights 7, 3, 1; '<' = 0, A = 10 ...)."""
    values = {c: i for i, c in enumerate("0123456789")}
    values.update({chr(ord("A") + i): 10 + i for i in range(26)})
    values["<"] = 0
    if not check.isdigit() or any(c not in values for c in field_):
        return False
    total = sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(field_))
    return total % 10 == int(check)


# ---- the recogniser --------------------------------------------------------------------------------------


class PiiRecogniser:
    """Finds personal data in OCR lines. Stateless after construction; safe to share between threads."""

    version = "pii-2"

    def __init__(self, *, phone_region: str = "US") -> None:
        self.phone_region = phone_region
        _census()  # load the name lists now, not on the first image
        # the parsers import and load their CRF models lazily: do it at build time, not on the first photo
        self.find_in_text("Name: John Smith\n88 Quarry Hill Road\nPhone: +1 415 555 7061\nSSN 123-45-6789")

    # public entry points

    def find(self, words: list[OcrWord], *, source_prefix: str = "ocr") -> list[Finding]:
        """Findings with pixel regions for the PII in these OCR words."""
        lines = build_lines(words)
        return [self._finding(m, lines, source_prefix) for m in self.matches(lines)]

    def find_in_text(self, text: str) -> list[Match]:
        """Matches in plain text (metadata comments, captions); spans index the text's own lines."""
        lines = []
        for i, raw in enumerate(text.splitlines()):
            tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", raw)]
            joined = " ".join(raw[s:e] for s, e in tokens)
            spans, pos = [], 0
            for s, e in tokens:
                spans.append((pos, pos + e - s))
                pos += e - s + 1
            dummy = [OcrWord(joined[s:e], Box(0, 0, 0, 0), 1.0, None, i) for s, e in spans]
            lines.append(Line(i, joined, dummy, spans))
        return self.matches(lines)

    def matches(self, lines: list[Line]) -> list[Match]:
        found: list[Match] = []
        # order matters: specific, checksummed kinds first; later recognisers skip claimed characters
        for step in (
            self._emails,
            self._ibans,
            self._cards,
            self._mrz,
            self._labelled_ids,
            self._national_ids,
            self._dates,
            self._expiry,
            self._phones,
            self._usernames,
            self._addresses,
            self._names,
        ):
            step(lines, found)
        return found

    # helpers

    @staticmethod
    def _free(found: list[Match], line: int, start: int, end: int) -> bool:
        return not any(m.overlaps(line, start, end) for m in found)

    @staticmethod
    def _context(lines: list[Line], line: int, start: int) -> str:
        """The text just before a match: its line up to the match, and the previous line."""
        before = lines[line].text[:start]
        prev = lines[line - 1].text if line > 0 else ""
        return prev + "\n" + before

    # recognisers

    def _emails(self, lines: list[Line], found: list[Match]) -> None:
        for ln in lines:
            for m in _EMAIL.finditer(ln.text):
                value = m.group(0).rstrip(".")
                found.append(Match("email", 0.95, value, "email", [(ln.index, m.start(), m.start() + len(value))]))

    def _ibans(self, lines: list[Line], found: list[Match]) -> None:
        from stdnum import iban

        for ln in lines:
            for m in _IBAN_CANDIDATE.finditer(ln.text):
                raw = m.group(0)
                # the pattern may run into the next word: try the longest valid prefix
                for end in range(len(raw), 14, -1):
                    candidate = raw[:end].rstrip()
                    if iban.is_valid(candidate):
                        s = m.start()
                        if self._free(found, ln.index, s, s + len(candidate)):
                            span = (ln.index, s, s + len(candidate))
                            found.append(Match("iban", 0.95, iban.compact(candidate), "iban", [span]))
                        break

    def _cards(self, lines: list[Line], found: list[Match]) -> None:
        from stdnum import luhn

        for ln in lines:
            for m in _CARD_CANDIDATE.finditer(ln.text):
                s, e = m.span()
                if not self._free(found, ln.index, s, e):
                    continue
                digits = re.sub(r"\D", "", m.group(0))
                issuer = _issuer(digits)
                luhn_ok = luhn.is_valid(digits)
                labelled = bool(_CARD_LABEL.search(self._context(lines, ln.index, s)))
                grouped = bool(re.fullmatch(r"\d{4}([ \-]\d{4}){3}", m.group(0)))
                if luhn_ok and issuer:
                    score = 0.95
                elif luhn_ok and (labelled or grouped):
                    score = 0.8
                elif grouped and (issuer or labelled):
                    score = 0.5  # a card-shaped number that fails Luhn: likely one misread digit
                else:
                    continue
                detail: dict[str, object] = {"issuer": issuer, "luhn": luhn_ok}
                found.append(Match("credit_card", score, digits, "card", [(ln.index, s, e)], detail))

    def _mrz(self, lines: list[Line], found: list[Match]) -> None:
        for i, ln in enumerate(lines):
            compact = ln.text.replace(" ", "").replace("«", "<")
            if not _MRZ_LINE.match(compact) or compact.count("<") < 2:
                continue
            # TD3 line 2 / TD1 line 1: document number (9) + check digit
            if i > 0 and lines[i - 1].text.replace(" ", "").startswith("P"):
                number, check = compact[:9], compact[9:10]
            elif compact.startswith(("I", "A", "C")) and len(compact) >= 15:
                number, check = compact[5:14], compact[14:15]
            else:
                continue
            if _mrz_check(number, check):
                kind = "passport" if i > 0 and lines[i - 1].text.startswith("P") else "id_number"
                value = number.strip("<")
                found.append(Match(kind, 0.95, value, "mrz", [(ln.index, 0, len(ln.text))], {"mrz": True}))
                prev = lines[i - 1] if i > 0 else None
                if prev is not None and _MRZ_LINE.match(prev.text.replace(" ", "")):
                    found[-1].spans.insert(0, (prev.index, 0, len(prev.text)))

    def _labelled_ids(self, lines: list[Line], found: list[Match]) -> None:
        for ln in lines:
            for pattern, kind in _ID_LABELS:
                for lm in pattern.finditer(ln.text):
                    target, offset = ln, lm.end()
                    rest = ln.text[offset:]
                    if not rest.strip() and ln.index + 1 < len(lines):
                        target, offset, rest = lines[ln.index + 1], 0, lines[ln.index + 1].text
                    tm = _ID_TOKEN.match(rest.lstrip(" :#."))
                    if tm is None:
                        continue
                    value = tm.group(0).strip()
                    # the first token(s) only: stop at a word without digits
                    toks = value.split()
                    kept = [toks[0]] + [t for t in toks[1:] if any(c.isdigit() for c in t)]
                    value = " ".join(kept)
                    if sum(c.isdigit() for c in value) < 3 or len(value.replace(" ", "")) < 5:
                        continue
                    s = offset + (len(rest) - len(rest.lstrip(" :#."))) + tm.start()
                    e = s + len(value)
                    if self._free(found, target.index, s, e):
                        found.append(Match(kind, 0.9, value, f"label:{kind}", [(target.index, s, e)]))

    def _national_ids(self, lines: list[Line], found: list[Match]) -> None:
        from stdnum.es import dni
        from stdnum.gb import nhs
        from stdnum.it import codicefiscale
        from stdnum.us import ssn

        checks = (
            (re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), ssn.is_valid, "us_ssn"),
            (re.compile(r"(?<![\d ])\d{3} \d{3} \d{4}(?![\d])"), nhs.is_valid, "gb_nhs"),
            (re.compile(r"\b\d{8}-?[A-Z]\b"), dni.is_valid, "es_dni"),
            (re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"), codicefiscale.is_valid, "it_codicefiscale"),
        )
        for ln in lines:
            for pattern, valid, scheme in checks:
                for m in pattern.finditer(ln.text):
                    s, e = m.span()
                    if self._free(found, ln.index, s, e) and valid(m.group(0)):
                        found.append(Match("id_number", 0.7, m.group(0), f"stdnum:{scheme}", [(ln.index, s, e)]))

    def _dates(self, lines: list[Line], found: list[Match]) -> None:
        for ln in lines:
            for pattern in _DATE_PATTERNS:
                for m in pattern.finditer(ln.text):
                    s, e = m.span()
                    if not self._free(found, ln.index, s, e) or not _parse_date(m):
                        continue
                    if _DOB_LABEL.search(self._context(lines, ln.index, s)):
                        found.append(Match("birth_date", 0.9, m.group(0), "date", [(ln.index, s, e)]))
                    else:
                        found.append(Match("date", 0.6, m.group(0), "date", [(ln.index, s, e)]))

    def _expiry(self, lines: list[Line], found: list[Match]) -> None:
        for ln in lines:
            for m in _EXPIRY.finditer(ln.text):
                s, e = m.span()
                if self._free(found, ln.index, s, e) and _EXPIRY_LABEL.search(self._context(lines, ln.index, s)):
                    found.append(Match("card_expiry", 0.5, m.group(0), "card", [(ln.index, s, e)]))

    def _phones(self, lines: list[Line], found: list[Match]) -> None:
        import phonenumbers

        for ln in lines:
            regions = [self.phone_region]
            if _PHONE_LABEL.search(ln.text) or (ln.index > 0 and _PHONE_LABEL.search(lines[ln.index - 1].text)):
                regions += [r for r in ("GB", "DE", "FR", "IN", "AU", "CA") if r != self.phone_region]
            for region in regions:
                hits = 0
                for pm in phonenumbers.PhoneNumberMatcher(ln.text, region, leniency=phonenumbers.Leniency.VALID):
                    s, e = pm.start, pm.end
                    if not self._free(found, ln.index, s, e):
                        continue
                    labelled = bool(_PHONE_LABEL.search(self._context(lines, ln.index, s)))
                    value = phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164)
                    found.append(
                        Match("phone", 0.95 if labelled else 0.8, value, "phone", [(ln.index, s, e)],
                              {"region": phonenumbers.region_code_for_number(pm.number)})
                    )
                    hits += 1
                if hits:
                    break

    def _usernames(self, lines: list[Line], found: list[Match]) -> None:
        for ln in lines:
            for m in _HANDLE.finditer(ln.text):
                s, e = m.span()
                if self._free(found, ln.index, s, e):
                    found.append(Match("username", 0.8, m.group(0), "handle", [(ln.index, s, e)]))
            for lm in _USER_LABEL.finditer(ln.text):
                rest = ln.text[lm.end():]
                tm = re.match(r"\s*(@?[A-Za-z0-9_][A-Za-z0-9_.\-]{1,39})", rest)
                if tm is None:
                    continue
                s, e = lm.end() + tm.start(1), lm.end() + tm.end(1)
                if self._free(found, ln.index, s, e):
                    found.append(Match("username", 0.85, tm.group(1), "label:username", [(ln.index, s, e)]))

    def _addresses(self, lines: list[Line], found: list[Match]) -> None:
        import usaddress

        parts: list[tuple[int, int, int, str]] = []  # (line, start, end, "street" | "place")
        for ln in lines:
            try:
                tokens = usaddress.parse(ln.text)
            except Exception:
                continue
            located, pos = [], 0
            for tok, label in tokens:
                at = ln.text.find(tok, pos)
                if at < 0:
                    continue
                pos = at + len(tok)
                located.append((at, pos, tok, label))
            labels = {lab for *_, lab in located}
            street_labels = {"AddressNumber", "StreetName", "StreetNamePostType", "StreetNamePreType",
                             "StreetNamePreDirectional", "StreetNamePostDirectional", "OccupancyType",
                             "OccupancyIdentifier", "PlaceName", "StateName", "ZipCode", "USPSBoxType",
                             "USPSBoxID"}
            is_street = {"AddressNumber", "StreetName"} <= labels and (
                {"StreetNamePostType", "StreetNamePreType"} & labels
            ) and any(lab == "AddressNumber" and tok.strip(",").isdigit() for *_, tok, lab in located)
            is_box = {"USPSBoxType", "USPSBoxID"} <= labels
            states = [tok.strip(",.") for *_, tok, lab in located if lab == "StateName"]
            zips = [tok.strip(",.") for *_, tok, lab in located if lab == "ZipCode"]
            is_place = (
                "PlaceName" in labels
                and any(s.upper() in _US_STATES or s.lower() in _STATE_NAMES for s in states)
                and any(re.fullmatch(r"\d{5}(-\d{4})?", z) for z in zips)
            )
            if not (is_street or is_box or is_place):
                continue
            kept = [(s, e) for s, e, _tok, lab in located if lab in street_labels]
            start = min(s for s, _ in kept)
            end = max(e for _, e in kept)
            while end > start and ln.text[end - 1] in ",.;":
                end -= 1
            if self._free(found, ln.index, start, end):
                parts.append((ln.index, start, end, "street" if (is_street or is_box) else "place"))
        # consecutive address lines make one address
        groups: list[list[tuple[int, int, int, str]]] = []
        for p in parts:
            if groups and p[0] == groups[-1][-1][0] + 1 and len(groups[-1]) < 3:
                groups[-1].append(p)
            else:
                groups.append([p])
        for g in groups:
            value = ", ".join(lines[li].text[s:e] for li, s, e, _ in g)
            has_street = any(k == "street" for *_, k in g)
            has_place = any(k == "place" for *_, k in g) or any(
                lines[li].text[s:e].count(",") >= 1 and re.search(r"\d{5}", lines[li].text[s:e]) for li, s, e, _ in g
            )
            complete = has_street and has_place
            kind = "address" if complete else "address_partial"
            found.append(Match(kind, 0.9 if complete else 0.7, value, "usaddress", [(li, s, e) for li, s, e, _ in g]))

    def _names(self, lines: list[Line], found: list[Match]) -> None:
        first_names, _ = _census()
        for ln in lines:
            tokens = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", ln.text)]
            claimed: set[int] = set()
            # 1. labelled names: "Name: ...", "Surname: ...", "Mr ..."
            for pattern, kind in _NAME_LABELS:
                for lm in pattern.finditer(ln.text):
                    after = ln.text[lm.end() :]  # the value may be glued to the label ("Surname:DOE")
                    run = [(lm.end() + t.start(), lm.end() + t.end(), t.group(0)) for t in re.finditer(r"\S+", after)]
                    picked = []
                    for s, _e, tok in run[:4]:
                        clean = tok.strip(",.;")
                        if not _NAME_TOKEN.fullmatch(clean) or clean.lower() in _NOT_NAME:
                            break
                        picked.append((s, s + len(clean), clean))
                    if not picked:
                        continue
                    if kind == "name_full" and len(picked) == 1:
                        kind_ = "name_first" if picked[0][2].upper() in first_names else "name_last"
                    else:
                        kind_ = kind
                    s, e = picked[0][0], picked[-1][1]
                    if self._free(found, ln.index, s, e):
                        value = " ".join(p[2] for p in picked)
                        found.append(Match(kind_, 0.9, value, "label:name", [(ln.index, s, e)]))
                        claimed.update(range(s, e))
            # 2. greetings: "Dear Johanna,"
            for gm in _GREETING.finditer(ln.text):
                nxt = [t for t in tokens if t[0] >= gm.end()][:1]
                if nxt:
                    s, e, tok = nxt[0]
                    clean = tok.strip(",.!;")
                    if clean.upper() in first_names and _NAME_TOKEN.fullmatch(clean) and self._free(
                        found, ln.index, s, s + len(clean)
                    ):
                        found.append(Match("name_first", 0.6, clean, "greeting", [(ln.index, s, s + len(clean))]))
                        claimed.update(range(s, s + len(clean)))
            # 3. unlabelled runs of 2-4 capitalised words that parse as a person
            i = 0
            while i < len(tokens):
                run = []
                j = i
                while j < len(tokens) and len(run) < 4:
                    s, e, tok = tokens[j]
                    clean = tok.rstrip(",.;:")
                    if s in claimed or not _NAME_TOKEN.fullmatch(clean):
                        break
                    run.append((s, s + len(clean), clean))
                    j += 1
                    if clean != tok:  # punctuation ends a name
                        break
                best = None
                for n in range(len(run), 1, -1):
                    score = _name_score([r[2] for r in run[:n]])
                    if score > 0:
                        best = (n, score)
                        break
                if best is not None:
                    n, score = best
                    s, e = run[0][0], run[n - 1][1]
                    if self._free(found, ln.index, s, e):
                        value = " ".join(r[2] for r in run[:n])
                        found.append(Match("name_full", score, value, "name", [(ln.index, s, e)]))
                    i += n
                else:
                    i = max(j, i + 1)

    # regions

    def _finding(self, m: Match, lines: list[Line], source_prefix: str) -> Finding:
        regions = [r for li, s, e in m.spans if (r := span_region(lines[li], s, e)) is not None]
        return Finding(
            attribute=ATTRIBUTES[m.kind],
            score=round(m.score, 3),
            source=f"{source_prefix}+pii:{m.recogniser}",
            regions=regions,
            kind=m.kind,
            value=m.value,
            detail=dict(m.detail),
        )


def _lerp(a: tuple[float, float], b: tuple[float, float], t: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def span_region(line: Line, start: int, end: int) -> Region | None:
    """The pixels of characters [start, end) of a line: the covered words' quads (cut by character share
    where the span starts or ends inside a word), as a box plus the covering quadrilateral."""
    quads: list[tuple[tuple[float, float], ...]] = []
    for word, (ws, we) in zip(line.words, line.spans, strict=True):
        if we <= start or ws >= end or we <= ws:
            continue
        poly = word.polygon if word.polygon and len(word.polygon) == 4 else None
        if poly is None:
            b = word.box
            poly = ((b.x0, b.y0), (b.x1, b.y0), (b.x1, b.y1), (b.x0, b.y1))
        t0 = (max(start, ws) - ws) / (we - ws)
        t1 = (min(end, we) - ws) / (we - ws)
        tl, tr, br, bl = poly
        quads.append((_lerp(tl, tr, t0), _lerp(tl, tr, t1), _lerp(bl, br, t1), _lerp(bl, br, t0)))
    if not quads:
        return None
    xs = [p[0] for q in quads for p in q]
    ys = [p[1] for q in quads for p in q]
    box = Box(min(xs), min(ys), max(xs), max(ys))
    hull = (quads[0][0], quads[-1][1], quads[-1][2], quads[0][3])
    return Region(box=box, shape="polygon", polygon=tuple((round(x, 1), round(y, 1)) for x, y in hull))
