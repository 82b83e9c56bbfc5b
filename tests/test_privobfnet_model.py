"""PrivObfNet model: shapes, guide weighting, crops on the stride grid, checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from privscan.io.checkpoint import load_checkpoint, save_checkpoint
from privscan.masks.mask_types import MaskType, mask_type_vector
from privscan.models.backbone import Backbone
from privscan.models.privobfnet import (
    CHECKPOINT_FORMAT,
    NUM_ATTRIBUTES,
    PrivObfNet,
    PrivObfNetPair,
    crop_images,
    crop_maps,
    guide_weights,
    model_from_payload,
    random_crop_offsets,
)
from privscan.vocab import attribute_ids, by_id


@pytest.fixture(scope="module")
def model() -> PrivObfNet:
    torch.manual_seed(0)
    return PrivObfNet(Backbone("mobilenet_v2"), mask_types=mask_type_vector()).eval()


@pytest.mark.parametrize("backbone,channels", [("mobilenet_v2", 1280), ("resnet50", 2048)])
def test_shapes_for_each_backbone(backbone: str, channels: int) -> None:
    net = PrivObfNet(backbone).eval()  # random weights: shapes only
    assert net.cam.in_channels == channels and net.cam.out_channels == NUM_ATTRIBUTES
    with torch.no_grad():
        out = net(torch.rand(2, 3, 64, 96))
    assert out.maps.shape == (2, NUM_ATTRIBUTES, 2, 3)
    assert out.raw_maps.shape == out.maps.shape
    assert out.logits.shape == (2, NUM_ATTRIBUTES)
    assert out.privacy is not None and out.privacy.shape == (2,)
    assert bool(((out.privacy > 0) & (out.privacy < 1)).all())
    # without guides the logits are plain global average pooling of the maps
    torch.testing.assert_close(out.logits, out.raw_maps.mean(dim=(2, 3)))


def test_any_input_size_works(model: PrivObfNet) -> None:
    with torch.no_grad():
        for h, w in [(32, 32), (70, 45), (100, 33)]:
            out = model(torch.rand(1, 3, h, w))
            assert out.maps.shape[:2] == (1, NUM_ATTRIBUTES)
            assert torch.isfinite(out.logits).all()


def test_guides_weight_only_human_and_text_maps(model: PrivObfNet) -> None:
    images = torch.rand(2, 3, 64, 64)
    guides = torch.zeros(2, 2, 64, 64)
    guides[0, 0, :, :32] = 1.0  # image 0: a person on the left half, no text
    guides[1, 1, 32:, :] = 1.0  # image 1: text in the bottom half, no person
    with torch.no_grad():
        out = model(images, guides)
        plain = model(images)
    raw = out.raw_maps  # (2, 68, 2, 2)
    face, card, name = (by_id()[a].index for a in ("a9_face_complete", "a30_credit_card", "a19_name_full"))
    # Human attribute, image 0: weighted mean over the person's cells (left column)
    torch.testing.assert_close(out.logits[0, face], raw[0, face, :, 0].mean())
    # Text attribute, image 0: no text found -> falls back to the plain map
    torch.testing.assert_close(out.logits[0, name], raw[0, name].mean())
    # Text attribute, image 1: bottom row; Human attribute, image 1: no person -> plain
    torch.testing.assert_close(out.logits[1, name], raw[1, name, 1, :].mean())
    torch.testing.assert_close(out.logits[1, face], raw[1, face].mean())
    # Un-masked attributes never change
    torch.testing.assert_close(out.logits[:, card], plain.logits[:, card])
    torch.testing.assert_close(out.raw_maps, plain.raw_maps)


def test_guide_weights_max_pool_thin_text() -> None:
    types = torch.tensor([int(MaskType.UNMASKED), int(MaskType.HUMAN), int(MaskType.TEXT)])
    guides = torch.zeros(1, 2, 64, 64)
    guides[0, 1, 40, 5:20] = 1.0  # one thin line of text in cell (1, 0)
    w = guide_weights(guides, types, (2, 2))
    assert w is not None and w.shape == (1, 3, 2, 2)
    assert torch.equal(w[0, 0], torch.ones(2, 2))  # un-masked
    assert torch.equal(w[0, 1], torch.ones(2, 2))  # person guide empty -> ones
    assert torch.equal(w[0, 2], torch.tensor([[0.0, 0.0], [1.0, 0.0]]))  # the touched cell counts fully


def test_random_crop_offsets_on_the_grid() -> None:
    gen = torch.Generator().manual_seed(3)
    off = random_crop_offsets(4, 6, 448, 320, generator=gen)
    assert off.shape == (4, 6, 2)
    assert bool((off % 32 == 0).all()) and int(off.min()) >= 0 and int(off.max()) <= 448 - 320
    again = random_crop_offsets(4, 6, 448, 320, generator=torch.Generator().manual_seed(3))
    assert torch.equal(off, again)
    assert len({tuple(o) for o in off.reshape(-1, 2).tolist()}) > 1
    with pytest.raises(ValueError):
        random_crop_offsets(1, 1, 64, 96)


def test_map_cropped_at_a_crop_equals_the_crops_own_map() -> None:
    """Crop alignment for L_img with a stride-32 'model' (32x32 average pooling): exact equality."""
    torch.manual_seed(1)
    images = torch.rand(2, 3, 448, 448)
    offsets = random_crop_offsets(2, 6, 448, 320, generator=torch.Generator().manual_seed(0))
    global_maps = F.avg_pool2d(images, 32)  # (2, 3, 14, 14), one cell per 32 x 32 block
    crops = crop_images(images, offsets, 320)
    assert crops.shape == (12, 3, 320, 320)
    own = F.avg_pool2d(crops, 32)  # (12, 3, 10, 10)
    cut = crop_maps(global_maps, offsets, 320, (10, 10), stride=32)
    torch.testing.assert_close(cut, own, rtol=0, atol=1e-6)
    # and the crop at (y0, x0) is those very pixels
    y0, x0 = offsets[1, 2].tolist()
    assert torch.equal(crops[1 * 6 + 2], images[1, :, y0 : y0 + 320, x0 : x0 + 320])


def test_off_grid_crop_is_resampled_exactly_for_linear_maps() -> None:
    """Fractional windows go through bilinear resampling; on a linear map it is exact inside the map."""
    h = w = 8
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    maps = (10 * ys + xs)[None, None]  # value = 10 * row + column
    offsets = torch.tensor([[[48, 16]]])  # 1.5 cells down, 0.5 cells right (stride 32)
    out = crop_maps(maps, offsets, 128, (4, 4), stride=32)  # a 4-cell window
    expected = 10 * (1.5 + torch.arange(4.0))[:, None] + (0.5 + torch.arange(4.0))[None, :]
    torch.testing.assert_close(out[0, 0], expected)


def test_pair_forward_shapes_and_alignment() -> None:
    torch.manual_seed(0)
    pair = PrivObfNetPair("mobilenet_v2", mask_types=mask_type_vector()).eval()
    images = torch.rand(2, 3, 96, 96)
    offsets = random_crop_offsets(2, 3, 96, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = pair(images, offsets, 64, torch.zeros(2, 2, 96, 96))
    assert out.image.maps.shape == (2, NUM_ATTRIBUTES, 3, 3)
    assert out.crops.maps.shape == (6, NUM_ATTRIBUTES, 2, 2)
    assert out.global_crops.shape == out.crops.maps.shape
    assert out.crops.privacy is None and out.image.privacy is not None
    y0, x0 = (v // 32 for v in offsets[1, 0].tolist())
    torch.testing.assert_close(out.global_crops[3], out.image.maps[1, :, y0 : y0 + 2, x0 : x0 + 2])


def test_checkpoint_round_trip_is_identical(tmp_path, model: PrivObfNet) -> None:
    config = {
        "backbone": "mobilenet_v2",
        "num_attributes": NUM_ATTRIBUTES,
        "attribute_ids": attribute_ids(),
        "mask_types": mask_type_vector(),
        "hidden": 128,
        "input_size": 64,
    }
    path = tmp_path / "best.pt"
    save_checkpoint(path, {"format": CHECKPOINT_FORMAT, "config": config, "state_dict": model.state_dict()})
    again = model_from_payload(load_checkpoint(path, expected_format=CHECKPOINT_FORMAT), attribute_ids()).eval()
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key
    x, g = torch.rand(2, 3, 64, 64), (torch.rand(2, 2, 64, 64) > 0.5).float()
    with torch.no_grad():
        a, b = model(x, g), again(x, g)
    assert torch.equal(a.logits, b.logits) and torch.equal(a.maps, b.maps)
    assert a.privacy is not None and b.privacy is not None and torch.equal(a.privacy, b.privacy)
    with pytest.raises(ValueError, match="attribute list"):
        model_from_payload(load_checkpoint(path), attribute_ids()[::-1])


def test_mask_types_must_fit() -> None:
    with pytest.raises(ValueError):
        PrivObfNet("mobilenet_v2", mask_types=[0] * 5)
    with pytest.raises(ValueError):
        PrivObfNet("mobilenet_v2", mask_types=[3] * NUM_ATTRIBUTES)
    assert np.array_equal(
        PrivObfNet("mobilenet_v2", mask_types=mask_type_vector()).mask_types.numpy(), np.array(mask_type_vector())
    )
