"""VISPR on disk: split lists of annotation files, one JSON per image, and privacy-score targets.

Layout (VISPR 2017, Orekondy et al.):
    VISPR_DIR/train2017.txt   one annotation path per line (val2017.txt, test2017.txt likewise)
    VISPR_DIR/annos/...       {"id": "2017_10001003", "image_path": "images/train2017/2017_10001003.jpg",
                               "labels": ["a4_gender", "a9_face_complete", ...]}
Paths in lists and in `image_path` may be absolute, relative to VISPR_DIR, or relative to the file that
names them; all three are tried in that order. Privacy-score targets follow VISPR: max over attributes of
label x sensitivity, scaled to 0..1 (sensitivity 1-5 from a profile; default the mean of the 30 users).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from privscan.errors import UsageError
from privscan.io.decode import load_image
from privscan.models.preprocess import model_input, resize_square
from privscan.vocab import attribute_ids, by_id, privacy_score, profile_vector

SPLIT_ALIASES = {"train": "train2017", "val": "val2017", "test": "test2017"}


@dataclass(frozen=True)
class VisprRecord:
    id: str
    image_path: Path
    labels: tuple[str, ...]
    annotation: Path


def split_list_path(root: Path, split: str) -> Path:
    """The list file of a split: `train`, `train2017`, `train2017.txt`, or a path to a list file."""
    candidates = []
    given = Path(split)
    if given.suffix == ".txt":
        candidates += [given, root / given]
    name = SPLIT_ALIASES.get(split, split)
    candidates += [root / f"{name}.txt", root / f"{split}.txt"]
    for c in candidates:
        if c.is_file():
            return c
    raise UsageError(
        f"no split list for {split!r} in {root}",
        hint=f"expected {root / (name + '.txt')} listing one annotation JSON per line",
    )


def _resolve(path_text: str, root: Path, relative_to: Path) -> Path:
    p = Path(path_text).expanduser()
    if p.is_absolute():
        return p
    for base in (root, relative_to):
        if (base / p).exists():
            return base / p
    return root / p


def read_annotation(path: Path, root: Path) -> VisprRecord:
    """One annotation JSON -> VisprRecord; a clear UsageError for unreadable or malformed files."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read annotation {path}: {e.strerror}") from e
    except json.JSONDecodeError as e:
        raise UsageError(f"annotation {path} is not valid JSON: {e.msg} (line {e.lineno})") from e
    if not isinstance(raw, dict) or "image_path" not in raw or "labels" not in raw:
        raise UsageError(f"annotation {path} lacks `image_path` or `labels`")
    labels = raw["labels"]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise UsageError(f"annotation {path}: `labels` must be a list of attribute ids")
    image_id = str(raw.get("id") or Path(raw["image_path"]).stem)
    return VisprRecord(image_id, _resolve(str(raw["image_path"]), root, path.parent), tuple(labels), path)


def load_split(root: Path, split: str, *, limit: int | None = None) -> list[VisprRecord]:
    """All records of a split, in list order (the first `limit` when given)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise UsageError(f"VISPR folder not found: {root}")
    listing = split_list_path(root, split)
    lines = [ln.strip() for ln in listing.read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if limit is not None:
        lines = lines[:limit]
    if not lines:
        raise UsageError(f"split list {listing} is empty")
    records = []
    for line in lines:
        anno = _resolve(line, root, listing.parent)
        if not anno.is_file():
            raise UsageError(f"{listing}: annotation {line!r} not found", hint=f"looked for {anno}")
        records.append(read_annotation(anno, root))
    return records


def label_matrix(records: Sequence[VisprRecord]) -> tuple[np.ndarray, list[str]]:
    """(N, 68) 0/1 float32 labels in VISPR vector order, and the unknown attribute ids met (sorted)."""
    index = {a: i for i, a in enumerate(attribute_ids())}
    out = np.zeros((len(records), len(index)), dtype=np.float32)
    unknown: set[str] = set()
    for n, rec in enumerate(records):
        for label in rec.labels:
            if label in index:
                out[n, index[label]] = 1.0
            else:
                unknown.add(label)
    return out, sorted(unknown)


def choose_profile(*, path: Path | None = None, user: int | None = None) -> tuple[np.ndarray, str]:
    """(68,) sensitivities and a description: `--profile FILE`, `--user K`, or the 30 users' mean."""
    if path is not None and user is not None:
        raise UsageError("give either --profile or --user, not both")
    if path is not None:
        return profile_vector(path=path), f"file:{Path(path).name}"
    if user is not None:
        return profile_vector(user=user), f"user:{user}"
    return profile_vector(), "mean-of-30-users"


def privacy_targets(labels: np.ndarray, profile: np.ndarray) -> np.ndarray:
    """VISPR's privacy score per image: max over attributes of label x sensitivity / 5 (0..1)."""
    return privacy_score(labels, profile, pooling="max").astype(np.float32)


def safe_index() -> int:
    return by_id()["a0_safe"].index


def guides_from_masks(masks: Mapping[str, np.ndarray] | None, size: int) -> torch.Tensor:
    """{"person": HxW, "text": HxW} masks in 0..1 (either may be missing) -> (2, size, size) model guides."""
    out = torch.zeros(2, size, size)
    if not masks:
        return out
    for channel, key in enumerate(("person", "text")):
        m = masks.get(key)
        if m is not None and np.size(m):
            out[channel] = resize_square(torch.from_numpy(np.asarray(m, dtype=np.float32))[None], size)[0]
    return out.clamp_(0.0, 1.0)


class VisprImages(Dataset):
    """Decoded, square-resized images with labels, privacy targets and person/text guides.

    `guides` maps an image id to its cached {"person": HxW, "text": HxW} masks (0..1); images without an
    entry get empty guides (the model then keeps their plain maps). Flips are left to the trainer so that
    the random stream stays in one place.
    """

    def __init__(
        self,
        records: Sequence[VisprRecord],
        labels: np.ndarray,
        targets: np.ndarray,
        image_size: int,
        guides: object | None = None,
    ) -> None:
        self.records = list(records)
        self.labels = torch.from_numpy(np.asarray(labels, dtype=np.float32))
        self.targets = torch.from_numpy(np.asarray(targets, dtype=np.float32))
        self.image_size = image_size
        self.guides = guides  # a MaskCache-like object with .load(image_id) -> dict | None

    def __len__(self) -> int:
        return len(self.records)

    def guide_tensor(self, image_id: str) -> torch.Tensor:
        masks = self.guides.load(image_id) if self.guides is not None else None  # type: ignore[attr-defined]
        return guides_from_masks(masks, self.image_size)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | int]:
        rec = self.records[i]
        image = load_image(rec.image_path)
        return {
            "image": model_input(np.array(image.rgb), self.image_size),  # writable copy for torch
            "guides": self.guide_tensor(rec.id),
            "labels": self.labels[i],
            "score": self.targets[i],
            "index": i,
        }
