"""Receipts (a37), tickets (a38) and mail (a35), told from the structure of the text the text detector read.

- A receipt has amounts (prices with two decimals) and the vocabulary of a till slip in several languages
  (total, subtotal, VAT/GST/TVA/MwSt/IVA, cash, change, qty, "tax invoice", "Summe", "Gesamt", "Montant",
  "Importe", ...). Its header, the lines above the first line of shop registration, tax or till data, holds
  the shop's name (reported as the merchant) and the shop's postal address: where the person was
  (a74, visited location), located line by line so redaction can cover it.
- A ticket or boarding pass has travel or event fields (gate, seat, flight, platform, departure, PNR,
  booking reference, "admit one", ...).
- Mail (letters and envelopes) is a complete postal address that the text detector found together with a
  letter's salutation or closing, or a postal mark (postage, "par avion", "Royal Mail", ...).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping

from privscan.detectors.base import DetectorResult, Finding
from privscan.detectors.pii.lines import Line
from privscan.detectors.spec import DetectorSpec
from privscan.detectors.textlayout import cues, found_cues, lines_of, regions_of, words_of
from privscan.io.decode import DecodedImage

VERSION = "receipts-1"
RECEIPT, TICKET, MAIL, VISITED = "a37_receipt", "a38_ticket", "a35_mail", "a74_address_current_complete"

RECEIPT_CUES = cues((
    ("total", r"\b(total|totaal|totale|gesamt|summe|montant|importe|valor\s*total|grand\s*total|amount\s*due)\b"),
    ("subtotal", r"\b(sub-?\s*total|zwischensumme|sous-?total)\b"),
    ("tax", r"\b(vat|gst|tva|mwst|ust|iva|btw|sst|tax|steuer|taxe|impuesto)\b"),
    ("payment", r"\b(cash|change|tendered|card|visa|mastercard|bar|rückgeld|esp[èe]ces|efectivo|rendu|cambio|"
                r"contactless|paid|payment)\b"),
    ("lines", r"\b(qty|quantity|item|items|price|amount|menge|artikel|prix|precio|qt[ée]|unit)\b"),
    ("slip", r"\b(receipt|invoice|bill|quittung|beleg|kassenbon|re[çc]u|ticket\s*de\s*caisse|recibo|factura|"
             r"fattura|scontrino|cashier|kasse|caisse|till|terminal|trans(action)?|rounding)\b"),
    ("thanks", r"\b(thank\s*you|danke|merci|gracias|grazie|obrigad[oa]|terima\s*kasih|come\s*again)\b"),
))
_PRICE = re.compile(r"(?<![\d.,])\d{1,6}[.,]\d{2}(?![\d.,%])")
#: the line that ends a receipt's header: registration, tax, contact or till data
_HEADER_END = re.compile(
    r"\b(gst|vat|tva|mwst|ust|iva|btw|abn|siret|cif|nif|tin|tel|phone|fax|tax\s*invoice|"
    r"invoice|receipt|date|cashier|table|order|bill|www\.|http|e-?mail)\b|@|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}",
    re.I,
)
#: the company's registration number under its name ("(SA0264195-T)", "Company Reg. No. : 725186-V")
_REGISTRATION = re.compile(r"\([\w\-. ]*\d[\w\-. ]*\)|.*\b(co\.?\s*reg|company\s*reg|reg\.?\s*no|roc)\b.*", re.I)
_ADDRESS_WORDS = re.compile(
    r"\b(no|lot|jalan|jln|taman|road|rd|street|st|avenue|ave|lane|floor|unit|block|blk|plaza|mall|centre|center|"
    r"rue|strasse|straße|str|calle|via|rua|avenida|platz|weg|building|bldg|level|suite|shop|kampung|bandar)\b",
    re.I,
)
TICKET_CUES = cues((
    ("boarding", r"\b(boarding\s*pass|embarquement|bordkarte|tarjeta\s*de\s*embarque|carta\s*d.?imbarco)\b"),
    ("ticket", r"\b(ticket|billet|fahrkarte|fahrschein|biglietto|billete|bilhete|e-?ticket|admit\s*one)\b"),
    ("gate", r"\b(gate|porte|puerta|flugsteig|platform|gleis|quai|binario|and[ée]n)\b"),
    ("seat", r"\b(seat|si[eè]ge|sitzplatz|platz|asiento|posto|row|rang|reihe|fila|coach|wagen|voiture|carriage)\b"),
    ("journey", r"\b(flight|flug|vol|vuelo|volo|train|zug|departure|arrival|depart|abfahrt|ankunft|d[ée]part|"
                r"arriv[ée]e|salida|llegada|boarding\s*time|from|to)\b"),
    ("booking", r"\b(pnr|booking\s*(ref|reference|code)|reservation|buchungs|r[ée]servation|localizador|"
                r"confirmation\s*(no|number|code))\b"),
    ("passenger", r"\b(passenger|passager|fahrgast|reisender|pasajero|passeggero|name\s*of\s*passenger)\b"),
    ("event", r"\b(venue|section|block|stand|door|doors\s*open|event|concert|match|entry)\b"),
))
MAIL_CUES = cues((
    ("salutation", r"\b(dear|liebe[rs]?|sehr\s*geehrte|cher|ch[èe]re|madame|monsieur|estimad[oa]|querid[oa]|"
                   r"gentile|caro|cara|hello|hi)\b"),
    ("closing", r"\b(sincerely|regards|yours\s*(truly|faithfully)|best\s*wishes|mit\s*freundlichen|cordialement|"
                r"atentamente|saludos|distinti\s*saluti|cordiali\s*saluti|love)\b"),
    ("postal", r"\b(postage|par\s*avion|air\s*mail|royal\s*mail|first\s*class|second\s*class|priority\s*mail|"
               r"deutsche\s*post|la\s*poste|correos|poste\s*italiane|return\s*to\s*sender|c/o|recorded\s*delivery|"
               r"einschreiben|recommand[ée]|postnl|usps)\b"),
))


def _header(lines: list[Line]) -> tuple[list[Line], list[Line]]:
    """(merchant lines, address lines) of a receipt: the lines above the first registration/tax/till line."""
    start = next((ln.index for ln in lines if sum(c.isalpha() for c in ln.text) >= 3), None)
    if start is None:
        return [], []
    header: list[Line] = []
    for ln in lines[start : start + 9]:
        if ln.index > start and _HEADER_END.search(ln.text) and not _REGISTRATION.fullmatch(ln.text.strip()):
            break
        header.append(ln)
    merchant: list[Line] = []
    rest: list[Line] = []
    for ln in header:
        outside = re.sub(r"\([^)]*\)", "", ln.text)
        plain = not any(c.isdigit() for c in outside) and not _ADDRESS_WORDS.search(outside)
        if not rest and plain and len(merchant) < 2:
            merchant.append(ln)
        elif _REGISTRATION.fullmatch(ln.text.strip()):
            continue  # "(SA0264195-T)": the company's registration number, not its address
        else:
            rest.append(ln)
    if not any(any(c.isdigit() for c in ln.text) for ln in rest):
        rest = []  # no street number or postcode: not an address block
    return merchant, rest


def find_paper(lines: list[Line], text_findings: list[Finding]) -> list[Finding]:
    """Receipt, ticket and mail findings in these OCR lines (see the module docstring)."""
    if not lines:
        return []
    out: list[Finding] = []
    receipt = found_cues(lines, RECEIPT_CUES)
    prices = sum(len(_PRICE.findall(ln.text)) for ln in lines)
    if (len(receipt) >= 3 and prices >= 2) or (len(receipt) >= 2 and prices >= 5):
        score = min(0.95, 0.5 + 0.07 * len(receipt) + 0.02 * min(prices, 10))
        detail: dict[str, object] = {"cues": sorted(receipt), "amounts": prices}
        merchant, address = _header(lines)
        # located by what identifies it (the shop, where it is): hiding a receipt must not blank the paper
        out.append(Finding(RECEIPT, round(score, 3), "ocr+receipts:structure",
                           regions_of(lines, [ln.index for ln in merchant + address]), kind="receipt",
                           value="receipt (amounts and till vocabulary)", detail=detail))
        if merchant:
            out.append(Finding(RECEIPT, round(score * 0.9, 3), "ocr+receipts:header",
                               regions_of(lines, [ln.index for ln in merchant]), kind="merchant",
                               value=" ".join(ln.text for ln in merchant)))
        if address:
            out.append(Finding(VISITED, 0.8, "ocr+receipts:header", regions_of(lines, [ln.index for ln in address]),
                               kind="visited_address", value=", ".join(ln.text for ln in address)))
    ticket = found_cues(lines, TICKET_CUES)
    strong = {"boarding", "ticket", "booking"} & set(ticket)
    if len(ticket) >= 4 or (strong and len(ticket) >= 3):
        score = min(0.9, 0.45 + 0.07 * len(ticket) + 0.1 * len(strong))
        # the fields: each cue's line and the line under it (where a boarding pass prints the value)
        fields = {j for v in ticket.values() for i in v for j in (i, i + 1) if j < len(lines)}
        out.append(Finding(TICKET, round(score, 3), "ocr+receipts:ticket", regions_of(lines, fields), kind="ticket",
                           value="ticket (travel or event fields)", detail={"cues": sorted(ticket)}))
    mail = found_cues(lines, MAIL_CUES)
    addressed = [f for f in text_findings if f.attribute == "a78_address_home_complete"]
    if addressed and mail:
        regions = [r for f in addressed for r in f.regions] + regions_of(lines, [i for v in mail.values() for i in v])
        out.append(Finding(MAIL, 0.75 if len(mail) >= 2 else 0.6, "ocr+receipts:mail", regions, kind="mail",
                           value="mail (postal address with a letter's or envelope's wording)",
                           detail={"cues": sorted(mail)}))
    return out


class PaperDetector:
    """Receipts, tickets and mail from the text detector's words and findings. Stateless; thread-safe."""

    name = "receipts"
    kind = "receipt"
    version = VERSION

    def detect(self, image: DecodedImage, prior: Mapping[str, DetectorResult]) -> DetectorResult:
        start = time.perf_counter()
        text = prior.get("text")
        findings = find_paper(lines_of(words_of(prior)), list(text.findings) if text is not None else [])
        result = DetectorResult(detector=self.name, findings=findings)
        result.seconds = time.perf_counter() - start
        return result


SPEC = DetectorSpec(
    name=PaperDetector.name,
    kind=PaperDetector.kind,
    version=VERSION,
    build=lambda context: PaperDetector(),
    order=51,
    requires=("text",),
    locates=frozenset({RECEIPT, TICKET, MAIL, VISITED}),
)
