"""Each PrivObfNet loss against a direct, loop-by-loop reference computation on tiny tensors."""

from __future__ import annotations

import math

import torch

from privscan.models.privobfnet import BranchOutput, PairOutput
from privscan.models.privobfnet_losses import LossWeights, loss_att, loss_cr, loss_img, loss_priv, total_loss


def _softmax(values: list[float]) -> list[float]:
    exps = [math.exp(v) for v in values]
    total = sum(exps)
    return [e / total for e in exps]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_loss_img_reference() -> None:
    torch.manual_seed(0)
    g, s = torch.randn(3, 4, 2, 2), torch.randn(3, 4, 2, 2)
    n, a, h, w = g.shape
    total = 0.0
    for i in range(n):
        for y in range(h):
            for x in range(w):
                pg = _softmax(g[i, :, y, x].tolist())
                ps = _softmax(s[i, :, y, x].tolist())
                total += sum((u - v) ** 2 for u, v in zip(pg, ps, strict=True))
    expected = total / (n * h * w * a)
    assert math.isclose(float(loss_img(g, s)), expected, rel_tol=1e-5)
    assert float(loss_img(g, g)) == 0.0


def test_loss_cr_reference() -> None:
    torch.manual_seed(1)
    b, k, a = 2, 3, 5
    crop_logits = torch.randn(b * k, a)
    labels = torch.tensor([[1, 0, 0, 1, 0], [0, 0, 1, 1, 1]], dtype=torch.float32)
    expected = 0.0
    for i in range(b):
        per = 0.0
        for c in range(a):
            x = sum(float(crop_logits[i * k + j, c]) for j in range(k)) / k  # the image's crops pooled
            y = float(labels[i, c])
            per += -(y * math.log(_sigmoid(x)) + (1 - y) * math.log(1 - _sigmoid(x)))
        expected += per / a
    expected /= b
    assert math.isclose(float(loss_cr(crop_logits, labels, k)), expected, rel_tol=1e-5)


def test_loss_priv_and_att_reference() -> None:
    pred, target = torch.tensor([0.2, 0.9, 0.5]), torch.tensor([0.0, 1.0, 0.8])
    assert math.isclose(float(loss_priv(pred, target)), (0.04 + 0.01 + 0.09) / 3, rel_tol=1e-6)
    logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
    labels = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    expected = 0.0
    for i in range(2):
        for c in range(2):
            p, y = _sigmoid(float(logits[i, c])), float(labels[i, c])
            expected += -(y * math.log(p) + (1 - y) * math.log(1 - p))
    assert math.isclose(float(loss_att(logits, labels)), expected / 4, rel_tol=1e-6)


def test_total_is_weighted_sum_10_1_1_1() -> None:
    torch.manual_seed(2)
    b, k, a = 2, 2, 4
    image = BranchOutput(
        maps=torch.randn(b, a, 3, 3),
        logits=torch.randn(b, a),
        privacy=torch.rand(b),
        raw_maps=torch.randn(b, a, 3, 3),
    )
    crops_maps = torch.randn(b * k, a, 2, 2)
    crops = BranchOutput(maps=crops_maps, logits=crops_maps.mean(dim=(2, 3)), privacy=None, raw_maps=crops_maps)
    out = PairOutput(image=image, crops=crops, global_crops=torch.randn(b * k, a, 2, 2))
    labels = (torch.rand(b, a) > 0.5).float()
    scores = torch.rand(b)
    total, terms = total_loss(out, labels, scores, k)
    expected = (
        10 * loss_img(out.global_crops, crops_maps)
        + loss_cr(crops.logits, labels, k)
        + loss_priv(image.privacy, scores)
        + loss_att(image.logits, labels)
    )
    assert LossWeights() == LossWeights(10.0, 1.0, 1.0, 1.0)
    assert math.isclose(float(total), float(expected), rel_tol=1e-6)
    assert set(terms) == {"img", "cr", "priv", "att"}
    assert math.isclose(terms["att"], float(loss_att(image.logits, labels)), rel_tol=1e-6)
