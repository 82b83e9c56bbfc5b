"""A training run's folder, the same for every trainer: resume state, best model, history, registration.

    last.pt        everything needed to resume (rewritten after every epoch; its own train format)
    best.pt        the self-describing model checkpoint of the best epoch (what the engine loads)
    <history>      one JSON line per epoch, rewritten whole from the state last.pt holds, so a resumed run
                   lists every epoch once
    config.json    the run's options

A new run refuses a folder that already holds one; `resume` continues it with the options it started with,
except those the trainer declares may change (epochs, device, workers, ...): a differing option outside
that set is reported and kept as the run had it. Checkpoints, the history and registered copies are all
written through privscan.io.atomic (a crash leaves the old file or the new one, never a part).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from privscan import weights
from privscan.errors import UsageError
from privscan.io.atomic import atomic_copy, atomic_write_text
from privscan.io.checkpoint import load_checkpoint, save_checkpoint

LAST, BEST, CONFIG = "last.pt", "best.pt", "config.json"


@dataclass
class TrainResult:
    """What a finished (or resumed-to-the-end) training gives back."""

    run_dir: Path
    best_path: Path
    best_epoch: int
    metrics: dict[str, Any]  # per split ("val", "test"), as best.pt stores them
    history: list[dict[str, Any]] = field(default_factory=list)
    selected_on_validation: bool = True
    skipped: dict[str, str] = field(default_factory=dict)  # unreadable image -> reason


class RunFolder:
    """Opens a run folder for a new run or for `resume`; reads and writes its files."""

    def __init__(
        self,
        out: str | Path,
        *,
        train_format: str,
        history_name: str,
        resume: bool,
        missing_resume: str = "error",  # "error" | "new": what `resume` does when there is nothing to resume
        holds: str = "a training run",
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.path = Path(out).expanduser()
        self.train_format = train_format
        self.history_path = self.path / history_name
        self.last_path, self.best_path = self.path / LAST, self.path / BEST
        self.log = log or (lambda message: None)
        self.resumed: dict[str, Any] | None = None
        if self.last_path.exists():
            if not resume:
                raise UsageError(f"{self.path} already holds {holds}",
                                 hint="pass --resume to continue it, or choose another --out")
            self.resumed = load_checkpoint(self.last_path, expected_format=train_format)
        elif resume:
            if missing_resume == "error":
                raise UsageError(f"nothing to resume: {self.last_path} does not exist")
            self.log(f"[yellow]--resume: nothing to resume in {self.path}; starting a new run[/]")

    def resume_options(self, stored: Mapping[str, Any], given: Mapping[str, Any],
                       may_change: Iterable[str]) -> dict[str, Any]:
        """The run's stored options, with those in `may_change` taken from `given`; other differences are
        reported (the run keeps its own)."""
        allowed = set(may_change)
        out = dict(stored)
        for key, value in given.items():
            if key in allowed:
                out[key] = value
            elif key in stored and stored[key] != value:
                self.log(f"[yellow]--resume: keeping the run's {key}={stored[key]!r} (not {value!r})[/]")
        return out

    def create(self, config: Mapping[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_json(CONFIG, config)

    def write_json(self, name: str, value: object, indent: int = 2) -> None:
        atomic_write_text(self.path / name, json.dumps(value, indent=indent) + "\n")

    def save_last(self, payload: dict[str, Any]) -> None:
        save_checkpoint(self.last_path, {"format": self.train_format, **payload})

    def save_best(self, payload: dict[str, Any]) -> None:
        save_checkpoint(self.best_path, payload)

    def write_history(self, rows: Iterable[Mapping[str, Any]]) -> None:
        atomic_write_text(self.history_path, "".join(json.dumps(dict(r)) + "\n" for r in rows))


def register(checkpoint: Path, entry: weights.WeightEntry, weights_dir: Path | None = None) -> Path:
    """Copy a best.pt to `entry.file` inside a weights folder (atomically) and list it in its manifest;
    returns the manifest. The entry's sha256 is the copy's."""
    directory = Path(weights_dir).expanduser() if weights_dir else weights.weights_dir()
    target = directory / entry.file
    if not (target.exists() and weights.sha256_file(target) == weights.sha256_file(checkpoint)):
        atomic_copy(checkpoint, target)
    return weights.register(replace(entry, sha256=weights.sha256_file(target)), directory)
