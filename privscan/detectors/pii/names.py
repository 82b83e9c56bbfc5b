"""Person names: labelled fields ("Name:", "Surname / Nom", "Nachname", "Apellidos", ...), greetings
("Dear Johanna,"), and unlabelled runs of capitalised words that `probablepeople` (datamade's CRF name
parser) parses as a person, backed by the US Census 1990 first/last-name lists (package `names`).

Labels come in the languages of European, Latin-American and Indian documents; on ID cards and passports
the value is often printed on the line under its label, so a label that ends its line takes the next line.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from privscan.detectors.pii.lines import Line, Match, free
from privscan.detectors.pii.settings import PiiSettings

_SURNAME = (r"surname|last\s*name|family\s*name|nom|nachname|familienname|apellidos?|cognome|achternaam|"
            r"nazwisko|p[řr][íi]jmen[íi]|prezime|sobrenome|apelido|efternamn|etternavn|sukunimi|pavard[ėe]")
_GIVEN = (r"first\s*names?|given\s*names?|forenames?|pr[ée]noms?|vornamen?|nombres?|nomes?|voornamen|imiona|"
          r"jm[ée]no|ime|förnamn|fornavn|etunimet|vardas|vardai")
NAME_LABELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b({_SURNAME})\s*[:/]", re.I), "name_last"),
    (re.compile(rf"\b({_GIVEN})\s*[:/]", re.I), "name_first"),
    (re.compile(
        r"\b(name|full\s*name|holder|card\s*holder|account\s*holder|patient|signed|from|to|"
        r"attn|attention|sender|recipient|employee|student|passenger|titular|inhaber|nom\s*complet|"
        r"nome\s*completo|nombre\s*completo)\s*:",
        re.I,
    ), "name_full"),
    (re.compile(r"\b(mr|mrs|ms|miss|dr|prof|herr|frau|mme|mlle|sr|sra|shri|smt)\.?(?=\s)", re.I), "name_full"),
)
#: a label alone on its line ("1. Surname / Nom / Apellidos"): the value is on the next line
_LABEL_LINE = (
    (re.compile(rf"^\W*\d?\W*({_SURNAME})(\s*/\s*\w+)*\W*$", re.I), "name_last"),
    (re.compile(rf"^\W*\d?\W*({_GIVEN})(\s*/\s*\w+)*\W*$", re.I), "name_first"),
    (re.compile(r"^\W*\d?\W*(name|full\s*name|nome|nombre|name\s*/\s*\w+)\W*$", re.I), "name_full"),
)
_GREETING = re.compile(r"\b(dear|hi|hello|hey|love|thanks|cheers|liebe|lieber|cher|chère|querida|querido|caro|cara)"
                       r"\b[, ]*", re.I)

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
    kingdom koninkrijk königreich konigreich royaume reino regno republiek république republique república
    republica repubblica republik rzeczpospolita bundesrepublik federativa federative federale federal
    italiana italiano française francaise española espanola deutschland nederland nederlanden belgique
    carta carte karte kaart tarjeta cartão cartao carteira identiteitskaart personalausweis identité identite
    identidad identità identita identidade passeport pasaporte passaporto paspoort reisepass passaporte
    nacional nationale nazionale residence permit titre séjour sejour aufenthaltstitel führerschein
    fuhrerschein permis conduire patente rijbewijs union européenne europeenne european europea
    gouvernement gobierno governo regierung ministère ministerio ministero
    """
)
_NOT_NAME = frozenset(_NOT_NAME_WORDS.split())


@functools.cache
def census() -> tuple[frozenset[str], frozenset[str]]:
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
    first, last = census()
    score = 0.45
    if words[0] in first:
        score += 0.25
    if words[-1] in last:
        score += 0.15
    return min(score, 0.9)




def _under_labels(lines: list[Line], found: list[Match]) -> None:
    """Names printed on the line below a label line (the usual layout of an ID card's visual zone)."""
    for ln in lines[:-1]:
        for pattern, kind in _LABEL_LINE:
            if not pattern.match(ln.text):
                continue
            nxt = lines[ln.index + 1]
            toks = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", nxt.text)][:4]
            picked = []
            for s, _e, tok in toks:
                clean = tok.strip(",.;")
                if not _NAME_TOKEN.fullmatch(clean) or clean.lower() in _NOT_NAME:
                    break
                picked.append((s, s + len(clean), clean))
            if picked and free(found, nxt.index, picked[0][0], picked[-1][1]):
                value = " ".join(p[2] for p in picked)
                found.append(Match(kind, 0.85, value, "label:name", [(nxt.index, picked[0][0], picked[-1][1])]))
            break


def names(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    _under_labels(lines, found)
    first_names, _ = census()
    for ln in lines:
        if any(pattern.match(ln.text) for pattern, _ in _LABEL_LINE):
            continue  # "Surname / Nom / Apellidos": labels, its value is on the next line
        tokens = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", ln.text)]
        claimed: set[int] = set()
        # 1. labelled names: "Name: ...", "Surname: ...", "Mr ..."
        for pattern, kind in NAME_LABELS:
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
                if free(found, ln.index, s, e):
                    value = " ".join(p[2] for p in picked)
                    found.append(Match(kind_, 0.9, value, "label:name", [(ln.index, s, e)]))
                    claimed.update(range(s, e))
        # 2. greetings: "Dear Johanna,"
        for gm in _GREETING.finditer(ln.text):
            nxt = [t for t in tokens if t[0] >= gm.end()][:1]
            if nxt:
                s, e, tok = nxt[0]
                clean = tok.strip(",.!;")
                if clean.upper() in first_names and _NAME_TOKEN.fullmatch(clean) and free(
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
                if free(found, ln.index, s, e):
                    value = " ".join(r[2] for r in run[:n])
                    found.append(Match("name_full", score, value, "name", [(ln.index, s, e)]))
                i += n
            else:
                i = max(j, i + 1)
