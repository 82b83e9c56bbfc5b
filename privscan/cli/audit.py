"""`privscan audit`: scan files and folders, stream records, write JSON/HTML reports, print a summary."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from privscan.cli.common import DeviceOpt, console, err_console
from privscan.errors import UsageError

FORMATS = ("json", "html")


def _detectors(text: str) -> tuple[str, ...]:
    """--detectors as names: 'default' expands to the registry's default set, 'none' to nothing."""
    from privscan.detectors.registry import default_names

    out: list[str] = []
    for item in (d.strip().lower() for d in text.split(",")):
        if item == "default":
            out.extend(default_names())
        elif item and item != "none":
            out.append(item)
    return tuple(dict.fromkeys(out))


def _formats(value: str) -> tuple[str, ...]:
    chosen = tuple(f.strip().lower() for f in value.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise UsageError(f"unknown --format {', '.join(unknown)}", hint=f"choose from {', '.join(FORMATS)}")
    return chosen


def audit(
    paths: Annotated[
        list[Path], typer.Argument(help="Photos and folders to audit (folders are searched recursively).")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for records.jsonl, report.json, report.html and the cache.")
    ] = Path("privscan-report"),
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Final reports to write: json, html or both (comma list). records.jsonl is always streamed.",
        ),
    ] = "json,html",
    device: DeviceOpt = "auto",
    ocr: Annotated[
        str, typer.Option("--ocr", help="OCR engine: auto (the measured default), rapidocr or easyocr.")
    ] = "auto",
    detectors: Annotated[
        str,
        typer.Option(
            "--detectors",
            help="Comma list of detectors to run (see README; a detector brings those it needs, e.g. people "
            "brings faces); 'default' for the default set, 'none' for models only.",
        ),
    ] = "default",
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Your sensitivities: a CSV/TSV of attribute_id,1-5.")
    ] = None,
    user: Annotated[
        int | None, typer.Option("--user", help="Use VISPR user profile K (0-29) instead of the mean profile.")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Images per model batch (default: 16 on CUDA, 1 on CPU).")
    ] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Decoding threads.")] = 2,
    lanes: Annotated[
        int | None,
        typer.Option(
            "--lanes",
            min=1,
            help="Images analysed side by side, each on its share of the cores (default: one per 8 images, "
            "up to the cores and 4; each lane holds its own models, about 390 MB).",
        ),
    ] = None,
    max_pixels: Annotated[
        int, typer.Option("--max-pixels", min=1, help="Refuse larger images (decompression-bomb guard).")
    ] = 120_000_000,
    show_values: Annotated[
        bool,
        typer.Option(
            "--show-values", help="Put detected values (card numbers, e-mails, GPS) in clear into the reports."
        ),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Recompute everything (the cache makes re-runs and resumed runs fast).")
    ] = False,
    hidden: Annotated[bool, typer.Option("--hidden", help="Include hidden files and folders.")] = False,
    follow_links: Annotated[
        bool,
        typer.Option(
            "--follow-links",
            help="Follow symbolic links that lead outside the given folders (by default they are reported only).",
        ),
    ] = False,
    recursive: Annotated[bool, typer.Option("--recursive/--no-recursive", help="Search folders recursively.")] = True,
    drag_weights: Annotated[
        Path | None, typer.Option("--drag-weights", help="A DRAG checkpoint to use instead of the registered one.")
    ] = None,
    privobfnet_weights: Annotated[
        Path | None,
        typer.Option("--privobfnet-weights", help="A PrivObfNet checkpoint to use instead of the registered one."),
    ] = None,
    fail_on: Annotated[
        float | None,
        typer.Option(
            "--fail-on",
            min=0.0,
            max=1.0,
            help="Exit with status 1 if any image's risk is at least this (0-1): for scripts and pre-upload hooks.",
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Analyse on Ray Data: 'auto' (this machine's Ray cluster, else a local one) or a cluster address "
            "(ray://host:10001 or host:6379). Needs privscan[ray].",
        ),
    ] = None,
    ray_actors: Annotated[
        int | None,
        typer.Option("--ray-actors", min=1, help="Analysing Ray actors (default: one per GPU, else CPUs less one)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or table; errors only.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the final JSON report to stdout (progress goes to stderr).")
    ] = False,
) -> None:
    """Audit photos for private information: faces, names, card numbers, addresses, documents, nudity, GPS, ..."""
    from privscan.engine.audit import run_audit
    from privscan.engine.options import AuditOptions
    from privscan.io.names import printable
    from privscan.report.jsonl import report_json_chunks
    from privscan.report.schema import Report
    from privscan.report.summary import risk_of
    from privscan.report.terminal import print_summary

    chosen = _detectors(detectors)
    options = AuditOptions(
        device=device,
        detectors=chosen,
        ocr_engine=ocr,
        profile_user=user,
        profile_path=profile,
        max_pixels=max_pixels,
        batch_size=batch_size,
        workers=workers,
        lanes=lanes,
        show_values=show_values,
        recursive=recursive,
        include_hidden=hidden,
        follow_links=follow_links,
        drag_weights=drag_weights,
        privobfnet_weights=privobfnet_weights,
        use_cache=not no_cache,
    )
    options.profile()  # a bad profile is a usage error before any model loads
    formats = _formats(fmt)
    show_progress = not quiet and not as_json and sys.stderr.isatty()
    progress = _progress(show_progress)
    task = None

    def on_start(total: int) -> None:
        nonlocal task
        if progress is not None:
            progress.start()
            task = progress.add_task("auditing", total=total)

    def on_record(record: object) -> None:
        if progress is not None and task is not None:
            progress.advance(task)

    try:
        result = run_audit(
            [str(p) for p in paths],
            options,
            out,
            formats=formats,
            on_start=on_start,
            on_record=on_record,
            ray_address=ray,
            ray_actors=ray_actors,
        )
    finally:
        if progress is not None:
            progress.stop()
    for warning in result.warnings:
        err_console.print(printable(f"warning: {warning}"), markup=False, highlight=False, soft_wrap=True)
    if as_json:
        for chunk in report_json_chunks(result.header, result.summary, result.outputs["jsonl"]):
            sys.stdout.write(chunk)
        sys.stdout.flush()
    elif not quiet:
        print_summary(Report(header=result.header, summary=result.summary, images=result.top), console=console)
        where = printable(", ".join(str(p) for p in result.outputs.values()))
        console.print(
            f"{result.summary.images} images in {result.seconds:.1f} s "
            f"({result.analysed} analysed, {result.reused} from cache, {result.failed} unreadable) -> {where}",
            highlight=False,
            markup=False,
        )
    if fail_on is not None:
        risky = sum((risk_of(r) or 0.0) >= fail_on for r in result.records())
        if risky:
            err_console.print(f"{risky} image(s) at or above risk {fail_on:g}", markup=False)
            raise typer.Exit(1)


def _progress(enabled: bool) -> Progress | None:
    """Bar, count, images/s and ETA on stderr (stdout stays clean for --json)."""
    if not enabled:
        return None
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.2f} img/s" if task.speed else "-- img/s", style="cyan")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("audit")(audit)
