"""An audit's output folder, held for one run: private, locked, and clean of what a killed run left.

- Created 0700 (the reports and cache are 0600; a folder others can list would still tell them which
  reports exist). An existing folder is used as it is: it is the user's.
- Locked (flock on `.privscan-lock`, which holds the pid): a second audit on the same --out is refused with
  one line instead of both appending to records.jsonl and corrupting it. The lock is released by the
  kernel when the process dies, so a `kill -9` never leaves a stale lock. The file stays as a marker:
  discovery knows the folder as privscan's own output and does not audit it as input.
- The lock file is the first thing written, so a read-only or unwritable --out fails here, before any
  model loads, with one line (OutputError).
- Temporary `.part` files of the final reports left by a killed run are removed (we hold the lock, so no
  writer of ours is using them).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from privscan.errors import OutputError
from privscan.io.atomic import clean_stale_parts
from privscan.io.discover import OUTPUT_MARKER
from privscan.io.names import printable


class OutputFolder:
    """`with OutputFolder(path, names) as out:` — the folder exists, is locked by us, stale parts are gone."""

    def __init__(self, path: Path, part_names: tuple[str, ...] = ()) -> None:
        self.path = path
        self.part_names = part_names
        self.removed_parts: list[Path] = []
        self._fd: int | None = None

    @property
    def lock_path(self) -> Path:
        return self.path / OUTPUT_MARKER

    def __enter__(self) -> OutputFolder:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    def acquire(self) -> None:
        where = printable(self.path)
        try:
            if not self.path.is_dir():
                self.path.mkdir(mode=0o700, parents=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as e:
            raise OutputError(f"cannot write to the output folder {where}: {e.strerror or e}") from e
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise OutputError(
                f"another privscan audit{who} is writing to {where}; wait for it to finish or choose another --out"
            ) from e
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as e:
            os.close(fd)
            raise OutputError(f"cannot write to the output folder {where}: {e.strerror or e}") from e
        self._fd = fd
        self.removed_parts = clean_stale_parts(self.path, self.part_names)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
