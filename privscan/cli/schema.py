"""`privscan schema`: print the report's JSON Schema, for validating reports with other tools."""

from __future__ import annotations

from typing import Annotated

import typer

from privscan.report.schema import schema_text


def schema(
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Schema of one image record (a line of the .jsonl file) instead of the final report."
        ),
    ] = False,
) -> None:
    """Print the JSON Schema (draft 2020-12) of privscan's report.json, or of one JSON-lines record."""
    # plain echo, not rich: the output is JSON for scripts and must not be wrapped or highlighted
    typer.echo(schema_text("record" if record else "report"), nl=False)


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    app.command("schema")(schema)
