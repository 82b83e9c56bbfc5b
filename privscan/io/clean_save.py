"""Write pixels as a metadata-free copy in the source's format and quality, and check the bytes are clean.

The copy is encoded from a brand-new Pillow image made from the pixel array, so nothing of the source's
`info` (EXIF, XMP, IPTC, comments, text chunks, embedded thumbnails, MPF second pictures) can ride
along: only what `encode_clean` passes explicitly is written, and that is the pixels, the ICC colour
profile (when it fits the written colour mode), the resolution (dpi) and the compression settings.
`find_metadata` then walks the encoded bytes (JPEG segments, PNG chunks, RIFF chunks, TIFF tags) and
lists anything that is not pixels, colour or layout; redaction refuses to write a file where it finds any.

Quality: a JPEG is re-encoded with the source's own quantisation tables and chroma subsampling, so the
copy has the same quality and nearly the same size, and untouched areas change only by re-encoding noise
(the IJG quality those tables correspond to is estimated for the record). WebP keeps lossless when the
source was lossless, else quality 90 (WebP files do not state their quality). PNG, TIFF (LZW or the
source's lossless compression), BMP, GIF and PPM are lossless (GIF re-quantised to 256 colours).

Pixels are written already rotated (the decoder applied the EXIF orientation), so the copy needs no
orientation tag. 16-bit sources are written with 8 bits per channel; alpha is kept for PNG, WebP and
TIFF; animations and multi-page files keep their first frame only (the others were never redacted).
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, JpegImagePlugin

from privscan.errors import ImageError
from privscan.io.atomic import atomic_write_bytes
from privscan.io.decode import DecodedImage

DEFAULT_JPEG_QUALITY = 92  # when a JPEG's tables cannot be read (never happens with files Pillow decodes)
DEFAULT_WEBP_QUALITY = 90
LOSSLESS_TIFF = ("raw", "tiff_lzw", "tiff_adobe_deflate", "packbits")

# Pillow format read -> format written
WRITABLE = {
    "JPEG": "JPEG",
    "MPO": "JPEG",  # a JPEG with an MPF second picture (camera previews); the copy is a plain JPEG
    "PNG": "PNG",
    "WEBP": "WEBP",
    "TIFF": "TIFF",
    "BMP": "BMP",
    "DIB": "BMP",
    "GIF": "GIF",
    "PPM": "PPM",
}
_GRAY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
_ALPHA_FORMATS = ("PNG", "WEBP", "TIFF")

# IJG's standard tables (natural order) that libjpeg scales by quality.
_STD_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip
_STD_CHROMA = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    *([99] * 32),
)  # fmt: skip


@dataclass
class SaveSettings:
    """How to write the clean copy of one source file."""

    format: str  # Pillow format to write
    mode: str = "RGB"  # "RGB" or "L" (grayscale sources stay grayscale)
    icc_profile: bytes | None = None
    dpi: tuple[float, float] | None = None
    alpha: NDArray[Any] | None = None  # H x W uint8 of the oriented source, when kept
    jpeg_qtables: list[list[int]] | None = None
    jpeg_subsampling: int = -1  # Pillow's code: 0 = 4:4:4, 1 = 4:2:2, 2 = 4:2:0, -1 = encoder default
    jpeg_quality: int | None = None  # estimated IJG quality of the source tables (for the record)
    progressive: bool = False
    webp_lossless: bool = False
    tiff_compression: str = "tiff_lzw"
    notes: list[str] = field(default_factory=list)

    def describe(self) -> dict[str, object]:
        out: dict[str, object] = {"format": self.format, "mode": self.mode + ("A" if self.alpha is not None else "")}
        if self.format == "JPEG":
            out["jpeg_quality"] = self.jpeg_quality
            out["jpeg_tables"] = "source" if self.jpeg_qtables else f"quality {DEFAULT_JPEG_QUALITY}"
        if self.format == "WEBP":
            out["webp"] = "lossless" if self.webp_lossless else f"quality {DEFAULT_WEBP_QUALITY}"
        out["icc_profile_kept"] = self.icc_profile is not None
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def estimate_jpeg_quality(qtables: dict[int, list[int]] | list[list[int]]) -> int | None:
    """The IJG quality (1-100) whose scaled standard tables come closest to these (natural order)."""
    tables = list(qtables.values()) if isinstance(qtables, dict) else list(qtables)
    if not tables or len(tables[0]) != 64:
        return None
    best_q, best_err = None, float("inf")
    for q in range(1, 101):
        scale = 5000 / q if q < 50 else 200 - 2 * q
        err = 0.0
        for table, std in zip(tables[:2], (_STD_LUMA, _STD_CHROMA), strict=False):
            scaled = [min(255, max(1, (s * scale + 50) // 100)) for s in std]
            err += sum(abs(a - b) for a, b in zip(table, scaled, strict=True))
        if err < best_err:
            best_q, best_err = q, err
    return best_q


def _icc_space(profile: bytes) -> bytes:
    """The ICC header's data colour space ('RGB ', 'GRAY', 'CMYK', ...)."""
    return profile[16:20] if len(profile) >= 20 else b""


