"""PrivObfNet's four losses and their weighted sum (weights 10, 1, 1, 1 as the paper).

- L_img: Model-Image's maps cut at each crop's position (G_i) against Model-Cropped's maps of that crop
  (S_i), both turned into a distribution over attributes at each position (softmax over channels):
  mean squared difference of the two (mean over crops, positions and attributes).
- L_cr: multi-label soft margin loss on the maps of an image's K crops pooled together, against its labels.
- L_priv: mean squared error between the privacy head and the image's privacy score.
- L_att: per-attribute binary cross-entropy on Model-Image's pooled maps.

Three of these differ from the paper's equations, on purpose and named in README's "Reproducing PrivObfNet":
eq. 2 softmaxes G_i only and compares it with the raw S_i (here both are softmaxed, so two distributions
are compared; not measured against eq. 2); eq. 3 sums the soft margin over every crop i separately (here
the K crops' logits are averaged first: one crop alone may miss a labelled object; reasoned, not measured);
eq. 5 calls q a softmax output (here a per-attribute sigmoid: the 68 attributes are independent present /
absent labels, and a softmax across them would make them compete for one unit of probability).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from privscan.models.privobfnet import PairOutput


@dataclass(frozen=True)
class LossWeights:
    img: float = 10.0
    cr: float = 1.0
    priv: float = 1.0
    att: float = 1.0


def loss_img(global_crops: torch.Tensor, crop_maps: torch.Tensor) -> torch.Tensor:
    """(N, A, h, w) x 2 -> scalar: mean squared difference of softmax_c(G) and softmax_c(S).

    The mean runs over crops, positions and attributes (PyTorch's MSE): the squared norm divided by A.
    Summing over attributes instead makes this term outweigh L_att per map cell by about A times at
    weight 10, and Model-Image then learns no attribute at all (measured on the tiny pattern set).
    """
    if global_crops.shape != crop_maps.shape:
        raise ValueError(f"map shapes differ: {tuple(global_crops.shape)} vs {tuple(crop_maps.shape)}")
    diff = F.softmax(global_crops.float(), dim=1) - F.softmax(crop_maps.float(), dim=1)
    return diff.pow(2).mean()


def loss_cr(crop_logits: torch.Tensor, labels: torch.Tensor, crops_per_image: int) -> torch.Tensor:
    """(B*K, A) crop logits and (B, A) image labels -> multi-label soft margin loss on the pooled crops.

    The K crops of an image are pooled together (the mean of their GAP logits = GAP over all their cells):
    together they cover the image its labels describe, while one crop alone may miss a labelled object.
    """
    b = labels.shape[0]
    pooled = crop_logits.float().reshape(b, crops_per_image, -1).mean(dim=1)
    return F.multilabel_soft_margin_loss(pooled, labels.float())


def loss_priv(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(B,) predicted and target privacy scores -> MSE."""
    return F.mse_loss(predicted.float(), target.float())


def loss_att(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(B, A) logits and 0/1 labels -> mean binary cross-entropy."""
    return F.binary_cross_entropy_with_logits(logits.float(), labels.float())


def total_loss(
    out: PairOutput,
    labels: torch.Tensor,
    scores: torch.Tensor,
    crops_per_image: int,
    weights: LossWeights | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum 10 L_img + L_cr + L_priv + L_att, and each term's value for logging."""
    w = weights or LossWeights()
    if out.image.privacy is None:
        raise ValueError("Model-Image must have its privacy head")
    terms = {
        "img": loss_img(out.global_crops, out.crops.maps),
        "cr": loss_cr(out.crops.logits, labels, crops_per_image),
        "priv": loss_priv(out.image.privacy, scores),
        "att": loss_att(out.image.logits, labels),
    }
    total = w.img * terms["img"] + w.cr * terms["cr"] + w.priv * terms["priv"] + w.att * terms["att"]
    return total, {k: float(v.detach()) for k, v in terms.items()}
