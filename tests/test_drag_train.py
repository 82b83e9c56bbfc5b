"""DRAG training through the real `privscan train drag` / `evaluate drag` commands, data layouts, metrics."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from drag_helpers import held_out_scores, make_private_public_folders, private_image, public_image
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score
from typer.testing import CliRunner

from privscan import weights
from privscan.cli.app import app
from privscan.engine.drag_predictor import load_drag_predictor
from privscan.errors import UsageError, WeightsError
from privscan.io.checkpoint import load_checkpoint
from privscan.train.classification_metrics import classification_metrics
from privscan.train.drag_data import PRIVATE, PUBLIC, SPLIT_FILE, load_privacy_data

runner = CliRunner()

# Small enough for ~30 s on 2 otherwise idle CPU cores, large enough that held-out accuracy means something. The
# paper's learning rates are meant for ~30k images x 30 epochs; with ~30 images the head and backbone need more.
TINY = [
    "--image-size", "128", "--regions", "4", "--batch-size", "8", "--finetune-epochs", "2", "--cgl-epochs", "1",
    "--epochs", "8", "--freeze-epochs", "1", "--lr-gcn", "1e-2", "--lr-backbone", "1e-4", "--workers", "0",
    "--device", "cpu",
]  # fmt: skip


def _invoke(args: list[str]):
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


# ------------------------------------------------------------------------------------------------ metrics


def test_classification_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, 1 - y_true)
    m = classification_metrics(y_true, y_pred, ("public", "private"))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1], zero_division=0)
    for i, name in enumerate(("public", "private")):
        assert m.per_class[name].precision == pytest.approx(p[i])
        assert m.per_class[name].recall == pytest.approx(r[i])
        assert m.per_class[name].f1 == pytest.approx(f[i])
        assert m.per_class[name].support == s[i]
    assert m.confusion == confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist()
    assert m.accuracy == pytest.approx(float((y_true == y_pred).mean()))
    assert [row[0] for row in m.table_rows()] == ["private", "public"]  # the paper lists private first
    never = classification_metrics([0, 1, 0], [0, 0, 0], ("public", "private"))
    assert never.per_class["private"].precision == 0.0 and never.per_class["private"].f1 == 0.0


# -------------------------------------------------------------------------------------------- data layouts


def _images(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        (private_image(i, 48) if i % 2 else public_image(i, 48)).save(folder / name)


def test_csv_layout_with_missing_image(tmp_path):
    _images(tmp_path / "images", ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    # GIP/DRAG CSVs hold paths from the authors' machine: found again by file name under the data folder
    (tmp_path / "train.csv").write_text(
        "img_name,label\na.jpg,public\n/home/someone/PicAlert/train/private/b.jpg,private\nmissing.jpg,private\n"
    )
    (tmp_path / "val.csv").write_text("img_name,label\nc.jpg,0\n")
    (tmp_path / "test.csv").write_text("img_name,label\nd.jpg,1\n")
    data = load_privacy_data(tmp_path)
    assert data.format == "csv"
    assert [(s.path.name, s.label) for s in data.splits["train"]] == [("a.jpg", PUBLIC), ("b.jpg", PRIVATE)]
    assert [(s.path.name, s.label) for s in data.splits["val"]] == [("c.jpg", PUBLIC)]
    assert [(s.path.name, s.label) for s in data.splits["test"]] == [("d.jpg", PRIVATE)]
    assert [p.path for p in data.problems] == ["missing.jpg"]  # listed clearly, not fatal


def test_ipd_layout_folds_labels_and_sibling_images(tmp_path):
    root = tmp_path / "curated_ipd"
    _images(tmp_path / "curated_picalert" / "imgs" / "batch00", ["p1.jpg", "p2.jpg", "p3.jpg"])
    _images(tmp_path / "curated_vispr" / "imgs" / "batch00", ["2017_1.jpg", "2017_2.jpg"])
    (root / "annotations").mkdir(parents=True)
    (root / "annotations" / "labels_splits.csv").write_text(
        "Image Name,Label 2-class,Fold 0,Fold 1\n"
        "p1,1,0,2\n"  # IPD: 1 = public
        "p2,0,1,0\n"  # 0 = private
        "p3,-1,0,0\n"  # not in the binary task
        "2017_1,0,2,1\n"
        "2017_2,0,0,1\n"
        "gone,0,0,0\n"
    )
    data = load_privacy_data(root, fold=0)
    assert data.format == "ipd"
    assert sorted((s.path.name, s.label) for s in data.splits["train"]) == [("2017_2.jpg", PRIVATE), ("p1.jpg", PUBLIC)]
    assert [(s.path.name, s.label) for s in data.splits["val"]] == [("p2.jpg", PRIVATE)]
    assert [(s.path.name, s.label) for s in data.splits["test"]] == [("2017_1.jpg", PRIVATE)]
    assert [p.path for p in data.problems] == ["gone"]
    other = load_privacy_data(root, fold=1)
    assert [s.path.name for s in other.splits["test"]] == ["p1.jpg"]
    with pytest.raises(UsageError, match="Fold 7"):
        load_privacy_data(root, fold=7)


def test_folder_split_is_stratified_written_and_reused(tmp_path):
    make_private_public_folders(tmp_path, per_class=10, size=48)
    first = load_privacy_data(tmp_path, seed=3, val_fraction=0.2, test_fraction=0.3)
    assert first.format == "folders" and (tmp_path / SPLIT_FILE).is_file()
    counts = first.counts()
    assert counts["test"] == {"private": 3, "public": 3} and counts["val"] == {"private": 2, "public": 2}
    # a different seed later does not reshuffle: the written split is reused
    again = load_privacy_data(tmp_path, seed=99)
    assert {k: [s.path for s in v] for k, v in again.splits.items()} == {
        k: [s.path for s in v] for k, v in first.splits.items()
    }
    (tmp_path / "private" / "doc_000.jpg").unlink()
    shrunk = load_privacy_data(tmp_path)
    assert [p.path for p in shrunk.problems] == [str(tmp_path / "private" / "doc_000.jpg")]


def test_unknown_layout_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot tell the data layout"):
        load_privacy_data(tmp_path)


# --------------------------------------------------------------------------------------------- predictor


def test_no_registered_weights_gives_none_and_bad_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(tmp_path))
    assert load_drag_predictor(torch.device("cpu")) is None  # the engine then says "no DRAG weights"
    (tmp_path / "drag").mkdir()
    (tmp_path / "drag" / "drag.pt").write_bytes(b"not a checkpoint")
    weights.register(
        weights.WeightEntry(
            name="drag", kind="drag", file="drag/drag.pt", sha256="0" * 64, source="test", licence="-", trained_on="-"
        ),
        tmp_path,
    )
    with pytest.raises(WeightsError, match="sha256"):
        load_drag_predictor(torch.device("cpu"))


# ------------------------------------------------------------------------------------------ training runs


@pytest.fixture
def one_thread():
    """Train on one thread: on 2 cores shared with other jobs, two OpenMP threads wait on each other (measured:
    the tiny run took 133 s wall with 2 threads vs 29 s with 1 under the same load, 26 s with 2 on an idle box)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("drag-data")
    return make_private_public_folders(root, per_class=24, size=160, bad_files=True)


