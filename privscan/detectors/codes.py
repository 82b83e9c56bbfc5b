"""Barcodes and QR codes: found, decoded and located with zxing-cpp (Apache-2.0), so reports say what a
code holds (its value masked like any secret) and `--hide code` can cover it.

A boarding pass's Aztec/PDF417/QR code holds the passenger's name and booking reference; a US driving
licence's PDF417 holds its whole front; a contact QR holds a name, phone and e-mail. VISPR has no "code"
attribute, so every code is reported as a machine-readable ticket/pass (a38_ticket, the closest class; the
`--hide code` alias names it), and `kind` says what the payload is (code_boarding_pass,
code_driving_licence, code_contact, code_email, code_phone, code_geo, code_wifi, code_url, code_text; the
report masks all of them as free text). Retail product codes (EAN/UPC/ISBN) identify a product, not
a person: zxing-cpp is not asked to look for them (`SEARCHED`).

The decoded text is kept in `Finding.value` (reports mask it unless --show-values); the region is the
code's quadrilateral (polygon) and its bounding box. zxing-cpp reads the photo at most at `MAX_SIDE` px
(its own pyramid tries smaller copies), which keeps a 12 MP photo to tens of milliseconds.
"""

from __future__ import annotations

import re
import time
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, Prior, Region
from privscan.detectors.scale import downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.io.decode import DecodedImage

MAX_SIDE = 1600  # the pyramid base other detectors already resized to (privscan.detectors.scale)
ATTRIBUTE = "a38_ticket"
#: the symbologies zxing-cpp looks for: those that carry tickets, passes, IDs, contacts, shipping labels and
#: library or loyalty cards. Retail product codes (EAN/UPC/ISBN, GS1 DataBar) are not searched for: they
#: would be dropped anyway, and leaving them out makes a photo's read 10% cheaper (0.029 vs 0.032 s, 20 photos)
SEARCHED = ("QRCode", "MicroQRCode", "RMQRCode", "Aztec", "PDF417", "MicroPDF417", "DataMatrix", "MaxiCode",
            "Code128", "Code39", "Code93", "Codabar", "ITF")  # fmt: skip

# IATA Resolution 792 bar-coded boarding pass: 'M', legs 1-4, a 20-character passenger name, an electronic
# ticket indicator, a 7-character booking reference (PNR), then airports and carrier.
_BCBP = re.compile(r"^M[1-4][A-Z/ .\-']{20}[E ][A-Z0-9 ]{7}[A-Z]{3}[A-Z]{3}")
_AAMVA = re.compile(r"^@\s*\n?\x1e?\s*\r?\s*(ANSI |AAMVA)")


def payload_kind(text: str) -> str:
    """What a code's text is, from its well-known prefixes and layouts."""
    head = text.lstrip()[:64]
    upper = head.upper()
    if _BCBP.match(text):
        return "boarding_pass"
    if _AAMVA.match(text) or "ANSI 6" in text[:40]:
        return "driving_licence"
    if upper.startswith(("BEGIN:VCARD", "MECARD:", "BIZCARD:")):
        return "contact"
    if upper.startswith(("MAILTO:", "MATMSG:", "SMTP:")):
        return "email"
    if upper.startswith(("TEL:", "SMSTO:", "SMS:", "MMSTO:")):
        return "phone"
    if upper.startswith("GEO:"):
        return "geo"
    if upper.startswith("WIFI:"):
        return "wifi"
    if re.match(r"^[a-z][a-z0-9+.\-]*://", head, re.IGNORECASE) or upper.startswith("WWW."):
        return "url"
    return "text"


#: how sure we are that a code of each payload kind is personal (a URL on a poster often is not)
KIND_SCORE = {
    "boarding_pass": 0.95,
    "driving_licence": 0.95,
    "contact": 0.9,
    "email": 0.85,
    "phone": 0.85,
    "geo": 0.8,
    "wifi": 0.7,
    "text": 0.6,
    "url": 0.5,
}


class CodeDetector:
    """Barcodes/QR codes via zxing-cpp. Build once, call per image; stateless, so thread-safe."""

    name = "codes"
    kind = "code"
    version = "codes-2+zxingcpp"
    weight_names: tuple[str, ...] = ()

    def __init__(self) -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats = zxingcpp.BarcodeFormats([getattr(zxingcpp.BarcodeFormat, name) for name in SEARCHED])

    def read(self, rgb: NDArray[Any]) -> list[tuple[str, str, tuple[tuple[float, float], ...]]]:
        """(format, text, quad in pixels of `rgb`) of every code zxing-cpp decodes."""
        small, scale = downscaled(rgb, MAX_SIDE)
        gray = cv2.cvtColor(np.ascontiguousarray(small), cv2.COLOR_RGB2GRAY)
        out = []
        for code in self._zx.read_barcodes(gray, formats=self._formats):
            if not code.valid:
                continue
            p = code.position
            quad = tuple(
                (pt.x / scale, pt.y / scale) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            )
            out.append((_format_name(code.format), code.text, quad))
        return out

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        findings = []
        for fmt, text, quad in self.read(image.rgb):
            xs, ys = [x for x, _ in quad], [y for _, y in quad]
            box = Box(min(xs), min(ys), max(xs), max(ys))
            pad = 0.08 * max(box.width, box.height, 4.0)  # the quiet zone's first modules
            box = Box(box.x0 - pad, box.y0 - pad, box.x1 + pad, box.y1 + pad).clip(image.width, image.height)
            kind = payload_kind(text)
            findings.append(
                Finding(
                    attribute=ATTRIBUTE,
                    score=KIND_SCORE[kind],
                    source=f"code:zxing:{fmt}",
                    regions=[Region(box=box, shape="polygon", polygon=tuple((round(x, 1), round(y, 1))
                                                                            for x, y in quad))],
                    kind=f"code_{kind}",
                    value=text,
                    detail={"format": fmt, "payload": kind},
                )
            )
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _format_name(fmt: object) -> str:
    """'QRCode', 'PDF417', 'Aztec', ... from a zxingcpp.BarcodeFormat (its str is 'BarcodeFormat.QRCode')."""
    return str(getattr(fmt, "name", None) or fmt).rsplit(".", 1)[-1]


def _build(context: BuildContext) -> CodeDetector:
    return CodeDetector()


SPEC = DetectorSpec(
    name=CodeDetector.name,
    kind=CodeDetector.kind,
    version=CodeDetector.version,
    build=_build,
    order=40,
    sides=(MAX_SIDE,),
    packages=("zxingcpp",),
    locates=frozenset({ATTRIBUTE}),
)
