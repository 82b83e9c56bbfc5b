"""Atomic file writes: a temporary file in the target folder, fsync, then rename.

A reader (or a crash) never sees a half-written output: the target either keeps its old content or holds
the complete new one. `exclusive=True` additionally refuses to replace an existing file, race-free
(hard link, which fails if the name exists), so an original or earlier output is never clobbered.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


class OutputExistsError(FileExistsError):
    """Raised by exclusive writes when the target already exists."""


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, exclusive: bool = False, text: bool = False) -> Iterator[IO[Any]]:
    """Yield a file object; on normal exit its content becomes `path` in one step."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if exclusive and target.exists():
        raise OutputExistsError(str(target))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        f: IO[Any] = os.fdopen(fd, "w", encoding="utf-8", newline="") if text else os.fdopen(fd, "wb")
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            try:
                os.link(tmp, target)
            except FileExistsError as e:
                raise OutputExistsError(str(target)) from e
            tmp.unlink()
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, exclusive: bool = False) -> None:
    with atomic_writer(path, exclusive=exclusive) as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, exclusive: bool = False) -> None:
    with atomic_writer(path, exclusive=exclusive, text=True) as f:
        f.write(text)
