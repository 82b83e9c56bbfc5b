"""Report files: JSON lines streamed while a run goes on, and the final JSON written in one step.

The JSON-lines file holds one ImageRecord per line, flushed as each image finishes and fsynced at most every
`SYNC_SECONDS` (and on close), so a run that is killed loses at most the line being written and a crash of
the machine the last fraction of a second (the audit cache has those records: a resumed run rewrites them).
An fsync per line cost more than the rest of a cached re-run of thousands of images. `read_records` skips
a truncated last line; `RecordWriter(path, append=True)` cuts it off before appending, so a resumed run
keeps a clean file.
The final JSON (`write_report_json`) goes through privscan.io.atomic: readers see the old file or the
complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from privscan.errors import PrivscanError
from privscan.io.atomic import atomic_write_text, atomic_writer, write_error
from privscan.report.schema import ImageRecord, Report, RunHeader, Summary
from privscan.report.summary import summarize

#: longest time a written record waits for its fsync
SYNC_SECONDS = 0.5


class ReportFormatError(PrivscanError):
    """A report file that is not what privscan writes: bad JSON in the middle, a foreign schema."""

    kind = "report"


class RecordWriter:
    """Append ImageRecords to a JSON-lines file, one durable line per record.

    Use as a context manager: `with RecordWriter(path) as w: w.write(record)`. `append=False` (default)
    starts a new file; `append=True` keeps earlier complete lines (resuming an interrupted run).
    `fsync=False` never fsyncs (for callers writing thousands of tiny records to slow disks); otherwise
    the file is fsynced at most every SYNC_SECONDS and on close.
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False, fsync: bool = True) -> None:
        self.path = Path(path)
        self.append = append
        self.fsync = fsync
        self.count = 0
        self._fd: int | None = None
        self._synced = 0.0

    def __enter__(self) -> RecordWriter:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            if self.append and self.path.exists():
                _drop_partial_last_line(self.path)
            else:
                flags |= os.O_TRUNC
            # readable by the owner only, like report.json / report.html (the atomic writer's temporary files)
            self._fd = os.open(self.path, flags, 0o600)
        except OSError as e:
            raise write_error(self.path, e) from e

    def write(self, record: ImageRecord) -> None:
        """Append one line, unbuffered; a failed write (full disk) is cut off again and raised as OutputError,
        so the file still ends on a complete record."""
        if self._fd is None:
            raise RuntimeError("RecordWriter is not open: use it as a context manager")
        data = (record.model_dump_json() + "\n").encode("utf-8")
        good = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
            if self.fsync and time.monotonic() - self._synced >= SYNC_SECONDS:
                os.fsync(self._fd)
                self._synced = time.monotonic()
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, good)
            raise write_error(self.path, e) from e
        self.count += 1

    def close(self) -> None:
        if self._fd is not None:
            try:
                if self.fsync:
                    os.fsync(self._fd)
            except OSError as e:
                raise write_error(self.path, e) from e
            finally:
                os.close(self._fd)
                self._fd = None


def _drop_partial_last_line(path: Path) -> None:
    """Cut a file back to its last newline: what an interrupted write left behind is not a record."""
    with path.open("rb+") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # scan backwards in blocks for the last newline
        pos = size
        keep = 0
        while pos > 0:
            step = min(65536, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            idx = block.rfind(b"\n")
            if idx >= 0:
                keep = pos + idx + 1
                break
        f.truncate(keep)
        f.flush()
        os.fsync(f.fileno())


def iter_records(path: str | os.PathLike[str]) -> Iterator[ImageRecord]:
    """Every complete record of a JSON-lines file, in file order, one line in memory at a time.

    A last line that is cut short (no newline, or not valid JSON) is skipped: it is what an interrupted run
    leaves. Any other bad line, or a record of another schema major version, raises ReportFormatError.
    """
    path = Path(path)
    try:
        f = path.open(encoding="utf-8", errors="replace", newline="\n")
    except OSError as e:
        raise ReportFormatError(f"cannot read {path}: {e.strerror}") from e
    with f:
        n = 0
        for raw in f:
            n += 1
            line = raw[:-1] if raw.endswith("\n") else raw
            if not line.strip():
                continue
            try:
                record = ImageRecord.model_validate_json(line)
            except ValidationError as e:
                last = f.read(1) == ""
                if last and (not raw.endswith("\n") or _is_json_syntax_error(e)):
                    return  # truncated by an interrupted write
                raise ReportFormatError(f"{path}:{n}: not a privscan image record: {_first_error(e)}") from e
            yield record


def read_records(path: str | os.PathLike[str]) -> list[ImageRecord]:
    """Every complete record of a JSON-lines file, in file order (see `iter_records`)."""
    return list(iter_records(path))


def _is_json_syntax_error(e: ValidationError) -> bool:
    return any(err["type"] == "json_invalid" for err in e.errors())


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]


def report_to_json(report: Report, *, indent: int | None = 2) -> str:
    """The final JSON text (what `--json` prints); fills the summary when the caller left it out."""
    if report.summary is None:
        report = report.model_copy(update={"summary": summarize(report.images)})
    return report.model_dump_json(indent=indent) + "\n"


def write_report_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the final JSON atomically (temporary file, fsync, rename)."""
    atomic_write_text(path, report_to_json(report))


def report_json_chunks(
    header: RunHeader, summary: Summary, records_path: str | os.PathLike[str]
) -> Iterator[str]:
    """The final JSON document (a Report) in pieces, its images read line by line from a JSON-lines file.

    A library of any size gets a complete report.json in memory one record at a time. Lines are checked as
    records on the way (a foreign line is an error).
    """
    yield '{\n  "header": ' + header.model_dump_json() + ',\n  "summary": ' + summary.model_dump_json()
    yield ',\n  "images": ['
    first = True
    for record in iter_records(records_path):
        yield ("\n    " if first else ",\n    ") + record.model_dump_json()
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


def write_report_json_stream(
    header: RunHeader, summary: Summary, records_path: str | os.PathLike[str], path: str | os.PathLike[str]
) -> None:
    """Write `report_json_chunks` atomically (temporary file, fsync, rename)."""
    with atomic_writer(path, text=True) as out:
        for chunk in report_json_chunks(header, summary, records_path):
            out.write(chunk)


def read_report_json(path: str | os.PathLike[str]) -> Report:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ReportFormatError(f"cannot read {path}: {e.strerror}") from e
    try:
        return Report.model_validate_json(text)
    except ValidationError as e:
        raise ReportFormatError(f"{path}: not a privscan report: {_first_error(e)}") from e
