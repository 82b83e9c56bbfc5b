"""The one place that imports torchvision.

The registry's torchvision 0.28.0 is a CUDA build; on a CPU-only torch its compiled operators are missing
and `import torchvision` fails with "operator torchvision::nms does not exist". Declaring the two operator
schemas first makes it load (models and transforms work; torchvision.ops and torchvision.io decoders do
not, so privscan decodes with Pillow and does NMS in torch). The shim is applied only when a plain import
fails, never on a machine where torchvision loads by itself. easyocr imports torchvision too, so detectors
call `load()` before importing it.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

import torch

_shim_library: torch.library.Library | None = None  # kept alive: dropping it removes the schemas


def shim_applied() -> bool:
    return _shim_library is not None


def _purge_partial_import() -> None:
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]


def load() -> ModuleType:
    """Import torchvision, applying the operator-schema shim only when the compiled ops are missing."""
    global _shim_library
    if "torchvision" in sys.modules and hasattr(sys.modules["torchvision"], "models"):
        return sys.modules["torchvision"]
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as e:
        if "torchvision::nms" not in str(e):
            raise
    _purge_partial_import()
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _shim_library = lib
    return importlib.import_module("torchvision")


def models() -> ModuleType:
    return load().models
