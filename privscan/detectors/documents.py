"""Photographed identity documents: passports, ID cards, residence permits, visas, driving licences.

Three kinds of evidence, all read from the text detector's OCR words (no second OCR pass):
- a machine-readable zone (ICAO 9303, parsed with its check digits by privscan.detectors.pii.mrz): the
  document code says passport / visa (a31), ID card or residence permit (a29) or driving licence (a32);
- the document's title in the issuer's language ("PASSPORT", "REISEPASS", "CARTE NATIONALE D'IDENTITÉ",
  "PERMISO DE RESIDENCIA", "RIJBEWIJS", ...);
- the visual zone's field labels, in the languages of the documents seen in Europe, the Americas and
  India (Surname/Nom/Apellidos/Nachname, Date of birth/Geburtsdatum/Fecha de nacimiento, Nationality/
  Nationalité/Staatsangehörigkeit, Date of expiry/Gültig bis, ...).
A zone, or a title with two labels, or four distinct labels, make a document. Its regions are the MRZ
lines (so `--hide document` removes the zone that holds every field in clear) and each labelled field's
value: the rest of the label's line, or the next line where the label ends its line. The title and the
labels themselves are not covered: they say what kind of document it is, which the finding reports, and
painting them changed a quarter of an ID card's non-personal pixels (bench_pii). The fields themselves
(name, birth date, document number, nationality) are found by the PII recognisers, MRZ fields included.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from privscan import vocab
from privscan.detectors.base import DetectorResult, Finding, OcrWord, Region
from privscan.detectors.pii.ids import zones
from privscan.detectors.pii.lines import Line, span_region
from privscan.detectors.spec import DetectorSpec
from privscan.detectors.textlayout import cues, found_cues, lines_of, regions_of, words_of
from privscan.io.decode import DecodedImage

VERSION = "documents-2"
PASSPORT, ID_CARD, DRIVERS, STUDENT = "a31_passport", "a29_ausweis", "a32_drivers_license", "a33_student_id"
_KIND = {PASSPORT: "passport_document", ID_CARD: "identity_document", DRIVERS: "drivers_license_document",
         STUDENT: "student_id_document"}
_MRZ_ATTRIBUTE = {"passport": PASSPORT, "visa": PASSPORT, "id_card": ID_CARD, "drivers_license": DRIVERS}

TITLES = cues((
    (PASSPORT, r"\b(passport|passeport|pasaporte|passaporto|reisepass|paspoort|paszport|passaporte|pass\s*/|"
               r"cestovn[ií]\s*pas|putovnica|pasas|passi|útlevél|pas\s+ov|visa|visum|wiza|víza|vízum)\b"),
    (ID_CARD, r"\b(identity\s*card|id\s*card|identification\s*card|carte\s*(nationale\s*)?d.?identit[ée]|"
              r"personalausweis|identit[ée]tskarte|documento\s*nacional\s*de\s*identidad|carta\s*d.?identit[àa]|"
              r"identiteitskaart|identiteitsbewijs|dow[óo]d\s*osobisty|ob[čc]ansk[ýy]\s*pr[ůu]kaz|"
              r"osobna\s*iskaznica|asmens\s*tapatyb|henkilökortti|residence\s*permit|permiso\s*de\s*residencia|"
              r"titre\s*de\s*s[ée]jour|aufenthalts(titel|erlaubnis)|permesso\s*di\s*soggiorno|"
              r"verblijfsvergunning|karta\s*pobytu|national\s*id|aadhaar|c[ée]dula|registro\s*geral|"
              r"identidad|identit[àaé]|identity|ausweis|carte\s*d.?identit)"),
    (DRIVERS, r"\b(driv(ing|er'?s?)\s*licen[cs]e|f[üu]hrerschein|permis\s*de\s*conduire|permiso\s*de\s*conducci[óo]n|"
              r"licencia\s*de\s*conducir|patente\s*di\s*guida|rijbewijs|prawo\s*jazdy|carteira\s*nacional\s*de\s*"
              r"habilita[çc][ãa]o|ridic[íi]\s*pr[ůu]kaz)"),
    (STUDENT, r"\b(student\s*(id|card)|carte\s*d.?[ée]tudiant|studentenausweis|carn[ée]\s*de\s*estudiante)\b"),
))
#: visual-zone field labels; one row per field, each in several languages
LABELS = cues((
    ("surname", r"\b(surname|last\s*name|nom\b|nachname|apellidos?|cognome|achternaam|nazwisko|p[řr][íi]jmen|"
                r"prezime|pavard|sobrenome|familienname)"),
    ("given_names", r"\b(given\s*names?|first\s*names?|forenames?|pr[ée]noms?|vornamen?|nombres?\b|nome\b|voornamen|"
                    r"imiona|jm[ée]no|ime\b|vardai)"),
    ("birth_date", r"(date\s*of\s*birth|birth\s*date|date\s*de\s*naissance|geburtsdatum|geburtstag|fecha\s*de\s*"
                   r"nacimiento|data\s*di\s*nascita|geboortedatum|data\s*urodzenia|datum\s*naro|datum\s*ro[dđ]|"
                   r"gimimo\s*data|data\s*de\s*nascimento|\bd\.?o\.?b\b)"),
    ("birth_place", r"(place\s*of\s*birth|lieu\s*de\s*naissance|geburtsort|lugar\s*de\s*nacimiento|luogo\s*di\s*"
                    r"nascita|geboorteplaats|miejsce\s*urodzenia|m[íi]sto\s*naro)"),
    ("nationality", r"\b(nationality|nationalit[ée]|staatsangeh[öo]rigkeit|nacionalidad|cittadinanza|nazionalit|"
                    r"nationaliteit|obywatelstwo|st[áa]tn[íi]\s*ob[čc]|dr[žz]avljanstvo|pilietyb|nacionalidade)"),
    ("sex", r"\b(sex|sexe|geschlecht|sexo|sesso|geslacht|p[łl]e[ćc]|pohlav[íi]|spol|lytis)\b"),
    ("expiry", r"(date\s*of\s*expiry|expiry|expires|valid\s*until|date\s*d.?expiration|g[üu]ltig\s*bis|"
               r"fecha\s*de\s*(caducidad|validez)|scadenza|geldig\s*tot|data\s*wa[żz]no|plat[íi]\s*do|"
               r"validade|vervaldatum)"),
    ("issue", r"(date\s*of\s*issue|date\s*de\s*d[ée]livrance|ausstellungsdatum|fecha\s*de\s*expedici[óo]n|"
              r"data\s*di\s*rilascio|datum\s*van\s*afgifte|data\s*wydania|datum\s*vyd|authority|autorit[ée]|"
              r"beh[öo]rde|autoridad|issued\s*by|d[ée]livr[ée]e?\s*par)"),
    ("document_number", r"(document\s*n|passport\s*n|passeport\s*n|pass-?\s*nr|n[°º]\s*du\s*document|"
                        r"documentnummer|n[úu]mero\s*de\s*(documento|pasaporte|soporte)|numer\s*(paszportu|"
                        r"dokumentu)|[čc][íi]slo\s*(pasu|dokladu)|dni\s*n|card\s*n|karten-?nr|personal\s*n)"),
    ("signature", r"\b(signature|unterschrift|firma\s*del\s*titular|handtekening|podpis|firma)\b"),
))


def find_documents(words: list[OcrWord]) -> list[Finding]:
    """Document findings in these OCR words (see the module docstring); at most one per attribute."""
    lines = lines_of(words)
    if not lines:
        return []
    best: dict[str, Finding] = {}

    def keep(f: Finding) -> None:
        if f.attribute not in best or f.score > best[f.attribute].score:
            best[f.attribute] = f

    mrz_lines: list[int] = []
    for zone_lines, _maps, zone in zones(lines):
        attribute = _MRZ_ATTRIBUTE[zone.kind]
        indices = [ln.index for ln in zone_lines]
        mrz_lines += indices
        detail: dict[str, object] = {"evidence": "mrz", "format": zone.format, "document_code": zone.document_code,
                                     "issuing_state": zone.fields["issuing_state"].value,
                                     "checks": f"{zone.valid_checks}/{len(zone.checks)}"}
        keep(Finding(attribute, zone.score, "ocr+documents:mrz", regions_of(lines, indices), kind=_KIND[attribute],
                     value=f"{zone.kind.replace('_', ' ')} ({zone.format} machine-readable zone)", detail=detail))
    titles = found_cues(lines, TITLES)
    labels = found_cues(lines, LABELS)
    if (titles and len(labels) >= 2) or len(labels) >= 4:
        # the title names the document; labels alone say "an identity document" (a29)
        attribute = next((a for a in (PASSPORT, DRIVERS, STUDENT, ID_CARD) if a in titles), ID_CARD)
        score = min(0.95, 0.55 + 0.05 * len(labels) + (0.15 if titles else 0.0))
        label_lines = sorted({i for idx in labels.values() for i in idx})
        regions = regions_of(lines, mrz_lines) + _value_regions(lines, label_lines, set(mrz_lines))
        detail = {"evidence": "visual zone", "labels": sorted(labels), "titles": sorted(titles)}
        name = vocab.by_id()[attribute].name.lower()
        keep(Finding(attribute, round(score, 3), "ocr+documents:labels", regions,
                     kind=_KIND[attribute], value=f"{name} (title and field labels)", detail=detail))
    return sorted(best.values(), key=lambda f: -f.score)


def _value_regions(lines: list[Line], label_lines: list[int], skip: set[int]) -> list[Region]:
    """Where the labelled fields' values are printed: the text after each label up to the next label on its
    line ("Sex: F  Nationality: NLD" gives "F" and "NLD"), or the next line when a label ends its line and
    that line is not itself a label or MRZ line."""
    regions: list[Region] = []
    labelled = set(label_lines)
    for i in label_lines:
        spans = [(lines[i], start, end) for start, end in _value_spans(lines[i].text)]
        if not spans and i + 1 < len(lines) and i + 1 not in labelled and i + 1 not in skip:
            spans = [(lines[i + 1], 0, len(lines[i + 1].text))]
        regions += [r for line, start, end in spans if (r := span_region(line, start, end)) is not None]
    return regions


def _value_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the values between and after the labels of one line."""
    labels = []
    for cue in LABELS:
        for m in cue.pattern.finditer(text):
            end = m.end()
            while end < len(text) and text[end].isalnum():  # a label matched by its stem ("nacionalidad|e")
                end += 1
            labels.append((m.start(), end))
    labels.sort()
    spans = []
    for k, (_, end) in enumerate(labels):
        stop = next((s for s, _ in labels[k + 1 :] if s >= end), len(text))
        value = text[end:stop]
        start = end + len(value) - len(value.lstrip(" :/.-"))
        stop = start + len(text[start:stop].rstrip(" :/.-"))
        if any(c.isalnum() for c in text[start:stop]):
            spans.append((start, stop))
    return spans


class DocumentDetector:
    """ID documents from the text detector's words. Stateless; thread-safe."""

    name = "documents"
    kind = "document"
    version = VERSION

    def detect(self, image: DecodedImage, prior: Mapping[str, DetectorResult]) -> DetectorResult:
        start = time.perf_counter()
        result = DetectorResult(detector=self.name, findings=find_documents(words_of(prior)))
        result.seconds = time.perf_counter() - start
        return result


SPEC = DetectorSpec(
    name=DocumentDetector.name,
    kind=DocumentDetector.kind,
    version=VERSION,
    build=lambda context: DocumentDetector(),
    order=50,
    requires=("text",),
    locates=frozenset({PASSPORT, ID_CARD, DRIVERS, STUDENT}),
)
