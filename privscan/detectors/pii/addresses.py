"""Postal addresses: street lines and place lines (postcode + town), joined when they follow each other.

US lines are tagged by `usaddress` (datamade's CRF address parser). Other countries' lines come from one
table of street-type words (English, German, French, Spanish, Italian, Portuguese, Dutch, Malay, Indian
English) and one of postcode shapes (UK, the 5-digit codes of Germany, France, Spain, Italy, Malaysia;
the Netherlands' "1012 AB", Brazil's "01310-100", Portugal's "1100-148", Poland's "00-950", India's PIN),
so an address in Berlin, Lyon, Mumbai or São Paulo is found as surely as one in Springfield. A street
line and a place line together are a complete home address (a78), either alone a partial one (a79).
"""

from __future__ import annotations

import re

from privscan.detectors.pii.lines import Line, Match, free
from privscan.detectors.pii.settings import PiiSettings

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
_STREET_LABELS = {"AddressNumber", "StreetName", "StreetNamePostType", "StreetNamePreType",
                  "StreetNamePreDirectional", "StreetNamePostDirectional", "OccupancyType",
                  "OccupancyIdentifier", "PlaceName", "StateName", "ZipCode", "USPSBoxType", "USPSBoxID"}

#: street-type words that follow the street's name ("Baker Street", "Hauptstraße" is a suffix, below)
_POST_TYPES = (
    "street st road rd avenue ave av lane ln drive dr way court ct place pl boulevard blvd close crescent cres "
    "terrace tce square sq gardens gdns hill row mews parade grove walk park rise vale green marg nagar colony "
    "layout cross main enclave extension"
)
#: street-type words that come before the name ("Rue de la Paix", "Calle Mayor", "Jalan Ampang")
_PRE_TYPES = (
    "rue avenue av boulevard bd chemin allée allee impasse place quai route cours calle c/ avenida avda paseo "
    "plaza carrera camino carretera via viale piazza corso vicolo largo rua travessa praça praca alameda "
    "estrada rodovia jalan jln lorong lrg persiaran lebuh taman tmn"
)
#: compound suffixes of German / Dutch / Scandinavian street names ("Hauptstraße 12", "Damstraat 5")
_SUFFIX = (r"(?:stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|plein|gracht|kade|gade|vej|"
           r"gatan|väg)")
_POST = "|".join(re.escape(w) for w in _POST_TYPES.split())
_PRE = "|".join(re.escape(w) for w in _PRE_TYPES.split())
_NAME = r"[A-ZÀ-Þa-zß-ÿ][\wÀ-ÿ'’.\-]*"
_NUM = r"\d{1,5}(?:\s?[A-Za-z])?(?:[-/]\d{1,4}[A-Za-z]?)?"
STREET_PATTERNS = (
    # "221B Baker Street", "12, MG Road", "Flat 3, 22 Baker Street"
    re.compile(rf"(?<![\w.])(?:(?:flat|apt|unit|suite)\s*\d+[A-Z]?,?\s+)?{_NUM},?\s+(?:{_NAME}\s+){{0,4}}(?:{_POST})\b\.?",
               re.I),
    # "12 rue de la Paix", "Calle Mayor 5", "Via Roma 10", "Rua Augusta, 1500", "No. 2 & 4, Jalan ..."
    re.compile(rf"(?<![\w.])(?:{_NUM},?\s+)?(?:{_PRE})\.?\s+(?:(?:de|del|de la|des|du|da|do|dos|das|di|della|"
               rf"&|{_NAME}|\d+[/\d]*),?\s+){{0,5}}(?:{_NAME}|\d+[/\d]*)(?:,?\s+(?:n[°º.]?\s*)?{_NUM})?",
               re.I),
    # "Am Mühlbach 44a", "An der Alster 3", "Im Winkel 7": German streets named by a preposition
    re.compile(rf"(?<![\w.])(?:am|an\s+der|an\s+den|im|in\s+der|auf\s+dem|zum|zur|unter\s+den)\s+{_NAME}(?:\s+{_NAME})?"
               rf"\s+{_NUM}\b", re.I),
    # "Hauptstraße 12", "Damstraat 5a"
    re.compile(rf"(?<![\w.])[A-ZÄÖÜ][\wäöüß\-]*{_SUFFIX}\s+{_NUM}\b", re.I),
)
_CITY = r"[A-ZÀ-Þ][\wÀ-ÿ'’\-]+(?:\s+[A-ZÀ-Þ][\wÀ-ÿ'’\-]+){0,3}"
PLACE_PATTERNS = (
    (re.compile(rf"(?:{_CITY},?\s+)?\b[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{{2}}\b"), "uk_postcode"),
    (re.compile(rf"(?<![\d\-/.])\d{{5}}(?![\d\-/.]),?\s+{_CITY}"), "5_digit_postcode"),
    (re.compile(rf"(?<![\d\-])\d{{4}}\s?[A-Z]{{2}}\s+{_CITY}"), "nl_postcode?"),
    (re.compile(rf"(?<![\d\-])\d{{5}}-\d{{3}}(?![\d])(?:\s*[-–,]?\s*{_CITY}(?:\s+d[aeo]s?\s+{_CITY})?)?"), "br_cep"),
    (re.compile(rf"(?<![\d\-])\d{{4}}-\d{{3}}\s+{_CITY}"), "pt_postcode"),
    (re.compile(rf"(?<![\d\-])\d{{2}}-\d{{3}}\s+{_CITY}"), "pl_postcode?"),
    (re.compile(rf"{_CITY}\s*[-–,]?\s*[1-8]\d{{2}}\s?\d{{3}}(?![\d])"), "in_pin?"),
)
_BOX = re.compile(r"(p\.?\s*o\.?\s*)?box|postfach|apartado|caixa|bp\b|cp\b|po\b", re.I)
_NOT_ADDRESS = re.compile(r"\b(total|subtotal|amount|price|qty|tax|gst|vat|invoice|receipt|change|cash)\b", re.I)


