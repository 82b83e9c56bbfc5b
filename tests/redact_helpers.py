"""Building "dirty" image files (EXIF with GPS and an embedded thumbnail, XMP, IPTC, comments, ICC) and the
independent checks the redaction tests run on outputs: Pillow parsing plus raw byte scans.
"""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms
from support.synth import exif_bytes

SECRET_ARTIST = "Johanna Whitfield-Secret"
SECRET_SERIAL = "SN-98765-SECRET"
SECRET_COMMENT = b"taken at 1427 Larkspur Lane"
XMP_PACKET = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Johanna Whitfield-Secret'
    b"</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>"
)
GPS = (48.858370, 2.294481)


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def exif_with_thumbnail(thumbnail_jpeg: bytes, *, orientation: int | None = None) -> bytes:
    """EXIF (GPS, serial, artist, capture time) whose IFD1 embeds `thumbnail_jpeg`, as cameras write it."""
    block = exif_bytes(
        gps=GPS,
        make="Canon",
        model="EOS 5D",
        serial=SECRET_SERIAL,
        artist=SECRET_ARTIST,
        datetime_original="2024:03:14 09:26:53",
        orientation=orientation,
    )
    assert block.startswith(b"Exif\x00\x00")
    tiff = bytearray(block[6:])
    endian = "<" if tiff[:2] == b"II" else ">"
    ifd0 = struct.unpack(endian + "I", tiff[4:8])[0]
    count = struct.unpack(endian + "H", tiff[ifd0 : ifd0 + 2])[0]
    next_ptr = ifd0 + 2 + 12 * count
    if len(tiff) % 2:
        tiff += b"\x00"
    ifd1 = len(tiff)
    thumb_at = ifd1 + 2 + 2 * 12 + 4
    tiff[next_ptr : next_ptr + 4] = struct.pack(endian + "I", ifd1)
    tiff += struct.pack(endian + "H", 2)
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, thumb_at)  # JPEGInterchangeFormat
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail_jpeg))  # JPEGInterchangeFormatLength
    tiff += struct.pack(endian + "I", 0)
    tiff += thumbnail_jpeg
    return b"Exif\x00\x00" + bytes(tiff)


def _iptc_segment() -> bytes:
    record = b"\x1c\x02\x50" + struct.pack(">H", len(SECRET_ARTIST)) + SECRET_ARTIST.encode()  # 2:80 By-line
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def dirty_jpeg(
    image: Image.Image, *, quality: int = 90, icc: bytes | None = None, orientation: int | None = None
) -> tuple[bytes, bytes]:
    """JPEG bytes with EXIF (GPS, serial, artist, thumbnail), XMP, IPTC, a comment and an ICC profile.

    Returns (file bytes, the embedded thumbnail's bytes) so a test can check the thumbnail is gone.
    """
    thumb = io.BytesIO()
    small = image.copy()
    small.thumbnail((160, 160))
    small.save(thumb, "JPEG", quality=80)
    exif = exif_with_thumbnail(thumb.getvalue(), orientation=orientation)
    buf = io.BytesIO()
    image.save(
        buf,
        "JPEG",
        quality=quality,
        exif=exif,
        icc_profile=icc if icc is not None else srgb_icc(),
        comment=SECRET_COMMENT,
        xmp=XMP_PACKET,
    )
    data = buf.getvalue()
    return data[:2] + _iptc_segment() + data[2:], thumb.getvalue()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Long byte strings that cannot turn up by chance in compressed pixel data.
LEAK_SIGNATURES = (
    b"Exif\x00\x00",
    b"http://ns.adobe.com/xap/1.0/",
    b"<x:xmpmeta",
    b"Photoshop 3.0",
    SECRET_ARTIST.encode(),
    SECRET_SERIAL.encode(),
    SECRET_COMMENT,
    b"Canon",
    b"EOS 5D",
    b"2024:03:14",
)


def assert_no_metadata(path: Path, *, thumbnail: bytes | None = None, icc: bytes | None = None) -> None:
    """Parse the file with Pillow and scan its bytes: no EXIF, GPS, XMP, IPTC, comment or thumbnail."""
    data = path.read_bytes()
    for signature in LEAK_SIGNATURES:
        assert signature not in data, f"{path} still contains {signature!r}"
    if thumbnail is not None:
        assert thumbnail[2:200] not in data, f"{path} still embeds the EXIF thumbnail"
    # A GPS IFD pointer (tag 0x8825, type LONG, count 1) in either byte order, searched in the part of the
    # file before the pixel data (compressed pixels could hold any 8 bytes by chance).
    header = data[: data.find(b"\xff\xda")] if data.startswith(b"\xff\xd8") else data[: data.find(b"IDAT")]
    for gps_entry in (b"\x88\x25\x00\x04\x00\x00\x00\x01", b"\x25\x88\x04\x00\x01\x00\x00\x00"):
        assert gps_entry not in header, f"{path} still holds a GPS IFD"
    with Image.open(path) as im:
        exif = im.getexif()
        if im.format == "TIFF":  # a TIFF's own tags are its layout: look for the metadata ones
            left = set(exif) & {0x8769, 0x8825, 0x013B, 0x010F, 0x0110, 0x0132, 700, 33723, 34377, 0x8298}
            assert not left, f"TIFF metadata tags left: {sorted(left)}"
        else:
            assert len(exif) == 0, f"EXIF tags left: {dict(exif)}"
        assert len(exif.get_ifd(0x8825)) == 0, "GPS tags left"
        for key in ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "Author"):
            assert not im.info.get(key), f"{key} left in {path}"
        if icc is not None:
            assert im.info.get("icc_profile") == icc, "the ICC colour profile was not kept"
        if im.format == "JPEG":
            assert getattr(im, "applist", None) is not None
            kinds = {marker for marker, _ in im.applist}
            assert kinds <= {"APP0", "APP2"}, f"unexpected APP segments {kinds}"
            for marker, payload in im.applist:
                if marker == "APP2":
                    assert payload.startswith(b"ICC_PROFILE\x00"), "an APP2 segment that is not the ICC profile"
                if marker == "APP0":
                    assert payload.startswith(b"JFIF\x00") and payload[12:14] == b"\x00\x00", "JFIF thumbnail"


def decode_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=np.int16)