@pytest.mark.slow
def test_train_cli_learns_private_vs_public(tiny_data, tmp_path, monkeypatch, one_thread):
    """Documents with fake PII vs scene photos, through the real command; judged on held-out test images."""
    weights_dir = tmp_path / "weights"
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(weights_dir))
    run = tmp_path / "run"
    result = _invoke(
        ["train", "drag", "--data", str(tiny_data), "--out", str(run), "--val-fraction", "0.2",
         "--test-fraction", "0.3", "--weights-dir", str(weights_dir), *TINY]
    )  # fmt: skip
    assert "registered as drag" in result.output
    for name in ("best.pt", "last.pt", "channel_groups.json", "history.jsonl", "data.json", "config.json"):
        assert (run / name).is_file(), name

    # the two broken files are listed, not fatal
    report = json.loads((run / "data.json").read_text())
    assert sorted(p["path"].rsplit("/", 1)[1] for p in report["unreadable"]) == ["not_an_image.png", "truncated.jpg"]

    best = load_checkpoint(run / "best.pt", expected_format="privscan-drag")
    assert best["config"]["regions"] == 4 and best["config"]["input_size"] == 128
    assert best["classes"] == ["public", "private"] and best["training_data"]["format"] == "folders"
    test = best["metrics"]["test"]
    print(f"DRAG tiny run: best epoch {best['epoch']}, held-out accuracy {test['accuracy']:.4f} of {test['count']}")
    assert test["count"] >= 14
    # spread over seeds 0-4 x {1, 2} threads (benchmarks/training_test_spread.py, idle 2-core AMD): accuracy
    # min 0.933 / median 1.000 on 1 thread (this test's), 0.867 / 1.000 on 2; held-out ROC AUC 1.000 in all 10
    # runs: the misses are calibration (p near 0.5), not ranking. Chance: 0.5 for both.
    assert test["accuracy"] >= 0.75, test
    groups = json.loads((run / "channel_groups.json").read_text())
    assert len(groups["labels"]) == 1280 and sum(groups["sizes"]) == 1280

    # registered with its sha256; the engine's loader finds it and agrees with the checkpoint's test result
    entry = weights.entry("drag")
    assert entry.kind == "drag" and entry.sha256 == weights.sha256_file(weights_dir / entry.file)
    assert entry.metrics["test"]["accuracy"] == test["accuracy"]
    predictor = load_drag_predictor(torch.device("cpu"))
    assert predictor is not None and predictor.weights_sha256 == entry.sha256 and predictor.input_size == 128
    p, labels = held_out_scores(tiny_data)
    np.testing.assert_array_equal(p, held_out_scores(tiny_data)[0])  # eval mode: identical twice
    assert float(((p >= 0.5).astype(int) == labels).mean()) == pytest.approx(test["accuracy"])
    auc = roc_auc_score(labels, p)
    print(f"held-out ROC AUC {auc:.3f}")
    assert auc >= 0.9  # ranks private above public (any constant answer: 0.5)

    # `privscan evaluate drag` reproduces the same figures and writes JSON
    out_json = tmp_path / "eval.json"
    result = _invoke(
        ["evaluate", "drag", "--data", str(tiny_data), "--checkpoint", str(run / "best.pt"), "--split", "test",
         "--json", str(out_json), "--workers", "0", "--device", "cpu"]
    )  # fmt: skip
    ev = json.loads(out_json.read_text())
    assert ev["metrics"]["accuracy"] == pytest.approx(test["accuracy"])
    assert ev["metrics"]["confusion"] == test["confusion"]
    assert "DRAG on" in result.output and "confusion matrix" in result.output

    # a second run into the same folder without --resume is refused
    with pytest.raises(UsageError, match="already holds a training run"):
        runner.invoke(app, ["train", "drag", "--data", str(tiny_data), "--out", str(run), *TINY],
                      catch_exceptions=False)  # fmt: skip


