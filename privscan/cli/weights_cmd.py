"""`privscan weights`: what weights exist, where, whether their sha256 matches; explicit fetches."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from privscan import weights
from privscan.cli.common import console

app = typer.Typer(help="List, verify and fetch model weights.", invoke_without_command=True)

_STATE_STYLE = {"ok": "green", "missing": "yellow", "sha256-mismatch": "bold red", "unchecked": "yellow"}


@app.callback()
def list_weights(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the entries and their status as JSON.")] = False,
) -> None:
    """List every manifest entry with its status (sha256 verified on each call); exit 1 if any is not ok."""
    if ctx.invoked_subcommand is not None:
        return
    rows = weights.status()
    if as_json:
        payload = [{**asdict(item), "status": state, "path": str(path) if path else None} for item, state, path in rows]
        typer.echo(json.dumps(payload, indent=2))
        if any(state != "ok" for _, state, _ in rows):
            raise typer.Exit(1)
        return
    table = Table(title=f"Weights (manifest in {weights.repo_weights_dir()})")
    for col in ("name", "kind", "status", "trained on", "licence", "where / how to get"):
        table.add_column(col, overflow="fold")
    bad = 0
    for item, state, path in rows:
        style = _STATE_STYLE.get(state, "")
        where = str(path) if path else weights.missing_hint(item)
        bad += state != "ok"
        table.add_row(item.name, item.kind, f"[{style}]{state}[/]", item.trained_on, item.licence, where)
    console.print(table)
    if bad:
        raise typer.Exit(1)


@app.command("fetch")
def fetch(
    name: Annotated[str, typer.Argument(help="resnet50 or resnet101 (torchvision ImageNet weights).")],
) -> None:
    """Download torchvision ImageNet weights once into torch's hub cache (needs a network)."""
    from privscan.pretrained import fetch_torchvision

    path = fetch_torchvision(name)
    console.print(f"saved {path}")
