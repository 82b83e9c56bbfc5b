"""PrivObfNet (Tay, Subbaraju, Kandappu; WACV 2024): privacy score, 68 VISPR attributes and attention maps.

One design, two models during training:
- Model-Image sees the whole image (448 x 448): backbone -> attention map generator -> heads.
- Model-Cropped has the same design and sees K random crops (320 x 320, K = 6) of the same images.
At inference only Model-Image is used (`PrivObfNet`); `PrivObfNetPair` holds both for training.

Attention map generator = CAM: a 1x1 convolution over the backbone features gives one map per attribute.
The attribute head pools each map to one logit (global average pooling, so each map is that attribute's
class activation map). Attributes with a Human or Text mask type have their maps weighted by a person or
text mask (`guides`) before pooling, so their evidence must come from people or written text; an image
whose guide is empty (the detector found nothing) keeps the plain map for that type, because detectors
miss things and a zeroed map cannot be trained. The pooled logit is the weighted mean of the map, which
is plain GAP when no guide applies and keeps logits on one scale whatever the size of the person.
The privacy-score head reads the (weighted) maps too: average- and max-pooled maps, squashed to 0..1 by a
sigmoid (VISPR's score is a max over attribute presence x sensitivity, so presence-like inputs suit it and
keep the head out of saturation) -> small MLP -> sigmoid. The paper does not spell the head's layers out;
this is our reading.

Crops are placed on the backbone's stride grid (offsets multiples of 32 px in the Model-Image input) so a
crop's own feature cells are exactly a window of Model-Image's maps: the L_img comparison needs no
resampling when the sizes are multiples of the stride. Any input size works for `forward`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from privscan.models.backbone import BACKBONE_STRIDE, Backbone
from privscan.models.uninitialised import uninitialised

NUM_ATTRIBUTES = 68
GUIDE_CHANNELS = 2  # guides[:, 0] = person mask (Human type = 1), guides[:, 1] = text mask (Text type = 2)


@dataclass
class BranchOutput:
    maps: torch.Tensor  # (B, A, h, w) attention maps after guide weighting (logit scale)
    logits: torch.Tensor  # (B, A) attribute logits (weighted mean of each map)
    privacy: torch.Tensor | None  # (B,) privacy score in 0..1, None for the cropped model
    raw_maps: torch.Tensor  # (B, A, h, w) the CAMs before guide weighting


@dataclass
class PairOutput:
    image: BranchOutput  # Model-Image on the whole images
    crops: BranchOutput  # Model-Cropped on the B*K crops (crop k of image b at index b*K + k)
    global_crops: torch.Tensor  # (B*K, A, h', w') Model-Image maps cut at each crop's position


def _backbone(backbone: Backbone | str) -> Backbone:
    return Backbone(backbone) if isinstance(backbone, str) else backbone


def guide_weights(guides: torch.Tensor | None, mask_types: torch.Tensor, size: tuple[int, int]) -> torch.Tensor | None:
    """Per-attribute weights (B, A, h, w) from (B, 2, H, W) guides, or None when there are no guides.

    Each guide is max-pooled to the feature grid (a cell touched by a person or a word counts fully: thin
    text would otherwise vanish). Un-masked attributes and images whose guide is empty get weight 1.
    """
    if guides is None:
        return None
    if guides.dim() != 4 or guides.shape[1] != GUIDE_CHANNELS:
        raise ValueError(f"guides must be (B, {GUIDE_CHANNELS}, H, W), got {tuple(guides.shape)}")
    pooled = F.adaptive_max_pool2d(guides.float(), size)  # (B, 2, h, w)
    present = guides.flatten(2).amax(dim=2) > 0  # (B, 2)
    ones = torch.ones_like(pooled[:, :1])
    # option 0 = un-masked, 1 = person, 2 = text; an empty guide falls back to ones
    person = torch.where(present[:, 0, None, None, None], pooled[:, 0:1], ones)
    text = torch.where(present[:, 1, None, None, None], pooled[:, 1:2], ones)
    options = torch.cat([ones, person, text], dim=1)  # (B, 3, h, w)
    return options[:, mask_types.long()]  # (B, A, h, w)


class PrivObfNet(nn.Module):
    """Model-Image (and, without its privacy head, Model-Cropped): images in [0, 1] -> maps, logits, score."""

    mask_types: torch.Tensor  # a buffer, registered in __init__

    def __init__(
        self,
        backbone: Backbone | str = "mobilenet_v2",
        *,
        num_attributes: int = NUM_ATTRIBUTES,
        mask_types: Sequence[int] | None = None,
        privacy_head: bool = True,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        self.backbone = _backbone(backbone)
        self.num_attributes = num_attributes
        types = list(mask_types) if mask_types is not None else [0] * num_attributes
        if len(types) != num_attributes or any(t not in (0, 1, 2) for t in types):
            raise ValueError(f"mask_types must hold {num_attributes} values in 0..2")
        self.register_buffer("mask_types", torch.tensor(types, dtype=torch.long), persistent=True)
        self.cam = nn.Conv2d(self.backbone.out_channels, num_attributes, kernel_size=1, bias=True)
        self.privacy_head: nn.Module | None = None
        if privacy_head:
            self.privacy_head = nn.Sequential(
                nn.Linear(2 * num_attributes, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, 1)
            )

    def forward(self, images: torch.Tensor, guides: torch.Tensor | None = None) -> BranchOutput:
        features = self.backbone(images)
        raw = self.cam(features)
        weights = guide_weights(guides, self.mask_types, (raw.shape[-2], raw.shape[-1]))
        if weights is None:
            maps = raw
            logits = raw.mean(dim=(2, 3))
        else:
            weights = weights.to(raw.dtype)
            maps = raw * weights
            logits = maps.sum(dim=(2, 3)) / weights.sum(dim=(2, 3)).clamp_min(1e-6)
        privacy = None
        if self.privacy_head is not None:
            pooled = torch.sigmoid(torch.cat([logits, maps.amax(dim=(2, 3))], dim=1).float())
            privacy = torch.sigmoid(self.privacy_head(pooled.to(logits.dtype)).squeeze(1))
        return BranchOutput(maps=maps, logits=logits, privacy=privacy, raw_maps=raw)


# ---- crops on the stride grid ---------------------------------------------------------------------------


def random_crop_offsets(
    batch: int,
    crops: int,
    image_size: int,
    crop_size: int,
    *,
    stride: int = BACKBONE_STRIDE,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, K, 2) integer (y0, x0) pixel offsets of K crops per image, multiples of `stride`."""
    if crop_size > image_size:
        raise ValueError(f"crop size {crop_size} exceeds image size {image_size}")
    steps = (image_size - crop_size) // stride + 1
    return torch.randint(0, steps, (batch, crops, 2), generator=generator) * stride


