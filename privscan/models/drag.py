"""DRAG (AAAI 2022): dynamic region-aware graph convolution for private/public image classification.

Data flow for one image (448 input, P = 14 x 14 = 196 feature positions; any square input works, with
P = feature_size(input)^2):

    Fb   = Backbone(image)                                  C x h x w
    cr'  = CGL(GAP(Fb)) = sigmoid(FC(sigmoid(FC(.))))        N x C      channel weights of N regions
    Fw_i = (1/C) * sum_c cr'_ic * Fb_c                      N x h x w  region maps (graph nodes, P features)
    S    = dropout(softmax(q k^T / sqrt(64))) v             N x N      q, k: P -> 64, v: P -> N   (eq. 5)
    A    = Linear_NxN(S^T)                                  N x N      the authors' code; "paper": A = S
    Fp   = dropout(relu(GCN2(dropout(relu(GCN1(Fw, A))), A)))   N x P  two DenseGCNConv(P, P) (eq. 6-7)
    out  = Linear(GAP([mean_c Fb ; Fp]))                     2          (N + 1 pooled maps -> logits)

The default `adjacency="authors"` is what the authors' public code (guang-yanng/DRAG at 63bcd3e,
`self_attention.py`) computes: after eq. 5 it transposes the N x N result and applies one more Linear(N, N)
with bias (`mha.output_linear`). Their checkpoints need it (privscan.drag_import maps them onto this
module), so it is the default; `adjacency="paper"` is eq. 5 alone. Both have ReLU after each GCN layer
(paper eq. 6, their `dgcn.py`) and dropout 0.5 after each (their training-time dropout).

Only module dropout is used, so eval mode is deterministic. The authors' code builds its GCN dropouts
inside forward, so they stay on at test time; that is a bug (the paper describes a deterministic classifier)
and is not copied: privscan's eval forward equals theirs with those two dropouts switched off.
Models are pure nn.Modules: weights come in through load_state_dict, never from files here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F
from torch_geometric.nn import DenseGCNConv

from privscan.models.backbone import BACKBONE_CHANNELS, Backbone, feature_size
from privscan.models.uninitialised import uninitialised

CLASSES: tuple[str, str] = ("public", "private")  # logit order; p_private = softmax(logits)[:, 1]
PRIVATE_INDEX = 1
MIN_REGIONS, MAX_REGIONS = 4, 12
ATTENTION_DIM = 64
ADJACENCY_FORMS = ("authors", "paper")  # "authors": eq. 5, transposed, then Linear(N, N); "paper": eq. 5 alone


@dataclass(frozen=True)
class DragConfig:
    """Everything needed to rebuild the architecture (stored in every checkpoint)."""

    backbone: str = "mobilenet_v2"
    regions: int = 8  # N, the number of region nodes (paper's best: 8)
    input_size: int = 448
    attention_dim: int = ATTENTION_DIM
    attention_dropout: float = 0.1
    gcn_dropout: float = 0.5
    adjacency: str = "authors"  # one of ADJACENCY_FORMS

    def __post_init__(self) -> None:
        if self.adjacency not in ADJACENCY_FORMS:
            raise ValueError(f"adjacency must be one of {', '.join(ADJACENCY_FORMS)}, got {self.adjacency!r}")
        if self.backbone not in BACKBONE_CHANNELS:
            raise ValueError(f"unknown backbone {self.backbone!r}; choose from {', '.join(BACKBONE_CHANNELS)}")
        if not MIN_REGIONS <= self.regions <= MAX_REGIONS:
            raise ValueError(f"regions must be in {MIN_REGIONS}..{MAX_REGIONS}, got {self.regions}")
        if self.input_size < 32:
            raise ValueError(f"input size must be at least 32 pixels, got {self.input_size}")

    @property
    def channels(self) -> int:
        return BACKBONE_CHANNELS[self.backbone]

    @property
    def side(self) -> int:
        return feature_size(self.input_size)

    @property
    def positions(self) -> int:
        """P: the length of a region node's feature vector (h * w of the feature map)."""
        return self.side * self.side

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DragConfig:
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


