"""The audit cache: an SQLite file in the output folder that makes re-runs and resumed runs cheap.

Two tables. `files` remembers each path's (size, mtime) and content sha256, so an unchanged file is not even
read again. `records` keys finished records by (content sha256, config key) — the config key hashes the
privscan version, detector versions, model weight hashes and result-changing options — so a changed model or
option recomputes, and a renamed or copied file reuses its record. Each record is committed the moment it is
finished: an interrupted audit resumes where it stopped.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS records (
    sha256 TEXT, config TEXT, record TEXT NOT NULL, thumbnail BLOB, PRIMARY KEY (sha256, config)
);
"""


class AuditCache:
    """Used from one thread (the audit's main loop)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AuditCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _stat(path: Path) -> tuple[int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def known_sha(self, path: Path) -> str | None:
        """The content hash recorded for `path` if the file has the same size and mtime as then."""
        stat = self._stat(path)
        if stat is None:
            return None
        row = self._db.execute(
            "SELECT sha256 FROM files WHERE path = ? AND size = ? AND mtime_ns = ?", (str(path.absolute()), *stat)
        ).fetchone()
        return row[0] if row else None

    def remember_file(self, path: Path, sha256: str) -> None:
        stat = self._stat(path)
        if stat is not None:
            self._db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (str(path.absolute()), *stat, sha256))

    def get(self, sha256: str, config: str) -> tuple[str, bytes | None] | None:
        row = self._db.execute(
            "SELECT record, thumbnail FROM records WHERE sha256 = ? AND config = ?", (sha256, config)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def put(self, sha256: str, config: str, record_json: str, thumbnail: bytes | None) -> None:
        self._db.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", (sha256, config, record_json, thumbnail))
