"""What every command shares: the rich consoles, option types, and the one-line error printer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, NoReturn

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


def not_yet(command: str, issue: str) -> NoReturn:
    """For commands whose engine lands with another issue: say so plainly, exit non-zero."""
    from privscan.errors import NotYetAvailableError

    raise NotYetAvailableError(f"`privscan {command}` is not built yet", hint=issue)
