"""The audit cache under attack: another user reading it, random bytes in it, a file swapped under it,
a detector that crashes, and an image over Pillow's own size limit."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hostile_helpers import cli, cli_here, copy_example, records_by_name, report, shared_tmp, text
from PIL import Image
from support import synth

from privscan.engine.audit import run_audit
from privscan.engine.cache import AuditCache
from privscan.engine.options import AuditOptions
from privscan.errors import ImageError
from privscan.io.decode import decode_bytes, read_file, sha256_bytes


def _cache_bytes(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in out.glob("cache.sqlite*"))


def test_cache_is_private_and_holds_nothing_the_report_masks(tmp_path):
    card = synth.credit_card(seed=3)
    number = next(item.text for item in card.items if item.kind == "card")
    root = tmp_path / "photos"
    root.mkdir()
    card.image.save(root / "card.jpg", quality=95)
    out = tmp_path / "out"
    rep = report(cli("audit", root, "--out", out, "--detectors", "text", "--json", timeout=600))
    record = records_by_name(rep)["card.jpg"]
    evidence = [e for a in record["attributes"] for e in a["evidence"] if e.get("value_masked")]
    assert evidence, "the card number must be found for this test to mean anything"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for p in out.glob("cache.sqlite*"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    digits = number.replace(" ", "")
    blob = _cache_bytes(out)
    assert number.encode() not in blob and digits.encode() not in blob
    # the cached thumbnail has the number's region painted flat: nothing left for OCR to read
    with sqlite3.connect(out / "cache.sqlite") as db:
        thumb = db.execute("SELECT thumbnail FROM records").fetchone()[0]
    pixels = np.asarray(Image.open(io.BytesIO(thumb)).convert("L"), dtype=np.float32)
    box = next(r["box"] for e in evidence for r in e["regions"] if e["value_masked"])
    sx, sy = pixels.shape[1] / record["width"], pixels.shape[0] / record["height"]
    x0, y0, x1, y1 = int(box[0] * sx) + 1, int(box[1] * sy) + 1, int(box[2] * sx) - 1, int(box[3] * sy) - 1
    assert pixels[y0:y1, x0:x1].std() < 4.0  # text on a card has std in the tens
    original = np.asarray(card.image.convert("L").resize((pixels.shape[1], pixels.shape[0])), np.float32)
    assert original[y0:y1, x0:x1].std() > 20.0


def _as_nobody(*argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *argv], capture_output=True)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv")
def test_another_user_cannot_read_the_cache():
    base = shared_tmp("privscan-cache-")  # under /tmp and 0755: pytest's tmp_path is root-only already
    try:
        root = base / "photos"
        copy_example("coffee.jpg", root / "coffee.jpg")
        out = base / "out"
        report(cli("audit", root, "--out", out, "--detectors", "metadata", "--json"))
        (base / "readable.txt").write_text("a 0644 file nobody may read")
        (base / "readable.txt").chmod(0o644)
        assert _as_nobody("cat", str(base / "readable.txt")).returncode == 0  # the probe itself works
        assert _as_nobody("cat", str(out / "cache.sqlite")).returncode != 0  # the folder is 0700
        out.chmod(0o755)  # even in a folder others can enter, the file itself is 0600
        for name in ("cache.sqlite", "records.jsonl", "report.json", "report.html"):
            assert _as_nobody("cat", str(out / name)).returncode != 0, name
    finally:
        shutil.rmtree(base)


def test_damaged_cache_is_moved_aside_and_rebuilt(tmp_path):
    root = tmp_path / "photos"
    copy_example("coffee.jpg", root / "coffee.jpg")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cache.sqlite").write_bytes(os.urandom(8192))
    first = cli("audit", root, "--out", out, "--detectors", "metadata", "--json")
    rep = report(first)
    _, stderr = text(first)
    lines = [line for line in stderr.splitlines() if "damaged" in line]
    assert len(lines) == 1 and "moved aside" in lines[0] and "Traceback" not in stderr
    assert list(out.glob("cache.sqlite.damaged-*"))
    assert rep["images"][0]["errors"] == []
    again = report(cli_here("audit", root, "--out", out, "--detectors", "metadata", "--json"))
    assert again["images"][0]["cached"] is True


def _bmp(color: tuple[int, int, int]) -> bytes:
    """An uncompressed image: every colour gives a file of the same size (a swap the size cannot tell)."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "BMP")
    return buf.getvalue()


