"""Camera RAW files (DNG, CR2, NEF, ARW): their embedded JPEG preview and their EXIF, without a RAW decoder.

These formats are TIFF containers: besides the sensor data they hold one or more full JPEGs (the camera's
own rendering, often full size) and the same EXIF/GPS blocks as a JPEG. Auditing the largest embedded
preview finds what the photo shows; the container's EXIF gives what it leaks. Demosaicing the sensor
data (LibRaw, via rawpy) would add a dependency and seconds per file for a picture the camera already
rendered. RAW files without a usable JPEG preview are reported as unsupported, never guessed at.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

RAW_EXTENSIONS = frozenset({".dng", ".cr2", ".nef", ".arw"})
_TYPES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_CFA, _LINEAR_RAW = 32803, 34892  # photometric interpretations of sensor data, not a preview
MAX_IFDS = 64  # a loop of IFD offsets in a damaged file ends here


@dataclass
class RawPreview:
    kind: str  # "DNG", "CR2", ...
    jpeg: bytes  # the largest embedded JPEG
    exif: bytes  # the TIFF container itself: Pillow's Exif reads IFD0, EXIF and GPS from it


def is_raw(path: Path, data: bytes) -> bool:
    return path.suffix.lower() in RAW_EXTENSIONS and data[:4] in (b"II*\x00", b"MM\x00*")


def _ifd(data: bytes, offset: int, end: str) -> tuple[dict[int, list[int]], int]:
    """Integer-valued tags of one IFD and the offset of the next (0 at the end)."""
    (count,) = struct.unpack(end + "H", data[offset : offset + 2])
    tags: dict[int, list[int]] = {}
    for i in range(count):
        entry = offset + 2 + 12 * i
        tag, typ, n = struct.unpack(end + "HHI", data[entry : entry + 8])
        size = _TYPES.get(typ, 0)
        if typ not in (3, 4, 13) or n == 0 or n > 4096:
            continue
        fmt = end + ("H" if typ == 3 else "I") * n
        where = entry + 8 if size * n <= 4 else struct.unpack(end + "I", data[entry + 8 : entry + 12])[0]
        tags[tag] = list(struct.unpack(fmt, data[where : where + size * n]))
    (following,) = struct.unpack(end + "I", data[offset + 2 + 12 * count : offset + 6 + 12 * count])
    return tags, following


def _candidates(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of every embedded JPEG that IFD0, its chain and its SubIFDs point at."""
    end = "<" if data[:2] == b"II" else ">"
    todo = [struct.unpack(end + "I", data[4:8])[0]]
    seen: set[int] = set()
    found: list[tuple[int, int]] = []
    while todo and len(seen) < MAX_IFDS:
        offset = todo.pop()
        if offset in seen or not 8 <= offset < len(data) - 2:
            continue
        seen.add(offset)
        try:
            tags, following = _ifd(data, offset, end)
        except struct.error:
            continue  # a cut IFD: the others may still hold a preview
        todo.extend(tags.get(0x014A, []))  # SubIFDs
        if following:
            todo.append(following)
        if 0x0201 in tags and 0x0202 in tags:
            found.append((tags[0x0201][0], tags[0x0202][0]))
        strips, counts = tags.get(0x0111, []), tags.get(0x0117, [])
        compression, photometric = tags.get(0x0103, [1])[0], tags.get(0x0106, [0])[0]
        if len(strips) == 1 and len(counts) == 1 and compression in (6, 7) and photometric not in (_CFA, _LINEAR_RAW):
            found.append((strips[0], counts[0]))
    return [(o, n) for o, n in found if n > 0 and data[o : o + 3] == b"\xff\xd8\xff"]


def raw_preview(path: Path, data: bytes) -> RawPreview | None:
    """The largest embedded JPEG of a TIFF-based RAW file; None when it has none."""
    if not is_raw(path, data):
        return None
    found = sorted(_candidates(data), key=lambda c: -c[1])
    if not found:
        return None
    offset, length = found[0]
    return RawPreview(kind=path.suffix.upper().lstrip("."), jpeg=data[offset : offset + length], exif=data)
