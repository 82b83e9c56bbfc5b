"""The audit cache: an SQLite file in the output folder that makes re-runs and resumed runs cheap.

Two tables. `files` remembers each path's stat (size, mtime, ctime, inode) *taken before its bytes were
read* and the sha256 of exactly those bytes, so an unchanged file is not even read again, and a file
swapped at any moment never inherits the old verdict (its stat differs from the one recorded). `records`
keys finished records by (content sha256, config key) — the config key hashes the privscan version,
detector versions, model weight hashes and result-changing options — so a changed model or option
recomputes, and a renamed or copied file reuses its record. Each record is committed the moment it is
finished: an interrupted audit resumes where it stopped. The audit stores only records without detector
errors (a failed detector is retried next run) and only thumbnails with detected values painted over
(unless --show-values), so the cache never holds what the reports mask.

The file is created 0600 (SQLite gives its -wal and -shm files the same mode). A cache that is not a
database, or is damaged, is moved aside and rebuilt with one warning; a cache written by an older layout
is deleted and rebuilt (older versions stored unpainted thumbnails). A full disk is an OutputError (the
run stops with one line); other damage found mid-run turns the cache off for the rest of the run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from privscan.errors import OutputError
from privscan.io.decode import StatKey, stat_key
from privscan.io.names import printable

#: bumped whenever a stored layout or what may be stored changes; an older file is rebuilt
LAYOUT_VERSION = 2

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, sha256 TEXT
);
CREATE TABLE IF NOT EXISTS records (
    sha256 TEXT, config TEXT, record TEXT NOT NULL, thumbnail BLOB, PRIMARY KEY (sha256, config)
);
PRAGMA user_version = {LAYOUT_VERSION};
"""


def current_stat(path: Path) -> StatKey | None:
    try:
        return stat_key(os.stat(path))
    except OSError:
        return None


def _path_key(path: Path) -> bytes:
    """Paths as bytes: any file name (also one that is not UTF-8) is a valid key."""
    return os.fsencode(path.absolute())


def _sidecars(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


class AuditCache:
    """Used from one thread (the audit's main loop). `warnings` holds one line per problem met."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []
        self._broken = False
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as e:
            if _is_full(e):
                raise OutputError(f"cannot write {printable(path)}: {e}") from e
            aside = self._move_aside()
            self.warnings.append(
                f"the cache {printable(path)} was damaged ({e}); moved aside to {printable(aside)} and rebuilt"
            )
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            os.close(fd)
            for p in _sidecars(self.path):
                if p.exists() and p.stat().st_mode & 0o077:
                    p.chmod(0o600)  # our own file, made private (an older privscan created it 0644)
        except OSError as e:
            raise OutputError(f"cannot write {printable(self.path)}: {e.strerror or e}") from e
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables and version != LAYOUT_VERSION:
                db.close()
                for p in _sidecars(self.path):
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                self.warnings.append(f"the cache {printable(self.path)} had an older layout; rebuilt")
                return self._open()
            db.executescript(SCHEMA)
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
        except BaseException:
            db.close()
            raise
        return db

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        try:
            for p in _sidecars(self.path):
                if p.exists():
                    os.replace(p, aside.with_name(aside.name + p.name[len(self.path.name) :]))
        except OSError as e:
            raise OutputError(f"cannot move the damaged cache {printable(self.path)} aside: {e.strerror}") from e
        return aside

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AuditCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, args: tuple[object, ...]) -> tuple[object, ...] | None:
        if self._broken:
            return None
        try:
            row: tuple[object, ...] | None = self._db.execute(sql, args).fetchone()
            return row
        except sqlite3.DatabaseError as e:
            self._fail(e)
            return None

    def _write(self, sql: str, args: tuple[object, ...]) -> None:
        if self._broken:
            return
        try:
            self._db.execute(sql, args)
        except sqlite3.DatabaseError as e:
            self._fail(e)

    def _fail(self, error: sqlite3.DatabaseError) -> None:
        if _is_full(error):
            raise OutputError(f"cannot write {printable(self.path)}: {error}") from error
        self._broken = True
        self.warnings.append(f"the cache {printable(self.path)} failed ({error}); not used for the rest of this run")

    def known_sha(self, path: Path) -> str | None:
        """The content hash recorded for `path` if the file still has the stat recorded before it was read."""
        key = current_stat(path)
        if key is None:
            return None
        row = self._query(
            "SELECT sha256 FROM files WHERE path = ? AND size = ? AND mtime_ns = ? AND ctime_ns = ? AND inode = ?",
            (_path_key(path), *key),
        )
        return str(row[0]) if row else None

    def remember_file(self, path: Path, sha256: str, stat_before: StatKey) -> None:
        """`sha256` is the hash of the bytes read after `stat_before` was taken (see io.decode.FileBytes)."""
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)", (_path_key(path), *stat_before, sha256))

    def get(self, sha256: str, config: str) -> tuple[str, bytes | None] | None:
        row = self._query("SELECT record, thumbnail FROM records WHERE sha256 = ? AND config = ?", (sha256, config))
        if row is None:
            return None
        thumbnail = row[1]
        return str(row[0]), thumbnail if isinstance(thumbnail, bytes) else None

    def put(self, sha256: str, config: str, record_json: str, thumbnail: bytes | None) -> None:
        self._write("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", (sha256, config, record_json, thumbnail))


def _is_full(error: sqlite3.DatabaseError) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "full" in str(error).lower()
