"""DRAG as a module: shapes, gradients, determinism, losses against loop references, channel grouping, round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from drag_helpers import dis_loop, div_loop
from sklearn.metrics import adjusted_rand_score

from privscan.engine.drag_predictor import load_drag_predictor
from privscan.io.checkpoint import save_checkpoint
from privscan.models.backbone import BACKBONE_CHANNELS
from privscan.models.drag import (
    CHECKPOINT_FORMAT,
    CLASSES,
    Drag,
    DragConfig,
    RegionAdjacency,
    drag_from_payload,
    region_maps,
)
from privscan.models.drag_losses import (
    dis_div_loss,
    dis_loss,
    div_loss,
    grouping_bce,
    grouping_targets_weights,
    largest_other,
)
from privscan.pretrained import imagenet_backbone
from privscan.train.channel_grouping import ChannelGroups, cluster_channels, collect_peaks, peak_positions

SIZE = 64  # 2 x 2 feature map: small and fast, still a real backbone forward


@pytest.fixture(autouse=True)
def one_thread():
    """One thread: on 2 cores shared with other jobs two OpenMP threads mostly wait on each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mobilenet_drag() -> Drag:
    """DRAG on the real offline ImageNet MobileNetV2 (non-degenerate features), N = 4, 96 px input."""
    torch.manual_seed(0)
    return Drag(DragConfig(regions=4, input_size=96), backbone=imagenet_backbone("mobilenet_v2"))


@pytest.mark.parametrize("backbone", ["mobilenet_v2", "resnet50"])
@pytest.mark.parametrize("regions", [4, 8])
def test_output_shapes(backbone, regions):
    torch.manual_seed(0)
    model = Drag(DragConfig(backbone=backbone, regions=regions, input_size=SIZE)).eval()
    x = torch.rand(2, 3, SIZE, SIZE)
    with torch.no_grad():
        out = model(x)
    c = BACKBONE_CHANNELS[backbone]
    assert out.logits.shape == (2, len(CLASSES))
    assert out.region_maps.shape == (2, regions, 2, 2)
    assert out.channel_weights.shape == (2, regions, c)
    assert out.adjacency.shape == (2, regions, regions)
    assert out.features.shape == (2, c, 2, 2)
    assert torch.isfinite(out.logits).all()
    assert ((out.channel_weights > 0) & (out.channel_weights < 1)).all()  # sigmoid outputs
    assert model.gcn1.in_channels == model.gcn1.out_channels == 4  # DenseGCNConv(P, P), P = 2 * 2


def test_region_maps_are_weighted_channel_means():
    features = torch.rand(2, 6, 3, 3)
    weights = torch.rand(2, 4, 6)
    maps = region_maps(features, weights)
    expected = torch.einsum("bnc,bchw->bnhw", weights, features) / 6
    torch.testing.assert_close(maps, expected)


def test_gradients_reach_backbone_cgl_and_gcn(mobilenet_drag):
    model = mobilenet_drag.train()
    model.zero_grad()
    x = torch.rand(3, 3, 96, 96)
    out = model(x)
    loss = torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1, 1])) + dis_div_loss(out.region_maps)[0]
    loss.backward()
    for part in ("backbone", "cgl", "gcn", "head"):
        grads = [p.grad for p in model.part_parameters(part) if p.grad is not None]
        assert grads, part
        assert all(torch.isfinite(g).all() for g in grads), part
        assert sum(float(g.abs().sum()) for g in grads) > 0, part
    # the attention adjacency's q/k/v are part of the graph and learn too
    assert model.adjacency.query.weight.grad is not None and model.adjacency.query.weight.grad.abs().sum() > 0
    model.zero_grad()


def test_eval_mode_is_deterministic_and_train_mode_uses_dropout(mobilenet_drag):
    x = torch.rand(2, 3, 96, 96)
    model = mobilenet_drag.eval()
    with torch.no_grad():
        a, b = model(x).logits, model(x).logits
    assert torch.equal(a, b)
    model.train()
    torch.manual_seed(1)
    with torch.no_grad():
        outs = [model(x).adjacency for _ in range(3)]
    assert not all(torch.equal(outs[0], o) for o in outs[1:])  # module dropout active only in training
    model.eval()


