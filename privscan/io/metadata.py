"""Read what a photo's metadata reveals: EXIF (Pillow) and XMP (the packet's XML), never crashing on bad data.

`read_metadata(exif, xmp, info)` takes the raw blocks a DecodedImage carries and returns `MetadataFact`s
(kind, tag, value, source) plus the embedded EXIF thumbnail's bytes and the warnings met on the way. Every
tag is read on its own inside a guard, so one broken field (a wrong type, a truncated GPS rational, an IFD
offset pointing past the block) costs only that field, and a block Pillow cannot parse at all gives a
warning and no facts. XMP is parsed with the standard library's expat after refusing any DTD/entity
declaration (no entity expansion, no external fetches).

This module only reads; mapping facts to VISPR attributes is privscan.detectors.metadata's job.
"""

from __future__ import annotations

import contextlib
import io
import re
import struct
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from PIL import ExifTags, Image

MAX_VALUE_CHARS = 500


@dataclass(frozen=True)
class MetadataFact:
    kind: str  # gps_position | gps_altitude | capture_time | camera_make | camera_model | camera_serial | ...
    tag: str  # where it was found, e.g. "EXIF GPSInfo", "XMP dc:creator"
    value: str
    source: str  # "exif:gps", "exif:BodySerialNumber", "xmp:dc:creator", "png:Author"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class MetadataRead:
    facts: list[MetadataFact] = field(default_factory=list)
    thumbnail: bytes | None = None
    warnings: list[str] = field(default_factory=list)


# ---- value cleaning --------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A printable string from an EXIF value (bytes decoded, NULs and padding stripped), or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        for enc in ("utf-8", "latin-1"):
            try:
                value = value.decode(enc)
                break
            except UnicodeDecodeError:
                continue
    if isinstance(value, tuple):
        value = " ".join(str(v) for v in value)
    text = str(value).replace("\x00", " ")
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ").strip()
    return text[:MAX_VALUE_CHARS] or None


def _xp_text(value: Any) -> str | None:
    """Windows XP* tags (XPAuthor, XPComment, ...) are UTF-16LE byte tuples."""
    try:
        raw = bytes(value) if not isinstance(value, bytes) else value
        return _text(raw.decode("utf-16-le", errors="ignore"))
    except Exception:
        return _text(value)


def _user_comment(value: Any) -> str | None:
    """EXIF UserComment: an 8-byte charset code, then the text."""
    if not isinstance(value, bytes):
        return _text(value)
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        for enc in ("utf-16-be", "utf-16-le"):
            with contextlib.suppress(UnicodeDecodeError):
                return _text(body.decode(enc))
    return _text(body if code.strip(b"\x00 ") in (b"ASCII", b"", b"JIS") else value)


def _rational(value: Any) -> float:
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        return float(num) / float(den)
    return float(Fraction(value) if isinstance(value, str) else value)


def gps_to_decimal(dms: Any, ref: Any) -> float:
    """(degrees, minutes, seconds) rationals + 'N'/'S'/'E'/'W' -> signed decimal degrees."""
    parts = [_rational(v) for v in (dms if isinstance(dms, (tuple, list)) else (dms,))]
    while len(parts) < 3:
        parts.append(0.0)
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    ref_text = _text(ref) or ""
    if ref_text.upper().startswith(("S", "W")):
        value = -value
    if value != value or abs(value) > 180:  # NaN or nonsense
        raise ValueError(f"GPS value out of range: {value}")
    return value


# ---- EXIF ------------------------------------------------------------------------------------------------

_IFD0_TEXT = {
    0x010F: ("camera_make", "Make"),
    0x0110: ("camera_model", "Model"),
    0x0131: ("software", "Software"),
    0x013B: ("owner", "Artist"),
    0x8298: ("copyright", "Copyright"),
    0x010E: ("description", "ImageDescription"),
    0x0132: ("modify_time", "DateTime"),
    0xA431: ("camera_serial", "BodySerialNumber"),
}
_EXIF_TEXT = {
    0x9003: ("capture_time", "DateTimeOriginal"),
    0x9004: ("digitized_time", "DateTimeDigitized"),
    0x9011: ("capture_time_offset", "OffsetTimeOriginal"),
    0xA430: ("owner", "CameraOwnerName"),
    0xA431: ("camera_serial", "BodySerialNumber"),
    0xA435: ("lens_serial", "LensSerialNumber"),
    0xA434: ("lens_model", "LensModel"),
    0xA420: ("image_unique_id", "ImageUniqueID"),
}
_XP_TAGS = {
    0x9C9B: ("description", "XPTitle"),
    0x9C9C: ("description", "XPComment"),
    0x9C9D: ("owner", "XPAuthor"),
    0x9C9E: ("keywords", "XPKeywords"),
    0x9C9F: ("description", "XPSubject"),
}


