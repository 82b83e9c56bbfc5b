"""Thumbnails for the HTML report, with detected values painted over.

A 256-pixel thumbnail of a payment card still shows its number legibly, so a report that masks the number
in text but embeds it in pixels would be the leak the masking avoids. Unless the user asked for clear
values, every region of evidence that carries a value (card numbers, e-mails, OCR text, ...) is filled
with its own mean colour before the thumbnail goes into the page. Faces and other regions without a value
stay visible: the user needs to recognise their photo.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from privscan.report.schema import ImageRecord

#: pixels added around each region in the thumbnail (text boxes are tight; antialiasing bleeds)
PAD = 2


def value_regions(record: ImageRecord) -> list[list[float]]:
    """Boxes (pixels of the oriented image) of every evidence that carries a detected value."""
    boxes: list[list[float]] = []
    for attr in record.attributes:
        for ev in attr.evidence:
            if ev.value_masked is None and ev.value is None:
                continue
            boxes.extend(list(r.box) for r in ev.regions)
    return boxes


def redact_thumbnail(data: bytes, record: ImageRecord) -> bytes | None:
    """The thumbnail with value regions filled; None when the bytes are not a readable image."""
    boxes = value_regions(record)
    if not boxes:
        return data
    if not record.width or not record.height:
        return None  # cannot place the regions, so do not show pixels that may hold the values
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            thumb = img.convert("RGB")
    except Exception:  # a broken thumbnail only costs the preview, never the report
        return None
    sx, sy = thumb.width / record.width, thumb.height / record.height
    pixels = np.asarray(thumb)
    draw = ImageDraw.Draw(thumb)
    for x0, y0, x1, y1 in boxes:
        left = max(0, int(min(x0, x1) * sx) - PAD)
        top = max(0, int(min(y0, y1) * sy) - PAD)
        right = min(thumb.width, int(np.ceil(max(x0, x1) * sx)) + PAD)
        bottom = min(thumb.height, int(np.ceil(max(y0, y1) * sy)) + PAD)
        if right <= left or bottom <= top:
            continue
        mean = pixels[top:bottom, left:right].reshape(-1, 3).mean(axis=0)
        draw.rectangle([left, top, right - 1, bottom - 1], fill=tuple(int(c) for c in mean))
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85)
    return out.getvalue()
