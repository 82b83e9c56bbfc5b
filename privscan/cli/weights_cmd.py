"""`privscan weights`: what weights exist, where, whether their sha256 matches; explicit fetches."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
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


@app.command("import-drag")
def import_drag(
    backbone: Annotated[Path, typer.Option("--backbone", help="The authors' backbone state dict (ResNet, no fc).")],
    cgl: Annotated[Path, typer.Option("--cgl", help="The authors' channel-grouping layer state dict (fc1, fc2).")],
    dgcn: Annotated[Path, typer.Option("--dgcn", help="The authors' dgcn state dict (fc1-3, mha, conv1-2, fc_cls).")],
    arch: Annotated[str, typer.Option("--arch", help="Backbone of their checkpoint: resnet101 or resnet50.")],
    regions: Annotated[int, typer.Option("--regions", help="N, the number of regions they trained with.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The privscan DRAG checkpoint to write (.pt).")],
    register_name: Annotated[
        str | None,
        typer.Option("--register-name", help="Also copy it into the weights folder's manifest under this name."),
    ] = None,
    weights_dir: Annotated[
        Path | None,
        typer.Option("--weights-dir", help="Folder for --register-name (default $PRIVSCAN_WEIGHTS_DIR or weights/)."),
    ] = None,
) -> None:
    """Convert the DRAG authors' three checkpoints (guang-yanng/DRAG) into one privscan DRAG checkpoint.

    The result works with `audit --drag-weights`, `evaluate drag --checkpoint` and, registered, every command.
    """
    from privscan.drag_import import import_authors_drag, register_imported
    from privscan.io.checkpoint import save_checkpoint

    payload = import_authors_drag(backbone, cgl, dgcn, arch=arch, regions=regions)
    save_checkpoint(out, payload)
    console.print(f"wrote {out} ({arch}, N = {regions}, input {payload['config']['input_size']} px)")
    if register_name:
        manifest = register_imported(payload, register_name, weights_dir)
        console.print(f"registered {register_name!r} in {manifest}")