def _load_exif(raw: bytes) -> Image.Exif:
    exif = Image.Exif()
    exif.load(raw)
    return exif


def read_exif(raw: bytes, read: MetadataRead) -> None:
    """Add EXIF facts (and the thumbnail) from a raw EXIF block to `read`."""
    try:
        exif = _load_exif(raw)
    except Exception as e:
        read.warnings.append(f"EXIF block unreadable ({type(e).__name__}: {e})"[:200])
        return

    def add(kind: str, tag: str, value: str | None, source: str, **detail: Any) -> None:
        if value:
            read.facts.append(MetadataFact(kind, f"EXIF {tag}", value, source, dict(detail)))

    def guarded(what: str, fn: Any) -> Any:
        try:
            return fn()
        except Exception as e:
            read.warnings.append(f"EXIF {what} unreadable ({type(e).__name__})")
            return None

    for code, (kind, tag) in _IFD0_TEXT.items():
        add(kind, tag, guarded(tag, lambda c=code: _text(exif.get(c))), f"exif:{tag}")
    for code, (kind, tag) in _XP_TAGS.items():
        add(kind, tag, guarded(tag, lambda c=code: _xp_text(exif[c]) if c in exif else None), f"exif:{tag}")

    sub = guarded("Exif IFD", lambda: exif.get_ifd(ExifTags.IFD.Exif)) or {}
    for code, (kind, tag) in _EXIF_TEXT.items():
        if code == 0xA431 and any(f.kind == "camera_serial" for f in read.facts):
            continue
        add(kind, tag, guarded(tag, lambda c=code: _text(sub.get(c))), f"exif:{tag}")
    add("description", "UserComment", guarded("UserComment", lambda: _user_comment(sub.get(0x9286))),
        "exif:UserComment")

    gps = guarded("GPS IFD", lambda: exif.get_ifd(ExifTags.IFD.GPSInfo)) or {}
    if gps:
        _read_gps(gps, read, guarded)

    ifd1 = guarded("IFD1", lambda: exif.get_ifd(ExifTags.IFD.IFD1)) or {}
    if ifd1:
        thumb = guarded("thumbnail", lambda: _thumbnail_bytes(raw, ifd1))
        if thumb:
            read.thumbnail = thumb
            size = guarded("thumbnail size", lambda: Image.open(io.BytesIO(thumb)).size)
            value = f"{size[0]}x{size[1]} JPEG, {len(thumb)} bytes" if size else f"{len(thumb)} bytes"
            add("thumbnail", "IFD1 JPEGInterchangeFormat", value, "exif:thumbnail", bytes=len(thumb),
                size=list(size) if size else None)


def _read_gps(gps: dict[int, Any], read: MetadataRead, guarded: Any) -> None:
    def position() -> tuple[float, float] | None:
        if 2 not in gps or 4 not in gps:
            return None
        return gps_to_decimal(gps[2], gps.get(1)), gps_to_decimal(gps[4], gps.get(3))

    pos = guarded("GPS position", position)
    if pos is not None:
        lat, lon = pos
        if abs(lat) <= 90 and not (lat == 0 and lon == 0):
            read.facts.append(
                MetadataFact(
                    "gps_position", "EXIF GPSInfo", f"{lat:.6f}, {lon:.6f}", "exif:gps",
                    {"lat": lat, "lon": lon, "precision_deg": guarded("GPS precision", lambda: _gps_precision(gps))},
                )
            )
    alt = guarded("GPS altitude", lambda: _rational(gps[6]) if 6 in gps else None)
    if alt is not None:
        below = gps.get(5) in (1, b"\x01")
        read.facts.append(
            MetadataFact("gps_altitude", "EXIF GPSAltitude", f"{-alt if below else alt:.1f} m", "exif:gps")
        )
    stamp = guarded("GPS time", lambda: _gps_time(gps))
    if stamp:
        read.facts.append(MetadataFact("capture_time", "EXIF GPSDateStamp/GPSTimeStamp", stamp, "exif:gps_time"))


