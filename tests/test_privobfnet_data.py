"""VISPR data: split lists and annotation JSON, privacy-score targets by hand, and the evaluation metrics."""

from __future__ import annotations

import csv
import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import stats
from sklearn.metrics import average_precision_score

from privscan.errors import UsageError
from privscan.train.privobfnet_data import (
    VisprImages,
    choose_profile,
    label_matrix,
    load_split,
    privacy_targets,
)
from privscan.train.vispr_metrics import (
    MaskIoU,
    attribute_accuracy,
    macro_map,
    mask_iou,
    polygons_to_mask,
    privacy_score_metrics,
    rle_decode,
    rle_encode,
)
from privscan.vocab import attribute_ids, by_id


def _sensitivities(attribute: str) -> list[float]:
    """The 30 users' 1-5 sensitivities of one attribute, read straight from the TSV."""
    text = resources.files("privscan").joinpath("data", "user_profiles.tsv").read_text(encoding="utf-8")
    for row in csv.reader(text.splitlines(), delimiter="\t"):
        if row[0] == attribute:
            return [float(x) for x in row[2:]]
    raise KeyError(attribute)


def _write_set(root: Path) -> None:
    (root / "images").mkdir(parents=True)
    (root / "annos").mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(root / "images" / "a.jpg")
    Image.new("RGB", (30, 40), (10, 200, 10)).save(root / "images" / "b.png")
    (root / "annos" / "a.json").write_text(
        json.dumps({"id": "2017_1", "image_path": "images/a.jpg", "labels": ["a9_face_complete", "a30_credit_card"]})
    )
    abs_image = str((root / "images" / "b.png").resolve())
    (root / "annos" / "b.json").write_text(
        json.dumps({"id": "2017_2", "image_path": abs_image, "labels": ["a0_safe", "a999_unknown"]})
    )
    (root / "train2017.txt").write_text("annos/a.json\n\n# comment\nannos/b.json\n")


def test_privacy_target_matches_a_hand_computation(tmp_path: Path) -> None:
    face, card = _sensitivities("a9_face_complete"), _sensitivities("a30_credit_card")
    labels = np.zeros((3, 68), dtype=np.float32)
    labels[0, by_id()["a9_face_complete"].index] = 1
    labels[0, by_id()["a30_credit_card"].index] = 1
    labels[1, by_id()["a0_safe"].index] = 1
    labels[2, by_id()["a9_face_complete"].index] = 1
    mean_profile, source = choose_profile()
    assert source == "mean-of-30-users"
    got = privacy_targets(labels, mean_profile)
    hand = max(sum(face) / 30, sum(card) / 30) / 5
    assert math.isclose(float(got[0]), hand, rel_tol=1e-6)
    assert float(got[1]) == 0.0  # safe images weigh nothing
    assert math.isclose(float(got[2]), sum(face) / 30 / 5, rel_tol=1e-6)
    user7, source = choose_profile(user=7)
    assert source == "user:7"
    assert math.isclose(float(privacy_targets(labels, user7)[0]), max(face[7], card[7]) / 5, rel_tol=1e-6)
    profile_file = tmp_path / "me.tsv"
    profile_file.write_text("attribute_id\tsensitivity\na9_face_complete\t1\na30_credit_card\t2\n")
    mine, source = choose_profile(path=profile_file)
    assert source == "file:me.tsv"
    assert math.isclose(float(privacy_targets(labels, mine)[0]), 2 / 5, rel_tol=1e-6)
    with pytest.raises(UsageError):
        choose_profile(path=profile_file, user=1)


def test_split_lists_and_annotations(tmp_path: Path) -> None:
    _write_set(tmp_path)
    records = load_split(tmp_path, "train")
    assert [r.id for r in records] == ["2017_1", "2017_2"]
    assert records[0].image_path == tmp_path / "images" / "a.jpg"
    assert records[1].image_path.is_absolute() and records[1].image_path.is_file()
    assert load_split(tmp_path, "train2017.txt", limit=1)[0].id == "2017_1"
    labels, unknown = label_matrix(records)
    assert unknown == ["a999_unknown"]
    assert labels.shape == (2, 68) and labels.sum() == 3
    assert labels[0, by_id()["a30_credit_card"].index] == 1
    data = VisprImages(records, labels, np.array([0.5, 0.0]), 64)
    item = data[1]
    assert item["image"].shape == (3, 64, 64) and item["guides"].shape == (2, 64, 64)
    assert float(item["guides"].abs().sum()) == 0.0  # no mask cache: empty guides


def test_split_errors_are_one_line_usage_errors(tmp_path: Path) -> None:
    _write_set(tmp_path)
    with pytest.raises(UsageError, match="no split list"):
        load_split(tmp_path, "val")
    with pytest.raises(UsageError, match="not found"):
        load_split(tmp_path / "nope", "train")
    (tmp_path / "val2017.txt").write_text("annos/missing.json\n")
    with pytest.raises(UsageError, match="not found"):
        load_split(tmp_path, "val")
    (tmp_path / "annos" / "bad.json").write_text("{not json")
    (tmp_path / "test2017.txt").write_text("annos/bad.json\n")
    with pytest.raises(UsageError, match="not valid JSON"):
        load_split(tmp_path, "test")
    (tmp_path / "annos" / "nolabels.json").write_text(json.dumps({"id": "x", "image_path": "images/a.jpg"}))
    (tmp_path / "test2017.txt").write_text("annos/nolabels.json\n")
    with pytest.raises(UsageError, match="lacks"):
        load_split(tmp_path, "test")


