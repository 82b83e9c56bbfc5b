"""Building a model whose every weight is loaded right after: without drawing random initial values first.

A DRAG model with a ResNet-50 backbone has 67 M weights (42 M of them in the channel-grouping layer);
drawing their Kaiming/uniform initial values took 1.15 s of one CPU thread, only for `load_state_dict`
to overwrite all of them (measured: 0.03 s to build the same model without). Loading a checkpoint (the
audit's predictors, `evaluate`, `weights import-drag`) builds its model inside `uninitialised()`.

How: torch's layers draw their initial values through the functions of `torch.nn.init` (looked up on
the module at call time), which are replaced by no-ops for the duration. The tensors are allocated but hold
whatever memory held, so a caller must load a complete state dict (strict) or replace every tensor itself:
a missing key is then the usual load error, never silently random weights. Buffers made with
`torch.tensor` (the ImageNet mean and std) are untouched. A lock keeps two threads from building at once,
since the replacement is process-wide while it lasts.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch

_LOCK = threading.Lock()


def _no_op(tensor: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    return tensor


@contextlib.contextmanager
def uninitialised() -> Iterator[None]:
    """Within it, new torch layers skip drawing initial values (load their weights right after)."""
    init = torch.nn.init
    names = [n for n in dir(init) if n.endswith("_") and not n.startswith("_") and callable(getattr(init, n))]
    with _LOCK:
        saved = {n: getattr(init, n) for n in names}
        try:
            for n in names:
                setattr(init, n, _no_op)
            yield
        finally:
            for n, f in saved.items():
                setattr(init, n, f)
