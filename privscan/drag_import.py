"""Import the DRAG authors' checkpoints (guang-yanng/DRAG) as one self-describing privscan DRAG checkpoint.

Their notebooks save three state dicts: the backbone (a torchvision ResNet whose `avgpool` and `fc` were
replaced by empty modules, so its keys are torchvision's without `fc.`), the channel-grouping layer (`fc1`,
`fc2`) and `dgcn` (`fc1`/`fc2`/`fc3` = query/key/value, `mha.output_linear`, `conv1`/`conv2` DenseGCNConv,
`fc_cls`; plus `conv` and `mha.linear_layers`, which their forward never uses). Every tensor is checked for
its key and shape before anything is built, so a wrong file, architecture or region count is one clear
line, not a stack of load_state_dict messages. Files are read with `torch.load(weights_only=True)`: no
pickled code runs.

Mapping onto privscan.models.drag.Drag (adjacency="authors", input 448: their layers hard-wire 14 x 14):
backbone.* -> backbone.body.* (Backbone.torchvision_keys), CGL fc1/fc2 -> cgl.fc1/fc2, dgcn fc1/fc2/fc3 ->
adjacency.query/key/value, mha.output_linear -> adjacency.output, conv{1,2} -> gcn{1,2} (torch-geometric >= 2
stores `lin.weight` [out, in]; 1.x, the paper's version, stored `weight` [in, out], transposed here), and
fc_cls -> classifier with its two rows swapped: their logits are [private, public], privscan's CLASSES are
(public, private).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from privscan import __version__, weights
from privscan.errors import WeightsError
from privscan.io.checkpoint import save_checkpoint
from privscan.models.backbone import BACKBONE_CHANNELS
from privscan.models.drag import CHECKPOINT_FORMAT, CLASSES, MAX_REGIONS, MIN_REGIONS, Drag, DragConfig
from privscan.models.uninitialised import uninitialised

AUTHORS_CODE = "guang-yanng/DRAG"
AUTHORS_CLASSES = ("private", "public")  # their fc_cls output order
ARCHS = ("resnet50", "resnet101")
INPUT_SIZE = 448
POSITIONS = 196  # 14 x 14, hard-wired in their dgcn
ATTENTION_DIM = 64
RESNET_BLOCKS = {"resnet50": (3, 4, 6, 3), "resnet101": (3, 4, 23, 3)}  # bottleneck blocks in layer1..layer4
UNUSED_DGCN_PREFIXES = ("conv.", "mha.linear_layers.")  # in their state dict, never used by their forward

StateDict = dict[str, torch.Tensor]


def read_state_dict(path: Path, what: str) -> StateDict:
    """A plain state dict from `path` (weights_only load; a `module.` prefix from DataParallel is removed)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"{what} file not found: {path}")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, RuntimeError, EOFError, ... for bad files
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise WeightsError(f"{what} {path} is not a readable state dict ({type(e).__name__}: {reason[:160]})") from e
    if isinstance(raw, dict) and isinstance(raw.get("state_dict"), dict):
        raw = raw["state_dict"]
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, torch.Tensor) for v in raw.values()):
        raise WeightsError(f"{what} {path} is not a state dict (a dict of tensor names to tensors)")
    state = {str(k): v for k, v in raw.items()}
    if all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state


def _take(state: StateDict, key: str, shape: tuple[int, ...], what: str, path: Path) -> torch.Tensor:
    if key not in state:
        raise WeightsError(f"{what} {path} has no {key!r}: not the authors' {what} state dict")
    value = state[key]
    if tuple(value.shape) != shape:
        raise WeightsError(f"{what} {path}: {key} has shape {list(value.shape)}, expected {list(shape)}")
    return value.float()


def _resnet_blocks(state: StateDict) -> tuple[int, ...]:
    counts = []
    for layer in range(1, 5):
        prefix = f"layer{layer}."
        blocks = {int(k.split(".")[1]) for k in state if k.startswith(prefix) and k.split(".")[1].isdigit()}
        counts.append(max(blocks) + 1 if blocks else 0)
    return tuple(counts)