class DragOutput(NamedTuple):
    logits: torch.Tensor  # (B, 2) in CLASSES order
    region_maps: torch.Tensor  # Fw (B, N, h, w): what Dis/Div regularise
    channel_weights: torch.Tensor  # cr' (B, N, C)
    adjacency: torch.Tensor  # A (B, N, N)
    features: torch.Tensor  # Fb (B, C, h, w), so a CGL-only step can reuse them


class ChannelGrouping(nn.Module):
    """CGL: pooled features -> N x C channel weights in (0, 1) through two sigmoid FC layers."""

    def __init__(self, channels: int, regions: int) -> None:
        super().__init__()
        self.channels = channels
        self.regions = regions
        self.fc1 = nn.Linear(channels, channels * regions // 2)
        self.fc2 = nn.Linear(channels * regions // 2, channels * regions)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """(B, C, h, w) -> cr' (B, N, C)."""
        pooled = features.mean(dim=(2, 3))
        hidden = torch.sigmoid(self.fc1(pooled))
        return torch.sigmoid(self.fc2(hidden)).view(-1, self.regions, self.channels)

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Pre-sigmoid output (B, N, C), for the BCE pretraining against the K-means grouping."""
        hidden = torch.sigmoid(self.fc1(features.mean(dim=(2, 3))))
        return self.fc2(hidden).view(-1, self.regions, self.channels)


def region_maps(features: torch.Tensor, channel_weights: torch.Tensor) -> torch.Tensor:
    """Fw_i = (1/C) sum_c cr'_ic Fb_c: (B, C, h, w) x (B, N, C) -> (B, N, h, w)."""
    b, c, h, w = features.shape
    maps = torch.bmm(channel_weights, features.reshape(b, c, h * w)) / c
    return maps.view(b, -1, h, w)


class RegionAdjacency(nn.Module):
    """Self-attention over region nodes: an N x N adjacency per image.

    S = dropout(softmax(q k^T / sqrt(d))) v (paper eq. 5); with `form="authors"` the result is
    output(S^T), one more Linear(N, N) along the last axis of the transposed S, as the authors' code does
    (their single-head attention: the head-concatenation reshape reduces to that transpose).
    """

    def __init__(
        self, positions: int, regions: int, dim: int = ATTENTION_DIM, dropout: float = 0.1, form: str = "authors"
    ) -> None:
        super().__init__()
        if form not in ADJACENCY_FORMS:
            raise ValueError(f"adjacency must be one of {', '.join(ADJACENCY_FORMS)}, got {form!r}")
        self.form = form
        self.query = nn.Linear(positions, dim)
        self.key = nn.Linear(positions, dim)
        self.value = nn.Linear(positions, regions)
        self.output = nn.Linear(regions, regions) if form == "authors" else None
        self.dropout = nn.Dropout(dropout)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, nodes: torch.Tensor) -> torch.Tensor:
        """(B, N, P) -> (B, N, N)."""
        scores = torch.bmm(self.query(nodes), self.key(nodes).transpose(1, 2)) * self.scale
        attended = torch.bmm(self.dropout(scores.softmax(dim=-1)), self.value(nodes))
        if self.output is None:
            return attended
        return self.output(attended.transpose(1, 2))


class Drag(nn.Module):
    """The full DRAG classifier. `forward` returns logits plus the intermediate maps the losses need."""

    def __init__(self, config: DragConfig, backbone: Backbone | None = None) -> None:
        super().__init__()
        self.config = config
        if backbone is None:
            backbone = Backbone(config.backbone)
        if backbone.name != config.backbone:
            raise ValueError(f"backbone {backbone.name!r} does not match config {config.backbone!r}")
        p, n = config.positions, config.regions
        self.backbone = backbone
        self.cgl = ChannelGrouping(config.channels, n)
        self.adjacency = RegionAdjacency(p, n, config.attention_dim, config.attention_dropout, config.adjacency)
        self.gcn1 = DenseGCNConv(p, p)
        self.gcn2 = DenseGCNConv(p, p)
        self.gcn_dropout = nn.Dropout(config.gcn_dropout)
        self.classifier = nn.Linear(n + 1, len(CLASSES))

    def parts(self) -> dict[str, list[nn.Module]]:
        """Named parameter groups (per-part learning rates, freezing, parameter counts)."""
        return {
            "backbone": [self.backbone],
            "cgl": [self.cgl],
            "gcn": [self.adjacency, self.gcn1, self.gcn2],
            "head": [self.classifier],
        }

    def part_parameters(self, name: str) -> list[nn.Parameter]:
        return [p for module in self.parts()[name] for p in module.parameters()]

    def graph_head(self, features: torch.Tensor, maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Region maps -> (logits, adjacency): attention adjacency, two GCN layers, concat with Fc, pool, FC.

        Each GCN layer is followed by ReLU (eq. 6) and dropout (the authors' code; off in eval mode).
        """
        b, n, h, w = maps.shape
        nodes = maps.reshape(b, n, h * w)
        adj = self.adjacency(nodes)
        x = self.gcn_dropout(F.relu(self.gcn1(nodes, adj)))
        x = self.gcn_dropout(F.relu(self.gcn2(x, adj)))
        global_map = features.mean(dim=1, keepdim=True)  # Fc: (B, 1, h, w)
        stacked = torch.cat([global_map, x.view(b, n, h, w)], dim=1)
        return self.classifier(stacked.mean(dim=(2, 3))), adj

    def forward(self, images: torch.Tensor) -> DragOutput:
        features = self.backbone(images)
        if features.shape[-1] * features.shape[-2] != self.config.positions:
            raise ValueError(
                f"input {tuple(images.shape[-2:])} gives {tuple(features.shape[-2:])} features; this DRAG was built "
                f"for {self.config.input_size}x{self.config.input_size} input ({self.config.side}x{self.config.side})"
            )
        weights = self.cgl(features)
        maps = region_maps(features, weights)
        logits, adj = self.graph_head(features, maps)
        return DragOutput(logits, maps, weights, adj, features)

    @torch.no_grad()
    def p_private(self, images: torch.Tensor) -> torch.Tensor:
        """Probability of the private class, (B,)."""
        return self(images).logits.float().softmax(dim=1)[:, PRIVATE_INDEX]


def parameter_counts(model: Drag) -> dict[str, int]:
    """Parameters per part (and the total), for benchmarks and model cards."""
    counts = {name: sum(p.numel() for p in model.part_parameters(name)) for name in model.parts()}
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts


CHECKPOINT_FORMAT = "privscan-drag"


def drag_from_payload(payload: dict[str, Any]) -> Drag:
    """Rebuild a DRAG model from a loaded self-describing checkpoint (config + state_dict), in eval mode.

    The backbone is built without ImageNet weights: the checkpoint holds the fine-tuned ones.
    """
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"not a DRAG checkpoint (format {payload.get('format')!r})")
    classes = tuple(payload.get("classes", CLASSES))
    if classes != CLASSES:
        raise ValueError(f"checkpoint class order {classes} differs from {CLASSES}")
    if "adjacency" not in payload["config"]:
        raise ValueError(
            "made by an earlier privscan whose DRAG forward differed from the paper and the authors' code "
            "(no ReLU after the second GCN layer); retrain it"
        )
    with uninitialised():  # every weight comes from the checkpoint (strict load)
        model = Drag(DragConfig.from_dict(payload["config"]))
    model.load_state_dict(payload["state_dict"])
    return model.eval()