def _riff_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(fourcc, payload start, payload length) for each top-level chunk of a RIFF/WebP file."""
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append((fourcc, pos + 8, size))
        pos += 8 + size + (size & 1)
    return chunks


def plan_output(data: bytes, decoded: DecodedImage) -> SaveSettings:
    """Settings for the clean copy of the file whose bytes are `data` (already decoded as `decoded`)."""
    fmt = WRITABLE.get(decoded.format.upper())
    if fmt is None:
        raise ImageError(decoded.path, "unsupported", f"cannot write {decoded.format} copies (no clean encoder)")
    settings = SaveSettings(format=fmt)
    settings.mode = "L" if decoded.mode in _GRAY_MODES else "RGB"
    with Image.open(io.BytesIO(data)) as src:
        if decoded.n_frames > 1:
            settings.notes.append(f"only the first of {decoded.n_frames} frames is kept")
        dpi = src.info.get("dpi")
        if isinstance(dpi, tuple) and len(dpi) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in dpi):
            settings.dpi = (float(dpi[0]), float(dpi[1]))
        if fmt == "JPEG" and isinstance(src, JpegImagePlugin.JpegImageFile):
            tables = getattr(src, "quantization", None) or {}
            if tables and all(len(t) == 64 and max(t) <= 255 for t in tables.values()):
                settings.jpeg_qtables = [list(tables[k]) for k in sorted(tables)][: (1 if settings.mode == "L" else 2)]
                settings.jpeg_quality = estimate_jpeg_quality(tables)
            else:
                settings.notes.append(f"source quantisation tables unusable: written at quality {DEFAULT_JPEG_QUALITY}")
            settings.jpeg_subsampling = JpegImagePlugin.get_sampling(src)
            settings.progressive = bool(src.info.get("progressive") or src.info.get("progression"))
        elif fmt == "WEBP":
            settings.webp_lossless = any(c[0] == b"VP8L" for c in _riff_chunks(data))
        elif fmt == "TIFF":
            compression = str(src.info.get("compression", "raw"))
            settings.tiff_compression = compression if compression in LOSSLESS_TIFF else "tiff_lzw"
        has_alpha = src.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (src.mode == "P" and "transparency" in src.info)
        if has_alpha and fmt in _ALPHA_FORMATS:
            if decoded.n_frames > 1:
                src.seek(0)
            oriented = ImageOps.exif_transpose(src) or src
            alpha = np.asarray(oriented.convert("RGBA").getchannel("A"), dtype=np.uint8)
            if alpha.shape == (decoded.height, decoded.width) and alpha.min() < 255:
                settings.alpha = alpha
    if decoded.icc_profile:
        wanted = b"GRAY" if settings.mode == "L" else b"RGB "
        if _icc_space(decoded.icc_profile) == wanted:
            settings.icc_profile = decoded.icc_profile
        else:
            space = _icc_space(decoded.icc_profile).decode("ascii", "replace").strip() or "unknown"
            settings.notes.append(f"{space} colour profile dropped: it does not fit the {settings.mode} pixels written")
    return settings


def encode_clean(rgb: NDArray[Any], settings: SaveSettings, *, opaque: NDArray[Any] | None = None) -> bytes:
    """Encode H x W x 3 uint8 pixels with only the settings' colour profile and compression parameters.

    `opaque` (bool H x W) marks pixels whose kept alpha is forced to 255: redacted areas must show their
    fill, not the transparency that was there.
    """
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")  # a new image: empty .info, no metadata
    if settings.mode == "L":
        image = image.convert("L")
    if settings.alpha is not None:
        alpha = settings.alpha.copy()
        if opaque is not None:
            alpha[opaque] = 255
        image.putalpha(Image.fromarray(alpha, "L"))
    kwargs: dict[str, object] = {}
    if settings.icc_profile:
        kwargs["icc_profile"] = settings.icc_profile
    if settings.dpi and settings.format in ("JPEG", "PNG", "TIFF", "BMP"):
        kwargs["dpi"] = settings.dpi
    fmt = settings.format
    if fmt == "JPEG":
        if settings.jpeg_qtables:
            kwargs["qtables"] = settings.jpeg_qtables
        else:
            kwargs["quality"] = DEFAULT_JPEG_QUALITY
        if settings.jpeg_subsampling != -1 and settings.mode == "RGB":
            kwargs["subsampling"] = settings.jpeg_subsampling
        kwargs.update(optimize=True, progressive=settings.progressive)
    elif fmt == "PNG":
        kwargs["compress_level"] = 6
    elif fmt == "WEBP":
        kwargs.update(lossless=settings.webp_lossless, quality=100 if settings.webp_lossless else DEFAULT_WEBP_QUALITY)
        kwargs.update(method=4, exact=True)
    elif fmt == "TIFF":
        kwargs["compression"] = settings.tiff_compression
    buf = io.BytesIO()
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


# ---- checking the bytes -----------------------------------------------------------------------------

_BYTE_SIGNATURES = {
    b"Exif\x00\x00": "EXIF block",
    b"http://ns.adobe.com/xap/1.0/": "XMP packet",
    b"<x:xmpmeta": "XMP packet",
    b"XML:com.adobe.xmp": "XMP packet",
    b"Photoshop 3.0": "IPTC/Photoshop block",
}
_PNG_ALLOWED = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"pHYs", b"tRNS", b"sBIT"}
_WEBP_ALLOWED = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ICCP"}
# TIFF tags that describe pixels, layout, compression and colour, nothing else.
_TIFF_ALLOWED = {
    254, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 282, 283, 284, 296, 317, 320, 322, 323, 324, 325,
    338, 339, 347, 530, 531, 532, 34675,
}  # fmt: skip


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """(marker, payload) for every marker segment, and the offset just after EOI (or len(data))."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    n = len(data)
    while pos + 1 < n:
        if data[pos] != 0xFF:
            # inside entropy-coded data: jump to the next 0xFF (a stuffed 0x00, a restart or a marker)
            pos = data.find(b"\xff", pos)
            if pos < 0:
                break
            continue
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0x00 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        if marker == 0xD9:
            return segments, pos + 2
        if pos + 4 > n:
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return segments, n