def _us_part(ln: Line) -> tuple[int, int, str] | None:
    import usaddress

    try:
        tokens = usaddress.parse(ln.text)
    except Exception:
        return None
    located, pos = [], 0
    for tok, label in tokens:
        at = ln.text.find(tok, pos)
        if at < 0:
            continue
        pos = at + len(tok)
        located.append((at, pos, tok, label))
    labels = {lab for *_, lab in located}
    is_street = {"AddressNumber", "StreetName"} <= labels and bool(
        {"StreetNamePostType", "StreetNamePreType"} & labels
    ) and any(lab == "AddressNumber" and tok.strip(",").isdigit() for *_, tok, lab in located)
    is_box = {"USPSBoxType", "USPSBoxID"} <= labels and any(
        lab == "USPSBoxType" and _BOX.match(tok) for *_, tok, lab in located)
    states = [tok.strip(",.") for *_, tok, lab in located if lab == "StateName"]
    zips = [tok.strip(",.") for *_, tok, lab in located if lab == "ZipCode"]
    is_place = (
        "PlaceName" in labels
        and any(s.upper() in _US_STATES or s.lower() in _STATE_NAMES for s in states)
        and any(re.fullmatch(r"\d{5}(-\d{4})?", z) for z in zips)
    )
    if not (is_street or is_box or is_place):
        return None
    kept = [(s, e) for s, e, _tok, lab in located if lab in _STREET_LABELS]
    return min(s for s, _ in kept), max(e for _, e in kept), "street" if (is_street or is_box) else "place"


def _international_part(ln: Line) -> tuple[int, int, str] | None:
    if _NOT_ADDRESS.search(ln.text):
        return None
    spans: list[tuple[int, int, str]] = []
    for pattern in STREET_PATTERNS:
        for m in pattern.finditer(ln.text):
            if any(c.isdigit() for c in m.group(0)) and len(m.group(0).split()) >= 2:
                spans.append((m.start(), m.end(), "street"))
    for pattern, scheme in PLACE_PATTERNS:
        for m in pattern.finditer(ln.text):
            # a shape that other numbers share too ("?") only counts next to a street line
            spans.append((m.start(), m.end(), "weak" if scheme.endswith("?") else "place"))
    if not spans:
        return None
    found = {k for *_, k in spans}
    has_place = bool(found & {"place", "weak"})
    # a line with both a street and a place ("12 rue de la Paix, 75002 Paris") is one span
    kind = ("both" if has_place else "street") if "street" in found else ("place" if "place" in found else "weak")
    return min(s for s, _, _ in spans), max(e for _, e, _ in spans), kind


def addresses(lines: list[Line], found: list[Match], settings: PiiSettings) -> None:
    parts: list[tuple[int, int, int, str, str]] = []  # (line, start, end, street|place|both, parser)
    for ln in lines:
        # both readers; the one that explains more of the line wins, the country tables on a tie
        # (usaddress reads "1016 DV Amsterdam" as a US street, the tables stop at "88 Quarry Hill Road")
        intl, us = _international_part(ln), _us_part(ln)
        part, parser = intl, "address"
        if us is not None and (intl is None or us[1] - us[0] > intl[1] - intl[0]):
            part, parser = us, "usaddress"
        if part is None:
            continue
        start, end, kind = part
        while end > start and ln.text[end - 1] in ",.;":
            end -= 1
        if free(found, ln.index, start, end):
            parts.append((ln.index, start, end, kind, parser))
    # consecutive address lines make one address
    groups: list[list[tuple[int, int, int, str, str]]] = []
    for p in parts:
        if groups and p[0] == groups[-1][-1][0] + 1 and len(groups[-1]) < 4:
            groups[-1].append(p)
        else:
            groups.append([p])
    for g in groups:
        if all(p[3] == "weak" for p in g):
            continue
        value = ", ".join(lines[li].text[s:e] for li, s, e, *_ in g)
        has_street = any(k in ("street", "both") for _, _, _, k, _ in g)
        has_place = any(k in ("place", "both", "weak") for _, _, _, k, _ in g) or any(
            lines[li].text[s:e].count(",") >= 1 and re.search(r"\d{5}", lines[li].text[s:e]) for li, s, e, *_ in g
        )
        complete = has_street and has_place
        kind = "address" if complete else "address_partial"
        parser = "usaddress" if all(p[4] == "usaddress" for p in g) else "address"
        found.append(Match(kind, 0.9 if complete else 0.7, value, parser, [(li, s, e) for li, s, e, *_ in g]))
