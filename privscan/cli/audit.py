"""`privscan audit`: scan files and folders, stream records, write JSON/HTML reports."""

from __future__ import annotations

import typer

from privscan.cli.common import not_yet


def audit(paths: list[str] = typer.Argument(..., help="Files and folders to audit.")) -> None:
    """Audit photos for private information."""
    not_yet("audit", "the audit engine lands with issue #5")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("audit")(audit)
