"""Checks on a redact --out folder that need nothing but paths, so the CLI can make them first.

The redaction engine (privscan.engine.redaction) imports torch on import (about 1 s); an --out that is the
input folder, or holds it, is refused here before that: one line, at once. The engine makes the same check
for callers of its Python API.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from privscan.errors import UsageError


def refuse_out_over_inputs(paths: Sequence[str | os.PathLike[str]], out_dir: Path | None) -> None:
    """--out equal to (or holding) an input folder would mix copies with originals: say so, not 'no images'."""
    if out_dir is None:
        return
    out_root = out_dir.expanduser().resolve()
    for raw in paths:
        root = Path(raw).expanduser().resolve()
        if root.is_dir() and root.is_relative_to(out_root):
            what = "is the input folder" if root == out_root else f"holds the input folder {root}"
            raise UsageError(f"--out {out_root} {what}", hint="choose an output folder outside the inputs")
