"""`privscan schema`: print the report's JSON Schema."""

from __future__ import annotations

import typer

from privscan.cli.common import not_yet


def schema() -> None:
    """Print the JSON Schema of privscan's reports."""
    not_yet("schema", "the report schema lands with issue #7")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("schema")(schema)
