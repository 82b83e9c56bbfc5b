"""DRAG's region losses (paper eq. 3) and the CGL pretraining loss, vectorised over batch, regions and positions.

For region maps Fw (B, N, h, w):
    Dis = sum_{b,i,x,y} Fw_i(x,y)^2 * ||(x,y) - (tx_i,ty_i)||^2           (tx_i, ty_i) = argmax of Fw_i
    Div = sum_{b,i,x,y} Fw_i(x,y)^2 * (max_{j != i} Fw_j(x,y) - mrg)^2     mrg = mean of Fw over the batch
both divided by B * N * h * w. Dis makes each region compact around its peak; Div pushes regions apart.
Coordinates are feature-grid cells (row, column), as in the paper. The paper calls mrg "the mean of all the
values in Fw"; the authors' code (`networks/loss.py`) takes it over the whole batch, with its gradient, and
so does privscan. (An earlier privscan took each image's own mean, detached: its gradients differed from the
authors' by 38% relative L2 on random maps, and no run showed it better, so it is gone.)
The authors' code loops over images, regions and positions in Python; here the peak, the grid and the
"largest other region" are tensors. tests/drag_helpers.py holds the plain-loop reference.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def _at_least_float32(maps: torch.Tensor) -> torch.Tensor:
    """Half-precision maps (AMP) are computed in float32; float64 stays float64 (gradient checks)."""
    return maps if maps.dtype == torch.float64 else maps.float()


def dis_loss(maps: torch.Tensor) -> torch.Tensor:
    """Compactness: squared map values weighted by squared distance to the map's own peak."""
    maps = _at_least_float32(maps)
    b, n, h, w = maps.shape
    flat = maps.reshape(b, n, h * w)
    peak = flat.argmax(dim=-1, keepdim=True)  # (B, N, 1), first maximum on ties; argmax has no gradient
    rows = torch.arange(h, device=maps.device, dtype=maps.dtype).repeat_interleave(w)  # row of each cell (P,)
    cols = torch.arange(w, device=maps.device, dtype=maps.dtype).repeat(h)  # column of each cell (P,)
    dist2 = (rows - rows[peak]).square_() + (cols - cols[peak]).square_()  # (B, N, P) in grid cells
    return (flat.square() * dist2).mean()


def largest_other(maps: torch.Tensor) -> torch.Tensor:
    """For every region i and position: max over regions j != i of Fw_j there. (B, N, h, w).

    The largest region keeps the second largest value, every other region the largest (max, then a max with
    the winner masked out: about 3x faster on CPU than topk over the region dimension).
    """
    if maps.shape[1] < 2:
        raise ValueError("Div needs at least two regions")
    first, winner = maps.max(dim=1, keepdim=True)
    second = maps.scatter(1, winner, float("-inf")).amax(dim=1, keepdim=True)
    is_winner = torch.arange(maps.shape[1], device=maps.device).view(1, -1, 1, 1) == winner
    return torch.where(is_winner, second, first)


def div_loss(maps: torch.Tensor) -> torch.Tensor:
    """Diversity: a region's squared value where other regions are strong (above the batch-mean margin)."""
    maps = _at_least_float32(maps)
    margin = maps.mean()  # over the whole batch, gradient kept (the authors' code)
    return (maps.pow(2) * (largest_other(maps) - margin).pow(2)).mean()


def peak_normalised(maps: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Each region map divided by its own maximum (gradient flows through the maximum too).

    Eq. 3 on raw maps has a trivial minimum at Fw = 0, and the alternating CGL-only Dis+Div step finds it:
    measured on the generated test set (N = 4, 128 px), the mean CGL weight went from 0.26 after pretraining
    to 0.010 after five joint epochs (mean pooled region map 0.075 -> 0.004), so the GCN got almost nothing.
    On peak-normalised maps the same compactness / diversity criterion cannot be met by shrinking (0.26 ->
    0.37, maps 0.075 -> 0.147 in the same run), as in MA-CNN, where the maps are bounded attention maps.
    Used by the trainer unless `--grouping-norm none` asks for the literal eq. 3.
    """
    peak = maps.flatten(2).amax(dim=-1).clamp_min(eps)
    return maps / peak[..., None, None]


def dis_div_loss(maps: torch.Tensor, div_weight: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(Dis + div_weight * Div, Dis, Div) on the region maps."""
    dis, div = dis_loss(maps), div_loss(maps)
    return dis + div_weight * div, dis, div


def grouping_targets_weights(targets: torch.Tensor) -> torch.Tensor:
    """Per-entry BCE weights for one-hot (N, C) groupings: positives (N-1)/N, negatives 1/N.

    Each channel belongs to one of N groups, so only 1/N of the entries are positive; these weights give the
    positive and negative entries equal total influence.
    """
    n = targets.shape[-2]
    return torch.where(targets > 0.5, (n - 1) / n, 1.0 / n)


def grouping_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Weighted BCE of CGL logits (B, N, C) against the K-means one-hot grouping (N, C)."""
    targets = targets.to(logits.dtype).expand_as(logits)
    weights = grouping_targets_weights(targets)
    return F.binary_cross_entropy_with_logits(logits.float(), targets.float(), weight=weights.float())
