"""Hostile folders: FIFOs, /dev/zero links, `parent -> ..`, deep trees, unreadable folders, lying sizes.

Every test builds its own hostile tree and runs the real CLI (or the real reader) on it; a run must end
(subprocess timeouts catch a hang), report each odd path in one line, and never read outside the roots.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hostile_helpers import (
    can_drop_privileges,
    cli,
    copy_example,
    records_by_name,
    report,
    text,
)

from privscan.errors import ImageError
from privscan.io.decode import read_file
from privscan.io.discover import discover_all


def _errors(record: dict) -> str:
    return "; ".join(f"{e['kind']}: {e['message']}" for e in record["errors"])


def test_fifo_and_dev_zero_link_neither_hang_nor_read(tmp_path):
    root = tmp_path / "photos"
    copy_example("coffee.jpg", root / "coffee.jpg")
    os.mkfifo(root / "pipe.jpg")  # no writer ever comes: opening it blocking would hang forever
    (root / "zero.jpg").symlink_to("/dev/zero")  # read without limit this is an OOM
    out = tmp_path / "out"
    rep = report(cli("audit", root, "--out", out, "--detectors", "metadata", "--json", timeout=240))
    by = records_by_name(rep)
    assert by["coffee.jpg"]["errors"] == []
    assert "FIFO" in _errors(by["pipe.jpg"]) and by["pipe.jpg"]["errors"][0]["kind"] == "unreadable"
    assert by["zero.jpg"]["errors"][0]["kind"] == "not-followed" and "/dev/zero" in _errors(by["zero.jpg"])
    # allowed to follow links, /dev/zero is refused as a device before a byte is read
    rep = report(cli("audit", root, "--out", out, "--detectors", "metadata", "--json", "--follow-links", timeout=240))
    assert "character device" in _errors(records_by_name(rep)["zero.jpg"])


def test_reader_refuses_special_files_and_stops_at_the_limit(tmp_path):
    fifo = tmp_path / "p.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="FIFO"):
        read_file(fifo)
    with pytest.raises(ImageError, match="character device"):
        read_file(Path("/dev/zero"))
    sparse = tmp_path / "huge.png"  # 4 GiB that take no disk: refused from its size, before reading
    with sparse.open("wb") as f:
        f.truncate(4 << 30)
    with pytest.raises(ImageError, match="MiB limit") as too_big:
        read_file(sparse)
    assert too_big.value.kind == "too-large"
    # a regular file whose size lies (procfs says 0 bytes): the limit is also checked while reading
    with pytest.raises(ImageError, match="grew past"):
        read_file(Path(f"/proc/{os.getpid()}/maps"), max_bytes=64)


def test_parent_link_does_not_lead_out_of_the_tree(tmp_path):
    outside = tmp_path / "secret"
    copy_example("astronaut.jpg", outside / "private.jpg")
    root = tmp_path / "share" / "photos"
    copy_example("coffee.jpg", root / "coffee.jpg")
    (root / "parent").symlink_to("..")
    (root / "up").symlink_to(outside)
    (root / "inside").symlink_to(root / "sub")  # a link that stays inside the root is followed
    copy_example("chelsea_gps.jpg", root / "sub" / "cat.jpg")
    found = discover_all([root])
    assert sorted(p.name for p in found.files) == ["cat.jpg", "coffee.jpg"]
    assert {s.path.name: s.kind for s in found.skipped} == {"parent": "not-followed", "up": "not-followed"}
    rep = report(cli("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json"))
    paths = [r["path"] for r in rep["images"]]
    assert not any("private.jpg" in p for p in paths)
    assert "outside the given folders" in _errors(records_by_name(rep)["parent"])
    assert "--follow-links" in _errors(records_by_name(rep)["parent"])


def test_1200_level_tree_is_walked_without_recursion_error(tmp_path):
    root = tmp_path / "deep"
    levels = [root]
    root.mkdir()
    for _ in range(1200):  # one level at a time: mkdir(parents=True) itself recurses too deep
        levels.append(levels[-1] / "d")
        os.mkdir(levels[-1])
    deepest = levels[-1]
    assert len(str(deepest)) < 4000  # inside PATH_MAX: the depth is what is tested
    copy_example("coffee.jpg", deepest / "bottom.jpg")
    assert sys.getrecursionlimit() < 1200
    try:
        rep = report(cli("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json"))
        assert [Path(r["path"]).name for r in rep["images"]] == ["bottom.jpg"]
        assert rep["images"][0]["errors"] == []
    finally:  # bottom-up, one level at a time (pytest's own cleanup, shutil.rmtree, recurses)
        (deepest / "bottom.jpg").unlink()
        for level in reversed(levels):
            level.rmdir()


@pytest.mark.skipif(not can_drop_privileges(), reason="root without setpriv: file modes cannot be made to bind")
def test_unreadable_folder_is_reported(tmp_path):
    # root reads every folder whatever its mode, so the audit runs with the DAC capabilities dropped
    root = tmp_path / "photos"
    copy_example("coffee.jpg", root / "coffee.jpg")
    copy_example("astronaut.jpg", root / "locked" / "astronaut.jpg")
    (root / "locked").chmod(0o000)
    out = tmp_path / "out"
    try:
        rep = report(cli("audit", root, "--out", out, "--detectors", "metadata", "--json", unprivileged=True))
        by = records_by_name(rep)
        assert by["coffee.jpg"]["errors"] == []
        assert "permission denied" in _errors(by["locked"])
        assert rep["summary"]["failed"] == 1
        stdout, _ = text(cli("audit", root, "--out", out, "--detectors", "metadata", unprivileged=True))
        assert "locked" in stdout and "permission denied" in stdout
    finally:
        (root / "locked").chmod(0o755)


def test_unsupported_media_reported_and_other_files_counted(tmp_path):
    root = tmp_path / "photos"
    copy_example("coffee.jpg", root / "coffee.jpg")
    (root / "IMG_0001.DNG").write_bytes(b"II*\x00" + b"\x00" * 64)  # a RAW file privscan does not decode
    (root / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    (root / "notes.txt").write_text("shopping list")
    result = cli("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json")
    by = records_by_name(report(result))
    assert by["IMG_0001.DNG"]["errors"][0]["kind"] == "unsupported" and "RAW" in _errors(by["IMG_0001.DNG"])
    assert "video" in _errors(by["clip.mp4"])
    assert "notes.txt" not in by
    _, stderr = text(result)
    assert "1 other file(s) are not images" in stderr
