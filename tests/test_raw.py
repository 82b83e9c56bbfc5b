"""Camera RAW files: the embedded JPEG preview is audited and the container's EXIF/GPS read.

The files are TIFF containers built here entry by entry the way cameras lay them out: IFD0 with the
make, a small thumbnail strip and a GPS IFD, and a SubIFD holding a full-size JPEG preview (the one to
pick), plus a CFA sensor-data SubIFD that must not be taken for a preview. No RAW file ships with a
registry package; the preview is a real photo (examples/astronaut.jpg).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

from PIL import Image

from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions
from privscan.io.decode import load_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _ifd(entries: list[tuple[int, int, int, bytes]], base: int, next_ifd: int = 0) -> tuple[bytes, bytes]:
    """(IFD bytes, out-of-line values) for an IFD placed at `base`; entries are (tag, type, count, value)."""
    head = struct.pack("<H", len(entries))
    extra = b""
    extra_at = base + 2 + 12 * len(entries) + 4
    for tag, typ, count, value in sorted(entries):
        if len(value) <= 4:
            head += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\x00")
        else:
            head += struct.pack("<HHII", tag, typ, count, extra_at + len(extra))
            extra += value + b"\x00" * (len(value) % 2)
    return head + struct.pack("<I", next_ifd), extra


def make_dng(path: Path, preview: bytes, *, with_preview: bool = True) -> None:
    thumb = io.BytesIO()
    Image.open(io.BytesIO(preview)).resize((64, 64)).save(thumb, "JPEG")
    blobs = {"thumb": thumb.getvalue(), "preview": preview, "cfa": bytes(4096)}
    # layout: header, IFD0 at 8, then SubIFD A, SubIFD B, GPS IFD (each 512 bytes), then the blobs
    ifd0_at, sub_a, sub_b, gps_at, blob_at = 8, 520, 1032, 1544, 2056
    where = {}
    for name, blob in blobs.items():
        where[name] = blob_at
        blob_at += len(blob)
    L = lambda v: struct.pack("<I", v)  # noqa: E731
    H = lambda v: struct.pack("<H", v)  # noqa: E731
    subs = [sub_a, sub_b] if with_preview else [sub_b]
    ifd0, x0 = _ifd([(0x010F, 2, 6, b"Canon\x00"), (0x0103, 3, 1, H(7)), (0x0106, 3, 1, H(6)),
                     (0x0111, 4, 1, L(where["thumb"])), (0x0117, 4, 1, L(len(blobs["thumb"]))),
                     (0x014A, 4, len(subs), b"".join(L(s) for s in subs)), (0x8825, 4, 1, L(gps_at))], ifd0_at)
    a, xa = _ifd([(0x0103, 3, 1, H(7)), (0x0106, 3, 1, H(6)), (0x0111, 4, 1, L(where["preview"])),
                  (0x0117, 4, 1, L(len(preview)))], sub_a)
    b, xb = _ifd([(0x0103, 3, 1, H(7)), (0x0106, 3, 1, H(32803)), (0x0111, 4, 1, L(where["cfa"])),
                  (0x0117, 4, 1, L(len(blobs["cfa"])))], sub_b)
    rational = lambda *xs: b"".join(struct.pack("<II", int(x * 100), 100) for x in xs)  # noqa: E731
    g, xg = _ifd([(1, 2, 2, b"N\x00"), (2, 5, 3, rational(48, 51, 29.88)), (3, 2, 2, b"E\x00"),
                  (4, 5, 3, rational(2, 17, 40.2))], gps_at)
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd0_at))
    for at, part in ((ifd0_at, ifd0 + x0), (sub_a, a + xa), (sub_b, b + xb), (gps_at, g + xg)):
        out += bytes(at - len(out)) + part
    out += bytes(2056 - len(out))
    for blob in blobs.values():
        out += blob
    path.write_bytes(bytes(out))


def test_dng_preview_and_gps_are_audited(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    make_dng(photos / "IMG_0003.DNG", (EXAMPLES / "astronaut.jpg").read_bytes())
    make_dng(photos / "sensor_only.NEF", (EXAMPLES / "astronaut.jpg").read_bytes(), with_preview=False)
    image = load_image(photos / "IMG_0003.DNG")
    assert image.format == "DNG (embedded preview)"
    assert (image.width, image.height) == Image.open(EXAMPLES / "astronaut.jpg").size  # the big one, not the thumb
    result = run_audit([str(photos)], AuditOptions(detectors=("faces", "metadata")), tmp_path / "out")
    by_name = {Path(r.path).name: r for r in result.records()}
    dng = by_name["IMG_0003.DNG"]
    assert {"a9_face_complete", "a74_address_current_complete"} <= {a.id for a in dng.attributes}
    assert {m.kind for m in dng.metadata} >= {"gps_position", "camera_make"}
    nef = by_name["sensor_only.NEF"]  # its only JPEG is the 64 px thumbnail strip: that one is shown
    assert nef.width == 64 and not nef.errors
