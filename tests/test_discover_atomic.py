"""File discovery (order, hidden, extensions, symlink loops) and atomic writes (no partial files, no clobbering)."""

from __future__ import annotations

import os

import pytest

from privscan.errors import UsageError
from privscan.io.atomic import OutputExistsError, atomic_write_bytes, atomic_writer
from privscan.io.discover import discover


def _touch(path, data=b"x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_recursive_sorted_case_insensitive(tmp_path):
    for rel in ["b/2.JPG", "a/1.png", "a/z/3.JpEg", "c.txt", "a/notes.md", "top.webp"]:
        _touch(tmp_path / rel)
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert found == ["a/1.png", "a/z/3.JpEg", "b/2.JPG", "top.webp"]
    assert found == [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]  # deterministic


def test_hidden_skipped_unless_asked(tmp_path):
    _touch(tmp_path / ".thumbs" / "t.jpg")
    _touch(tmp_path / ".hidden.jpg")
    _touch(tmp_path / "seen.jpg")
    assert [p.name for p in discover([tmp_path])] == ["seen.jpg"]
    assert sorted(p.name for p in discover([tmp_path], include_hidden=True)) == [".hidden.jpg", "seen.jpg", "t.jpg"]


def test_non_recursive(tmp_path):
    _touch(tmp_path / "sub" / "deep.jpg")
    _touch(tmp_path / "here.jpg")
    assert [p.name for p in discover([tmp_path], recursive=False)] == ["here.jpg"]


def test_symlink_loop_terminates_and_dedupes(tmp_path):
    _touch(tmp_path / "photos" / "a.jpg")
    os.symlink(tmp_path / "photos", tmp_path / "photos" / "loop")  # photos/loop -> photos
    os.symlink(tmp_path / "photos", tmp_path / "alias")
    found = discover([tmp_path])
    assert [p.name for p in found] == ["a.jpg"]


def test_explicit_file_kept_whatever_its_extension(tmp_path):
    f = _touch(tmp_path / "IMG_0001")  # no extension: the user named it, so it is audited
    assert discover([f]) == [f]


def test_same_file_twice_is_listed_once(tmp_path):
    f = _touch(tmp_path / "x.jpg")
    assert discover([f, tmp_path, tmp_path / "." / "x.jpg"]) == [f]


def test_missing_path_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="no such file"):
        discover([tmp_path / "nope"])


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_writer(target) as f:
        f.write(b"half of the new cont")
        raise RuntimeError("crash in the middle")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # temporary file removed


def test_atomic_write_replaces_whole(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"


def test_exclusive_write_never_clobbers(tmp_path):
    target = tmp_path / "original.jpg"
    target.write_bytes(b"precious")
    with pytest.raises(OutputExistsError):
        atomic_write_bytes(target, b"new", exclusive=True)
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["original.jpg"]
