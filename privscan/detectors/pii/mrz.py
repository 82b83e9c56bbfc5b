"""ICAO Doc 9303 machine-readable zones: find them in OCR lines and parse them with their check digits.

Formats: TD1 (ID cards, 3 x 30), TD2 (2 x 36), TD3 (passports, 2 x 44), and the visas MRV-A (2 x 44) and
MRV-B (2 x 36), which have no composite check digit. OCR reads an MRZ with gaps and confusions ('<' as
'K' or '«', O for 0), so lines are compacted (spaces dropped, '«' -> '<'), numeric fields are read with
the usual letter -> digit confusions undone, and a zone is kept when its line shapes fit a format; the
check digits (weights 7, 3, 1; '<' = 0, A = 10 ... Z = 35) then say how much of it was read right.

The registry's one MRZ package, `mrz` (0.6.2), is GPL-3.0 and `fastmrz` AGPL-3.0, neither compatible with
privscan's Apache-2.0; PassportEye (MIT) parses only after its own Tesseract OCR pass. Hence this module.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_VALUES = {c: i for i, c in enumerate("0123456789")} | {chr(ord("A") + i): 10 + i for i in range(26)} | {"<": 0}
_MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")
#: letters OCR reads where an MRZ digit is printed
_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "B": "8",
                           "G": "6", "T": "7"})
#: digits read where a letter is printed
_TO_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "8": "B", "6": "G"})


def check_digit(field_: str) -> int | None:
    """ICAO 9303 check digit of a field, or None when it holds a character outside the MRZ set."""
    if any(c not in _VALUES for c in field_):
        return None
    return sum(_VALUES[c] * (7, 3, 1)[i % 3] for i, c in enumerate(field_)) % 10


def check_ok(field_: str, check: str) -> bool:
    digit = check_digit(field_)
    check = check.translate(_TO_DIGIT)
    if check == "<":
        check = "0"
    return digit is not None and check.isdigit() and digit == int(check)


def compact(text: str) -> tuple[str, list[int]]:
    """An OCR line as MRZ characters (spaces dropped, '«' and similar as '<') and, for each character
    kept, its offset in `text` (so a field maps back to the words' pixels)."""
    out, where = [], []
    for i, c in enumerate(text):
        if c.isspace():
            continue
        c = {"«": "<", "‹": "<", "(": "<", "[": "<", "{": "<"}.get(c, c.upper())
        if c not in _VALUES:  # "Ñ" read in a name: its base letter; anything else stays foreign
            c = unicodedata.normalize("NFKD", c)[:1].upper() or c
        out.append(c)
        where.append(i)
    packed = "".join(out)
    foreign = [j for j, c in enumerate(packed) if c not in _VALUES]
    if len(foreign) <= 2:  # one or two misread fillers ("Φ") in an otherwise clean line
        packed = "".join("<" if j in foreign else c for j, c in enumerate(packed))
    return packed, where


def looks_like_mrz(line: str) -> bool:
    """A compacted line that could be one MRZ line: long, MRZ charset, with a filler '<'. A first line
    whose trailing fillers OCR dropped ("P<AUSCITIZEN<<JANE") counts when it starts like one."""
    if not _MRZ_CHARS.match(line) or "<" not in line or len(line) > 46:
        return False
    return len(line) >= 26 or (len(line) >= 12 and line[0] in "PVIACD" and line[1] in "<ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               and "<<" in line)


@dataclass
class MrzField:
    name: str
    line: int  # index into the zone's lines
    start: int  # compact offsets
    end: int
    value: str
    valid: bool | None = None  # check digit result, None where the field has none


@dataclass
class Mrz:
    format: str  # "TD1" | "TD2" | "TD3" | "MRVA" | "MRVB"
    lines: tuple[str, ...]
    fields: dict[str, MrzField] = field(default_factory=dict)
    checks: list[bool] = field(default_factory=list)

    @property
    def document_code(self) -> str:
        return self.lines[0][:2].replace("<", "")

    @property
    def kind(self) -> str:
        """What the document is: passport (P), visa (V), identity card / residence permit (I, A, C, ...)."""
        code = self.lines[0][:1]
        if code == "P":
            return "passport"
        if code == "V":
            return "visa"
        if self.lines[0][:2] in ("DL", "D<") or code == "D":
            return "drivers_license"
        return "id_card"

    @property
    def valid_checks(self) -> int:
        return sum(self.checks)

    @property
    def score(self) -> float:
        """0.6 for a zone of the right shape, up to 0.99 when every check digit holds."""
        if not self.checks:
            return 0.6
        return round(0.6 + 0.39 * self.valid_checks / len(self.checks), 3)


def _digits(s: str) -> str:
    return s.translate(_TO_DIGIT)


def _name(s: str) -> tuple[str, str]:
    s = s.translate(_TO_LETTER).rstrip("<")
    surname, _, given = s.partition("<<")
    return surname.replace("<", " ").strip(), given.replace("<", " ").strip()


def _fit(line: str, length: int) -> str:
    return (line + "<" * length)[:length]


def _add(mrz: Mrz, name: str, line: int, start: int, end: int, value: str, check_at: int | None = None) -> None:
    valid = None
    if check_at is not None:
        valid = check_ok(value, mrz.lines[line][check_at])
        mrz.checks.append(valid)
    mrz.fields[name] = MrzField(name, line, start, end, value.replace("<", " ").strip(), valid)


def _two_line(lines: tuple[str, str], length: int) -> Mrz:
    l1, l2 = _fit(lines[0], length), _fit(lines[1], length)
    visa = l1[0] == "V"
    fmt = ("MRVA" if visa else "TD3") if length == 44 else ("MRVB" if visa else "TD2")
    mrz = Mrz(fmt, (l1, l2))
    mrz.fields["document_code"] = MrzField("document_code", 0, 0, 2, l1[:2].replace("<", ""))
    mrz.fields["issuing_state"] = MrzField("issuing_state", 0, 2, 5, l1[2:5].translate(_TO_LETTER).strip("<"))
    surname, given = _name(l1[5:])
    end = 5 + len(l1[5:].rstrip("<"))
    mrz.fields["surname"] = MrzField("surname", 0, 5, 5 + len(l1[5:].split("<<")[0]), surname)
    mrz.fields["given_names"] = MrzField("given_names", 0, 5, end, given)
    mrz.fields["name"] = MrzField("name", 0, 5, end, f"{given} {surname}".strip())
    l2n = l2[:10] + l2[10:13].translate(_TO_LETTER) + _digits(l2[13:20]) + l2[20] + _digits(l2[21:28]) + l2[28:]
    mrz.lines = (l1, l2n)
    _add(mrz, "document_number", 1, 0, 9, l2n[:9], 9)
    mrz.fields["nationality"] = MrzField("nationality", 1, 10, 13, l2n[10:13].strip("<"))
    _add(mrz, "birth_date", 1, 13, 19, l2n[13:19], 19)
    mrz.fields["sex"] = MrzField("sex", 1, 20, 21, l2n[20])
    _add(mrz, "expiry_date", 1, 21, 27, l2n[21:27], 27)
    if fmt == "TD3":
        _add(mrz, "personal_number", 1, 28, 42, l2n[28:42], 42)
        composite = l2n[:10] + l2n[13:20] + l2n[21:43]
        mrz.checks.append(check_ok(composite, l2n[43]))
    elif fmt == "TD2":
        mrz.fields["optional"] = MrzField("optional", 1, 28, 35, l2n[28:35].strip("<"))
        composite = l2n[:10] + l2n[13:20] + l2n[21:35]
        mrz.checks.append(check_ok(composite, l2n[35]))
    return mrz


def _td1(lines: tuple[str, str, str]) -> Mrz:
    l1, l2, l3 = (_fit(x, 30) for x in lines)
    l2 = _digits(l2[:7]) + l2[7] + _digits(l2[8:15]) + l2[15:18].translate(_TO_LETTER) + l2[18:]
    mrz = Mrz("TD1", (l1, l2, l3))
    mrz.fields["document_code"] = MrzField("document_code", 0, 0, 2, l1[:2].replace("<", ""))
    mrz.fields["issuing_state"] = MrzField("issuing_state", 0, 2, 5, l1[2:5].translate(_TO_LETTER).strip("<"))
    if l1[14] == "<" and l1[15:30].strip("<"):  # a long document number continues in the optional field
        rest = l1[15:30].split("<", 1)[0]
        number = l1[5:14] + rest[:-1]
        mrz.checks.append(check_ok(number, rest[-1:] or "<"))
        mrz.fields["document_number"] = MrzField("document_number", 0, 5, 15 + len(rest), number, mrz.checks[-1])
    else:
        _add(mrz, "document_number", 0, 5, 14, l1[5:14], 14)
    _add(mrz, "birth_date", 1, 0, 6, l2[:6], 6)
    mrz.fields["sex"] = MrzField("sex", 1, 7, 8, l2[7])
    _add(mrz, "expiry_date", 1, 8, 14, l2[8:14], 14)
    mrz.fields["nationality"] = MrzField("nationality", 1, 15, 18, l2[15:18].strip("<"))
    composite = l1[5:30] + l2[:7] + l2[8:15] + l2[18:29]
    mrz.checks.append(check_ok(composite, l2[29]))
    surname, given = _name(l3)
    end = len(l3.rstrip("<"))
    mrz.fields["surname"] = MrzField("surname", 2, 0, len(l3.split("<<")[0]), surname)
    mrz.fields["given_names"] = MrzField("given_names", 2, 0, end, given)
    mrz.fields["name"] = MrzField("name", 2, 0, end, f"{given} {surname}".strip())
    return mrz


def parse(lines: list[str]) -> Mrz | None:
    """Parse 2 or 3 compacted MRZ lines (top to bottom); None when their shape fits no format."""
    if len(lines) == 3 and all(24 <= len(x) <= 34 for x in lines):
        return _td1((lines[0], lines[1], lines[2]))
    if len(lines) == 2:
        longest = max(len(x) for x in lines)
        if 40 <= longest <= 46:
            return _two_line((lines[0], lines[1]), 44)
        if 32 <= longest <= 39:
            return _two_line((lines[0], lines[1]), 36)
    return None


def best_parse(candidates: list[str]) -> tuple[int, Mrz] | None:
    """The zone in a run of MRZ-looking lines that passes the most check digits (a run may hold a stray
    line), with the index of its first line in `candidates`."""
    best: tuple[int, Mrz] | None = None
    for size in (3, 2):
        for i in range(len(candidates) - size + 1):
            mrz = parse(candidates[i : i + size])
            if mrz is not None and (best is None or mrz.valid_checks > best[1].valid_checks):
                best = (i, mrz)
    return best
