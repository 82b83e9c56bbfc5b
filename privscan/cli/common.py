"""What every command shares: the rich consoles, option types, and the one-line error printer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class GlobalState:
    debug: bool = False


state = GlobalState()

DeviceOpt = Annotated[
    str,
    typer.Option(
        "--device",
        help="Compute device: auto (CUDA when torch sees it), cpu, cuda or cuda:N.",
        show_default=True,
    ),
]


# Options every training command shares.
BackboneOpt = Annotated[str, typer.Option("--backbone", help="mobilenet_v2 (offline weights), resnet50, resnet101.")]
BackboneWeightsOpt = Annotated[
    Path | None, typer.Option("--backbone-weights", help="ImageNet weights file for the backbone (ResNets).")
]
PretrainedOpt = Annotated[
    bool, typer.Option("--pretrained/--no-pretrained", help="Start from ImageNet weights (off: random init).")
]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", "-b")]
SeedOpt = Annotated[int, typer.Option("--seed")]
AmpOpt = Annotated[bool, typer.Option("--amp/--no-amp", help="Mixed precision on CUDA (no effect on CPU).")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Continue the run in --out from its last.pt.")]
RegisterOpt = Annotated[
    bool, typer.Option("--register/--no-register", help="Add the best checkpoint to the weights manifest.")
]
WeightsDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--weights-dir", help="Weights folder to register in (default: $PRIVSCAN_WEIGHTS_DIR, else weights/)."
    ),
]