def _swap_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    st = path.stat()
    assert len(data) == st.st_size
    path.write_bytes(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # only ctime (and the content) betray the swap


def test_stat_recorded_is_the_one_taken_before_reading(tmp_path):
    path = tmp_path / "a.bmp"
    path.write_bytes(_bmp((200, 10, 10)))
    with AuditCache(tmp_path / "cache.sqlite") as cache:
        read = read_file(path)  # what the audit's decode workers do, ahead of the analysis
        _swap_keeping_size_and_mtime(path, _bmp((10, 200, 10)))  # swapped before the record is stored
        cache.remember_file(path, sha256_bytes(read.data), read.stat_key)
        assert cache.known_sha(path) is None  # the new file is not tied to the old content's hash
        fresh = read_file(path)
        cache.remember_file(path, sha256_bytes(fresh.data), fresh.stat_key)
        assert cache.known_sha(path) == sha256_bytes(_bmp((10, 200, 10)))


def test_swapped_file_is_reanalysed_end_to_end(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    path = root / "x.bmp"
    path.write_bytes(_bmp((200, 10, 10)))
    options = AuditOptions(detectors=("metadata",))
    out = tmp_path / "out"
    first_sha = run_audit([str(root)], options, out).report.images[0].sha256  # read now: records stream to disk
    _swap_keeping_size_and_mtime(path, _bmp((10, 10, 200)))
    two = run_audit([str(root)], options, out)
    assert two.report.images[0].sha256 == sha256_bytes(path.read_bytes()) != first_sha
    assert two.reused == 0


def test_thin_image_does_not_poison_later_images_and_is_not_cached(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    Image.new("RGB", (1, 65000), (128, 128, 128)).save(root / "a_thin.jpg")
    Image.new("RGB", (100000, 1), (128, 128, 128)).save(root / "b_thin.png")
    copy_example("astronaut.jpg", root / "c_astronaut.jpg")
    out = tmp_path / "out"
    args = ("audit", root, "--out", out, "--detectors", "faces,people,metadata", "--json")
    by = records_by_name(report(cli(*args, timeout=600)))
    astronaut = by["c_astronaut.jpg"]
    assert astronaut["errors"] == []
    assert any(a["id"].startswith("a9_face") or a["id"].startswith("a10_face") for a in astronaut["attributes"])
    for name in ("a_thin.jpg", "b_thin.png"):
        for e in by[name]["errors"]:
            assert "\n" not in e["message"] and len(e["message"]) <= 300
    again = records_by_name(report(cli_here(*args)))
    assert again["c_astronaut.jpg"]["cached"] is True
    for name in ("a_thin.jpg", "b_thin.png"):
        if by[name]["errors"]:  # a record with detector errors is recomputed, never served from the cache
            assert again[name]["cached"] is False


def test_max_pixels_is_the_limit_over_pillows_own(monkeypatch):
    # Pillow refuses images over 2 x MAX_IMAGE_PIXELS by itself; shrink its limit so a small image stands
    # in for a 100 MP one (the same code path, without 300 MB of pixels in a unit test)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 200_000)
    buf = io.BytesIO()
    Image.new("L", (1000, 500), 7).save(buf, "PNG")
    decoded = decode_bytes(Path("big.png"), buf.getvalue(), max_pixels=1_000_000)
    assert decoded.width == 1000
    with pytest.raises(ImageError) as refused:
        decode_bytes(Path("big.png"), buf.getvalue(), max_pixels=400_000)
    assert refused.value.kind == "too-large"