# ---- metrics -------------------------------------------------------------------------------------------


def test_privacy_score_metrics_against_scipy() -> None:
    rng = np.random.default_rng(0)
    target = rng.random(50)
    pred = np.clip(target + rng.normal(0, 0.1, 50), 0, 1)
    m = privacy_score_metrics(pred, target)
    assert math.isclose(m["l1"], float(np.mean(np.abs(pred - target))))
    assert math.isclose(m["pearson"], float(stats.pearsonr(pred, target)[0]), rel_tol=1e-9)
    assert math.isclose(m["spearman"], float(stats.spearmanr(pred, target)[0]), rel_tol=1e-9)
    constant = privacy_score_metrics(np.full(5, 0.3), np.linspace(0, 1, 5))
    assert constant["pearson"] is None and constant["spearman"] is None


def test_attribute_accuracy_and_macro_map() -> None:
    probs = np.array([[0.9, 0.2, 0.6], [0.4, 0.1, 0.7], [0.8, 0.3, 0.1], [0.3, 0.6, 0.2]])
    labels = np.array([[1, 0, 1], [0, 0, 1], [1, 0, 0], [1, 0, 0]])
    acc = attribute_accuracy(probs, labels)
    assert np.allclose(acc, [3 / 4, 3 / 4, 4 / 4])
    m_ap, aps = macro_map(probs, labels)
    assert set(aps) == {0, 2}  # attribute 1 has no positive: left out, as VISPR's class-based mAP does
    expected = [average_precision_score(labels[:, a], probs[:, a]) for a in (0, 2)]
    assert math.isclose(m_ap, float(np.mean(expected)))
    assert math.isclose(aps[2], 1.0)


def test_rle_matches_coco_vectors() -> None:
    # Uncompressed counts, by hand: column-major runs starting with zeros -> columns [0,0], [1,1], [1,0]
    m = rle_decode({"size": [2, 3], "counts": [2, 3, 1]})
    assert m.tolist() == [[False, True, True], [False, True, False]]
    # Compressed strings produced by pycocotools 2.0.11 (mask.encode) for these masks
    a = np.zeros((40, 33), dtype=bool)
    a[5:30, 10:20] = True
    a[0, 0] = True
    assert rle_encode(a)["counts"] == "01d<h0kC00000000000000000S`0"
    assert np.array_equal(rle_decode({"size": [40, 33], "counts": "01d<h0kC00000000000000000S`0"}), a)
    b = np.zeros((6, 4), dtype=bool)
    b[1:3, 1] = True
    b[5, 3] = True
    assert rle_encode(b) == {"size": [6, 4], "counts": "72>O"}
    assert np.array_equal(rle_decode({"size": [6, 4], "counts": b"72>O"}), b)
    # The example in VISPR's redaction README (a whole-image region)
    assert rle_decode({"size": [510, 736], "counts": "0Pb^;"}).all()
    rng = np.random.default_rng(0)
    for shape in [(1, 1), (7, 5), (64, 48)]:
        for p in (0.0, 0.1, 0.5, 1.0):
            mask = rng.random(shape) < p
            assert np.array_equal(rle_decode(rle_encode(mask)), mask)
    with pytest.raises(ValueError):
        rle_decode({"size": [2, 2], "counts": [1, 1]})


def test_mask_iou_and_miou() -> None:
    gt = np.zeros((10, 10), dtype=bool)
    gt[:5, :] = True
    pred = np.zeros_like(gt)
    pred[:, :5] = True
    assert math.isclose(mask_iou(gt, pred), 25 / 75)
    assert mask_iou(gt, np.zeros_like(gt)) == 0.0
    acc = MaskIoU()
    assert acc.add("a", gt, pred) is not None
    acc.add("a", gt, gt)
    assert acc.add("b", np.zeros_like(gt), np.zeros_like(gt)) is None  # neither: not counted
    acc.add("b", np.zeros_like(gt), pred)  # a false positive counts as 0
    report = acc.report()
    assert math.isclose(report["per_attribute"]["a"], (25 / 75 + 1) / 2)
    assert report["per_attribute"]["b"] == 0.0
    assert math.isclose(report["miou"], ((25 / 75 + 1) / 2 + 0) / 2)
    poly = polygons_to_mask([[2, 2, 6, 2, 6, 6, 2, 6]], 10, 10)
    assert poly[3, 3] and poly[5, 5] and not poly[8, 8]


def test_attribute_ids_are_the_models_vector() -> None:
    assert len(attribute_ids()) == 68 and attribute_ids()[0] == "a0_safe"
