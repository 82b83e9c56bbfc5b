"""Report files: JSON lines streamed while a run goes on, and the final JSON written in one step.

The JSON-lines file holds one ImageRecord per line, flushed and fsynced as each image finishes, so a run
that is killed loses at most the line being written. `read_records` skips such a truncated last line;
`RecordWriter(path, append=True)` cuts it off before appending, so a resumed run keeps a clean file.
The final JSON (`write_report_json`) goes through privscan.io.atomic: readers see the old file or the
complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

from pydantic import ValidationError

from privscan.errors import PrivscanError
from privscan.io.atomic import atomic_write_text, write_error
from privscan.report.schema import ImageRecord, Report
from privscan.report.summary import summarize


class ReportFormatError(PrivscanError):
    """A report file that is not what privscan writes: bad JSON in the middle, a foreign schema."""

    kind = "report"


class RecordWriter:
    """Append ImageRecords to a JSON-lines file, one durable line per record.

    Use as a context manager: `with RecordWriter(path) as w: w.write(record)`. `append=False` (default)
    starts a new file; `append=True` keeps earlier complete lines (resuming an interrupted run).
    `fsync=False` only flushes (for callers writing thousands of tiny records to slow disks).
    """

    def __init__(self, path: str | os.PathLike[str], *, append: bool = False, fsync: bool = True) -> None:
        self.path = Path(path)
        self.append = append
        self.fsync = fsync
        self.count = 0
        self._fd: int | None = None

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
            if self.fsync:
                os.fsync(self._fd)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, good)
            raise write_error(self.path, e) from e
        self.count += 1

    def close(self) -> None:
        if self._fd is not None:
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


def read_records(path: str | os.PathLike[str]) -> list[ImageRecord]:
    """Every complete record of a JSON-lines file, in file order.

    A last line that is cut short (no newline, or not valid JSON) is skipped: it is what an interrupted run
    leaves. Any other bad line, or a record of another schema major version, raises ReportFormatError.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise ReportFormatError(f"cannot read {path}: {e.strerror}") from e
    lines = text.split("\n")
    complete = text.endswith("\n")
    if complete:
        lines.pop()  # the empty string after the final newline
    records: list[ImageRecord] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        last = n == len(lines)
        try:
            records.append(ImageRecord.model_validate_json(line))
        except ValidationError as e:
            if last and (not complete or _is_json_syntax_error(e)):
                break  # truncated by an interrupted write
            raise ReportFormatError(f"{path}:{n}: not a privscan image record: {_first_error(e)}") from e
    return records


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
