"""The audit cache key and the run's model list, computed from declarations only: no model is loaded.

A re-run whose files are all in the cache must cost file stats and cache look-ups, not the seconds it takes
to build OCR, face and NSFW sessions. The key hashes what changes a record: the privscan version, each
detector's declared `DetectorSpec.version` (privscan.detectors.spec), the sha256 of the DRAG / PrivObfNet
weights as the weights manifest records them (or of the file the user named), and the result-changing
options. The engine builds the models only when a file actually needs analysing.

Before the detector specs exist (a registry without `resolved_specs`), `config_key` returns None and the
engine falls back to the loaded pipeline's own key.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from privscan import __version__, weights
from privscan.engine.options import AuditOptions
from privscan.errors import WeightsError
from privscan.report.schema import ModelInfo

NOT_LOADED = "not loaded: every image came from the cache"


def _specs(options: AuditOptions) -> list[Any] | None:
    from privscan.detectors import registry

    resolved = getattr(registry, "resolved_specs", None)
    if resolved is None:
        return None
    from privscan.detectors.spec import BuildContext

    context = BuildContext(device=device_type(options), ocr_engine=options.ocr_engine)
    return list(resolved(options.detectors, context))


def _weights_sha(entry_kind: str, path: Path | None) -> tuple[str, str | None]:
    """(name, sha256) of the checkpoint a predictor would load; ('', None) when there is none."""
    if path is not None:
        file = Path(path).expanduser()
        try:
            return file.stem, weights.sha256_file(file)
        except OSError:
            return file.stem, None  # loading it will fail with the clear message when it is needed
    from privscan.engine.entries import default_entry  # not the predictor modules: they import model code

    try:
        entry = default_entry(entry_kind)
    except WeightsError:
        return "", None
    return (entry.name, entry.sha256) if entry is not None else ("", None)


def _classifiers(options: AuditOptions) -> list[tuple[str, str, str, str | None]]:
    """(model name, kind, weights name, sha256) for DRAG and PrivObfNet as the run would load them."""
    rows = []
    if options.load_drag:
        rows.append(("drag", "classifier", *_weights_sha("drag", options.drag_weights)))
    rows.append(("privobfnet", "attributes", *_weights_sha("privobfnet", options.privobfnet_weights)))
    return rows


def config_key(options: AuditOptions) -> str | None:
    """The cache key of a run with these options, or None when detectors declare no specs yet."""
    specs = _specs(options)
    if specs is None:
        return None
    payload = {
        "privscan": __version__,
        "detectors": [(s.name, s.version) for s in specs],
        "models": [(name, wname, sha) for name, _, wname, sha in _classifiers(options)],
        "options": options.result_fields(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]


def copy_sides(options: AuditOptions) -> tuple[int, ...]:
    """The downscaled copies (longest side, px) the run's detectors read on every image, largest first."""
    return tuple(sorted({side for spec in _specs(options) or [] for side in spec.sides}, reverse=True))


def planned_models(options: AuditOptions) -> list[ModelInfo]:
    """The run header's model list for a run that loaded none (status 'disabled', saying why)."""
    from privscan.detectors import registry

    infos = [
        ModelInfo(name=name, kind=kind, status="disabled" if sha else "missing", weights=wname or None,
                  weights_sha256=sha, note=NOT_LOADED if sha else f"no {name} weights")
        for name, kind, wname, sha in _classifiers(options)
    ]
    for spec in _specs(options) or []:
        infos.append(ModelInfo(**{**registry.describe(spec), "status": "disabled", "note": NOT_LOADED}))
    return infos


#: the run header's device when nothing in the run runs on one
NO_DEVICE = "cpu (no model runs on a device in this run)"


def uses_device(options: AuditOptions) -> bool:
    """Whether the run has a torch model on --device: DRAG or PrivObfNet weights to load, or a detector
    whose package list names torch (the scene classifier, EasyOCR). When it has none and --device is
    auto or cpu, the run never imports torch: a metadata-only audit starts 1.7 s sooner (measured)."""
    if (options.device or "auto").strip().lower() not in ("auto", "cpu"):
        return True  # --device cuda is checked (and refused where there is none) whatever the run needs
    if options.drag_weights is not None or options.privobfnet_weights is not None:
        return True
    from privscan.engine.entries import default_entry

    try:
        if (options.load_drag and default_entry("drag") is not None) or default_entry("privobfnet") is not None:
            return True
    except WeightsError:
        return True  # an unreadable manifest: the model loaders will say so in one line
    from privscan.detectors import registry
    from privscan.detectors.spec import BuildContext

    context = BuildContext(device="cpu", ocr_engine=options.ocr_engine)
    return any("torch" in s.packages for s in registry.resolved_specs(options.detectors, context))


@cache
def _device(spec: str) -> tuple[str, str]:
    from privscan.device import describe, resolve_device

    device = resolve_device(spec)
    return device.type, describe(device)


def device_type(options: AuditOptions) -> str:
    """'cpu' or 'cuda' for the run's --device, without building anything."""
    return _device(options.device)[0] if uses_device(options) else "cpu"


def device_name(options: AuditOptions) -> str:
    return _device(options.device)[1] if uses_device(options) else NO_DEVICE
