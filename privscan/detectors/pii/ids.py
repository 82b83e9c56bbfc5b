"""Identity numbers: machine-readable zones (ICAO 9303, see mrz.py), numbers after an ID label in several
languages, and national numbers that carry their own checksum (python-stdnum validators).

MRZ: a zone whose document number passes its check digit gives the number (passport / ID card / driving
licence by the document code) with the zone's full lines as its regions, and, where their own check
digits hold, the birth date; the name and nationality come with any zone that passes at least one check.
National numbers without a label: US SSN, UK NHS and National Insurance numbers, Spanish DNI/NIE, Italian
codice fiscale, French NIR, Indian Aadhaar (Verhoeff) and PAN, Brazilian CPF and CNPJ (a Polish PESEL,
Dutch BSN or German tax ID needs its label).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from privscan.detectors.pii import mrz as icao
from privscan.detectors.pii.lines import Line, Match, free
from privscan.detectors.pii.settings import PiiSettings

_NO = r"(number|número|numero|nummer|num|nr|no|n[°º]|#)\.?"
ID_LABELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b(passport|passeport|pasaporte|passaporto|reisepass|pass|paspoort|paszport)\b[\s\-]*({_NO})?\s*:?",
                re.I), "passport"),
    (re.compile(rf"\b(driver'?s?\s*licen[cs]e|driving\s*licen[cs]e|\bDL|f[üu]hrerschein|permis\s*de\s*conduire|"
                rf"licencia\s*de\s*conducir|carteira\s*de\s*motorista|CNH)\b\s*({_NO})?\s*:?", re.I),
     "drivers_license"),
    (re.compile(rf"\bstudent\s*(id|{_NO})\s*:?", re.I), "student_id"),
    (re.compile(
        rf"\b(id|i\.d\.|identity|identification|ausweis|personalausweis|document|documento|dokument|"
        rf"personal|national|ssn|social\s*security|insurance|tax\s*id|nin|card|carte|tarjeta|carta|cart[ãa]o)"
        rf"\s*(card\s*)?({_NO})\s*:?",
        re.I,
    ), "id_number"),
    (re.compile(r"\bn[°º]\s*(du|de|do|of)?\s*(document|documento|passeport|pasaporte|carte|tarjeta)\s*:?", re.I),
     "id_number"),
    (re.compile(r"\b(ssn|nino|dni|nie|bsn|pesel|aadhaar|aadhar|pan|cpf|rg|cnpj|nir|codice\s*fiscale|"
                r"steuer-?id|tin|uid|ahv|nif)\b\s*:?", re.I), "id_number"),
)
_ID_TOKEN = re.compile(r"[A-Z0-9][A-Z0-9\-/. ]{3,22}[A-Z0-9]", re.I)
_NINO = re.compile(r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b")


def _national_checks() -> tuple[tuple[re.Pattern[str], Callable[[str], bool], str], ...]:
    from stdnum.br import cnpj, cpf
    from stdnum.es import dni, nie
    from stdnum.fr import nir
    from stdnum.gb import nhs
    from stdnum.in_ import aadhaar, pan
    from stdnum.it import codicefiscale
    from stdnum.us import ssn

    return (
        (re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), ssn.is_valid, "us_ssn"),
        (re.compile(r"(?<!\d)(?<!\d )\d{3} \d{3} \d{4}(?![\d])"), nhs.is_valid, "gb_nhs"),
        (_NINO, lambda v: True, "gb_nino"),
        (re.compile(r"\b\d{8}-?[A-Z]\b"), dni.is_valid, "es_dni"),
        (re.compile(r"\b[XYZ]-?\d{7}-?[A-Z]\b"), nie.is_valid, "es_nie"),
        (re.compile(r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b"), codicefiscale.is_valid, "it_codicefiscale"),
        (re.compile(r"(?<!\d)(?<!\d )[12] ?\d{2} ?\d{2} ?\d{2} ?\d{3} ?\d{3} ?\d{2}(?![\d])"), nir.is_valid, "fr_nir"),
        (re.compile(r"(?<!\d)(?<!\d )[2-9]\d{3} \d{4} \d{4}(?![\d])"), aadhaar.is_valid, "in_aadhaar"),
        (re.compile(r"\b[A-Z]{3}[ABCFGHLJPT][A-Z]\d{4}[A-Z]\b"), pan.is_valid, "in_pan"),
        (re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d])"), cpf.is_valid, "br_cpf"),
        (re.compile(r"(?<![\d.])\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}(?![\d])"), cnpj.is_valid, "br_cnpj"),
    )


def _line_span(ln: Line, where: list[int], start: int, end: int) -> tuple[int, int, int] | None:
    """Compact MRZ offsets [start, end) -> a character span of the OCR line."""
    end = min(end, len(where))
    if start >= end:
        return None
    return (ln.index, where[start], where[end - 1] + 1)


def zones(lines: list[Line]) -> list[tuple[list[Line], list[list[int]], icao.Mrz]]:
    """Each MRZ in the text: its OCR lines, their compact->line offset maps, and the parsed zone."""
    out = []
    run: list[tuple[Line, str, list[int]]] = []
    for ln in [*lines, None]:
        packed = icao.compact(ln.text) if ln is not None else ("", [])
        if ln is not None and icao.looks_like_mrz(packed[0]):
            run.append((ln, *packed))
            continue
        if len(run) >= 2:
            best = icao.best_parse([text for _, text, _ in run])
            if best is not None and (best[1].valid_checks or sum(t.count("<") for _, t, _ in run) >= 6):
                at, zone = best
                size = len(zone.lines)
                out.append(([r[0] for r in run[at : at + size]], [r[2] for r in run[at : at + size]], zone))
        run = []
    return out


_NUMBER_KIND = {"passport": "passport", "visa": "passport", "drivers_license": "drivers_license"}


def mrz(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for zone_lines, maps, zone in zones(lines):
        number = zone.fields.get("document_number")
        detail: dict[str, object] = {"mrz": True, "format": zone.format, "checks": f"{zone.valid_checks}/"
                                     f"{len(zone.checks)}", "document": zone.kind}
        if number is not None and number.valid:
            kind = _NUMBER_KIND.get(zone.kind, "id_number")
            spans = [(ln.index, 0, len(ln.text)) for ln in zone_lines]
            found.append(Match(kind, 0.95, number.value, "mrz", spans, detail))
        if zone.valid_checks == 0:
            continue
        for name, kind, needs_check in (("name", "name_full", False), ("birth_date", "birth_date", True),
                                        ("nationality", "nationality", False)):
            f = zone.fields.get(name)
            if f is None or not f.value or (needs_check and not f.valid):
                continue
            if kind == "name_full" and not re.fullmatch(r"[A-Z ]{3,}", f.value):
                continue
            span = _line_span(zone_lines[f.line], maps[f.line], f.start, f.end)
            if span is not None:
                found.append(Match(kind, 0.9, f.value, "mrz", [span], dict(detail)))


def labelled_ids(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    for ln in lines:
        for pattern, kind in ID_LABELS:
            for lm in pattern.finditer(ln.text):
                target, offset = ln, lm.end()
                rest = ln.text[offset:]
                if not rest.strip() and ln.index + 1 < len(lines):
                    target, offset, rest = lines[ln.index + 1], 0, lines[ln.index + 1].text
                # a bilingual label ("Passport No / N°: X123"): skip its second language
                rest = re.sub(r"^\s*/[^:/]{1,30}:", "", rest) if offset else rest
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
                s = len(target.text) - len(rest.lstrip(" :#.")) + tm.start()  # `rest` is a suffix of the line
                e = s + len(value)
                if free(found, target.index, s, e):
                    found.append(Match(kind, 0.9, value, f"label:{kind}", [(target.index, s, e)]))


def national_ids(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    checks = _national_checks()
    for ln in lines:
        for pattern, valid, scheme in checks:
            for m in pattern.finditer(ln.text):
                s, e = m.span()
                if free(found, ln.index, s, e) and valid(m.group(0)):
                    found.append(Match("id_number", 0.7, m.group(0), f"stdnum:{scheme}", [(ln.index, s, e)]))


NATIONALITY_LABEL = re.compile(
    r"\b(nationality|nationalit[ée]|staatsangeh[öo]rigkeit|nacionalidad|cittadinanza|nazionalit[àa]|nationaliteit|"
    r"obywatelstwo|nacionalidade|citizenship)\b[^:\n]{0,20}:?\s*", re.I)
_NATIONALITY_VALUE = re.compile(r"[A-Z]{3}\b|[A-ZÀ-Þ][A-Za-zÀ-ÿ]+(?:\s*/\s*[A-ZÀ-Þ][A-Za-zÀ-ÿ]+)?")


def nationalities(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    """A nationality after its label ("Nationalité: FRA", "Staatsangehörigkeit: DEUTSCH"), on the same line
    or the next."""
    for ln in lines:
        for lm in NATIONALITY_LABEL.finditer(ln.text):
            target, offset = ln, lm.end()
            if not ln.text[offset:].strip() and ln.index + 1 < len(lines):
                target, offset = lines[ln.index + 1], 0
            vm = _NATIONALITY_VALUE.match(target.text, offset)
            if vm is None or NATIONALITY_LABEL.match(vm.group(0)):
                continue
            s, e = vm.span()
            if free(found, target.index, s, e):
                found.append(Match("nationality", 0.8, vm.group(0), "label:nationality", [(target.index, s, e)]))
