"""Backbones: offline ImageNet weights load (sha256-checked) and recognise real photos; feature shapes."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from privscan import tv, weights
from privscan.errors import WeightsError
from privscan.models.backbone import BACKBONE_CHANNELS, Backbone, feature_size
from privscan.models.preprocess import batch_inputs
from privscan.pretrained import imagenet_backbone, resolve_backbone_file


@pytest.fixture(scope="module")
def mobilenet() -> Backbone:
    return imagenet_backbone("mobilenet_v2", imagenet_head=True).eval()


@pytest.fixture(scope="module")
def categories() -> list[str]:
    return tv.models().MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]


@pytest.mark.parametrize(
    ("photo", "expected"),
    [
        ("coffee", {"espresso", "cup", "coffee mug"}),
        ("chelsea", {"tabby", "tiger cat", "Egyptian cat"}),
        ("rocket", {"space shuttle", "missile", "projectile", "crane", "drilling platform"}),
    ],
)
def test_mobilenet_recognises_real_photos(mobilenet, categories, skimage_photo, photo, expected):
    x = batch_inputs([skimage_photo(photo)], 448)
    with torch.no_grad():
        probs = mobilenet.imagenet_logits(mobilenet(x)).softmax(1)[0]
    top1 = categories[int(probs.argmax())]
    assert top1 in expected, f"{photo}: top-1 was {top1!r}"
    assert float(probs.max()) > 0.3


def test_coffee_is_espresso(mobilenet, categories, skimage_photo):
    x = batch_inputs([skimage_photo("coffee")], 448)
    with torch.no_grad():
        probs = mobilenet.imagenet_logits(mobilenet(x)).softmax(1)[0]
    assert categories[int(probs.argmax())] == "espresso"


def test_mobilenet_features_are_1280x14x14_at_448(mobilenet):
    with torch.no_grad():
        f = mobilenet(torch.rand(2, 3, 448, 448))
    assert f.shape == (2, 1280, 14, 14)
    assert feature_size(448) == 14


@pytest.mark.parametrize("name", ["resnet50", "resnet101"])
def test_resnet_feature_shape(name):
    model = Backbone(name).eval()  # random init: no offline ImageNet weights exist for ResNets
    with torch.no_grad():
        f = model(torch.rand(1, 3, 448, 448))
    assert f.shape == (1, BACKBONE_CHANNELS[name], 14, 14)


def test_resnet_without_weights_says_what_to_run(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(WeightsError) as info:
        resolve_backbone_file("resnet50")
    assert "privscan weights fetch resnet50" in info.value.one_line()


def test_resnet_from_user_file_round_trip(tmp_path):
    """A user-given torchvision-format checkpoint loads into the ResNet backbone with every key used."""
    full = tv.models().resnet50(weights=None)
    path = tmp_path / "my-resnet50.pth"
    torch.save(full.state_dict(), path)
    model = imagenet_backbone("resnet50", weights_path=path).eval()
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        reference = torch.nn.Sequential(*list(full.children())[:-2]).eval()
        expected = reference((x - model.mean) / model.std)
        assert torch.allclose(model(x), expected, atol=1e-5)


def test_torchvision_named_file_with_wrong_hash_is_refused(tmp_path):
    path = tmp_path / "resnet50-deadbeef.pth"
    torch.save(tv.models().resnet50(weights=None).state_dict(), path)
    with pytest.raises(WeightsError, match="does not match"):
        imagenet_backbone("resnet50", weights_path=path)


def test_mobilenet_weights_hash_is_checked(tmp_path, monkeypatch):
    """A damaged package file is refused before torch.load sees it."""
    real = weights.verified_path("mobilenet_v2_imagenet")
    fake_pkg = tmp_path / "weights"
    fake_pkg.mkdir()
    (fake_pkg / real.name).write_bytes(real.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(weights, "package_dir", lambda package: tmp_path)
    with pytest.raises(WeightsError, match="sha256"):
        weights.verified_path("mobilenet_v2_imagenet")


def test_torchvision_shim_only_when_needed():
    """The schema shim is applied exactly when a plain `import torchvision` fails on this machine."""
    plain = subprocess.run([sys.executable, "-c", "import torchvision"], capture_output=True, text=True)
    tv.load()
    assert tv.shim_applied() == (plain.returncode != 0), plain.stderr[-300:]
    assert hasattr(tv.models(), "mobilenet_v2")
