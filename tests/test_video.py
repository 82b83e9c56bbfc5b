"""Videos are reported with their QuickTime metadata and 'not analysed: video', never silently skipped.

The MOV files are built here box by box the way an iPhone writes them (ftyp 'qt', moov with mvhd, the
classic udta ©xyz atom and Apple's meta keys, then a large mdat), since no phone video ships with a
registry package; the reader must find the facts without reading the media data.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from pathlib import Path

from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions
from privscan.io.video import read_video_metadata

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def make_mov(path: Path, *, apple_keys: bool = True, mdat_bytes: int = 3_000_000) -> None:
    created = int((datetime(2027, 8, 1, 7, 20, tzinfo=UTC) - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())
    mvhd = box(b"mvhd", struct.pack(">B3xIIII", 0, created, created, 600, 600 * 12) + bytes(80))
    xyz = b"+48.8583+002.2945+035.000/"
    udta = box(b"udta", box(b"\xa9xyz", struct.pack(">HH", len(xyz), 0x15C7) + xyz))
    parts = [mvhd, udta]
    if apple_keys:
        names = [b"com.apple.quicktime.make", b"com.apple.quicktime.creationdate"]
        keys = box(b"keys", struct.pack(">II", 0, len(names)) + b"".join(box(b"mdta", n) for n in names))
        values = [b"Apple", b"2027-08-01T09:20:00+0200"]
        ilst = box(b"ilst", b"".join(box(struct.pack(">I", i + 1), box(b"data", struct.pack(">II", 1, 0) + v))
                                     for i, v in enumerate(values)))
        parts.append(box(b"meta", box(b"hdlr", bytes(25)) + keys + ilst))
    data = box(b"ftyp", b"qt  " + bytes(4) + b"qt  ") + box(b"wide", b"") + box(b"mdat", bytes(mdat_bytes))
    path.write_bytes(data + box(b"moov", b"".join(parts)))  # moov after mdat, as a camera writes it


def test_reads_quicktime_gps_time_and_make(tmp_path):
    make_mov(tmp_path / "IMG_0002.MOV")
    meta = read_video_metadata(tmp_path / "IMG_0002.MOV")
    assert meta.format == "MOV" and meta.duration_s == 12
    assert meta.gps == (48.8583, 2.2945) and meta.make == "Apple"
    assert meta.creation_time == "2027-08-01T09:20:00+0200"  # Apple's local time wins over mvhd's UTC
    make_mov(tmp_path / "plain.mov", apple_keys=False)
    assert read_video_metadata(tmp_path / "plain.mov").creation_time == "2027-08-01T07:20:00+00:00"


def test_audit_reports_videos_with_metadata(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    make_mov(photos / "IMG_0002.MOV")
    (photos / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(16))  # no moov: damaged
    (photos / "IMG_0001.jpg").write_bytes((EXAMPLES / "coffee.jpg").read_bytes())
    result = run_audit([str(photos)], AuditOptions(detectors=("metadata",)), tmp_path / "out")
    by_name = {Path(r.path).name: r for r in result.records()}
    assert set(by_name) == {"IMG_0001.jpg", "IMG_0002.MOV", "clip.mp4"}
    video = by_name["IMG_0002.MOV"]
    assert [e.kind for e in video.errors] == ["not-analysed"] and "frames not analysed" in video.errors[0].message
    gps = next(m for m in video.metadata if m.kind == "gps_position")
    assert gps.attribute == "a74_address_current_complete" and gps.value is None  # masked unless --show-values
    assert "48.8583" not in gps.value_masked
    assert [e.kind for e in by_name["clip.mp4"].errors] == ["corrupt"]
    assert "IMG_0002.MOV" in (tmp_path / "out" / "report.html").read_text()
