"""`privscan redact`: write redacted, metadata-free copies; originals are never touched."""

from __future__ import annotations

import typer

from privscan.cli.common import not_yet


def redact(paths: list[str] = typer.Argument(..., help="Files and folders to redact.")) -> None:
    """Write redacted copies of photos."""
    not_yet("redact", "redaction lands with issue #6")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("redact")(redact)