def test_adjacency_forms_paper_and_authors():
    """ "paper": eq. 5, S = softmax(q k^T / 8) v; "authors": their output layer on S transposed."""
    torch.manual_seed(0)
    authors = RegionAdjacency(positions=9, regions=4, form="authors").eval()
    paper = RegionAdjacency(positions=9, regions=4, form="paper").eval()
    paper.load_state_dict({k: v for k, v in authors.state_dict().items() if not k.startswith("output.")})
    nodes = torch.randn(2, 4, 9)
    q, k, v = authors.query(nodes), authors.key(nodes), authors.value(nodes)
    s = torch.softmax(q @ k.transpose(1, 2) / 8.0, dim=-1) @ v
    with torch.no_grad():
        torch.testing.assert_close(paper(nodes), s)
        expected = s.transpose(1, 2) @ authors.output.weight.t() + authors.output.bias
        torch.testing.assert_close(authors(nodes), expected)
    assert "output.weight" not in paper.state_dict()
    with pytest.raises(ValueError, match="adjacency"):
        DragConfig(adjacency="other")


def test_relu_and_dropout_after_both_gcn_layers(mobilenet_drag):
    """Eq. 6-7: ReLU after each GCN layer (what reaches the classifier is >= 0); dropout after each in training."""
    model = mobilenet_drag
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        model.gcn2.register_forward_hook(lambda m, i, o: seen.__setitem__("gcn2", o.detach())),
        model.classifier.register_forward_hook(lambda m, i, o: seen.__setitem__("head", i[0].detach())),
    ]
    try:
        x = torch.rand(2, 3, 96, 96)
        with torch.no_grad():
            model.eval()(x)
            assert (seen["gcn2"] < 0).any()  # the layer itself gives negative values ...
            parts = seen["head"][:, 1:]
            assert (parts >= 0).all()  # ... the ReLU removes them
            torch.testing.assert_close(parts, seen["gcn2"].relu().mean(dim=-1))
            torch.manual_seed(3)
            model.train()(x)
            assert not torch.allclose(seen["head"][:, 1:], seen["gcn2"].relu().mean(dim=-1))  # dropout in training
    finally:
        for h in hooks:
            h.remove()
        model.eval()


def test_checkpoint_from_the_earlier_forward_is_refused(mobilenet_drag):
    config = {k: v for k, v in mobilenet_drag.config.to_dict().items() if k != "adjacency"}
    payload = {"format": CHECKPOINT_FORMAT, "config": config, "classes": list(CLASSES), "state_dict": {}}
    with pytest.raises(ValueError, match="earlier privscan"):
        drag_from_payload(payload)


def test_wrong_input_size_is_a_clear_error(mobilenet_drag):
    with pytest.raises(ValueError, match="built for 96x96"):
        mobilenet_drag.eval()(torch.rand(1, 3, 160, 160))


@pytest.mark.parametrize("regions", [3, 13])
def test_region_count_is_validated(regions):
    with pytest.raises(ValueError, match="regions"):
        DragConfig(regions=regions)


def test_checkpoint_round_trip_gives_identical_logits(tmp_path, mobilenet_drag):
    model = mobilenet_drag.eval()
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": model.config.to_dict(),
        "classes": list(CLASSES),
        "state_dict": model.state_dict(),
        "epoch": 1,
        "metrics": {},
    }
    path = tmp_path / "drag.pt"
    save_checkpoint(path, payload)
    x = torch.rand(2, 3, 96, 96)
    with torch.no_grad():
        before = model(x).logits
    predictor = load_drag_predictor(torch.device("cpu"), path)
    assert predictor is not None and predictor.input_size == 96
    with torch.no_grad():
        after = predictor.model(x).logits
    assert torch.equal(before, after)
    p = predictor.predict(x)
    np.testing.assert_allclose(p, before.softmax(1)[:, 1].numpy(), rtol=0, atol=1e-7)
    assert p.dtype == np.float32 and ((p >= 0) & (p <= 1)).all()
    # a checkpoint with another class order must not load silently
    with pytest.raises(ValueError, match="class order"):
        drag_from_payload({**payload, "classes": ["private", "public"]})


# ------------------------------------------------------------------------------------------------ losses


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (2, 8, 4, 4), (1, 2, 3, 3)])
def test_vectorised_dis_div_equal_loop_reference(shape):
    gen = torch.Generator().manual_seed(sum(shape))
    maps = torch.rand(shape, generator=gen, dtype=torch.float64)
    assert float(dis_loss(maps)) == pytest.approx(dis_loop(maps), rel=1e-5)
    assert float(div_loss(maps)) == pytest.approx(div_loop(maps), rel=1e-5)
    total, dis, div = dis_div_loss(maps, div_weight=0.5)
    assert float(total) == pytest.approx(float(dis) + 0.5 * float(div), rel=1e-6)