def _jpeg_findings(data: bytes) -> list[str]:
    found = []
    segments, end = _jpeg_segments(data)
    for marker, payload in segments:
        if marker == 0xE0:
            if payload.startswith(b"JFIF\x00"):
                if len(payload) >= 14 and (payload[12] or payload[13]):
                    found.append("JFIF thumbnail")
            else:
                found.append("JFXX thumbnail" if payload.startswith(b"JFXX") else "APP0 block")
        elif marker == 0xE1:
            found.append(
                "EXIF block"
                if payload.startswith(b"Exif")
                else "XMP packet"
                if payload.startswith(b"http://ns.adobe.com/xap")
                else "APP1 block"
            )
        elif marker == 0xE2:
            if not payload.startswith(b"ICC_PROFILE\x00"):
                found.append("MPF second picture" if payload.startswith(b"MPF\x00") else "APP2 block")
        elif marker == 0xED:
            found.append("IPTC/Photoshop block")
        elif marker == 0xEE:
            if not payload.startswith(b"Adobe"):
                found.append("APP14 block")
        elif 0xE3 <= marker <= 0xEF:
            found.append(f"APP{marker - 0xE0} block")
        elif marker == 0xFE:
            found.append("comment")
    if len(data) - end > 0 and data[end:].strip(b"\x00"):
        found.append(f"{len(data) - end} bytes after the end of the image")
    return found


def _png_findings(data: bytes) -> list[str]:
    found = []
    pos = 8
    while pos + 8 <= len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        ctype = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        if ctype not in _PNG_ALLOWED:
            if ctype == b"eXIf":
                found.append("EXIF block")
            elif ctype in (b"tEXt", b"zTXt", b"iTXt"):
                key = payload.split(b"\x00", 1)[0].decode("latin-1", "replace")
                found.append("XMP packet" if key == "XML:com.adobe.xmp" else f"text chunk {key!r}")
            else:
                found.append(f"{ctype.decode('latin-1', 'replace')} chunk")
        pos += 12 + length
        if ctype == b"IEND":
            break
    if data[pos:].strip(b"\x00"):
        found.append(f"{len(data) - pos} bytes after the end of the image")
    return found


def _webp_findings(data: bytes) -> list[str]:
    found = []
    for fourcc, _start, _size in _riff_chunks(data):
        if fourcc not in _WEBP_ALLOWED:
            name = {b"EXIF": "EXIF block", b"XMP ": "XMP packet", b"ANMF": "animation frame"}
            found.append(name.get(fourcc, f"{fourcc.decode('latin-1', 'replace')} chunk"))
    return found


def _pillow_findings(data: bytes) -> list[str]:
    found = []
    with Image.open(io.BytesIO(data)) as im:
        n_frames = int(getattr(im, "n_frames", 1))
        if n_frames > 1:
            found.append(f"{n_frames} frames")
        if im.format == "TIFF":
            tags = getattr(im, "tag_v2", {})
            found += [f"TIFF tag {t}" for t in sorted(tags) if t not in _TIFF_ALLOWED]
        for key in ("exif", "xmp", "comment", "extension", "XML:com.adobe.xmp", "photoshop", "iptc"):
            if im.info.get(key):
                found.append(f"{key} in {im.format}")
    return found


def find_metadata(data: bytes) -> list[str]:
    """Everything in an image file that is not pixels, colour profile, resolution or compression layout."""
    if data.startswith(b"\xff\xd8"):
        found = _jpeg_findings(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        found = _png_findings(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        found = _webp_findings(data)
    else:
        found = _pillow_findings(data)
    for signature, name in _BYTE_SIGNATURES.items():
        if signature in data and name not in found:
            found.append(name)
    return found


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_clean(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write atomically; refuses an existing file (OutputExistsError) unless `overwrite`.

    The copy gets the permissions a normally created file would (0666 minus the umask), not the private
    0600 of the temporary file it was written through: it is meant to be shared.
    """
    atomic_write_bytes(path, data, exclusive=not overwrite)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~_umask())
