"""Convolutional backbones that turn a 448x448 image into a C x 14 x 14 feature map.

MobileNetV2 (C = 1280, the default: ImageNet weights ship offline) and ResNet-50/101 (C = 2048). Input is
RGB in [0, 1]; ImageNet normalisation happens inside the module so every caller feeds the same thing.
The ImageNet classifier head is kept only when asked for (sanity checks, fine-tuning starts); DRAG and
PrivObfNet use the features alone.
"""

from __future__ import annotations

import torch
from torch import nn

from privscan import tv

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

BACKBONE_CHANNELS: dict[str, int] = {"mobilenet_v2": 1280, "resnet50": 2048, "resnet101": 2048}
BACKBONE_STRIDE = 32  # 448 input -> 14 x 14 features


def feature_size(input_size: int) -> int:
    """Side of the feature map for a square input (448 -> 14)."""
    return (input_size + BACKBONE_STRIDE - 1) // BACKBONE_STRIDE


class Backbone(nn.Module):
    """Feature extractor: (B, 3, H, W) in [0, 1] -> (B, C, H/32, W/32)."""

    mean: torch.Tensor  # buffers, registered in __init__ (declared so the checker knows they are tensors)
    std: torch.Tensor

    def __init__(self, name: str = "mobilenet_v2", *, imagenet_head: bool = False) -> None:
        super().__init__()
        if name not in BACKBONE_CHANNELS:
            raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONE_CHANNELS)}")
        self.name = name
        self.out_channels = BACKBONE_CHANNELS[name]
        models = tv.models()
        full = getattr(models, name)(weights=None)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.head: nn.Module | None
        if name == "mobilenet_v2":
            self.body = full.features
            self.head = full.classifier if imagenet_head else None
        else:
            self.body = nn.Sequential(
                full.conv1, full.bn1, full.relu, full.maxpool, full.layer1, full.layer2, full.layer3, full.layer4
            )
            self.head = full.fc if imagenet_head else None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body((images - self.mean) / self.std)

    def imagenet_logits(self, features: torch.Tensor) -> torch.Tensor:
        """ImageNet-1k logits from features (only when built with imagenet_head=True)."""
        if self.head is None:
            raise RuntimeError("backbone was built without its ImageNet head")
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(features, 1), 1))

    def torchvision_keys(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A torchvision checkpoint of the full model (keys like 'features.0.0.weight' / 'layer1...') renamed
        to this module's keys; keys this module has no place for (a dropped head, 'fc.' without one) are left out.
        """
        mapped: dict[str, torch.Tensor] = {}
        order = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
        for key, value in state.items():
            if self.name == "mobilenet_v2":
                if key.startswith("features."):
                    mapped["body." + key[len("features.") :]] = value
                elif key.startswith("classifier.") and self.head is not None:
                    mapped["head." + key[len("classifier.") :]] = value
            else:
                if key.startswith("fc."):
                    if self.head is not None:
                        mapped["head." + key[3:]] = value
                    continue
                top = key.split(".")[0]
                if top in order:
                    mapped[f"body.{order.index(top)}{key[len(top) :]}"] = value
        return mapped

    def load_torchvision_state(self, state: dict[str, torch.Tensor]) -> None:
        """Load a torchvision checkpoint of the full model (see torchvision_keys)."""
        missing, unexpected = self.load_state_dict(self.torchvision_keys(state), strict=False)
        if missing or unexpected:
            raise ValueError(
                f"checkpoint does not fit {self.name}: {len(missing)} missing keys (e.g. {missing[:2]}), "
                f"{len(unexpected)} unexpected (e.g. {unexpected[:2]})"
            )
