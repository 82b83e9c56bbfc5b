"""Synthetic images with fake personal data and known truth: examples, tests and benchmarks share them.

Every value is invented (names from a small fixed list, card numbers that pass Luhn but belong to test
ranges, addresses on made-up streets). Each drawn value's pixel box is recorded exactly (Pillow's
textbbox), so detectors and redaction can be scored against it. Fonts: see `font_path`. Each truth item's
kind is one of privscan.kinds' kinds or aliases, so its attributes come from the table the product uses.
Lives under tests/ (not in the wheel): tests, benchmarks and examples import it as `support.synth`.
"""

from __future__ import annotations

import functools
import random
import shutil
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from privscan import kinds
from privscan.detectors.base import Box

_STYLES = {"regular": ("DejaVuSans.ttf", "DejaVu Sans"), "bold": ("DejaVuSans-Bold.ttf", "DejaVu Sans:bold"),
           "mono": ("DejaVuSansMono.ttf", "DejaVu Sans Mono")}


@functools.cache
def font_path(style: str = "regular") -> Path:
    """A TrueType file for `style`: matplotlib's bundled DejaVu first (the same glyphs on every machine, and
    matplotlib is a privscan dependency), then whatever fontconfig matches, then the common system folders."""
    file, pattern = _STYLES[style]
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / file
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    if shutil.which("fc-match"):
        out = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.endswith(".ttf") and Path(out.stdout).is_file():
            return Path(out.stdout)
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"):
        hits = sorted(root.rglob(file)) if root.is_dir() else []
        if hits:
            return hits[0]
    raise FileNotFoundError(f"no TrueType font for {style!r}: install matplotlib or fonts-dejavu-core")


def font(size: int, *, bold: bool = False, mono: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path("mono" if mono else "bold" if bold else "regular")), size)


FAKE_NAMES = (
    "Johanna Whitfield",
    "Marcus Oyelaran",
    "Ingrid Castellanos",
    "Tobias Brennecke",
    "Amelia Hartigan",
)
FAKE_STREETS = ("1427 Larkspur Lane, Springfield, IL 62704", "88 Quarry Hill Road, Burlington, VT 05401")
TEST_CARDS = ("4539 1488 0343 6467", "5425 2334 3010 9903", "4111 1111 1111 1111")


@dataclass(frozen=True)
class TruthItem:
    kind: str
    text: str
    box: Box

    @property
    def attributes(self) -> tuple[str, ...]:
        """The VISPR ids this value reveals, from the same kind table the report's masking uses."""
        return (kinds.attribute_of(self.kind),)


@dataclass
class SynthImage:
    image: Image.Image
    items: list[TruthItem] = field(default_factory=list)

    def boxes(self, kind: str) -> list[Box]:
        return [i.box for i in self.items if i.kind == kind]