def test_div_gradient_includes_the_batch_mean_margin():
    """The authors' margin is the batch mean with its gradient: autograd equals finite differences of Div."""
    gen = torch.Generator().manual_seed(5)
    maps = torch.rand(2, 3, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(div_loss, (maps,), eps=1e-6, atol=1e-6)
    # one image's loss depends on the other images through the margin
    other = maps.detach().clone()
    other[1] += 0.5
    assert float(div_loss(other[:1])) == pytest.approx(float(div_loss(maps.detach()[:1])))
    assert float(div_loss(other)) != pytest.approx(float(div_loss(maps.detach())))


def test_loss_references_with_ties_and_signed_maps():
    # ties in the argmax (first one wins in both) and in the largest other region; negative values too
    maps = torch.tensor(
        [[[[1.0, 1.0], [0.0, -0.5]], [[1.0, 0.2], [0.3, 0.3]], [[0.1, 1.0], [0.3, -1.0]]]], dtype=torch.float64
    )
    assert float(dis_loss(maps)) == pytest.approx(dis_loop(maps), rel=1e-6)
    assert float(div_loss(maps)) == pytest.approx(div_loop(maps), rel=1e-6)
    other = largest_other(maps)
    assert float(other[0, 0, 0, 0]) == 1.0  # region 0 ties with region 1 at (0, 0): the other max is 1.0


def test_dis_is_zero_for_single_peaks_and_grows_with_spread():
    compact = torch.zeros(1, 2, 5, 5)
    compact[0, 0, 1, 1] = 1.0
    compact[0, 1, 3, 4] = 2.0
    assert float(dis_loss(compact)) == 0.0
    spread = compact.clone()
    spread[0, 0, 4, 4] = 0.5
    assert float(dis_loss(spread)) > 0.0


def test_grouping_bce_weights_balance_positives_and_negatives():
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    target = torch.nn.functional.one_hot(labels, 4).T.float()  # (N, C)
    w = grouping_targets_weights(target)
    assert float((w * target).sum()) == pytest.approx(float((w * (1 - target)).sum()))
    perfect = (target * 20 - 10).unsqueeze(0)
    wrong = -perfect
    assert float(grouping_bce(perfect, target)) < 1e-4 < float(grouping_bce(wrong, target))


# --------------------------------------------------------------------------------------- channel grouping


def test_peak_positions():
    f = torch.zeros(1, 3, 4, 5)
    f[0, 0, 2, 3] = 1
    f[0, 1, 0, 4] = 2
    f[0, 2, 3, 0] = 3
    assert peak_positions(f)[0].tolist() == [[2, 3], [0, 4], [3, 0]]


def test_peak_kmeans_recovers_planted_channel_groups(tmp_path):
    """Channels of a group fire together at a group-specific place per image; K-means finds the groups."""
    gen = torch.Generator().manual_seed(3)
    groups, per_group, side = 4, 6, 8
    truth = torch.arange(groups).repeat_interleave(per_group)
    truth = truth[torch.randperm(truth.numel(), generator=gen)]  # channels of a group are not contiguous
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")

    def batch(n: int) -> torch.Tensor:
        centres = torch.randint(0, side, (n, groups, 2), generator=gen)
        out = 0.05 * torch.rand(n, truth.numel(), side, side, generator=gen)
        for b in range(n):
            for c, g in enumerate(truth.tolist()):
                cy, cx = centres[b, g].tolist()
                out[b, c] += torch.exp(-((rows - cy) ** 2 + (cols - cx) ** 2) / 2.0)
        return out

    descriptors = collect_peaks(lambda x: x, (batch(5) for _ in range(4)), max_images=18)
    assert descriptors.shape == (truth.numel(), 2 * 18)
    result = cluster_channels(descriptors, groups, seed=0)
    assert adjusted_rand_score(truth.numpy(), np.asarray(result.labels)) == 1.0
    assert sorted(result.sizes) == [per_group] * groups
    one_hot = result.one_hot()
    assert one_hot.shape == (groups, truth.numel()) and torch.equal(one_hot.sum(0), torch.ones(truth.numel()))
    result.save(tmp_path / "groups.json")
    assert ChannelGroups.load(tmp_path / "groups.json") == result


def test_uninitialised_skips_the_random_draws_and_restores_them() -> None:
    """Models rebuilt from checkpoints are built inside `uninitialised()`: torch.nn.init draws nothing there
    (a strict load then sets every weight), and draws again once it is left."""
    from privscan.models.uninitialised import uninitialised

    marker = torch.full((64, 64), 7.0)
    with uninitialised():
        torch.nn.init.kaiming_uniform_(marker)
        assert bool((marker == 7.0).all())
        layer = torch.nn.Linear(4, 3)
        layer.load_state_dict({"weight": torch.ones(3, 4), "bias": torch.zeros(3)})
    assert torch.equal(layer(torch.ones(1, 4)), torch.full((1, 3), 4.0))
    torch.nn.init.kaiming_uniform_(marker)
    assert not bool((marker == 7.0).all())
