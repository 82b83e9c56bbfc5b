"""Atomic file writes: a temporary file in the target folder, fsync, then rename.

A reader (or a crash) never sees a half-written output: the target either keeps its old content or holds
the complete new one. `exclusive=True` additionally refuses to replace an existing file, race-free
(hard link, which fails if the name exists), so an original or earlier output is never clobbered.
A failed write (full disk, read-only folder) removes its temporary file and raises OutputError: one line
that says what could not be written where. `clean_stale_parts` removes what a killed writer left behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from privscan.errors import OutputError


class OutputExistsError(FileExistsError):
    """Raised by exclusive writes when the target already exists."""


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, exclusive: bool = False, text: bool = False) -> Iterator[IO[Any]]:
    """Yield a file object; on normal exit its content becomes `path` in one step."""
    with atomic_path(path, exclusive=exclusive) as tmp:
        f: IO[Any] = open(tmp, "w", encoding="utf-8", newline="") if text else open(tmp, "wb")  # noqa: SIM115
        with f:
            yield f


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, exclusive: bool = False) -> Iterator[Path]:
    """Yield a temporary file's path in the target folder; on normal exit the file is fsynced and becomes
    `path` in one step. For writers that want a file name rather than a file object: torch.save writes a
    200 MB checkpoint 3x faster through its own C++ writer given a path (measured)."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if exclusive and target.exists():
            raise OutputExistsError(str(target))
        fd, tmp_name = tempfile.mkstemp(prefix=_part_prefix(target.name), suffix=PART_SUFFIX, dir=target.parent)
        os.close(fd)
    except OutputExistsError:
        raise
    except OSError as e:
        raise write_error(target, e) from e
    tmp = Path(tmp_name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            try:
                os.link(tmp, target)
            except FileExistsError as e:
                raise OutputExistsError(str(target)) from e
            tmp.unlink()
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and not isinstance(e, (OutputExistsError, OutputError)):
            raise write_error(target, e) from e
        raise


PART_SUFFIX = ".part"


def _part_prefix(name: str) -> str:
    return f".{name}."


def write_error(target: Path, error: OSError) -> OutputError:
    """The one line for a failed write: what, where, and the system's reason (e.g. 'No space left on device')."""
    return OutputError(f"cannot write {target}: {error.strerror or error}")


def clean_stale_parts(folder: Path, names: Iterable[str]) -> list[Path]:
    """Remove temporary files a killed writer left for `names` in `folder` (call only while no writer of
    those names runs there, e.g. under the output folder's lock). Returns what was removed."""
    removed: list[Path] = []
    prefixes = tuple(_part_prefix(n) for n in names)
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefixes) and p.name.endswith(PART_SUFFIX)]
    except OSError:
        return removed
    for p in candidates:
        with contextlib.suppress(OSError):
            p.unlink()
            removed.append(p)
    return removed


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


def atomic_copy(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> None:
    """Copy a file so that `path` is either its old content or the whole copy (fsynced), never a part."""
    import shutil

    with open(source, "rb") as src, atomic_writer(path) as f:
        shutil.copyfileobj(src, f, length=1 << 20)