@pytest.mark.slow
def test_resume_continues_exactly(tmp_path, one_thread):
    """A run stopped after one joint epoch and resumed to two gives the same weights as an uninterrupted run."""
    data = make_private_public_folders(tmp_path / "data", per_class=8, size=64)
    common = ["--data", str(data), "--image-size", "64", "--regions", "4", "--batch-size", "4",
              "--finetune-epochs", "0", "--cgl-epochs", "1", "--freeze-epochs", "1", "--workers", "0",
              "--device", "cpu", "--no-register"]  # fmt: skip
    _invoke(["train", "drag", "--out", str(tmp_path / "full"), "--epochs", "2", *common])
    _invoke(["train", "drag", "--out", str(tmp_path / "part"), "--epochs", "1", *common])
    shutil.copy(tmp_path / "part" / "last.pt", tmp_path / "after_one.pt")
    _invoke(["train", "drag", "--out", str(tmp_path / "part"), "--epochs", "2", "--resume", *common])
    full = load_checkpoint(tmp_path / "full" / "last.pt")
    part = load_checkpoint(tmp_path / "part" / "last.pt")
    after_one = load_checkpoint(tmp_path / "after_one.pt")["state"]
    assert (after_one["stage"], after_one["stage_epoch"]) == ("done", 1)
    assert part["state"]["stage"] == full["state"]["stage"] == "done"
    for key, value in full["state_dict"].items():
        assert torch.equal(value, part["state_dict"][key]), key
    assert [r["epoch"] for r in part["state"]["history"] if r["stage"] == "joint"] == [1, 2]
