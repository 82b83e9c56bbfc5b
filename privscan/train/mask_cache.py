"""Resumable preprocessing: person and text masks per image, computed once and cached on disk.

PrivObfNet weights Human attributes' maps by a person mask and Text attributes' maps by a text mask, both
from off-the-shelf detectors run in advance. Running those detectors on every image of every epoch would
dominate training time, so this stage runs them once per image and stores the masks (uint8, longest side
at most 512 px: the model sees 448 px) as one compressed .npz per image, written atomically. An
interrupted stage resumes where it stopped: finished images are skipped. The cache folder name is a hash
of the mask sources' names, so masks from other detectors (or versions) never mix.

A mask source is any function DecodedImage -> H x W float32 mask in 0..1; `default_mask_sources()` wires
the project's detectors (person segmentation gated by a detection; OCR word boxes -> text mask).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from privscan.errors import ImageError, PrivscanError, UsageError
from privscan.io.atomic import atomic_write_bytes
from privscan.io.decode import DecodedImage, load_image

MaskFn = Callable[[DecodedImage], np.ndarray]
CACHE_MAX_SIDE = 512
MASK_KEYS = ("person", "text")


@dataclass(frozen=True)
class MaskSource:
    name: str  # enters the cache key: say which model and version made the masks
    fn: MaskFn


@dataclass
class CacheStats:
    computed: int = 0
    cached: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (image id, one-line reason)


def _safe_name(image_id: str) -> str:
    """A file name for an image id (ids are VISPR's '2017_10001003', but be safe with any string)."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", image_id)[:120]
    if clean != image_id:
        clean += "-" + hashlib.sha256(image_id.encode()).hexdigest()[:10]
    return clean


def _shrink(mask: np.ndarray, max_side: int) -> np.ndarray:
    """H x W float mask in 0..1 -> uint8 0..255, longest side at most max_side (area-averaged)."""
    m = np.clip(np.nan_to_num(np.asarray(mask, dtype=np.float32)), 0.0, 1.0)
    img = Image.fromarray(np.round(m * 255).astype(np.uint8), "L")
    h, w = m.shape
    scale = max_side / max(h, w)
    if scale < 1:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.uint8)


class MaskCache:
    """Person/text masks per image id under `directory/<sources hash>/`."""

    def __init__(self, directory: Path, sources: Mapping[str, MaskSource], *, max_side: int = CACHE_MAX_SIDE):
        unknown = set(sources) - set(MASK_KEYS)
        if unknown:
            raise ValueError(f"mask sources must be among {MASK_KEYS}, got {sorted(unknown)}")
        self.sources = dict(sources)
        self.max_side = max_side
        key = "|".join(f"{k}={self.sources[k].name}" for k in sorted(self.sources)) + f"|{max_side}"
        self.key = hashlib.sha256(key.encode()).hexdigest()[:12]
        self.directory = Path(directory) / self.key
        self.description = key

    def path(self, image_id: str) -> Path:
        return self.directory / f"{_safe_name(image_id)}.npz"

    def has(self, image_id: str) -> bool:
        return self.path(image_id).is_file()

    def load(self, image_id: str) -> dict[str, np.ndarray] | None:
        """{"person": HxW float32, "text": ...} in 0..1, or None when the image has no cache entry."""
        path = self.path(image_id)
        if not path.is_file():
            return None
        try:
            with np.load(path) as data:
                return {k: data[k].astype(np.float32) / 255.0 for k in MASK_KEYS if k in data.files}
        except (OSError, ValueError, KeyError):  # a damaged entry is recomputed by the next build
            return None

    def compute(self, image_id: str, image: DecodedImage) -> dict[str, np.ndarray]:
        """Run every source on one image and store the masks; returns them (float32, cached resolution)."""
        arrays: dict[str, np.ndarray] = {}
        for key, source in self.sources.items():
            mask = np.asarray(source.fn(image), dtype=np.float32)
            if mask.shape != (image.height, image.width):
                raise ValueError(f"mask source {source.name!r} returned {mask.shape}, expected {image.rgb.shape[:2]}")
            arrays[key] = _shrink(mask, self.max_side)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays, source_hw=np.array([image.height, image.width], dtype=np.int64))
        atomic_write_bytes(self.path(image_id), buffer.getvalue())
        return {k: v.astype(np.float32) / 255.0 for k, v in arrays.items()}

    def build(self, items: Sequence[tuple[str, Path]], *, show_progress: bool = True) -> CacheStats:
        """Make sure every (image id, image path) has its masks; resumable, with a progress bar.

        Images that cannot be decoded are listed in the stats (and get no masks), never stop the stage.
        """
        from privscan.train.common import progress

        stats = CacheStats()
        todo = []
        for image_id, path in items:
            if self.load(image_id) is not None:
                stats.cached += 1
            else:
                todo.append((image_id, path))
        if not todo:
            return stats
        self.directory.mkdir(parents=True, exist_ok=True)
        with progress(transient=not show_progress) as bar:
            task = bar.add_task("person/text masks", total=len(todo), status=f"{stats.cached} cached")
            for image_id, path in todo:
                try:
                    self.compute(image_id, load_image(path))
                    stats.computed += 1
                except ImageError as e:
                    stats.failed.append((image_id, e.one_line()))
                bar.update(task, advance=1, status=f"{stats.cached} cached, {len(stats.failed)} failed")
        return stats


