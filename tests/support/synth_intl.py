"""Generated documents and screenshots in the formats of several countries (tests/support/locales.py):
identity cards with their visual-zone labels in the issuer's language and a TD1 machine-readable zone,
passports with a TD3 zone, letters, banking pages, till receipts, chat and e-mail screenshots.

Like synth.py, every value is invented and each drawn value's pixel box is the truth. Text that is not
personal data (labels, shop items, UI furniture, times) is drawn without a kind: it is the background a
redaction should leave alone.
"""

from __future__ import annotations

import random
import unicodedata

from privscan.detectors.base import Box
from support import locales
from support.synth import SynthImage, TruthItem, _Canvas, _mrz_digit, font

EU_MRZ = ("DE", "FR", "ES", "IT", "NL")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _mrz_name(name: str) -> tuple[str, str]:
    plain = _ascii(name).upper()
    given, _, surname = plain.partition(" ")
    return surname.replace(" ", "<"), given.replace(" ", "<")


def _draw_mrz(c: _Canvas, x: float, y: float, lines: list[str], size: int, kind: str) -> None:
    mono = font(size, mono=True)
    for i, line in enumerate(lines):
        xy = (x, y + i * size * 1.6)
        c.draw.text(xy, line, font=mono, fill=(20, 20, 20))
        x0, y0, x1, y1 = c.draw.textbbox(xy, line, font=mono)
        c.items.append(TruthItem(kind, line, Box(float(x0), float(y0), float(x1), float(y1))))


