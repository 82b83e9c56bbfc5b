"""`privscan weights`: what weights exist, where, whether their sha256 matches; explicit fetches."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from privscan import weights
from privscan.cli.common import console

app = typer.Typer(help="List, verify and fetch model weights.", invoke_without_command=True)

_STATE_STYLE = {"ok": "green", "missing": "yellow", "sha256-mismatch": "bold red", "unchecked": "yellow"}


@app.callback()
def list_weights(ctx: typer.Context) -> None:
    """List every manifest entry with its status (sha256 verified on each call)."""
    if ctx.invoked_subcommand is not None:
        return
    table = Table(title=f"Weights (manifest in {weights.repo_weights_dir()})")
    for col in ("name", "kind", "status", "trained on", "licence", "where / how to get"):
        table.add_column(col, overflow="fold")
    bad = 0
    for item, state, path in weights.status():
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
