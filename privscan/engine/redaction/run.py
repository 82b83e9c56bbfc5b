"""The redaction run: plan the outputs, pick the region source once, redact file by file, write sidecars.

`redact(paths, options, pipeline=...)` is the one entry point; `pipeline` lets a caller that redacts
repeatedly (tests, a long-lived service) load the models once, as `run_audit` does. Each output folder that
received a copy gets a sidecar per run (privscan.report.redaction.RedactionRecord) listing what was hidden
in each file, values masked as in the audit report.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from privscan import __version__
from privscan.engine.pipeline import Pipeline
from privscan.engine.redaction.from_report import ReportSource
from privscan.engine.redaction.live import LiveSource
from privscan.engine.redaction.options import RedactOptions
from privscan.engine.redaction.per_file import redact_file
from privscan.engine.redaction.planning import existing_outputs, failed_file, plan_jobs
from privscan.engine.redaction.policy import unlocatable
from privscan.engine.redaction.sources import RegionSource
from privscan.errors import UsageError
from privscan.io.atomic import OutputExistsError, atomic_write_text
from privscan.io.discover import REDACT_SIDECAR_PREFIX
from privscan.io.out_path import refuse_out_over_inputs
from privscan.report.redaction import RedactedFile, RedactionRecord

SIDECAR_PREFIX = REDACT_SIDECAR_PREFIX  # discovery knows folders holding such a record as privscan's output


@dataclass
class RedactRun:
    options: RedactOptions
    results: list[RedactedFile] = field(default_factory=list)
    sidecars: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    detectors: tuple[str, ...] = ()
    privobfnet: str | None = None  # model name when its masks were used
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.results)

    def record(self, results: Sequence[RedactedFile] | None = None) -> RedactionRecord:
        """The sidecar document: the run's settings plus one entry per file (all of them by default)."""
        o = self.options
        return RedactionRecord(
            privscan_version=__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            hide=list(o.hide),
            style=o.style,
            color=list(o.color) if o.style == "fill" else None,
            margin=o.margin,
            regions_from=f"report {o.from_report}" if o.from_report else "detectors",
            detectors=list(self.detectors),
            privobfnet=self.privobfnet,
            dry_run=o.dry_run,
            warnings=self.warnings,
            files=list(self.results if results is None else results),
        )


def redact(
    paths: Sequence[str | os.PathLike[str]],
    options: RedactOptions,
    *,
    pipeline: Pipeline | None = None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[RedactedFile], None] | None = None,
) -> RedactRun:
    """Redact `paths` (files and folders; with `options.from_report` and no paths: the report's images)."""
    start = time.perf_counter()
    options.check()
    run = RedactRun(options=options)
    report = ReportSource(options) if options.from_report else None
    missing: list[RedactedFile] = []
    if report is not None and not paths:
        paths, missing = _report_inputs(report)
    if not paths:
        raise UsageError("no files or folders given")
    refuse_out_over_inputs(paths, options.out_dir)
    jobs, problems = plan_jobs(paths, options.out_dir, recursive=options.recursive,
                               include_hidden=options.include_hidden)
    problems = missing + problems
    if not jobs and not problems:
        raise UsageError("no image files found in the given paths")
    if not options.overwrite and not options.dry_run:
        existing = existing_outputs(jobs)
        if existing:
            more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
            raise UsageError(
                f"{existing[0]} already exists{more}; nothing was written", hint="pass --overwrite to replace"
            )
    source: RegionSource | None = report
    if source is None and jobs:
        source = LiveSource(options, pipeline)
        _warn_unlocatable(run, options, source)
    if on_start is not None:
        on_start(len(jobs) + len(problems))
    groups: dict[Path, list[RedactedFile]] = {}
    for result in problems:
        run.results.append(result)
        if on_file is not None:
            on_file(result)
    for job in jobs:
        assert source is not None
        result = redact_file(job, source, options)
        run.results.append(result)
        groups.setdefault(job.sidecar_dir, []).append(result)
        if on_file is not None:
            on_file(result)
    if source is not None:
        run.detectors, run.privobfnet = source.detectors, source.privobfnet
    if not options.dry_run:
        run.sidecars = _write_sidecars(run, groups)
    run.seconds = time.perf_counter() - start
    return run


def _report_inputs(report: ReportSource) -> tuple[list[str], list[RedactedFile]]:
    """The report's images found from here, and a record for each that is not."""
    listed = report.inputs()
    if not listed:
        raise UsageError(f"{report.path} lists no readable images")
    found = [p for p in listed if Path(p).exists()]
    if not found:
        raise UsageError(
            f"none of the {len(listed)} images in {report.path} is found from this folder",
            hint="run from the folder the audit ran in, or name the files",
        )
    missing = [
        failed_file(Path(p), None, "unreadable", "listed in the report but not found from here (name the files)")
        for p in listed
        if not Path(p).exists()
    ]
    return found, missing


def _warn_unlocatable(run: RedactRun, options: RedactOptions, source: LiveSource) -> None:
    undetectable = unlocatable(options.hide)
    if undetectable and source.privobfnet is None:
        names = ", ".join(undetectable[:6]) + (" ..." if len(undetectable) > 6 else "")
        run.warnings.append(
            f"no detector locates {names}; only PrivObfNet weights could (none installed): "
            "those are not hidden, metadata is still removed"
        )


def record_json(record: RedactionRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def _write_sidecars(run: RedactRun, groups: dict[Path, list[RedactedFile]]) -> list[Path]:
    """One JSON per output folder that received at least one file in this run."""
    written = []
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for folder, results in groups.items():
        if not any(r.output_sha256 for r in results):
            continue
        text = record_json(run.record(results))
        for n in range(1000):
            path = folder / f"{SIDECAR_PREFIX}{stamp}{f'-{n}' if n else ''}.json"
            try:
                atomic_write_text(path, text, exclusive=True)
            except OutputExistsError:
                continue
            written.append(path)
            break
    return written