class _Canvas:
    def __init__(self, size: tuple[int, int], background: tuple[int, int, int]) -> None:
        self.image = Image.new("RGB", size, background)
        self.draw = ImageDraw.Draw(self.image)
        self.items: list[TruthItem] = []

    def text(
        self,
        xy: tuple[float, float],
        text: str,
        size: int,
        *,
        kind: str | None = None,
        bold: bool = False,
        fill: tuple[int, int, int] = (20, 20, 20),
    ) -> Box:
        f = font(size, bold=bold)
        self.draw.text(xy, text, font=f, fill=fill)
        x0, y0, x1, y1 = self.draw.textbbox(xy, text, font=f)
        box = Box(float(x0), float(y0), float(x1), float(y1))
        if kind is not None:
            self.items.append(TruthItem(kind, text, box))
        return box

    def labelled(self, x: float, y: float, label: str, value: str, kind: str, size: int) -> Box:
        """'Label:' in grey, then the value whose box is the truth."""
        label_box = self.text((x, y), label, size, fill=(90, 90, 90))
        return self.text((label_box.x1 + size * 0.5, y), value, size, kind=kind)

    def done(self) -> SynthImage:
        return SynthImage(self.image, self.items)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def id_card(seed: int = 0, size: tuple[int, int] = (1280, 800), face: Image.Image | None = None) -> SynthImage:
    """A fake national ID card: name, birth date, ID number, address; optionally a face photo."""
    rng = random.Random(seed)
    c = _Canvas(size, (236, 242, 250))
    w, h = size
    s = max(18, h // 22)
    c.draw.rectangle([0, 0, w, int(h * 0.14)], fill=(30, 70, 140))
    c.text(
        (w * 0.04, h * 0.03),
        "REPUBLIC OF NOWHERE - IDENTITY CARD",
        int(s * 1.1),
        bold=True,
        fill=(255, 255, 255),
    )
    photo = (int(w * 0.04), int(h * 0.2), int(w * 0.3), int(h * 0.75))
    if face is not None:
        c.image.paste(face.convert("RGB").resize((photo[2] - photo[0], photo[3] - photo[1])), photo[:2])
    else:
        c.draw.rectangle(photo, outline=(120, 120, 120), width=3)
    x = w * 0.34
    name = rng.choice(FAKE_NAMES)
    c.labelled(x, h * 0.22, "Name:", name, "name", s)
    c.labelled(
        x,
        h * 0.34,
        "Date of birth:",
        f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.19{rng.randint(50, 99)}",
        "birth_date",
        s,
    )
    c.labelled(x, h * 0.46, "ID No:", f"L{rng.randint(10, 99)}X{rng.randint(100000, 999999)}", "id_number", s)
    street, city = rng.choice(FAKE_STREETS).split(",", 1)
    c.labelled(x, h * 0.58, "Address:", street, "address", s)
    c.text((x, h * 0.70), city.strip(), s, kind="address")
    return c.done()


def credit_card(seed: int = 0, size: tuple[int, int] = (1200, 760)) -> SynthImage:
    """A fake payment card: Luhn-valid test number, holder name, expiry."""
    rng = random.Random(seed)
    c = _Canvas(size, (24, 48, 96))
    w, h = size
    s = max(20, h // 14)
    c.draw.rounded_rectangle([w * 0.05, h * 0.3, w * 0.2, h * 0.48], radius=10, fill=(212, 175, 55))
    number = rng.choice(TEST_CARDS)
    assert luhn_ok(number)
    c.text((w * 0.06, h * 0.55), number, int(s * 1.15), kind="card", fill=(245, 245, 245))
    c.text((w * 0.06, h * 0.75), "VALID THRU 09/29", int(s * 0.6), fill=(230, 230, 230))
    c.text((w * 0.06, h * 0.85), rng.choice(FAKE_NAMES).upper(), int(s * 0.75), kind="name", fill=(245, 245, 245))
    c.text((w * 0.06, h * 0.08), "NOWHERE BANK", int(s * 0.9), bold=True, fill=(245, 245, 245))
    return c.done()


def letter(seed: int = 0, size: tuple[int, int] = (1240, 1754)) -> SynthImage:
    """A fake letter: sender name and address, e-mail, phone number, date."""
    rng = random.Random(seed)
    c = _Canvas(size, (252, 252, 248))
    w, h = size
    s = max(18, w // 40)
    name = rng.choice(FAKE_NAMES)
    c.text((w * 0.08, h * 0.06), name, s, kind="name")
    c.text((w * 0.08, h * 0.06 + s * 1.6), rng.choice(FAKE_STREETS), s, kind="address")
    user = name.lower().replace(" ", ".")
    c.labelled(w * 0.08, h * 0.06 + s * 3.2, "E-mail:", f"{user}@example.org", "email", s)
    c.labelled(w * 0.08, h * 0.06 + s * 4.8, "Phone:", f"+1 (415) 555-{rng.randint(1000, 9999)}", "phone", s)
    c.labelled(w * 0.08, h * 0.06 + s * 6.4, "Date:", f"March {rng.randint(1, 28)}, 2024", "date", s)
    body = (
        "Dear neighbour, thank you for looking after the garden",
        "while we were away. The spare key is back in the usual place.",
    )
    for i, line in enumerate(body):
        c.text((w * 0.08, h * 0.3 + i * s * 1.6), line, s)
    return c.done()


def _rational(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1_000_000)


def exif_bytes(
    *,
    gps: tuple[float, float] | None = None,
    make: str | None = None,
    model: str | None = None,
    serial: str | None = None,
    artist: str | None = None,
    datetime_original: str | None = None,
    orientation: int | None = None,
) -> bytes:
    """An EXIF block (for Image.save(exif=...)) with GPS position, camera and owner fields."""
    exif = Image.Exif()
    if make:
        exif[0x010F] = make
    if model:
        exif[0x0110] = model
    if artist:
        exif[0x013B] = artist
    if orientation:
        exif[0x0112] = orientation
    sub = exif.get_ifd(0x8769)
    if datetime_original:
        sub[0x9003] = datetime_original
    if serial:
        sub[0xA431] = serial  # BodySerialNumber
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(0x8825)

        def dms(v: float) -> tuple[Fraction, Fraction, Fraction]:
            v = abs(v)
            d = int(v)
            m = int((v - d) * 60)
            sec = (v - d - m / 60) * 3600
            return (_rational(d), _rational(m), _rational(round(sec, 4)))

        g[1] = "N" if lat >= 0 else "S"
        g[2] = dms(lat)
        g[3] = "E" if lon >= 0 else "W"
        g[4] = dms(lon)
    return exif.tobytes()


def _iban_de(rng: random.Random) -> str:
    """A German-format IBAN with valid ISO 13616 check digits (bank code of the well-known example IBAN)."""
    bban = "37040044" + f"{rng.randint(0, 10**10 - 1):010d}"
    numeric = int(bban + "1314" + "00")  # D=13, E=14, check digits 00
    check = 98 - numeric % 97
    return f"DE{check:02d}{bban}"


def _grouped(text: str, n: int = 4) -> str:
    return " ".join(text[i : i + n] for i in range(0, len(text), n))


def _mrz_digit(field_: str) -> str:
    values = {c: i for i, c in enumerate("0123456789")}
    values.update({chr(ord("A") + i): 10 + i for i in range(26)})
    values["<"] = 0
    return str(sum(values[c] * (7, 3, 1)[i % 3] for i, c in enumerate(field_)) % 10)


def passport(seed: int = 0, size: tuple[int, int] = (1400, 900)) -> SynthImage:
    """A fake passport data page: surname, given names, birth date, passport number, and the ICAO MRZ."""
    rng = random.Random(seed)
    c = _Canvas(size, (244, 240, 228))
    w, h = size
    s = max(18, h // 26)
    given, surname = rng.choice(FAKE_NAMES).split()
    number = f"X{rng.randint(10_000_000, 99_999_999)}"
    dob = (rng.randint(1950, 1999), rng.randint(1, 12), rng.randint(1, 28))
    c.text((w * 0.04, h * 0.04), "PASSPORT - REPUBLIC OF NOWHERE", int(s * 1.2), bold=True, fill=(60, 30, 90))
    c.draw.rectangle([int(w * 0.04), int(h * 0.16), int(w * 0.26), int(h * 0.62)], outline=(120, 120, 120), width=3)
    x = w * 0.3
    c.labelled(x, h * 0.16, "Passport No:", number, "passport", s)
    c.labelled(x, h * 0.26, "Surname:", surname.upper(), "name_last", s)
    c.labelled(x, h * 0.36, "Given names:", given.upper(), "name_first", s)
    c.labelled(x, h * 0.46, "Date of birth:", f"{dob[2]:02d}/{dob[1]:02d}/{dob[0]}", "birth_date", s)
    line1 = f"P<NWH{surname.upper()}<<{given.upper()}".ljust(44, "<")[:44]
    doc = number.ljust(9, "<")
    birth = f"{dob[0] % 100:02d}{dob[1]:02d}{dob[2]:02d}"
    line2 = (doc + _mrz_digit(doc) + "NWH" + birth + _mrz_digit(birth) + "M300101" + "2").ljust(43, "<") + "0"
    mrz_font = font(int(s * 1.05), mono=True)
    for i, line in enumerate((line1, line2)):
        xy = (w * 0.04, h * 0.74 + i * s * 1.8)
        c.draw.text(xy, line, font=mrz_font, fill=(20, 20, 20))
        if i == 1:
            x0, y0, x1, y1 = c.draw.textbbox(xy, line, font=mrz_font)
            c.items.append(TruthItem("passport", line, Box(float(x0), float(y0), float(x1), float(y1))))
    return c.done()


def account_page(seed: int = 0, size: tuple[int, int] = (1240, 900)) -> SynthImage:
    """A fake online-banking page: account holder, IBAN, login username and a social handle."""
    rng = random.Random(seed)
    c = _Canvas(size, (250, 250, 252))
    w, h = size
    s = max(18, w // 42)
    name = rng.choice(FAKE_NAMES)
    first, last = name.lower().split()
    c.text((w * 0.06, h * 0.05), "NOWHERE BANK - ONLINE BANKING", int(s * 1.1), bold=True, fill=(30, 70, 140))
    c.labelled(w * 0.06, h * 0.2, "Account holder:", name, "name", s)
    c.labelled(w * 0.06, h * 0.32, "IBAN:", _grouped(_iban_de(rng)), "iban", s)
    c.labelled(w * 0.06, h * 0.44, "Username:", f"{first[0]}{last}{rng.randint(10, 99)}", "username", s)
    c.labelled(w * 0.06, h * 0.56, "Follow us:", f"@{first}_{last[:4]}{rng.randint(1, 9)}", "username", s)
    c.text((w * 0.06, h * 0.72), "Never share your password with anyone.", s, fill=(90, 90, 90))
    return c.done()


def exif_with_thumbnail(thumbnail_jpeg: bytes, *, make: str = "Nowhere Optics") -> bytes:
    """A little-endian EXIF block (for Image.save(exif=...)) whose IFD1 holds a JPEG thumbnail.

    Pillow writes no IFD1, so the TIFF structure is laid out here: header, IFD0 with Make, IFD1 with
    JPEGInterchangeFormat/Length, then the strings and the thumbnail bytes."""
    import struct

    make_bytes = make.encode("ascii") + b"\x00"
    ifd0_at = 8
    ifd0_size = 2 + 12 + 4
    ifd1_at = ifd0_at + ifd0_size
    ifd1_size = 2 + 3 * 12 + 4
    make_at = ifd1_at + ifd1_size
    thumb_at = make_at + len(make_bytes)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd0_at))
    out += struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2, len(make_bytes), make_at) + struct.pack("<I", ifd1_at)
    out += struct.pack("<H", 3)
    out += struct.pack("<HHIHH", 0x0103, 3, 1, 6, 0)  # Compression = 6 (JPEG)
    out += struct.pack("<HHII", 0x0201, 4, 1, thumb_at)
    out += struct.pack("<HHII", 0x0202, 4, 1, len(thumbnail_jpeg))
    out += struct.pack("<I", 0)
    out += make_bytes + thumbnail_jpeg
    return b"Exif\x00\x00" + bytes(out)
