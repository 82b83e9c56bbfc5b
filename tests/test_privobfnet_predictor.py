"""The inference API audit and redaction call: loading from the manifest, predictions, masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from privobfnet_helpers import random_checkpoint

from privscan import weights
from privscan.engine.privobfnet_predictor import PrivObfNetOutput, load_privobfnet_predictor
from privscan.errors import WeightsError
from privscan.io.checkpoint import save_checkpoint
from privscan.masks.mask_types import mask_type_vector
from privscan.models.privobfnet import PrivObfNet
from privscan.train.privobfnet_trainer import register_best

CPU = torch.device("cpu")


@pytest.fixture()
def checkpoint(tmp_path: Path) -> tuple[Path, PrivObfNet]:
    """An untrained (random) Model-Image saved the way the trainer saves best.pt: for API checks only."""
    torch.manual_seed(0)
    model = PrivObfNet("mobilenet_v2", mask_types=mask_type_vector()).eval()
    return random_checkpoint(tmp_path / "run" / "best.pt", input_size=64, model=model), model


def test_no_registered_weights_gives_none(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(tmp_path / "empty"))
    assert not any(e.kind == "privobfnet" for e in weights.load_manifest().values())
    assert load_privobfnet_predictor(CPU) is None


def test_registered_weights_load_and_are_hash_checked(tmp_path: Path, monkeypatch, checkpoint) -> None:
    path, model = checkpoint
    wdir = tmp_path / "weights"
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(wdir))
    register_best(path, wdir)
    predictor = load_privobfnet_predictor(CPU)
    assert predictor is not None and predictor.name == "privobfnet" and predictor.input_size == 64
    assert predictor.weights_sha256 == weights.sha256_file(path)
    x = torch.rand(3, 3, 64, 64)
    outs = predictor.predict(x)
    assert len(outs) == 3 and all(isinstance(o, PrivObfNetOutput) for o in outs)
    with torch.no_grad():
        direct = model(x)
    np.testing.assert_allclose(outs[1].attribute_probs, torch.sigmoid(direct.logits[1]).numpy(), rtol=1e-5)
    assert outs[2].privacy_score == pytest.approx(float(direct.privacy[2]), rel=1e-5)
    assert outs[0].cams.shape == (68, 2, 2) and outs[0].attribute_probs.dtype == np.float32
    assert predictor.predict(torch.rand(0, 3, 64, 64)) == []
    assert len(predictor.predict(torch.rand(1, 3, 100, 80))) == 1  # other sizes are resized
    # a damaged file is refused, not loaded
    stored = next(wdir.glob("privobfnet-*.pt"))
    stored.write_bytes(stored.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(WeightsError, match="sha256"):
        load_privobfnet_predictor(CPU)
    stored.unlink()
    with pytest.raises(WeightsError, match="not found"):
        load_privobfnet_predictor(CPU)


def test_masks_at_image_resolution(checkpoint) -> None:
    path, _ = checkpoint
    predictor = load_privobfnet_predictor(CPU, path)
    assert predictor is not None
    out = predictor.predict(torch.rand(1, 3, 64, 64))[0]
    person = np.zeros((90, 120), dtype=np.float32)
    person[:, :60] = 1.0
    masks = predictor.masks(out, (90, 120), ["a9_face_complete", "a30_credit_card"], person_mask=person)
    assert set(masks) == {"a9_face_complete", "a30_credit_card"}
    for m in masks.values():
        assert m.shape == (90, 120) and m.dtype == bool
    assert not masks["a9_face_complete"][:, 60:].any()


def test_bad_checkpoints_are_weights_errors(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_privobfnet_predictor(CPU, tmp_path / "missing.pt")
    other = tmp_path / "other.pt"
    save_checkpoint(other, {"format": "privscan.drag.v1", "config": {}, "state_dict": {}})
    with pytest.raises(WeightsError):
        load_privobfnet_predictor(CPU, other)