def check_resnet(state: StateDict, arch: str, path: Path) -> None:
    """A torchvision ResNet of the named depth (counted from its layer1..layer4 block keys), or a WeightsError."""
    blocks = _resnet_blocks(state)
    if not all(blocks):
        raise WeightsError(f"backbone {path} is not a torchvision ResNet state dict (no layer1..layer4 blocks)")
    if blocks != RESNET_BLOCKS[arch]:
        known = [name for name, b in RESNET_BLOCKS.items() if b == blocks]
        found = f"a {known[0]}" if known else f"a network with {blocks} blocks in layer1..4"
        raise WeightsError(f"backbone {path} is {found}, not --arch {arch} {RESNET_BLOCKS[arch]}")


def map_backbone(state: StateDict, arch: str, path: Path, model: Drag) -> StateDict:
    """Their torchvision ResNet (no fc) -> privscan's `backbone.body.*` keys, every shape checked."""
    check_resnet(state, arch, path)
    expected = {k: v.shape for k, v in model.backbone.state_dict().items()}
    mapped = model.backbone.torchvision_keys(state)
    for key, shape in expected.items():
        if key not in mapped:
            raise WeightsError(f"backbone {path} has no tensor for {key}: not a torchvision {arch} state dict")
        if mapped[key].shape != shape:
            raise WeightsError(f"backbone {path}: {key} has shape {list(mapped[key].shape)}, expected {list(shape)}")
    return {f"backbone.{k}": mapped[k] if mapped[k].dtype == torch.int64 else mapped[k].float() for k in expected}


def regions_of_cgl(state: StateDict, path: Path, channels: int) -> int:
    """N as the CGL file's shapes say it (fc2 is (C*N) x (C*N/2))."""
    weight = state.get("fc2.weight")
    if weight is None or weight.dim() != 2 or weight.shape[0] % channels:
        raise WeightsError(f"channel-grouping {path} has no fc2.weight of shape [{channels}*N, {channels // 2}*N]")
    return weight.shape[0] // channels


def map_cgl(state: StateDict, regions: int, path: Path, channels: int) -> StateDict:
    found = regions_of_cgl(state, path, channels)
    if found != regions:
        raise WeightsError(f"channel-grouping {path} is for N = {found} regions, not --regions {regions}")
    hidden = channels * regions // 2
    what = "channel-grouping"
    return {
        "cgl.fc1.weight": _take(state, "fc1.weight", (hidden, channels), what, path),
        "cgl.fc1.bias": _take(state, "fc1.bias", (hidden,), what, path),
        "cgl.fc2.weight": _take(state, "fc2.weight", (channels * regions, hidden), what, path),
        "cgl.fc2.bias": _take(state, "fc2.bias", (channels * regions,), what, path),
    }


def _gcn_weight(state: StateDict, layer: str, path: Path) -> torch.Tensor:
    """DenseGCNConv weight as torch-geometric >= 2 stores it ([out, in], x @ W^T); 1.x stored [in, out]."""
    if f"{layer}.lin.weight" in state:
        return _take(state, f"{layer}.lin.weight", (POSITIONS, POSITIONS), "dgcn", path)
    return _take(state, f"{layer}.weight", (POSITIONS, POSITIONS), "dgcn", path).t().contiguous()


def map_dgcn(state: StateDict, regions: int, path: Path) -> StateDict:
    """Their dgcn_cls -> privscan's adjacency / gcn1 / gcn2 / classifier (classifier rows reordered)."""
    cls = state.get("fc_cls.weight")
    if cls is not None and cls.dim() == 2 and cls.shape[1] != regions + 1:
        found = f"N = {cls.shape[1] - 1} regions (fc_cls {list(cls.shape)})"
        raise WeightsError(f"dgcn {path} is for {found}, not --regions {regions}")
    p, n, d, what = POSITIONS, regions, ATTENTION_DIM, "dgcn"
    order = [AUTHORS_CLASSES.index(c) for c in CLASSES]  # their row of each privscan class
    out = {
        "adjacency.query.weight": _take(state, "fc1.weight", (d, p), what, path),
        "adjacency.query.bias": _take(state, "fc1.bias", (d,), what, path),
        "adjacency.key.weight": _take(state, "fc2.weight", (d, p), what, path),
        "adjacency.key.bias": _take(state, "fc2.bias", (d,), what, path),
        "adjacency.value.weight": _take(state, "fc3.weight", (n, p), what, path),
        "adjacency.value.bias": _take(state, "fc3.bias", (n,), what, path),
        "adjacency.output.weight": _take(state, "mha.output_linear.weight", (n, n), what, path),
        "adjacency.output.bias": _take(state, "mha.output_linear.bias", (n,), what, path),
        "gcn1.lin.weight": _gcn_weight(state, "conv1", path),
        "gcn1.bias": _take(state, "conv1.bias", (p,), what, path),
        "gcn2.lin.weight": _gcn_weight(state, "conv2", path),
        "gcn2.bias": _take(state, "conv2.bias", (p,), what, path),
        "classifier.weight": _take(state, "fc_cls.weight", (len(CLASSES), n + 1), what, path)[order].contiguous(),
        "classifier.bias": _take(state, "fc_cls.bias", (len(CLASSES),), what, path)[order].contiguous(),
    }
    return out