def _gps_precision(gps: dict[int, Any]) -> float:
    """Coarsest resolution of the stored coordinates in degrees (a rounded position is less precise)."""
    worst = 0.0
    for key in (2, 4):
        parts = gps[key] if isinstance(gps[key], (tuple, list)) else (gps[key],)
        unit = (1.0, 1 / 60, 1 / 3600)
        finest = None
        for i, v in enumerate(parts[:3]):
            den = v[1] if isinstance(v, tuple) else getattr(v, "denominator", 1)
            num = v[0] if isinstance(v, tuple) else getattr(v, "numerator", v)
            if num:
                finest = unit[i] / max(float(den), 1.0)
        worst = max(worst, finest if finest is not None else 1.0)
    return worst


def _gps_time(gps: dict[int, Any]) -> str | None:
    day = _text(gps.get(29))
    t = gps.get(7)
    if not day and not t:
        return None
    clock = ""
    if isinstance(t, (tuple, list)) and len(t) == 3:
        h, m, s = (_rational(v) for v in t)
        clock = f" {int(h):02d}:{int(m):02d}:{int(s):02d} UTC"
    return f"{day or ''}{clock}".strip() or None


def _thumbnail_bytes(raw: bytes, ifd1: dict[int, Any]) -> bytes | None:
    offset, length = ifd1.get(0x0201), ifd1.get(0x0202)
    if not isinstance(offset, int) or not isinstance(length, int) or length <= 0:
        return None
    tiff = raw[6:] if raw.startswith(b"Exif\x00\x00") else raw
    data = tiff[offset : offset + length]
    if len(data) != length or not data.startswith(b"\xff\xd8"):
        return None
    return data


# ---- XMP -------------------------------------------------------------------------------------------------

_NS = {
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://cipa.jp/exif/1.0/": "exifEX",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/": "Iptc4xmpCore",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://www.metadataworkinggroup.com/schemas/regions/": "mwg-rs",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://ns.microsoft.com/photo/1.2/t/RegionInfo#": "MPRI",
    "http://ns.microsoft.com/photo/1.2/t/Region#": "MPReg",
}
# qualified XMP property -> fact kind
_XMP_KINDS = {
    "dc:creator": "owner",
    "dc:rights": "copyright",
    "xmpRights:Owner": "owner",
    "photoshop:Credit": "owner",
    "photoshop:AuthorsPosition": "owner_position",
    "dc:description": "description",
    "dc:title": "description",
    "exif:UserComment": "description",
    "xmp:CreateDate": "capture_time",
    "exif:DateTimeOriginal": "capture_time",
    "photoshop:DateCreated": "capture_time",
    "xmp:ModifyDate": "modify_time",
    "tiff:Make": "camera_make",
    "tiff:Model": "camera_model",
    "aux:SerialNumber": "camera_serial",
    "exifEX:BodySerialNumber": "camera_serial",
    "aux:LensSerialNumber": "lens_serial",
    "exifEX:LensSerialNumber": "lens_serial",
    "exifEX:CameraOwnerName": "owner",
    "photoshop:City": "location_name",
    "photoshop:State": "location_name",
    "photoshop:Country": "location_name",
    "Iptc4xmpCore:Location": "location_name",
    "Iptc4xmpCore:CreatorContactInfo": "owner_contact",
    "Iptc4xmpExt:PersonInImage": "person_in_image",
    "mwg-rs:Name": "person_in_image",
    "MPReg:PersonDisplayName": "person_in_image",
    "xmp:CreatorTool": "software",
}
_XMP_GPS = ("exif:GPSLatitude", "exif:GPSLongitude")
_XMP_COORD = re.compile(r"^\s*(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$", re.I)


