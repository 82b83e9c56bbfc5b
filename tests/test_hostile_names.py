"""Hostile file names: bytes that are not UTF-8, terminal escapes and bidi overrides in a name."""

from __future__ import annotations

import json
import os
from pathlib import Path

from hostile_helpers import cli, cli_here, copy_example, report, text

from privscan.io.names import display_name, printable

CLEAR_AND_TITLE = "\x1b[2J\x1b[H\x1b]0;all clear\x07"
CURSOR_UP_RED = "\x1b[3A\x1b[31m"
RLO = "\u202e"


def test_printable_escapes_controls_and_bidi_but_keeps_ordinary_names():
    assert printable("Urlaub 2024/été 🌍.jpg") == "Urlaub 2024/été 🌍.jpg"
    assert printable(f"{CLEAR_AND_TITLE}x.jpg") == "\\x1b[2J\\x1b[H\\x1b]0;all clear\\x07x.jpg"
    assert printable(f"photo{RLO}gpj.exe") == "photo\\u202egpj.exe"
    assert printable("a\nb\tc\u2028d") == "a\\x0ab\\x09c\\u2028d"
    weird = os.fsdecode(b"caf\xe9.jpg")  # a Latin-1 byte: Python hands it over as a lone surrogate
    assert display_name(weird) == "caf\\xe9.jpg" and printable(weird) == "caf\\xe9.jpg"
    display_name(weird).encode("utf-8")  # valid UTF-8 for JSON and SQLite


def test_non_utf8_name_is_audited_with_and_without_cache(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    name = os.fsdecode(b"caf\xe9 \xff.jpg")
    copy_example("chelsea_gps.jpg", root / name)
    for run, extra in ((cli, []), (cli_here, ["--no-cache"])):  # the name's first pass is a real process
        result = run("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json", *extra)
        rep = report(result)
        assert [Path(r["path"]).name for r in rep["images"]] == ["caf\\xe9 \\xff.jpg"]
        assert rep["images"][0]["errors"] == [] and rep["images"][0]["metadata"]
        json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    again = report(cli_here("audit", root, "--out", tmp_path / "out", "--detectors", "metadata", "--json"))
    assert again["images"][0]["cached"] is True


def test_escape_sequences_and_bidi_in_names_never_reach_the_terminal(tmp_path):
    root = tmp_path / "photos"
    root.mkdir()
    hostile = [f"{CLEAR_AND_TITLE}holiday.jpg", f"{CURSOR_UP_RED}fine.jpg", f"card{RLO}gpj.png"]
    copy_example("chelsea_gps.jpg", root / hostile[0])
    copy_example("coffee.jpg", root / hostile[1])
    (root / hostile[2]).write_bytes(b"not an image")  # its error line also carries the name
    result = cli("audit", root, "--out", tmp_path / "out", "--detectors", "metadata")
    stdout, stderr = text(result)
    assert result.returncode == 0, stderr
    for stream in (stdout, stderr):
        assert "\x1b" not in stream and "\x07" not in stream and RLO not in stream
    assert "\\x1b[2J" in stdout and "\\u202egpj.png" in stdout
    # redaction prints names too (per file, and in its error lines)
    red = cli("redact", root / hostile[2], "--hide", "face", "--out", tmp_path / "red")
    for stream in text(red):
        assert "\x1b" not in stream and RLO not in stream
    assert "\\u202e" in text(red)[1]
    # a one-line usage error carrying a hostile path
    missing = cli("audit", root / f"{CLEAR_AND_TITLE}gone", "--out", tmp_path / "o2")
    assert missing.returncode == 2 and "\x1b" not in text(missing)[1] and "\\x1b" in text(missing)[1]
