"""`privscan train privobfnet` and `privscan evaluate privobfnet`."""

from __future__ import annotations

import typer

from privscan.cli.common import not_yet


def train() -> None:
    """Reproduce PrivObfNet (WACV 2024) on VISPR."""
    not_yet("train privobfnet", "PrivObfNet training lands with issue #4")


def evaluate() -> None:
    """PrivObfNet metrics (privacy-score L1/Pearson/Spearman, attribute mAP, mask mIoU) on a test split."""
    not_yet("evaluate privobfnet", "PrivObfNet evaluation lands with issue #4")


def register(*, app: typer.Typer, train_app: typer.Typer, evaluate_app: typer.Typer) -> None:
    train_app.command("privobfnet")(train)
    evaluate_app.command("privobfnet")(evaluate)