def crop_images(images: torch.Tensor, offsets: torch.Tensor, crop_size: int) -> torch.Tensor:
    """(B, C, H, W) and (B, K, 2) offsets -> (B*K, C, crop, crop), crop k of image b at b*K + k."""
    out = []
    for b in range(images.shape[0]):
        for y0, x0 in offsets[b].tolist():
            out.append(images[b, :, y0 : y0 + crop_size, x0 : x0 + crop_size])
    return torch.stack(out)


def crop_maps(
    maps: torch.Tensor, offsets: torch.Tensor, crop_size: int, out_size: tuple[int, int], *, stride: int
) -> torch.Tensor:
    """Cut each crop's window out of Model-Image's maps: (B, A, h, w) -> (B*K, A, *out_size).

    On the stride grid the window is exact cells; otherwise (sizes not multiples of the stride) the
    fractional window is resampled to `out_size` with bilinear interpolation.
    """
    cells = crop_size / stride
    out = []
    for b in range(maps.shape[0]):
        for y0, x0 in offsets[b].tolist():
            fy, fx = y0 / stride, x0 / stride
            if float(cells).is_integer() and fy.is_integer() and fx.is_integer() and out_size == (cells, cells):
                c = int(cells)
                out.append(maps[b, :, int(fy) : int(fy) + c, int(fx) : int(fx) + c])
            else:
                h, w = maps.shape[-2:]
                # affine grid over the fractional window, in normalised coordinates (align_corners=False)
                theta = maps.new_tensor(
                    [[cells / w, 0.0, (2 * fx + cells) / w - 1.0], [0.0, cells / h, (2 * fy + cells) / h - 1.0]]
                )
                grid = F.affine_grid(theta[None], [1, maps.shape[1], *out_size], align_corners=False)
                out.append(F.grid_sample(maps[b : b + 1], grid, mode="bilinear", align_corners=False)[0])
    return torch.stack(out)