# ---- default wiring to the project's detectors ------------------------------------------------------


def _box_mask(image: DecodedImage, boxes: Sequence[object]) -> np.ndarray:
    """H x W float32 mask that is 1 inside any of the boxes (privscan.detectors.base.Box-like)."""
    mask = np.zeros((image.height, image.width), dtype=np.float32)
    for b in boxes:
        x0, y0 = max(int(np.floor(b.x0)), 0), max(int(np.floor(b.y0)), 0)  # type: ignore[attr-defined]
        x1, y1 = min(int(np.ceil(b.x1)), image.width), min(int(np.ceil(b.y1)), image.height)  # type: ignore[attr-defined]
        if x1 > x0 and y1 > y0:
            mask[y0:y1, x0:x1] = 1.0
    return mask


def text_mask_from_detector(detector: object) -> MaskFn:
    """A text-mask function from any Detector that returns OCR words (their boxes become the mask)."""

    def fn(image: DecodedImage) -> np.ndarray:
        result = detector.detect(image)  # type: ignore[attr-defined]
        return _box_mask(image, [w.box for w in result.words])

    return fn


def person_mask_from_detector(detector: object) -> MaskFn:
    """A person-mask function from any Detector that sets DetectorResult.masks['person'] (gated upstream)."""

    def fn(image: DecodedImage) -> np.ndarray:
        result = detector.detect(image)  # type: ignore[attr-defined]
        mask = result.masks.get("person")
        if mask is None:
            return np.zeros((image.height, image.width), dtype=np.float32)
        return np.asarray(mask, dtype=np.float32)

    return fn


def default_mask_sources() -> dict[str, MaskSource]:
    """Person and text masks from the project's offline detectors (imported only when asked for).

    Raises a PrivscanError naming what is missing when the detectors are not available.
    """
    try:
        from privscan.detectors import registry  # type: ignore[attr-defined]
    except ImportError as e:
        raise UsageError(
            "the person/text mask detectors are not available in this install",
            hint="install the detectors extra (`make setup`) or pass --masks none",
        ) from e
    try:
        person = registry.create("people")
        text = registry.create("text")
    except PrivscanError:
        raise
    except Exception as e:  # a detector that fails to build is an environment problem, said in one line
        message = f"cannot build the mask detectors: {type(e).__name__}: {e}"
        raise UsageError(message, hint="or pass --masks none") from e
    return {
        "person": MaskSource(f"{person.name}-{person.version}", person_mask_from_detector(person)),
        "text": MaskSource(f"{text.name}-{text.version}", text_mask_from_detector(text)),
    }
