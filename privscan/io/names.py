"""File names as privscan shows them: valid UTF-8 in reports, harmless on a terminal.

A name on disk is bytes. Python hands undecodable bytes to us as lone surrogates ("surrogateescape"),
which neither SQLite, JSON nor a terminal accepts, so a single odd byte used to end a whole run with a
traceback. `display_name` turns them into visible `\\xNN` escapes: the report stays valid UTF-8 and the
user still sees which file it is.

A name can also hold terminal control sequences (clear screen, set title, cursor moves, colours) and
Unicode bidi controls (the right-to-left override makes "gpj.exe" read as "exe.jpg"); printed raw they
can hide or rewrite the rows of a report. `printable` replaces every such character by its escape. Use it
on anything from a file (names, EXIF text) that reaches a terminal or a log line.
"""

from __future__ import annotations

import os
import re
import unicodedata

#: bidi embedding/override/isolate controls and marks, plus line/paragraph separators
_BIDI_AND_BREAKS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_SURROGATES = re.compile("[\ud800-\udfff]")


def display_name(path: str | os.PathLike[str]) -> str:
    """`path` as valid UTF-8: bytes that are not UTF-8 become `\\xNN` (the name stays recognisable)."""
    text = os.fspath(path)
    if not _SURROGATES.search(text):
        return text
    return os.fsencode(text).decode("utf-8", "backslashreplace")


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(ch: str) -> bool:
    return ch in _BIDI_AND_BREAKS or unicodedata.category(ch) in ("Cc", "Cs")


def printable(text: object) -> str:
    """`text` with control, bidi-control and surrogate characters shown as escapes (never interpreted)."""
    s = display_name(text) if isinstance(text, (str, os.PathLike)) else str(text)
    if s.isprintable() and not any(ch in _BIDI_AND_BREAKS for ch in s):
        return s
    return "".join(_escape(ch) if _unsafe(ch) else ch for ch in s)
