"""`privscan redact`: write redacted, metadata-free copies; originals are never touched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from privscan.cli.common import DeviceOpt, console, err_console
from privscan.io.names import printable

if TYPE_CHECKING:
    from privscan.engine.redaction import RedactRun
    from privscan.report.redaction import RedactedFile

STYLE_HELP = (
    "How hidden areas look: fill (default; a solid colour, nothing of the original survives), "
    "pixelate (coarse blocks about a third of each region's size, colours quantised and randomised so the "
    "original cannot be rebuilt), or blur (only if you ask: a blur is a known filter, so blurred text and faces "
    "can be partly recovered by deblurring and by recognisers trained on blurred images)."
)


def redact(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Photos and folders to redact (folders recursively). With --from-report: default all."),
    ] = None,
    hide: Annotated[
        str,
        typer.Option(
            "--hide",
            help="What to hide: comma list of VISPR ids and aliases (face, name, card, address, email, phone, "
            "date, document, plate, nudity, person, text, all, ...; see `privscan attributes`).",
        ),
    ] = "",
    style: Annotated[str, typer.Option("--style", help=STYLE_HELP)] = "fill",
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Folder for the copies (folders keep their layout). Default: redacted/ beside each file.",
        ),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace existing copies (originals are never replaced).")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be hidden; write nothing.")] = False,
    from_report: Annotated[
        Path | None,
        typer.Option(
            "--from-report",
            help="Use the regions of an earlier audit (report.json, records.jsonl or its folder) instead of "
            "running OCR and face detection again; files are matched by content hash.",
        ),
    ] = None,
    margin: Annotated[
        float,
        typer.Option("--margin", help="Grow each region by this fraction of its smaller side (at least 2 px)."),
    ] = 0.15,
    color: Annotated[str, typer.Option("--color", help="Fill colour for --style fill: #RRGGBB or R,G,B.")] = "#000000",
    device: DeviceOpt = "auto",
    ocr: Annotated[
        str, typer.Option("--ocr", help="OCR engine: auto (the measured default), rapidocr or easyocr.")
    ] = "auto",
    privobfnet_weights: Annotated[
        Path | None,
        typer.Option("--privobfnet-weights", help="A PrivObfNet checkpoint whose masks to use (default: registered)."),
    ] = None,
    max_pixels: Annotated[
        int, typer.Option("--max-pixels", min=1, help="Refuse larger images (decompression-bomb guard).")
    ] = 120_000_000,
    hidden: Annotated[bool, typer.Option("--hidden", help="Include hidden files and folders.")] = False,
    recursive: Annotated[bool, typer.Option("--recursive/--no-recursive", help="Search folders recursively.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print errors only.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run as JSON (what the sidecar holds) to stdout.")
    ] = False,
) -> None:
    """Write redacted copies: hide faces, names, card numbers, ... and drop all metadata (EXIF, GPS, XMP, IPTC).

    Copies keep the file name and format (JPEG at the source's own quality) and the colour profile.

    Exit status 1 when some file could not be redacted (each gets a one-line error; the others are done).
    """
    from privscan import vocab
    from privscan.errors import UsageError
    from privscan.io.out_path import refuse_out_over_inputs
    from privscan.masks.obfuscate import parse_color

    if not hide.strip():
        raise UsageError("--hide is required", hint="e.g. --hide face,name; see `privscan attributes`")
    ids = vocab.resolve_names(hide)
    try:
        rgb = parse_color(color)
    except ValueError as e:
        raise UsageError(f"--color: {e}") from e
    refuse_out_over_inputs(paths or [], out)  # before the engine import below (torch, ~1 s): fail fast

    from privscan.engine.redaction import RedactOptions, record_json
    from privscan.engine.redaction import redact as run_redact

    options = RedactOptions(
        hide=tuple(ids),
        style=style.strip().lower(),
        color=rgb,
        margin=margin,
        out_dir=out,
        overwrite=overwrite,
        dry_run=dry_run,
        from_report=from_report,
        device=device,
        ocr_engine=ocr,
        max_pixels=max_pixels,
        privobfnet_weights=privobfnet_weights,
        recursive=recursive,
        include_hidden=hidden,
    )

    def on_file(result: RedactedFile) -> None:
        if result.error is not None:
            err_console.print(
                printable(f"error: {result.input}: {result.error.message}"), markup=False, highlight=False,
                soft_wrap=True,
            )
        elif not quiet and not as_json:
            console.print(printable(_line(result, dry_run)), markup=False, highlight=False, soft_wrap=True)

    run = run_redact([str(p) for p in paths or []], options, on_file=on_file)
    for warning in run.warnings:
        err_console.print(printable(f"warning: {warning}"), markup=False, highlight=False, soft_wrap=True)
    if as_json:
        typer.echo(record_json(run.record()), nl=False)
    elif not quiet:
        console.print(printable(_summary(run)), markup=False, highlight=False, soft_wrap=True)
    if run.failed:
        raise typer.Exit(1)


def _line(result: RedactedFile, dry_run: bool) -> str:
    counts: dict[str, int] = {}
    for item in result.hidden:
        label = item.attribute + (f' "{item.value_masked}"' if item.value_masked else "")
        counts[label] = counts.get(label, 0) + 1
    what = ", ".join(f"{k} x{n}" if n > 1 else k for k, n in counts.items()) or "nothing to hide found"
    verb = "would hide" if dry_run else "hid"
    target = f" -> {result.output}" if result.output else ""
    tail = f" ({'; '.join(result.notes)})" if result.notes else ""
    return f"{result.input}{target}: {verb} {what}; metadata dropped{tail}"


def _summary(run: RedactRun) -> str:
    done = sum(r.status == "redacted" for r in run.results)
    clean = sum(r.status == "clean-copy" for r in run.results)
    planned = sum(r.status == "dry-run" for r in run.results)
    parts = []
    if run.options.dry_run:
        parts.append(f"dry run: {planned} file(s) checked, nothing written")
    else:
        parts.append(f"{done} redacted, {clean} copied with metadata removed only (nothing to hide found)")
    if run.failed:
        parts.append(f"{run.failed} failed")
    text = ", ".join(parts) + f" in {run.seconds:.1f} s"
    if run.sidecars:
        text += "; record: " + ", ".join(str(p) for p in run.sidecars)
    return text


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("redact")(redact)
