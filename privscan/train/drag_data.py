"""Private/public image datasets on disk, in the three layouts DRAG is trained from.

* csv:     per-split CSV files (train / val / test) with columns `img_name,label` as the DRAG and GIP code
           read them (PicAlert, PrivacyAlert exports). Labels are `private` / `public`, or 1 / 0 (PicAlert's
           convention: 1 = private; change with private_label).
* ipd:     the curated Image Privacy Dataset (privacy-from-visual-entities release):
           `annotations/labels_splits.csv` with `Image Name`, `Label 2-class` and `Fold k` columns (0/1/2 =
           train/val/test; -1 = unused). In IPD, label 0 = private (set private_label for other datasets
           that ship the same file with the other convention). Image names are resolved through
           `annotations/ipd_imgs_curated.json` when present, else by file name under the data folder and its
           sibling dataset folders (`../curated_picalert/imgs`, `../curated_vispr/imgs`).
* folders: `private/` and `public/` folders. A stratified split is drawn once (seeded) and written next to
           the data as `privscan_split.csv`, so every later run and `privscan evaluate` use the same split.

Images that are listed but missing are reported as problems and left out; images that exist but cannot be
decoded are found when loaded (PrivacyImages returns None for them, and the trainer lists them). A bad image
never stops a run.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from privscan.errors import ImageError, UsageError
from privscan.io.atomic import atomic_write_text
from privscan.io.decode import load_image
from privscan.io.discover import discover
from privscan.models.preprocess import model_input

FORMATS = ("auto", "csv", "ipd", "folders")
SPLITS = ("train", "val", "test")
PUBLIC, PRIVATE = 0, 1  # the label values used everywhere in privscan (privscan.models.drag.CLASSES order)
LABEL_NAMES = {PUBLIC: "public", PRIVATE: "private"}
SPLIT_FILE = "privscan_split.csv"
IPD_SPLITS_NAME = "labels_splits.csv"

_SPLIT_ALIASES = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}
_IMAGE_COLUMNS = ("img_name", "image_name", "image", "Image Name", "filename", "file", "path")
_LABEL_COLUMNS = ("label", "Label 2-class", "privacy", "class")


@dataclass(frozen=True)
class Sample:
    path: Path
    label: int  # PRIVATE or PUBLIC


@dataclass(frozen=True)
class Problem:
    path: str
    reason: str


@dataclass
class PrivacyData:
    """Resolved samples per split plus everything that went wrong on the way."""

    format: str
    root: Path
    splits: dict[str, list[Sample]]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str) -> list[Sample]:
        if name not in self.splits or not self.splits[name]:
            raise UsageError(f"{self.root}: the {self.format} data has no usable '{name}' split")
        return self.splits[name]

    def counts(self) -> dict[str, dict[str, int]]:
        return {
            name: {LABEL_NAMES[k]: sum(s.label == k for s in samples) for k in (PRIVATE, PUBLIC)}
            for name, samples in self.splits.items()
        }

    def describe(self) -> dict[str, Any]:
        """A JSON-able description of the training data (stored in checkpoints and the weights manifest)."""
        return {
            "format": self.format,
            "root": str(self.root),
            "counts": self.counts(),
            "missing_or_skipped": len(self.problems),
            **self.details,
        }


# ---------------------------------------------------------------------------------------------- resolution


class ImageResolver:
    """Finds an image named in an annotation file: as a path under one of the roots, else by file name/stem."""

    def __init__(self, roots: Sequence[Path], search_roots: Sequence[Path] | None = None) -> None:
        self.roots = [r for r in dict.fromkeys(roots) if r.is_dir()]
        self.search_roots = [r for r in dict.fromkeys(search_roots or self.roots) if r.is_dir()]
        self._by_name: dict[str, list[Path]] | None = None
        self._by_stem: dict[str, list[Path]] | None = None

    def _index(self) -> None:
        self._by_name, self._by_stem = {}, {}
        for root in self.search_roots:
            for path in discover([root]):
                self._by_name.setdefault(path.name, []).append(path)
                self._by_stem.setdefault(path.stem, []).append(path)

    def resolve(self, name: str) -> Path | None:
        name = name.strip()
        if not name:
            return None
        given = Path(name).expanduser()
        if given.is_absolute() and given.is_file():
            return given
        if not given.is_absolute():
            for root in self.roots:
                candidate = root / given
                if candidate.is_file():
                    return candidate
        # Not where the annotation says (e.g. an absolute path from the authors' machine): look it up by name.
        if self._by_name is None:
            self._index()
        assert self._by_name is not None and self._by_stem is not None
        hits = self._by_name.get(given.name) or (self._by_stem.get(given.name) if given.suffix == "" else None)
        if not hits:
            return None
        if len(hits) == 1:
            return hits[0]
        # several files share the name: take the one whose trailing folders match the annotation's the longest
        scores = [_common_tail(h.parts, given.parts) for h in hits]
        best = max(scores)
        return hits[scores.index(best)] if scores.count(best) == 1 else None


def _common_tail(a: Sequence[str], b: Sequence[str]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _parse_label(raw: str, private_label: int) -> int | None:
    value = raw.strip().lower()
    if value in ("private", "priv"):
        return PRIVATE
    if value in ("public", "pub"):
        return PUBLIC
    try:
        number = int(float(value))
    except ValueError:
        return None
    if number not in (0, 1):
        return None  # -1 and multi-class values are not part of the binary task
    return PRIVATE if number == private_label else PUBLIC


def _pick_column(header: Sequence[str], candidates: Iterable[str], what: str, source: Path) -> str:
    lower = {h.strip().lower(): h for h in header}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    raise UsageError(f"{source}: no {what} column (looked for {', '.join(candidates)}; found {', '.join(header)})")


def _read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageError(f"cannot read {path}: {e}") from e


# ---------------------------------------------------------------------------------------------------- csv


def find_split_csvs(root: Path) -> dict[str, Path]:
    """train/val/test CSV files in root, root/splits or root/annotations (e.g. train.csv, val_with_labels.csv)."""
    found: dict[str, Path] = {}
    for folder in (root, root / "splits", root / "csv", root / "annotations"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.csv")):
            stem = path.stem.lower()
            if stem == SPLIT_FILE[:-4]:
                continue
            for split, aliases in _SPLIT_ALIASES.items():
                if split not in found and any(
                    stem == a or stem.startswith(a + "_") or stem.startswith(a + "-") for a in aliases
                ):
                    found[split] = path
    return found


def _load_csv(root: Path, private_label: int) -> PrivacyData:
    files = find_split_csvs(root)
    if "train" not in files:
        raise UsageError(f"{root}: no train CSV found (expected train.csv with columns img_name,label)")
    data = PrivacyData("csv", root, {}, details={"files": {k: str(v) for k, v in files.items()}})
    for split, path in files.items():
        header, rows = _read_rows(path)
        image_col = _pick_column(header, _IMAGE_COLUMNS, "image name", path)
        label_col = _pick_column(header, _LABEL_COLUMNS, "label", path)
        resolver = ImageResolver([path.parent, root, root / "images", root / "imgs"], [root])
        samples: list[Sample] = []
        for row in rows:
            name = (row.get(image_col) or "").strip()
            label = _parse_label(row.get(label_col) or "", private_label)
            if label is None:
                data.problems.append(Problem(name or f"{path}: empty row", f"unusable label {row.get(label_col)!r}"))
                continue
            resolved = resolver.resolve(name)
            if resolved is None:
                data.problems.append(Problem(name, f"listed in {path.name} but not found under {root}"))
                continue
            samples.append(Sample(resolved, label))
        data.splits[split] = samples
    return data


# ---------------------------------------------------------------------------------------------------- ipd


def _ipd_paths(root: Path) -> dict[str, Path]:
    """Image name -> file, from annotations/ipd_imgs_curated.json when the release's images are in place."""
    index_file = root / "annotations" / "ipd_imgs_curated.json"
    if not index_file.is_file():
        return {}
    try:
        raw = json.loads(index_file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    datasets = raw.get("datasets", {})
    out: dict[str, Path] = {}
    for item in raw.get("annotations", []):
        try:
            key = item["dataset"]
            info = datasets[key] if isinstance(datasets, dict | list) else {}
            data_dir = Path(str(info.get("data_dir", "")))
            rel = Path(str(item["fullpath"]))
            name = str(item["image"])
        except (KeyError, IndexError, TypeError, AttributeError):
            continue
        for candidate in (data_dir / "imgs" / rel, root.parent / data_dir.name / "imgs" / rel, root / "imgs" / rel):
            if candidate.is_file():
                out[name] = candidate
                break
    return out


def _load_ipd(root: Path, fold: int | str, private_label: int) -> PrivacyData:
    table = next((p for p in (root / "annotations" / IPD_SPLITS_NAME, root / IPD_SPLITS_NAME) if p.is_file()), None)
    if table is None:
        raise UsageError(f"{root}: no annotations/{IPD_SPLITS_NAME}")
    header, rows = _read_rows(table)
    fold_col = "Final" if str(fold).lower() == "final" else f"Fold {int(fold)}"
    if fold_col not in header:
        folds = [h for h in header if h.startswith("Fold ") or h == "Final"]
        raise UsageError(f"{table}: no '{fold_col}' column", hint=f"available: {', '.join(folds) or 'none'}")
    image_col = _pick_column(header, ("Image Name",), "Image Name", table)
    label_col = _pick_column(header, ("Label 2-class",), "Label 2-class", table)
    known = _ipd_paths(root)
    siblings = [d / "imgs" for d in sorted(root.parent.iterdir()) if (d / "imgs").is_dir()] if root.parent else []
    resolver = ImageResolver([root, root / "imgs", *siblings], [root, *siblings])
    data = PrivacyData(
        "ipd",
        root,
        {s: [] for s in SPLITS},
        details={"file": str(table), "fold": fold_col, "private_label": private_label},
    )
    split_of = {"0": "train", "1": "val", "2": "test"}
    for row in rows:
        split = split_of.get(str(row.get(fold_col, "")).strip().split(".")[0])
        if split is None:
            continue
        name = (row.get(image_col) or "").strip()
        label = _parse_label(row.get(label_col) or "", private_label)
        if label is None:
            continue  # -1: not part of the binary task in this fold
        path = known.get(name) or resolver.resolve(name)
        if path is None:
            data.problems.append(Problem(name, f"listed in {table.name} but not found under {root} or its siblings"))
            continue
        data.splits[split].append(Sample(path, label))
    return data


# ------------------------------------------------------------------------------------------------ folders


def stratified_split(labels: Sequence[int], *, seed: int, val_fraction: float, test_fraction: float) -> list[str]:
    """A split name per item, stratified by label, reproducible for a seed."""
    rng = np.random.default_rng(seed)
    out = ["train"] * len(labels)
    arr = np.asarray(labels)
    for label in sorted(set(labels)):
        idx = np.flatnonzero(arr == label)
        rng.shuffle(idx)
        n = idx.size
        n_test = round(n * test_fraction) if n >= 3 else 0
        n_val = round(n * val_fraction) if n >= 3 else 0
        if n >= 3:
            n_test, n_val = max(n_test, 1 if test_fraction > 0 else 0), max(n_val, 1 if val_fraction > 0 else 0)
        for i in idx[:n_test]:
            out[i] = "test"
        for i in idx[n_test : n_test + n_val]:
            out[i] = "val"
    return out


def _load_folders(
    root: Path, *, seed: int, val_fraction: float, test_fraction: float, fallback_dir: Path | None
) -> PrivacyData:
    files = {label: discover([root / LABEL_NAMES[label]]) for label in (PRIVATE, PUBLIC)}
    data = PrivacyData("folders", root, {s: [] for s in SPLITS})
    split_file = root / SPLIT_FILE
    if not split_file.is_file() and fallback_dir is not None and (fallback_dir / SPLIT_FILE).is_file():
        split_file = fallback_dir / SPLIT_FILE
    on_disk = {p.resolve(): label for label, paths in files.items() for p in paths}
    if split_file.is_file():
        header, rows = _read_rows(split_file)
        if not {"path", "label", "split"} <= set(header):
            raise UsageError(f"{split_file}: expected columns path,label,split")
        listed = set()
        for row in rows:
            path = root / row["path"]
            label = _parse_label(row["label"], PRIVATE)
            listed.add(path.resolve())
            if not path.is_file():
                data.problems.append(Problem(str(path), f"listed in {split_file.name} but missing"))
                continue
            if label is None or row["split"] not in SPLITS:
                data.problems.append(Problem(str(path), f"bad row in {split_file.name}: {row}"))
                continue
            data.splits[row["split"]].append(Sample(path, label))
        unlisted = [p for p in on_disk if p not in listed]
        if unlisted:
            data.notes.append(
                f"{len(unlisted)} image(s) under {root} are not in {split_file} and are not used "
                f"(delete the file to draw a new split)"
            )
        data.details = {"split_file": str(split_file), "split": "reused"}
        return data
    ordered = [(p, label) for label in (PRIVATE, PUBLIC) for p in files[label]]
    if not ordered:
        raise UsageError(f"{root}: private/ and public/ hold no images")
    names = stratified_split(
        [label for _, label in ordered], seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )
    lines = ["path,label,split"]
    for (path, label), split in zip(ordered, names, strict=True):
        rel = path.relative_to(root).as_posix()
        lines.append(f"{_csv_field(rel)},{LABEL_NAMES[label]},{split}")
        data.splits[split].append(Sample(path, label))
    text = "\n".join(lines) + "\n"
    try:
        atomic_write_text(split_file, text)
    except OSError as e:
        if fallback_dir is None:
            raise UsageError(f"cannot write the split file next to the data ({split_file}): {e}") from e
        split_file = fallback_dir / SPLIT_FILE
        atomic_write_text(split_file, text)
        data.notes.append(f"{root} is not writable; the split was written to {split_file}")
    data.details = {
        "split_file": str(split_file),
        "split": f"drawn with seed {seed}: val {val_fraction:g}, test {test_fraction:g}, stratified",
    }
    return data


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


# ---------------------------------------------------------------------------------------------- front door


def detect_format(root: Path) -> str:
    if (root / "annotations" / IPD_SPLITS_NAME).is_file() or (root / IPD_SPLITS_NAME).is_file():
        return "ipd"
    if "train" in find_split_csvs(root):
        return "csv"
    if (root / "private").is_dir() and (root / "public").is_dir():
        return "folders"
    raise UsageError(
        f"{root}: cannot tell the data layout",
        hint="expected train.csv/val.csv/test.csv (img_name,label), annotations/labels_splits.csv, "
        "or private/ and public/ folders",
    )


def load_privacy_data(
    root: str | os.PathLike[str],
    fmt: str = "auto",
    *,
    fold: int | str = 0,
    private_label: int | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
    fallback_dir: Path | None = None,
) -> PrivacyData:
    """Read any of the three layouts; always returns train/val/test (val carved from train when absent)."""
    base = Path(root).expanduser()
    if not base.is_dir():
        raise UsageError(f"data folder not found: {base}")
    if fmt not in FORMATS:
        raise UsageError(f"unknown data format {fmt!r}", hint=f"choose from {', '.join(FORMATS)}")
    fmt = detect_format(base) if fmt == "auto" else fmt
    if fmt == "csv":
        data = _load_csv(base, PRIVATE if private_label is None else private_label)
    elif fmt == "ipd":
        data = _load_ipd(base, fold, 0 if private_label is None else private_label)
    else:
        data = _load_folders(
            base, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction, fallback_dir=fallback_dir
        )
    if not data.splits.get("val") and data.splits.get("train"):
        train = data.splits["train"]
        names = stratified_split([s.label for s in train], seed=seed, val_fraction=0.1, test_fraction=0.0)
        data.splits["train"] = [s for s, n in zip(train, names, strict=True) if n == "train"]
        data.splits["val"] = [s for s, n in zip(train, names, strict=True) if n == "val"]
        data.notes.append(f"no validation split: 10% of train ({len(data.splits['val'])} images) held out, seed {seed}")
    data.splits.setdefault("test", [])
    return data


# ----------------------------------------------------------------------------------------------- loading


class PrivacyImages(Dataset):
    """Decoded, resized images; an unreadable file yields None (with its reason) instead of raising."""

    def __init__(self, samples: Sequence[Sample], size: int, *, hflip: bool = False) -> None:
        self.samples = list(samples)
        self.size = size
        self.hflip = hflip

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, int] | tuple[None, int, str]:
        sample = self.samples[index]
        try:
            image = model_input(load_image(sample.path).rgb, self.size)
        except ImageError as e:
            return None, index, f"{e.kind}: {e.reason}"
        if self.hflip and torch.rand(()) < 0.5:
            image = image.flip(-1)
        return image, sample.label, index


@dataclass
class Batch:
    images: torch.Tensor
    labels: torch.Tensor
    indices: torch.Tensor
    failed: list[tuple[int, str]]


def collate(items: list[tuple[Any, int, Any]]) -> Batch:
    """Stack the good items; keep (index, reason) for the ones that failed to decode."""
    good = [it for it in items if it[0] is not None]
    failed = [(int(it[1]), str(it[2])) for it in items if it[0] is None]
    if not good:
        return Batch(torch.empty(0), torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long), failed)
    return Batch(
        torch.stack([it[0] for it in good]),
        torch.tensor([it[1] for it in good], dtype=torch.long),
        torch.tensor([it[2] for it in good], dtype=torch.long),
        failed,
    )
