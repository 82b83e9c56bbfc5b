"""`privscan attributes`: the vocabulary that --hide accepts (VISPR ids and friendly aliases), and with
--sources which detectors can find each attribute (privscan.detectors.coverage)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from privscan import vocab
from privscan.cli.common import console


def attributes_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print ids, groups and aliases as JSON.")] = False,
    sources: Annotated[bool, typer.Option("--sources", help="Show which detectors can find each attribute "
                                                            "here (without loading any model).")] = False,
) -> None:
    """List the 68 VISPR privacy attributes, which detectors locate each (for --hide), and the aliases."""
    from privscan.engine.redaction.policy import detectors_for

    aliases = vocab.alias_table()
    located = {a.id: detectors_for([a.id]) for a in vocab.attributes()}
    coverage = None
    if sources:
        from privscan.detectors.coverage import attribute_sources

        coverage = attribute_sources()
    if as_json:
        payload: dict[str, object] = {
            "attributes": [
                {"index": a.index, "id": a.id, "group": a.group, "name": a.name, "located_by": list(located[a.id])}
                for a in vocab.attributes()
            ],
            "aliases": {k: list(v) for k, v in aliases.items()},
        }
        if coverage is not None:
            payload["sources"] = {
                c.attribute.id: [{"name": s.name, "locates": s.locates, "available": s.available,
                                  "default": s.default} for s in c.sources] for c in coverage
            }
            payload["out_of_the_box"] = sum(c.out_of_the_box for c in coverage)
        typer.echo(json.dumps(payload, indent=2))
        return
    if coverage is not None:
        table = Table(title="Who can find each attribute (✓ works here, ✗ missing; * places regions)")
        for col in ("#", "id", "name", "sources"):
            table.add_column(col)
        for c in coverage:
            shown = ", ".join(f"{s.name}{'*' if s.locates else ''} {'✓' if s.available else '✗'}" for s in c.sources)
            table.add_row(str(c.attribute.index), c.attribute.id, c.attribute.name, shown)
        console.print(table)
        console.print(f"{sum(c.out_of_the_box for c in coverage)} of {len(coverage)} attributes have a working "
                      "default detector out of the box (PrivObfNet adds all of them once trained weights are "
                      "registered).")
        return
    table = Table(title="VISPR privacy attributes", show_lines=False)
    for col in ("#", "id", "group", "name", "located by (else only PrivObfNet)"):
        table.add_column(col)
    for a in vocab.attributes():
        table.add_row(str(a.index), a.id, a.group, a.name, ", ".join(located[a.id]) or "-")
    console.print(table)
    alias_table = Table(title="Aliases (for --hide)")
    alias_table.add_column("alias")
    alias_table.add_column("attribute ids")
    for name, ids in aliases.items():
        shown = ", ".join(ids) if len(ids) <= 6 else ", ".join(ids[:6]) + f", … ({len(ids)} in all)"
        alias_table.add_row(name, shown)
    console.print(alias_table)
