"""The Python API for platforms: audit, redact and read records without the command line.

    import privscan
    for record in privscan.audit(["uploads/"], detectors=["faces", "text", "metadata"]):
        if record.privacy_score and record.privacy_score >= 0.6:
            ...

`audit` yields one `ImageRecord` per file, in discovery order, as each finishes. Without `out` nothing is
written (no cache, no reports); with `out` the run is the CLI's (records.jsonl, report.json, report.html and
the cache in that folder) and the records are yielded while it goes. Keyword options are the fields of
`privscan.engine.options.AuditOptions` (`detectors` also as a comma string). Heavy modules (torch, the
detectors) are imported on the first call, not by `import privscan`.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from privscan.report.schema import ImageRecord

if TYPE_CHECKING:
    from privscan.engine.options import AuditOptions
    from privscan.engine.redaction import RedactRun

#: records a background run may get ahead of a consumer that reads slowly
_AHEAD = 64


def audit_options(**options: Any) -> AuditOptions:
    """AuditOptions from keywords; `detectors` may be a list or a comma string; paths may be strings."""
    from privscan.engine.options import AuditOptions

    detectors = options.get("detectors")
    if isinstance(detectors, str):
        options["detectors"] = tuple(d.strip() for d in detectors.split(",") if d.strip())
    elif detectors is not None:
        options["detectors"] = tuple(detectors)
    for key in ("profile_path", "drag_weights", "privobfnet_weights"):
        if isinstance(options.get(key), str):
            options[key] = Path(options[key])
    return AuditOptions(**options)


def audit(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    out: str | os.PathLike[str] | None = None,
    ray: str | None = None,
    formats: Sequence[str] = ("json", "html"),
    **options: Any,
) -> Iterator[ImageRecord]:
    """Audit files and folders; yields each image's record in discovery order (see the module docstring).

    `ray` ("auto" or a cluster address) runs the analysis on Ray Data (needs `privscan[ray]` and `out`).
    """
    names = [str(paths)] if isinstance(paths, str | os.PathLike) else [str(p) for p in paths]
    opts = audit_options(**options)
    if out is None:
        if ray is not None:
            raise ValueError("audit(ray=...) needs out=: the Ray runner writes records and cache there")
        return _audit_in_memory(names, replace(opts, use_cache=False))
    return _audit_to_folder(names, opts, Path(out), tuple(formats), ray)


def _audit_in_memory(paths: list[str], options: AuditOptions) -> Iterator[ImageRecord]:
    from privscan.engine.audit import AUDIT_EXTENSIONS, Auditor
    from privscan.io.discover import discover

    files = discover(
        paths, recursive=options.recursive, include_hidden=options.include_hidden, extensions=AUDIT_EXTENSIONS
    )
    yield from Auditor(options).run(files, None)


class _Stop(Exception):
    """Raised inside the background run when the consumer closed the iterator."""


def _audit_to_folder(
    paths: list[str], options: AuditOptions, out: Path, formats: tuple[str, ...], ray: str | None
) -> Iterator[ImageRecord]:
    from privscan.engine.audit import run_audit

    items: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=_AHEAD)
    stop = threading.Event()

    def on_record(record: ImageRecord) -> None:
        while not stop.is_set():
            try:
                items.put(("record", record), timeout=0.2)
                return
            except queue.Full:
                continue
        raise _Stop

    def work() -> None:
        try:
            run_audit(paths, options, out, formats=formats, on_record=on_record, ray_address=ray)
        except _Stop:
            pass
        except BaseException as e:  # handed to the consumer's thread, raised there
            items.put(("error", e))
            return
        items.put(("done", None))

    thread = threading.Thread(target=work, name="privscan-audit", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = items.get()
            if kind == "record":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        thread.join()


def redact(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    hide: str | Sequence[str],
    *,
    style: str | None = None,
    out: str | os.PathLike[str] | None = None,
    **options: Any,
) -> RedactRun:
    """Write redacted, metadata-free copies hiding `hide` (attribute ids or aliases: "face", "card", ...).

    Originals are never touched; `out` is the folder for the copies (default: `redacted/` beside each input).
    Keyword options are the fields of `privscan.engine.redaction.RedactOptions`. Returns the run's results.
    """
    from privscan import vocab
    from privscan.engine.redaction import RedactOptions
    from privscan.engine.redaction import redact as run_redact
    from privscan.masks.obfuscate import DEFAULT_STYLE

    names = [str(paths)] if isinstance(paths, str | os.PathLike) else [str(p) for p in paths]
    ids = tuple(vocab.resolve_names(hide if isinstance(hide, str) else list(hide)))
    opts = RedactOptions(hide=ids, style=style or DEFAULT_STYLE, out_dir=Path(out) if out else None, **options)
    return run_redact(names, opts)


def read_records(path: str | os.PathLike[str]) -> Iterator[ImageRecord]:
    """The records of a records.jsonl (or of a report.json), one at a time, in file order.

    A line cut short by an interrupted run is skipped; anything else that is not a record is an error
    (privscan.report.jsonl.ReportFormatError).
    """
    from privscan.report.jsonl import iter_records, read_report_json

    if str(path).endswith(".json"):
        yield from read_report_json(path).images
    else:
        yield from iter_records(path)
