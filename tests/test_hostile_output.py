"""Bad days for the output folder: a full disk, a read-only --out, two audits at once, a killed run's
temporary files, --out inside the inputs. Each one ends with one line (exit 2) or a clean run, never a
traceback, never a half-written report."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
from hostile_helpers import can_mount_tmpfs, cli, cli_here, copy_example, records_by_name, report, text, tmpfs

from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions
from privscan.errors import OutputError
from privscan.io import atomic
from privscan.io.outdir import OutputFolder
from privscan.report.jsonl import read_records


def _photos(root: Path, n: int = 6) -> Path:
    names = ["astronaut.jpg", "coffee.jpg", "chelsea_gps.jpg"]
    for i in range(n):
        copy_example(names[i % len(names)], root / f"p{i}_{names[i % len(names)]}")
    return root


def _one_error_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    return errors[0]


def _no_half_written(out: Path) -> None:
    assert not list(out.glob(".*.part")), list(out.iterdir())
    if (out / "report.json").exists():
        json.loads((out / "report.json").read_text())  # complete, or not there at all
    if (out / "records.jsonl").exists():
        assert (out / "records.jsonl").read_bytes()[-1:] in (b"", b"\n")  # ends on a complete record
        read_records(out / "records.jsonl")


@pytest.mark.skipif(not can_mount_tmpfs(), reason="cannot mount a tmpfs here (needs root); see the monkeypatched test")
@pytest.mark.parametrize("cache", [True, False], ids=["cache-fills-the-disk", "html-fills-the-disk"])
def test_full_disk_is_one_line_exit_2_and_nothing_half_written(tmp_path, cache):
    root = _photos(tmp_path / "photos")
    with tmpfs("48k") as disk:
        out = disk / "out"
        args = ["audit", root, "--out", out, "--detectors", "metadata"]
        result = cli(*args, *([] if cache else ["--no-cache"]))
        _, stderr = text(result)
        assert result.returncode == 2, stderr
        line = _one_error_line(stderr)
        assert "cannot write" in line and str(disk) in line and ("full" in line or "No space" in line), line
        _no_half_written(out)
        assert not (out / "report.html").exists()


def test_full_disk_while_writing_html_monkeypatched(tmp_path, monkeypatch):
    # the same check where a tmpfs cannot be mounted: the atomic writer's file fails like a full disk
    root = _photos(tmp_path / "photos", 2)
    real_open = open

    class FullDisk:
        def __init__(self, f: object) -> None:
            self._f = f

        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(self._f, name)

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self._f.close()  # type: ignore[attr-defined]

    # the atomic writer opens its temporary file with the built-in open: shadowed in that module only
    monkeypatch.setattr(atomic, "open", lambda *a, **k: FullDisk(real_open(*a, **k)), raising=False)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match=r"cannot write .*report\.json: No space left on device"):
        run_audit([str(root)], AuditOptions(detectors=("metadata",)), out)
    _no_half_written(out)
    assert not (out / "report.json").exists()


@pytest.mark.skipif(not can_mount_tmpfs(), reason="cannot mount a read-only tmpfs here (needs root)")
def test_read_only_out_is_one_line_before_any_model_loads(tmp_path):
    root = _photos(tmp_path / "photos", 1)
    with tmpfs("64k", read_only=True) as disk:
        result = cli("audit", root, "--out", disk, "--detectors", "faces,metadata")
        _, stderr = text(result)
        assert result.returncode == 2
        line = _one_error_line(stderr)
        assert "cannot write to the output folder" in line and "Read-only file system" in line
        result = cli("audit", root, "--out", disk / "sub", "--detectors", "metadata")
        assert result.returncode == 2 and "Read-only" in _one_error_line(text(result)[1])


def test_second_audit_on_the_same_out_is_refused(tmp_path):
    root = _photos(tmp_path / "photos", 1)
    out = tmp_path / "out"
    with OutputFolder(out):  # a first audit holds the folder (the same lock a running audit takes)
        result = cli("audit", root, "--out", out, "--detectors", "metadata")
        _, stderr = text(result)
        assert result.returncode == 2
        line = _one_error_line(stderr)
        assert f"another privscan audit (pid {os.getpid()}) is writing to" in line
        assert not (out / "records.jsonl").exists()
    assert cli_here("audit", root, "--out", out, "--detectors", "metadata", "-q").returncode == 0


def test_stale_part_files_of_a_killed_run_are_removed(tmp_path):
    root = _photos(tmp_path / "photos", 1)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".report.json.k9x2m1.part"
    stale.write_bytes(b"{" * (10 << 20))  # what a kill -9 during the final write leaves
    foreign = out / ".notes.txt.part"  # not ours: left alone
    foreign.write_text("user's file")
    result = cli("audit", root, "--out", out, "--detectors", "metadata", "-q")
    assert result.returncode == 0
    assert not stale.exists() and foreign.exists()
    assert "left by an interrupted run" in text(result)[1]


def test_out_inside_the_input_is_not_audited(tmp_path):
    root = _photos(tmp_path / "photos", 2)
    out = root / "report"
    first = run_audit([str(root)], AuditOptions(detectors=("metadata",)), out)
    # a redacted copy written into privscan's own output (and a stray image there) must not become input
    copy_example("astronaut.jpg", out / "copy.jpg")
    second = run_audit([str(root)], AuditOptions(detectors=("metadata",)), out)
    assert [r.path for r in second.report.images] == [r.path for r in first.report.images]
    assert not any("report" in Path(r.path).parts for r in second.report.images)


def test_redact_out_inside_or_equal_to_the_input(tmp_path):
    root = _photos(tmp_path / "photos", 1)
    same = cli("redact", root, "--hide", "face", "--out", root)
    _, stderr = text(same)
    assert same.returncode == 2
    line = _one_error_line(stderr)
    assert "is the input folder" in line and "no image files found" not in line
    parent = cli("redact", root, "--hide", "face", "--out", tmp_path)
    assert parent.returncode == 2 and "holds the input folder" in _one_error_line(text(parent)[1])
    # redacted copies inside the input folder: a later audit leaves them out, a second redact does not nest
    inside = root / "shared"
    done = cli_here("redact", root, "--hide", "face", "--out", inside, "--dry-run")
    assert done.returncode == 0, text(done)[1]
    real = cli("redact", root, "--hide", "face", "--out", inside)
    assert real.returncode == 0, text(real)[1]
    assert (inside / "p0_astronaut.jpg").exists()
    rep = report(cli_here("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json"))
    assert list(records_by_name(rep)) == ["p0_astronaut.jpg"]
    assert not any("shared" in r["path"] for r in rep["images"])
    again = cli_here("redact", root, "--hide", "face", "--out", inside, "--overwrite")
    assert again.returncode == 0 and not (inside / "shared").exists()
