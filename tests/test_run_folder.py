"""The run folder both trainers share: new vs resumed runs, options a resume may change, registration."""

from __future__ import annotations

import json

import pytest
import torch

from privscan import weights
from privscan.errors import UsageError
from privscan.io.checkpoint import load_checkpoint, save_checkpoint
from privscan.train.run_folder import RunFolder, register


def test_new_run_then_resume_keeps_options_outside_the_declared_set(tmp_path) -> None:
    logged: list[str] = []
    with pytest.raises(UsageError, match="nothing to resume"):
        RunFolder(tmp_path / "run", train_format="t", history_name="h.jsonl", resume=True)
    folder = RunFolder(tmp_path / "run", train_format="t", history_name="h.jsonl", resume=False)
    folder.create({"epochs": 1, "seed": 0})
    folder.save_last({"state_dict": {"w": torch.ones(2)}, "epoch": 1})
    folder.write_history([{"epoch": 1}])
    with pytest.raises(UsageError, match="already holds a training run"):
        RunFolder(tmp_path / "run", train_format="t", history_name="h.jsonl", resume=False)
    again = RunFolder(tmp_path / "run", train_format="t", history_name="h.jsonl", resume=True, log=logged.append)
    assert again.resumed is not None and again.resumed["format"] == "t" and again.resumed["epoch"] == 1
    merged = again.resume_options({"epochs": 1, "seed": 0}, {"epochs": 3, "seed": 9}, may_change=("epochs",))
    assert merged == {"epochs": 3, "seed": 0}
    assert len(logged) == 1 and "seed=0" in logged[0]
    assert [json.loads(x) for x in (tmp_path / "run" / "h.jsonl").read_text().splitlines()] == [{"epoch": 1}]
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == {"epochs": 1, "seed": 0}
    assert not list((tmp_path / "run").glob("*.part"))


def test_missing_resume_may_start_a_new_run(tmp_path) -> None:
    logged: list[str] = []
    folder = RunFolder(tmp_path / "r", train_format="t", history_name="h", resume=True, missing_resume="new",
                       log=logged.append)
    assert folder.resumed is None and "starting a new run" in logged[0]


def test_register_copies_atomically_and_lists_the_copy(tmp_path) -> None:
    best = tmp_path / "best.pt"
    save_checkpoint(best, {"format": "x", "state_dict": {"w": torch.zeros(3)}})
    entry = weights.WeightEntry(name="m", kind="drag", file="drag/m.pt", sha256=None, source="test",
                                licence="test", trained_on="nothing")
    manifest = register(best, entry, tmp_path / "weights")
    (listed,) = json.loads(manifest.read_text())["weights"]
    copy = tmp_path / "weights" / "drag" / "m.pt"
    assert listed["sha256"] == weights.sha256_file(copy) == weights.sha256_file(best)
    assert load_checkpoint(copy)["format"] == "x"
    assert not list(copy.parent.glob(".*.part"))