def id_card(seed: int, country: str, size: tuple[int, int] = (1400, 880)) -> SynthImage:
    """An identity card of `country`: title, labelled name / birth date / ID number / nationality /
    address in the local language, and for EU countries a TD1 zone on the same side."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (238, 241, 236))
    w, h = size
    s = max(18, h // 30)
    c.draw.rectangle([0, 0, w, int(h * 0.11)], fill=(40, 80, 120))
    c.text((w * 0.03, h * 0.025), loc.labels["title"], int(s * 1.05), bold=True, fill=(255, 255, 255))
    c.draw.rectangle([int(w * 0.03), int(h * 0.16), int(w * 0.25), int(h * 0.6)], outline=(120, 120, 120), width=3)
    name = rng.choice(loc.names)
    given, surname = name.split(" ", 1)
    number = locales.id_number(rng, country)
    birth = locales.written_date(rng, loc, birth=True)
    x, y, step = w * 0.3, h * 0.15, h * 0.095
    c.labelled(x, y, f"{loc.labels['surname']}:", surname.upper(), "name_last", s)
    c.labelled(x, y + step, f"{loc.labels['given']}:", given.upper(), "name_first", s)
    c.labelled(x, y + 2 * step, f"{loc.labels['birth']}:", birth, "birth_date", s)
    c.labelled(x, y + 3 * step, f"{loc.labels['nationality']}:", loc.iso3 if len(loc.iso3) == 3 else "DEU",
               "nationality", s)
    c.labelled(x, y + 4 * step, f"{loc.labels['id']}:", number, "id_number", s)
    street = rng.choice(loc.streets).format(n=rng.randint(2, 180))
    c.labelled(x, y + 5 * step, f"{loc.labels['address']}:", street, "address", s)
    c.text((x, y + 6 * step), rng.choice(loc.places), s, kind="address")
    if country in EU_MRZ:
        doc = "".join(rng.choice("CFGHJKLMNPRTVWXYZ") for _ in range(2)) + f"{rng.randint(1000000, 9999999)}"
        state = loc.iso3.ljust(3, "<")
        l1 = f"ID{state}{doc}{_mrz_digit(doc)}".ljust(30, "<")
        dob = f"{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        exp = f"3{rng.randint(0, 4)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        l2 = f"{dob}{_mrz_digit(dob)}{rng.choice('MF')}{exp}{_mrz_digit(exp)}{state}".ljust(29, "<")
        l2 += _mrz_digit(l1[5:30] + l2[:7] + l2[8:15] + l2[18:29])
        sur, giv = _mrz_name(name)
        l3 = f"{sur}<<{giv}".ljust(30, "<")[:30]
        _draw_mrz(c, w * 0.05, h * 0.8, [l1, l2, l3], int(s * 0.95), "id_number")
    else:
        c.text((w * 0.05, h * 0.86), "This card remains the property of the issuing authority.", int(s * 0.8),
               fill=(90, 90, 90))
    return c.done()


def passport(seed: int, country: str, size: tuple[int, int] = (1500, 980)) -> SynthImage:
    """A passport data page with bilingual labels and its TD3 zone."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (246, 240, 230))
    w, h = size
    s = max(18, h // 32)
    name = rng.choice(loc.names)
    given, surname = name.split(" ", 1)
    doc = f"{rng.choice('CPXK')}{rng.randint(10_000_000, 99_999_999)}"
    c.text((w * 0.04, h * 0.04), f"PASSPORT / {loc.labels['title'].split()[-1]}", int(s * 1.2), bold=True,
           fill=(80, 30, 60))
    x, y, step = w * 0.3, h * 0.15, h * 0.1
    c.labelled(x, y, "Passport No / N°:", doc, "passport", s)
    c.labelled(x, y + step, f"Surname / {loc.labels['surname']}:", surname.upper(), "name_last", s)
    c.labelled(x, y + 2 * step, f"Given names / {loc.labels['given']}:", given.upper(), "name_first", s)
    c.labelled(x, y + 3 * step, f"Date of birth / {loc.labels['birth']}:", locales.written_date(rng, loc, birth=True),
               "birth_date", s)
    c.text((x, y + 4 * step), "Authority: Ministry of the Interior", s, fill=(90, 90, 90))
    sur, giv = _mrz_name(name)
    state = loc.iso3.ljust(3, "<")
    l1 = f"P<{state}{sur}<<{giv}".ljust(44, "<")[:44]
    dn = doc.ljust(9, "<")
    dob = f"{rng.randint(50, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    exp = f"3{rng.randint(0, 4)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    l2 = f"{dn}{_mrz_digit(dn)}{state}{dob}{_mrz_digit(dob)}{rng.choice('MF')}{exp}{_mrz_digit(exp)}"
    l2 = (l2 + "<" * 14 + "0")[:43]
    l2 += _mrz_digit(l2[:10] + l2[13:20] + l2[21:43])
    _draw_mrz(c, w * 0.04, h * 0.76, [l1, l2], int(s * 1.0), "passport")
    return c.done()


def letter(seed: int, country: str, size: tuple[int, int] = (1240, 1500)) -> SynthImage:
    """A letter: sender's name, address, phone and e-mail; the date; a greeting and a signature."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (252, 251, 246))
    w, h = size
    s = max(18, w // 44)
    name = rng.choice(loc.names)
    x, y, step = w * 0.08, h * 0.05, s * 1.7
    c.text((x, y), name, s, kind="name")
    c.text((x, y + step), rng.choice(loc.streets).format(n=rng.randint(2, 180)), s, kind="address")
    c.text((x, y + 2 * step), rng.choice(loc.places), s, kind="address")
    number = locales.phone(rng, country, international=rng.random() < 0.5)
    c.labelled(x, y + 3 * step, f"{loc.labels['phone']}:", number, "phone", s)
    user = _ascii(name.lower().split()[-1])
    c.labelled(x, y + 4 * step, "E-mail:", f"{user}.{rng.randint(10, 99)}@example.net", "email", s)
    c.text((w * 0.6, y + 6 * step), locales.written_date(rng, loc, birth=False), s, kind="date")
    body = ("thank you for the parcel, it arrived safely on the morning train.",
            "The garden is in full bloom and the neighbours send their greetings.",
            "We look forward to seeing you again in the spring.")
    c.text((x, y + 8 * step), "Dear friend,", s)
    for i, line in enumerate(body):
        c.text((x, y + (9 + i) * step), line, s)
    c.text((x, y + 13 * step), "Kind regards,", s)
    c.text((x, y + 14 * step), name, s, kind="name")
    return c.done()


def bank_page(seed: int, country: str, size: tuple[int, int] = (1280, 860)) -> SynthImage:
    """An online-banking screenshot: holder, IBAN, card number, login name."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (249, 250, 252))
    w, h = size
    s = max(18, w // 46)
    name = rng.choice(loc.names)
    c.text((w * 0.05, h * 0.05), "ONLINE BANKING - ACCOUNT OVERVIEW", int(s * 1.1), bold=True, fill=(20, 60, 120))
    x, y, step = w * 0.05, h * 0.2, h * 0.11
    c.labelled(x, y, "Account holder:", name, "name", s)
    c.labelled(x, y + step, "IBAN:", locales.iban(rng, country), "iban", s)
    c.labelled(x, y + 2 * step, "Card:", rng.choice(("4539 1488 0343 6467", "5425 2334 3010 9903")), "card", s)
    first, last = name.lower().split(" ", 1)
    c.labelled(x, y + 3 * step, "Username:", f"{first[0]}{last.split()[-1][:6]}{rng.randint(10, 99)}", "username", s)
    c.text((x, y + 4.5 * step), "Balance: 2,431.08   Available: 2,131.08", s, fill=(60, 60, 60))
    c.text((x, y + 5.5 * step), "Never share your password with anyone.", s, fill=(90, 90, 90))
    return c.done()


def receipt(seed: int, country: str, size: tuple[int, int] = (760, 1300)) -> SynthImage:
    """A till receipt: shop name and address (where the buyer was), items, VAT, total, date."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (250, 250, 247))
    w, h = size
    s = max(18, w // 30)
    shop = rng.choice(("CORNER MARKET", "BAKERY ROSE", "CITY PHARMACY", "GREEN GROCER"))
    x, step = w * 0.1, s * 1.6
    y = h * 0.04
    c.text((w * 0.25, y), shop, int(s * 1.2), bold=True)
    c.text((x, y + 1.5 * step), rng.choice(loc.streets).format(n=rng.randint(2, 180)), s, kind="visited_address")
    c.text((x, y + 2.5 * step), rng.choice(loc.places), s, kind="visited_address")
    c.text((x, y + 3.5 * step), "VAT No 4471 0932 18", s)
    c.text((x, y + 5 * step), locales.written_date(rng, loc, birth=False), s, kind="date")
    items = (("Bread", 2.40), ("Milk 1L", 1.15), ("Apples", 3.20), ("Coffee", 6.99), ("Soap", 1.85))
    for i, (item, price) in enumerate(items):
        c.text((x, y + (6.5 + i) * step), item, s)
        c.text((w * 0.7, y + (6.5 + i) * step), f"{price:.2f}", s)
    total = sum(p for _, p in items)
    c.text((x, y + 12 * step), "VAT 7%", s)
    c.text((w * 0.7, y + 12 * step), f"{total * 0.07:.2f}", s)
    c.text((x, y + 13 * step), "TOTAL", s, bold=True)
    c.text((w * 0.7, y + 13 * step), f"{total:.2f}", s, bold=True)
    c.text((x, y + 14.5 * step), "CARD  **** **** **** 4467", s)
    c.text((x, y + 16 * step), "Thank you for shopping with us", s)
    return c.done()


def chat(seed: int, country: str, size: tuple[int, int] = (720, 1280)) -> SynthImage:
    """A messenger screenshot: contact name and handle in the header, message bubbles left and right with
    their times, the compose field."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (236, 229, 221))
    w, h = size
    s = max(18, w // 30)
    c.draw.rectangle([0, 0, w, int(h * 0.09)], fill=(7, 94, 84))
    name = rng.choice(loc.names)
    c.text((w * 0.16, h * 0.015), name, s, kind="name", fill=(255, 255, 255))
    c.text((w * 0.16, h * 0.015 + s * 1.3), "online", int(s * 0.7), fill=(220, 240, 230))
    messages = ("Are we still on for dinner tonight?", "Yes! See you at eight", "Shall I bring the wine?",
                "Please do, the red one", "Running ten minutes late", "No problem, take your time")
    y = h * 0.14
    for i, text in enumerate(messages[: rng.randint(4, 6)]):
        mine = i % 2 == 1
        f = font(s)
        tw = c.draw.textlength(text, font=f)
        bx = w - tw - w * 0.08 if mine else w * 0.05
        c.draw.rounded_rectangle([bx - 12, y - 8, bx + tw + 12, y + s * 2.3], radius=12,
                                 fill=(220, 248, 198) if mine else (255, 255, 255))
        c.text((bx, y), text, s, kind="conversation")
        c.text((bx + tw - s * 2.2, y + s * 1.25), f"{rng.randint(8, 22)}:{rng.randint(0, 59):02d}", int(s * 0.6),
               fill=(120, 120, 120))
        y += s * 3.2
    c.draw.rounded_rectangle([w * 0.03, h * 0.92, w * 0.85, h * 0.98], radius=20, fill=(255, 255, 255))
    c.text((w * 0.07, h * 0.935), "Type a message", s, fill=(150, 150, 150))
    return c.done()


def email_screen(seed: int, country: str, size: tuple[int, int] = (1280, 900)) -> SynthImage:
    """An e-mail client: From/To/Subject/Date header and the message body with a signature."""
    rng = random.Random(seed)
    loc = locales.LOCALES[country]
    c = _Canvas(size, (255, 255, 255))
    w, h = size
    s = max(18, w // 48)
    sender = rng.choice(loc.names)
    x, y, step = w * 0.05, h * 0.05, s * 1.8
    c.text((x, y), "Inbox", int(s * 1.1), bold=True, fill=(60, 60, 60))
    c.labelled(x, y + step, "From:", sender, "name", s)
    user = _ascii(sender.lower().split()[-1])
    c.labelled(x, y + 2 * step, "To:", f"{user}.team@example.com", "email", s)
    c.labelled(x, y + 3 * step, "Subject:", "Our trip next month", "email_content", s)
    c.labelled(x, y + 4 * step, "Date:", locales.written_date(rng, loc, birth=False), "date", s)
    body = ("Hi all, the train leaves at nine so please be on time.",
            "I have booked two rooms at the small hotel by the lake.",
            "Bring warm clothes, the evenings are cold up there.")
    for i, line in enumerate(body):
        c.text((x, y + (6 + i) * step), line, s, kind="email_content")
    c.text((x, y + 10 * step), sender, s, kind="name")
    c.labelled(x, y + 11 * step, f"{loc.labels['phone']}:", locales.phone(rng, country, international=True), "phone", s)
    c.text((x, y + 13 * step), "Reply   Forward   Archive", s, fill=(90, 90, 90))
    return c.done()


GENERATORS = {"id_card": id_card, "passport": passport, "letter": letter, "bank_page": bank_page,
              "receipt": receipt, "chat": chat, "email": email_screen}