class PrivObfNetPair(nn.Module):
    """Model-Image and Model-Cropped trained together (same design, separate weights)."""

    def __init__(
        self,
        backbone: str = "mobilenet_v2",
        *,
        num_attributes: int = NUM_ATTRIBUTES,
        mask_types: Sequence[int] | None = None,
        image_backbone: Backbone | None = None,
        crop_backbone: Backbone | None = None,
        hidden: int = 128,
    ) -> None:
        super().__init__()
        self.image = PrivObfNet(
            image_backbone or backbone, num_attributes=num_attributes, mask_types=mask_types, hidden=hidden
        )
        self.cropped = PrivObfNet(
            crop_backbone or backbone, num_attributes=num_attributes, mask_types=mask_types, privacy_head=False
        )
        self.stride = BACKBONE_STRIDE

    def forward(
        self, images: torch.Tensor, offsets: torch.Tensor, crop_size: int, guides: torch.Tensor | None = None
    ) -> PairOutput:
        image_out = self.image(images, guides)
        crops = crop_images(images, offsets, crop_size)
        crop_guides = crop_images(guides, offsets, crop_size) if guides is not None else None
        crop_out = self.cropped(crops, crop_guides)
        size = (crop_out.maps.shape[-2], crop_out.maps.shape[-1])
        global_crops = crop_maps(image_out.maps, offsets, crop_size, size, stride=self.stride)
        return PairOutput(image=image_out, crops=crop_out, global_crops=global_crops)


# ---- self-describing checkpoints ----------------------------------------------------------------------

CHECKPOINT_FORMAT = "privscan.privobfnet.v1"  # inference checkpoint: Model-Image only
TRAIN_CHECKPOINT_FORMAT = "privscan.privobfnet.train.v1"  # both models + optimizer, for --resume


def from_config(config: dict) -> PrivObfNet:
    """A Model-Image with the architecture a checkpoint's config describes (random weights; load after)."""
    return PrivObfNet(
        str(config["backbone"]),
        num_attributes=int(config["num_attributes"]),
        mask_types=[int(t) for t in config["mask_types"]],
        hidden=int(config.get("hidden", 128)),
    )


def model_from_payload(payload: dict, attribute_ids: Sequence[str]) -> PrivObfNet:
    """Model-Image with a best checkpoint's weights (a dict from privscan.io.checkpoint.load_checkpoint).

    ValueError when the checkpoint is not PrivObfNet's, was trained on another attribute list, or its
    tensors do not fit the architecture its config describes.
    """
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"format is {payload.get('format')!r}, expected {CHECKPOINT_FORMAT!r}")
    config = payload.get("config") or {}
    if list(config.get("attribute_ids", [])) != list(attribute_ids):
        raise ValueError("it was trained on a different attribute list")
    try:
        with uninitialised():  # every weight comes from the checkpoint (strict load)
            model = from_config(config)
        model.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError) as e:
        raise ValueError(f"{type(e).__name__}: {e}") from e
    return model
