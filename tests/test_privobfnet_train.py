"""PrivObfNet trained through the real `privscan train privobfnet` command on a tiny generated set.

Three visual patterns stand for three attributes at random positions (tests/privobfnet_helpers.py). After
a few epochs on 48 images the model must tell which patterns an unseen image shows clearly better than
chance, and its class activation maps must peak inside the right pattern's box (pointing game).

The run is set up to land in the same place on any CPU and thread count: the pretrained backbone moves
slowly (lr 0.002, the paper's) while the new CAM and privacy layers learn at 10x (`--head-lr-mult 10`), in
batches of 4 (72 steps) with the last epoch at lr x 0.1. At lr 0.02 for all layers (30 steps) the outcome
was chaotic: pattern accuracy 0.694 on one AMD machine, 0.944 on another. What is asserted is calibration-
free (ranking, pointing, mask overlap), since a short run's calibration moves with the float order. Spread
of every asserted figure over seeds 0-4 x {1, 2} threads (each seed its own data set too), measured with
`python benchmarks/training_test_spread.py` on an idle 2-core AMD box (fused SGD), min / median:

| figure | 1 thread | 2 threads | asserted | a constant / trivial answer |
|---|---|---|---|---|
| pattern ROC AUC, mean | 0.960 / 0.988 | 0.960 / 0.977 | >= 0.85 | 0.5 |
| pattern ROC AUC, worst pattern | 0.902 / 0.972 | 0.881 / 0.951 | >= 0.75 | 0.5 |
| pointing | 0.735 / 0.811 | 0.811 / 0.828 | >= 0.6 | about 0.25 |
| macro mAP (evaluate) | 0.982 / 0.987 | 0.945 / 0.988 | > 0.8 | the labels' frequency |
| privacy-score L1 (evaluate; max / median) | 0.208 / 0.172 | 0.224 / 0.182 | < 0.35 | |
| mask mIoU (evaluate) | 0.323 / 0.352 | 0.283 / 0.343 | > 0.22 | 0.19 (the whole image as the mask) |

Accuracy at p >= 0.5 (0.806-0.958) is printed, not asserted. The
evaluate command then reports the paper's metrics and mask mIoU against pixel ground truth in VISPR's
redaction format (COCO RLE), and `--resume` must continue a run exactly as if it had never stopped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import Result
from privobfnet_helpers import pattern_figures, write_masks_gt, write_vispr
from typer.testing import CliRunner

from privscan import weights
from privscan.cli.app import app
from privscan.engine.privobfnet_predictor import load_privobfnet_predictor
from privscan.io.checkpoint import load_checkpoint
from privscan.train.privobfnet_trainer import TrainConfig, train

ROOT = Path(__file__).resolve().parents[1]
# benchmarks/training_test_spread.py trains with these same options over seeds and thread counts
TRAIN_ARGS = [
    "--epochs", "6", "--batch-size", "4", "--image-size", "128", "--crop-size", "96", "--crops", "2",
    "--lr", "0.002", "--head-lr-mult", "10", "--decay-epoch", "6", "--masks", "none", "--workers", "0",
    "--device", "cpu",
]  # fmt: skip


def _privscan(args: list[str], weights_dir: Path) -> subprocess.CompletedProcess[str]:
    """The command in a real process (the training run: one real process start in this file)."""
    env = {**os.environ, "PRIVSCAN_WEIGHTS_DIR": str(weights_dir)}
    return subprocess.run(
        [sys.executable, "-m", "privscan", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def _privscan_here(args: list[str], weights_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """The same command through the CLI app in this process (no second interpreter and torch import)."""
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(weights_dir))
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("privobfnet")
    data, run, wdir = root / "vispr", root / "run", root / "weights"
    truth = write_vispr(data, {"train": 48, "val": 24}, size=128, patch=56, seed=0)
    args = ["train", "privobfnet", "--data", str(data), "--out", str(run), *TRAIN_ARGS, "--seed", "0"]
    result = _privscan([*args, "--weights-dir", str(wdir)], wdir)
    assert result.returncode == 0, result.stdout + result.stderr
    return {"data": data, "run": run, "weights": wdir, "truth": truth, "stdout": result.stdout}


@pytest.mark.slow
def test_training_writes_a_registered_self_describing_checkpoint(trained: dict, monkeypatch) -> None:
    run, wdir = trained["run"], trained["weights"]
    assert "registered as privobfnet" in trained["stdout"]
    lines = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert lines[-1]["train"]["loss"] < lines[0]["train"]["loss"]
    best = load_checkpoint(run / "best.pt")
    cfg = best["config"]
    assert cfg["backbone"] == "mobilenet_v2" and cfg["input_size"] == 128 and len(cfg["mask_types"]) == 68
    assert cfg["profile_source"] == "mean-of-30-users" and len(cfg["profile"]) == 68
    manifest = json.loads((wdir / "manifest.json").read_text())
    entry = next(e for e in manifest["weights"] if e["name"] == "privobfnet")
    assert entry["kind"] == "privobfnet" and entry["sha256"] == weights.sha256_file(wdir / entry["file"])
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(wdir))
    predictor = load_privobfnet_predictor(torch.device("cpu"))
    assert predictor is not None and predictor.name == "privobfnet"
    assert predictor.weights_sha256 == entry["sha256"] and predictor.input_size == 128


@pytest.mark.slow
def test_attributes_above_chance_and_cams_point_at_the_patterns(trained: dict) -> None:
    predictor = load_privobfnet_predictor(torch.device("cpu"), trained["run"] / "best.pt")
    assert predictor is not None
    figures = pattern_figures(predictor, trained["truth"]["val"])
    accuracy, chance, pointing, points = (figures[k] for k in ("accuracy", "chance", "pointing", "points"))
    auc_mean, auc_min = figures["auc_mean"], figures["auc_min"]
    print(f"pattern accuracy {accuracy:.3f} (majority baseline {chance:.3f}), pointing {pointing:.3f} of {points}")
    print(f"pattern ROC AUC mean {auc_mean:.3f}, worst pattern {auc_min:.3f} (any constant answer: 0.5)")
    # ranking, not accuracy at p >= 0.5: a short run's calibration moves with the float order (accuracy
    # 0.806-0.958 over 5 seeds x {1, 2} threads, 0.819 against a 0.825 bar on one AMD box), its ranking far
    # less (AUC mean min 0.960, worst pattern min 0.881 over the same 10 runs)
    assert auc_mean >= 0.85 and auc_min >= 0.75
    assert pointing >= 0.6  # a random cell of the 4x4 map lands in a pattern's box about a quarter of the time


@pytest.mark.slow
def test_evaluate_command_reports_metrics_and_mask_miou(trained: dict, tmp_path: Path, monkeypatch) -> None:
    data = trained["data"]
    gt_file, out = write_masks_gt(trained["truth"]["val"], data, tmp_path / "gt.json"), tmp_path / "eval.json"
    result = _privscan_here(
        [
            "evaluate", "privobfnet", "--data", str(data), "--checkpoint", str(trained["run"] / "best.pt"),
            "--split", "val", "--json", str(out), "--masks-gt", str(gt_file), "--masks", "none",
            "--workers", "0", "--device", "cpu",
        ],
        trained["weights"],
        monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["images"] == 24 and report["split"] == "val"
    assert set(report["privacy_score"]) == {"l1", "pearson", "spearman"}
    assert report["privacy_score"]["l1"] < 0.35
    assert report["attributes"]["macro_map"] > 0.8
    masks = report["masks"]
    assert set(masks["per_attribute"]) == {"a105_face_all", "a30_credit_card", "a103_license_plate_complete"}
    print("mask mIoU", masks["miou"], masks["per_attribute"])
    # 4x4 maps against 56 px squares: coarse. The whole image as every mask scores (56/128)^2 = 0.19
    # (measured min over seeds x threads: 0.283, see the module docstring)
    assert masks["miou"] > 0.22


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path: Path) -> None:
    data = tmp_path / "vispr"
    write_vispr(data, {"train": 8, "val": 4}, size=64, patch=28, seed=3)

    def cfg(out: Path, epochs: int, resume: bool = False) -> TrainConfig:
        return TrainConfig(
            data=data, out=out, epochs=epochs, batch_size=4, image_size=64, crop_size=32, crops=2,
            lr=0.01, masks="none", device="cpu", seed=5, resume=resume, decay_epochs=(2,),
        )  # fmt: skip

    train(cfg(tmp_path / "straight", 2))
    train(cfg(tmp_path / "stopped", 1))
    with pytest.raises(Exception, match="already holds a run"):
        train(cfg(tmp_path / "stopped", 2))
    train(cfg(tmp_path / "stopped", 2, resume=True))
    a = load_checkpoint(tmp_path / "straight" / "last.pt")
    b = load_checkpoint(tmp_path / "stopped" / "last.pt")
    assert a["epoch"] == b["epoch"] == 2
    for key, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][key]), key
    history = [json.loads(x) for x in (tmp_path / "stopped" / "metrics.jsonl").read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[1]["lr"] == pytest.approx(0.001)  # decayed x0.1 from epoch 2


@pytest.mark.slow
def test_default_mask_stage_runs_the_detectors_before_training(tmp_path: Path, monkeypatch) -> None:
    """The default `--masks detectors`: the real person/OCR detectors fill the cache, then training uses it."""
    from PIL import Image
    from skimage import data as skdata

    root = tmp_path / "vispr"
    write_vispr(root, {"train": 4, "val": 2}, size=64, patch=28, seed=4)
    # one training image is a real photo of a person, so the person guide is not empty everywhere
    Image.fromarray(skdata.astronaut()).resize((64, 64)).save(root / "images" / "train2017" / "2017_train0000.png")
    result = _privscan_here(
        [
            "train", "privobfnet", "--data", str(root), "--out", str(tmp_path / "run"), "--epochs", "1",
            "--batch-size", "2", "--image-size", "64", "--crop-size", "32", "--crops", "2", "--workers", "0",
            "--device", "cpu", "--no-register",
        ],
        tmp_path / "weights",
        monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "masks (train+val): 6 computed, 0 cached, 0 failed" in result.stderr
    cached = list((tmp_path / "run" / "mask_cache").glob("*/*.npz"))
    assert len(cached) == 6
    person = np.load(next(p for p in cached if p.name == "2017_train0000.npz"))["person"]
    assert person.mean() > 50  # uint8 0..255: the astronaut is found
    assert not (tmp_path / "weights" / "manifest.json").exists()  # --no-register
