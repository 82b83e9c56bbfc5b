"""Spread of the figures the training tests assert, over seeds and torch thread counts (issue 10).

    .venv/bin/python benchmarks/training_test_spread.py [--seeds 0 1 2 3 4] [--threads 1 2] [--only privobfnet|drag]

Each run is a fresh process with OMP_NUM_THREADS set (torch takes its thread count from it), through the
real `privscan train` command with the tests' options; seed s also generates the s-th data set. Prints one
JSON line per run, then min / median per thread count. Slow: about a minute per run on an idle 2-core box.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def _train(args: list[str], threads: int, weights: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PRIVSCAN_WEIGHTS_DIR": str(weights)}
    done = subprocess.run([sys.executable, "-m", "privscan", "train", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(done.stdout + done.stderr)


def privobfnet_run(seed: int, threads: int, root: Path) -> dict:
    import torch
    from privobfnet_helpers import pattern_figures, write_masks_gt, write_vispr
    from test_privobfnet_train import TRAIN_ARGS

    from privscan.engine.privobfnet_predictor import load_privobfnet_predictor
    from privscan.train.privobfnet_eval import evaluate

    truth = write_vispr(root / "vispr", {"train": 48, "val": 24}, size=128, patch=56, seed=seed)
    args = ["privobfnet", "--data", str(root / "vispr"), "--out", str(root / "run"), *TRAIN_ARGS]
    _train([*args, "--seed", str(seed), "--no-register"], threads, root / "w")
    predictor = load_privobfnet_predictor(torch.device("cpu"), root / "run" / "best.pt")
    figures = pattern_figures(predictor, truth["val"])
    # what test_evaluate_command_reports_metrics_and_mask_miou asserts, from the same evaluation code
    gt = write_masks_gt(truth["val"], root / "vispr", root / "gt.json")
    report = evaluate(root / "run" / "best.pt", root / "vispr", "val", device_spec="cpu", masks="none", masks_gt=gt)
    return {
        **figures,
        "l1": report["privacy_score"]["l1"],
        "macro_map": report["attributes"]["macro_map"],
        "miou": report["masks"]["miou"],
    }


def drag_run(seed: int, threads: int, root: Path) -> dict:
    from drag_helpers import held_out_auc, make_private_public_folders
    from test_drag_train import TINY

    from privscan.io.checkpoint import load_checkpoint

    data = make_private_public_folders(root / "data", per_class=24, size=160, bad_files=True)
    args = ["drag", "--data", str(data), "--out", str(root / "run"), "--val-fraction", "0.2", "--test-fraction", "0.3"]
    _train([*args, *TINY, "--seed", str(seed), "--no-register"], threads, root / "w")
    test = load_checkpoint(root / "run" / "best.pt", expected_format="privscan-drag")["metrics"]["test"]
    return {"accuracy": test["accuracy"], "count": test["count"], "auc": held_out_auc(data, root / "run" / "best.pt")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", choices=["privobfnet", "drag"])
    opts = parser.parse_args()
    kinds = {"privobfnet": privobfnet_run, "drag": drag_run}
    for kind, run in kinds.items():
        if opts.only and kind != opts.only:
            continue
        rows = []
        for threads in opts.threads:
            for seed in opts.seeds:
                with tempfile.TemporaryDirectory(prefix=f"spread-{kind}-") as tmp:
                    row = {"model": kind, "threads": threads, "seed": seed, **run(seed, threads, Path(tmp))}
                print(json.dumps(row), flush=True)
                rows.append(row)
        for threads in opts.threads:
            mine = [r for r in rows if r["threads"] == threads]
            for key in ("accuracy", "auc", "chance", "pointing", "auc_mean", "auc_min", "l1", "macro_map", "miou"):
                if key in mine[0]:
                    values = [r[key] for r in mine]
                    low, mid = min(values), statistics.median(values)
                    print(f"{kind} {threads} thread(s) {key}: min {low:.3f} median {mid:.3f}")


if __name__ == "__main__":
    main()