def import_authors_drag(backbone: Path, cgl: Path, dgcn: Path, *, arch: str, regions: int) -> dict[str, Any]:
    """Read and check the three files; return a privscan DRAG checkpoint payload (see privscan.io.checkpoint)."""
    if arch not in ARCHS:
        raise WeightsError(f"--arch must be one of {', '.join(ARCHS)}, got {arch!r}")
    if not MIN_REGIONS <= regions <= MAX_REGIONS:
        raise WeightsError(f"--regions must be in {MIN_REGIONS}..{MAX_REGIONS}, got {regions}")
    files = {"backbone": Path(backbone).expanduser(), "cgl": Path(cgl).expanduser(), "dgcn": Path(dgcn).expanduser()}
    names = {"backbone": "backbone", "cgl": "channel-grouping", "dgcn": "dgcn"}
    states = {part: read_state_dict(path, names[part]) for part, path in files.items()}
    heads = {
        **map_cgl(states["cgl"], regions, files["cgl"], BACKBONE_CHANNELS[arch]),
        **map_dgcn(states["dgcn"], regions, files["dgcn"]),
    }
    check_resnet(states["backbone"], arch, files["backbone"])  # before building a model of that size
    config = DragConfig(backbone=arch, regions=regions, input_size=INPUT_SIZE, adjacency="authors")
    with uninitialised():  # no download and no random draws: every tensor is replaced below (checked)
        model = Drag(config)
    mapped = {**map_backbone(states["backbone"], arch, files["backbone"], model), **heads}
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    if missing or unexpected:  # a mapping bug, not the user's input
        raise RuntimeError(f"DRAG import left {missing} unset and {unexpected} unused")
    ignored = sorted(k for k in states["dgcn"] if k.startswith(UNUSED_DGCN_PREFIXES))
    return {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_dict(),
        "classes": list(CLASSES),
        "state_dict": model.state_dict(),
        "epoch": None,
        "metrics": {},
        "preprocess": {"resize": "pil"},  # their loader: torchvision Resize((448, 448)) on PIL images
        "imported_from": {
            "code": AUTHORS_CODE,
            "files": {part: str(path) for part, path in files.items()},
            "sha256": {part: weights.sha256_file(path) for part, path in files.items()},
            "classifier_rows_reordered": f"{list(AUTHORS_CLASSES)} -> {list(CLASSES)}",
            "ignored_keys": ignored,
        },
        "privscan_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def register_imported(payload: dict[str, Any], name: str, directory: Path | None = None) -> Path:
    """Write an imported checkpoint into a weights folder (drag/NAME.pt) and list it in its manifest."""
    directory = Path(directory).expanduser() if directory else weights.weights_dir()
    target = directory / "drag" / f"{name}.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(target, payload)
    source = payload["imported_from"]
    entry = weights.WeightEntry(
        name=name,
        kind="drag",
        file=f"drag/{name}.pt",
        sha256=weights.sha256_file(target),
        source=f"imported with `privscan weights import-drag` from the {source['code']} checkpoints "
        + ", ".join(f"{part} {path} (sha256 {source['sha256'][part][:12]}…)" for part, path in source["files"].items()),
        licence="the terms under which the DRAG authors released these checkpoints",
        trained_on="not recorded in the authors' files (their paper trains on PicAlert and Image Privacy)",
        metrics={},
        notes=f"classifier rows reordered {source['classifier_rows_reordered']}",
        config={**payload["config"], "classes": payload["classes"]},
    )
    return weights.register(entry, directory)