def _qualified(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{_NS.get(uri, uri)}:{local}"
    return tag


def _xmp_coordinate(text: str) -> float:
    """XMP GPS coordinate 'DDD,MM.mmmmK' or 'DDD,MM,SSK' -> signed decimal degrees."""
    m = _XMP_COORD.match(text)
    if not m:
        raise ValueError(f"not an XMP GPS coordinate: {text!r}")
    deg, minutes, seconds, ref = m.groups()
    value = float(deg) + float(minutes) / 60 + (float(seconds) / 3600 if seconds else 0.0)
    return -value if ref.upper() in "SW" else value


def read_xmp(raw: bytes, read: MetadataRead) -> None:
    """Add XMP facts from a raw XMP packet to `read`."""
    head = raw[:4096]
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        read.warnings.append("XMP packet declares a DTD or entities: not parsed")
        return
    start = raw.find(b"<x:xmpmeta")
    if start < 0:
        start = raw.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if raw.find(b"</x:xmpmeta>") >= 0 else b"</rdf:RDF>"
    end = raw.rfind(end_tag)
    if start < 0 or end < 0:
        if head.strip():
            read.warnings.append("XMP packet without an xmpmeta/RDF element: not parsed")
        return
    try:
        root = ET.fromstring(raw[start : end + len(end_tag)])
    except ET.ParseError as e:
        read.warnings.append(f"XMP packet unreadable ({e})"[:200])
        return

    values: dict[str, list[str]] = {}
    for el in root.iter():
        name = _qualified(el.tag)
        # property values given as attributes of rdf:Description
        if name == "rdf:Description":
            for attr, val in el.attrib.items():
                values.setdefault(_qualified(attr), []).append(val)
            continue
        if name.startswith("rdf:"):
            continue
        texts = [t.strip() for t in el.itertext() if t and t.strip()]
        if texts and (name in _XMP_KINDS or name in _XMP_GPS):
            # rdf:Seq / rdf:Bag lists give one value per entry; other properties one joined value
            values.setdefault(name, []).extend(texts if name in _LIST_PROPS else [" ".join(texts)])
        if name in _XMP_KINDS and el.attrib:
            for attr, val in el.attrib.items():
                q = _qualified(attr)
                if q in _XMP_KINDS:
                    values.setdefault(q, []).append(val)

    for prop, kind in _XMP_KINDS.items():
        seen = set()
        for val in values.get(prop, []):
            text = _text(val)
            if text and text not in seen:
                seen.add(text)
                read.facts.append(MetadataFact(kind, f"XMP {prop}", text, f"xmp:{prop}"))
    lat_s, lon_s = values.get(_XMP_GPS[0]), values.get(_XMP_GPS[1])
    if lat_s and lon_s:
        try:
            lat, lon = _xmp_coordinate(lat_s[0]), _xmp_coordinate(lon_s[0])
            read.facts.append(
                MetadataFact("gps_position", "XMP exif:GPSLatitude/GPSLongitude", f"{lat:.6f}, {lon:.6f}",
                             "xmp:gps", {"lat": lat, "lon": lon})
            )
        except ValueError as e:
            read.warnings.append(f"XMP GPS unreadable ({e})"[:200])


#: properties whose value is an rdf:Seq/Bag/Alt of several entries (one fact per entry)
_LIST_PROPS = frozenset({"dc:creator", "Iptc4xmpExt:PersonInImage", "dc:subject"})


# ---- PNG text and the whole read ---------------------------------------------------------------------------

_PNG_TEXT = {"Author": "owner", "Copyright": "copyright", "Comment": "description", "Description": "description",
             "Title": "description", "Creation Time": "capture_time", "Software": "software"}


def read_metadata(exif: bytes | None, xmp: bytes | None, info: dict[str, object] | None = None) -> MetadataRead:
    """Every fact in an image's EXIF block, XMP packet and PNG text chunks; never raises."""
    read = MetadataRead()
    if exif:
        with warnings.catch_warnings(record=True) as caught:  # Pillow warns on corrupt tags: keep them here
            warnings.simplefilter("always")
            try:
                read_exif(exif, read)
            except (Exception, struct.error) as e:  # belt and braces: read_exif guards each field already
                read.warnings.append(f"EXIF unreadable ({type(e).__name__})")
        for message in dict.fromkeys(f"EXIF: {w.message}"[:200] for w in caught[:5]):
            read.warnings.append(message)
    if xmp:
        try:
            read_xmp(xmp, read)
        except Exception as e:
            read.warnings.append(f"XMP unreadable ({type(e).__name__})")
    for key, kind in _PNG_TEXT.items():
        value = (info or {}).get(key)
        text = _text(value) if isinstance(value, str) else None
        if text:
            read.facts.append(MetadataFact(kind, f"PNG {key}", text, f"png:{key}"))
    return read
