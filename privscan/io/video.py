"""Videos and Live Photos (MOV/MP4): what their QuickTime metadata leaks, without decoding a frame.

A phone video carries the same private metadata as a photo — where (ISO 6709 GPS) and when it was shot,
the device — in its `moov` box. This module walks the ISO base media boxes with seeks, reading only the
`moov` box (never the media data, which can be gigabytes), and returns the facts. Frames are not
analysed: the audit reports the file with its metadata and "not analysed: video".

Read: `mvhd` creation time and duration; the classic user data atoms `udta/©xyz` (GPS), `©day`, `©mak`,
`©mod`; and Apple's `meta` keys (`com.apple.quicktime.location.ISO6709`, `.creationdate`, `.make`,
`.model`).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

VIDEO_EXTENSIONS = frozenset({".mov", ".mp4", ".m4v", ".3gp"})
#: a moov box larger than this is not metadata we can afford to read (it is refused, not half read)
MAX_MOOV_BYTES = 64 * 2**20
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)
_ISO6709 = re.compile(r"^([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)")
_APPLE_KEYS = {
    "com.apple.quicktime.location.ISO6709": "gps",
    "com.apple.quicktime.creationdate": "creation_time",
    "com.apple.quicktime.make": "make",
    "com.apple.quicktime.model": "model",
}
_UDTA = {b"\xa9xyz": "gps", b"\xa9day": "creation_time", b"\xa9mak": "make", b"\xa9mod": "model"}


@dataclass
class VideoMetadata:
    format: str  # "MOV" (QuickTime brand) or "MP4"
    creation_time: str | None = None
    gps: tuple[float, float] | None = None
    gps_text: str | None = None  # as stored (ISO 6709), e.g. "+48.8583+002.2945+035.000/"
    make: str | None = None
    model: str | None = None
    duration_s: float | None = None
    tags: dict[str, str] = field(default_factory=dict)  # fact -> where it was found


class VideoError(ValueError):
    """Not an ISO base media file, or its boxes are damaged."""


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the boxes in data[start:end]."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break  # damaged or cut: keep what was read
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _find_moov(f: BinaryIO) -> tuple[str, bytes]:
    """The major brand and the moov box's payload, reading the file's top-level box headers only."""
    brand, pos = "", 0
    f.seek(0, 2)
    size_total = f.tell()
    while pos + 8 <= size_total:
        f.seek(pos)
        head = f.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = size_total - pos
        if size < header:
            raise VideoError("damaged box header")
        if kind == b"ftyp":
            brand = head[8:12].decode("latin-1").strip()
        if kind == b"moov":
            if size > MAX_MOOV_BYTES:
                raise VideoError(f"moov box of {size / 2**20:.0f} MB is too large to read")
            f.seek(pos + header)
            return brand, f.read(size - header)
        pos += size
    raise VideoError("no moov box (not a QuickTime/MP4 file, or cut short)")


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", "replace").strip("\x00").strip()


def parse_iso6709(text: str) -> tuple[float, float] | None:
    m = _ISO6709.match(text.strip())
    if m is None:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def _mvhd(payload: bytes, meta: VideoMetadata) -> None:
    version = payload[0]
    if version == 1 and len(payload) >= 32:
        created, _, scale, duration = struct.unpack(">QQIQ", payload[4:32])
    elif len(payload) >= 20:
        created, _, scale, duration = struct.unpack(">IIII", payload[4:20])
    else:
        return
    if created:
        meta.creation_time = (_EPOCH_1904 + timedelta(seconds=created)).isoformat()
        meta.tags["creation_time"] = "QuickTime mvhd"
    if scale:
        meta.duration_s = round(duration / scale, 3)


def _set(meta: VideoMetadata, fact: str, value: str, tag: str) -> None:
    if not value:
        return
    if fact == "gps":
        point = parse_iso6709(value)
        if point is None:
            return
        meta.gps, meta.gps_text = point, value
    else:
        setattr(meta, fact, value)
    meta.tags[fact] = tag


def _udta(data: bytes, start: int, end: int, meta: VideoMetadata) -> None:
    for kind, s, e in _boxes(data, start, end):
        fact = _UDTA.get(kind)
        if fact is not None and e - s > 4:
            # classic QuickTime text atom: 2-byte length, 2-byte language, text
            length = struct.unpack(">H", data[s : s + 2])[0]
            _set(meta, fact, _text(data[s + 4 : s + 4 + length]), f"QuickTime udta {kind.decode('latin-1')}")


def _meta(data: bytes, start: int, end: int, meta: VideoMetadata) -> None:
    boxes = _boxes(data, start, end)
    if not boxes or boxes[0][0] not in (b"hdlr", b"keys", b"ilst"):  # MP4 'meta' is a full box: skip 4 bytes
        boxes = _boxes(data, start + 4, end)
    keys: list[str] = []
    for kind, s, e in boxes:
        if kind == b"keys" and e - s >= 8:
            count = struct.unpack(">I", data[s + 4 : s + 8])[0]
            for _, ks, ke in _boxes(data, s + 8, e)[:count]:
                keys.append(data[ks:ke].decode("utf-8", "replace"))
    for kind, s, e in boxes:
        if kind != b"ilst":
            continue
        for item, is_, ie in _boxes(data, s, e):
            index = struct.unpack(">I", item)[0] - 1
            if not 0 <= index < len(keys) or keys[index] not in _APPLE_KEYS:
                continue
            for dkind, ds, de in _boxes(data, is_, ie):
                if dkind == b"data" and de - ds > 8:
                    _set(meta, _APPLE_KEYS[keys[index]], _text(data[ds + 8 : de]), f"QuickTime {keys[index]}")


def read_video_metadata(path: Path) -> VideoMetadata:
    """The metadata of a MOV/MP4 file; VideoError when it is not one or is damaged."""
    try:
        with path.open("rb") as f:
            brand, moov = _find_moov(f)
    except struct.error as err:
        raise VideoError("cut short inside a box header") from err
    meta = VideoMetadata(format="MOV" if brand == "qt" else "MP4")
    for kind, s, e in _boxes(moov):
        if kind == b"mvhd":
            _mvhd(moov[s:e], meta)
        elif kind == b"udta":
            _udta(moov, s, e, meta)
            for sub, ss, se in _boxes(moov, s, e):
                if sub == b"meta":
                    _meta(moov, ss, se, meta)
        elif kind == b"meta":
            _meta(moov, s, e, meta)
    return meta
