"""Real-looking test inputs for the vision detectors: licence plates rendered with a Debian font and codes
encoded by zxing-cpp's own writer, to paste into scikit-image's real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from privscan import synth
from privscan.io.decode import DecodedImage

BOARDING_PASS = "M1DESMARAIS/LUC       EABC123 YULFRAAC 0834 326J001A0025 100"
CONTACT = "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Roe\nTEL:+441234567890\nEND:VCARD"


def decoded(rgb: np.ndarray, name: str = "photo.png") -> DecodedImage:
    return DecodedImage(Path(name), np.ascontiguousarray(rgb, dtype=np.uint8), "0" * 64, 0, "PNG", "RGB")


def plate(text: str, height: int = 60) -> np.ndarray:
    """A light plate with a dark border and `text` in bold capitals, about 4.5:1 like an EU plate."""
    width = int(height * 4.5)
    img = Image.new("RGB", (width, height), (235, 235, 230))
    draw = ImageDraw.Draw(img)
    draw.rectangle([1, 1, width - 2, height - 2], outline=(20, 20, 20), width=max(2, height // 20))
    font = synth.font(int(height * 0.7), bold=True)
    x0, y0, x1, y1 = draw.textbbox((0, 0), text, font=font)
    draw.text(((width - (x1 - x0)) / 2 - x0, (height - (y1 - y0)) / 2 - y0), text, font=font, fill=(15, 15, 15))
    return np.asarray(img)


def symbol(text: str, fmt: str, scale: int) -> np.ndarray:
    """A grey-scale barcode/QR image of `text` in zxing-cpp format `fmt` ("QRCode", "Aztec", ...)."""
    import zxingcpp

    code = zxingcpp.create_barcode(text, getattr(zxingcpp.BarcodeFormat, fmt))
    return np.asarray(zxingcpp.write_barcode_to_image(code, scale=scale))
