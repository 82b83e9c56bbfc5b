"""`privscan train drag` and `privscan evaluate drag`."""

from __future__ import annotations

import typer

from privscan.cli.common import not_yet


def train() -> None:
    """Reproduce DRAG (AAAI 2022) on PicAlert / Image Privacy."""
    not_yet("train drag", "DRAG training lands with issue #3")


def evaluate() -> None:
    """DRAG metrics (accuracy, per-class P/R/F1) on a test split."""
    not_yet("evaluate drag", "DRAG evaluation lands with issue #3")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    train_app.command("drag")(train)
    evaluate_app.command("drag")(evaluate)
