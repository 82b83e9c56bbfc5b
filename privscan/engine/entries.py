"""Which registered checkpoint the DRAG and PrivObfNet predictors load by default: a manifest look-up only.

It lives apart from the predictor modules because the audit's cache key (privscan.engine.run_key) needs the
answer before any model is built, and importing privscan.engine.drag_predictor for it pulled in
torch-geometric via privscan.models.drag: about 2 s at the start of every audit, metadata-only and fully
cached runs included. This module imports no model code.
"""

from __future__ import annotations

from privscan import weights

#: the manifest name each kind prefers; without it the last registered entry of that kind is used
DEFAULT_NAMES = {"drag": "drag", "privobfnet": "privobfnet"}


def default_entry(kind: str) -> weights.WeightEntry | None:
    """The manifest entry of `kind` a predictor loads when the user names no file; None when none exists.

    Raises WeightsError where the manifest cannot be read (privscan.weights.load_manifest).
    """
    entries = [e for e in weights.load_manifest().values() if e.kind == kind]
    if not entries:
        return None
    named = [e for e in entries if e.name == DEFAULT_NAMES[kind]]
    return named[0] if named else entries[-1]
