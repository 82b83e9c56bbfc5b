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

from privscan.detectors.base import Detector
from privscan.detectors.registry import build_detectors, detect_all
from privscan.errors import ImageError, UsageError
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


class CachedMasks:
    """Read-only view of one cache folder: what training data loaders hold (small, picklable, no models)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

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


class MaskCache(CachedMasks):
    """Person/text masks per image id under `directory/<sources hash>/`, computed by the given sources."""

    def __init__(self, directory: Path, sources: Mapping[str, MaskSource], *, max_side: int = CACHE_MAX_SIDE):
        unknown = set(sources) - set(MASK_KEYS)
        if unknown:
            raise ValueError(f"mask sources must be among {MASK_KEYS}, got {sorted(unknown)}")
        self.sources = dict(sources)
        self.max_side = max_side
        key = "|".join(f"{k}={self.sources[k].name}" for k in sorted(self.sources)) + f"|{max_side}"
        self.key = hashlib.sha256(key.encode()).hexdigest()[:12]
        super().__init__(Path(directory) / self.key)
        self.description = key

    def reader(self) -> CachedMasks:
        """The read-only view (without the detectors) to hand to data loaders."""
        return CachedMasks(self.directory)

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


def person_mask_fn(detectors: Sequence[Detector]) -> MaskFn:
    """A person-mask function from built detectors (the people detector and those it requires, as
    `registry.build_detectors(["people"])` returns them) whose results set masks['person'] (absent = nobody)."""

    def fn(image: DecodedImage) -> np.ndarray:
        results = detect_all(detectors, image)
        mask = next((r.masks["person"] for r in results.values() if "person" in r.masks), None)
        if mask is None:
            return np.zeros((image.height, image.width), dtype=np.float32)
        return np.asarray(mask, dtype=np.float32)

    return fn


def default_mask_sources(ocr_engine: str | None = "auto") -> dict[str, MaskSource]:
    """Person and text masks from the project's offline detectors (imported only when asked for).

    Person: privscan.detectors.people (selfie/pose segmentation gated by a face or pose detection), with the
    face detector it requires. Text: the OCR engine's word quads filled in (privscan.detectors.text.text_mask),
    without the PII pass the audit runs on top. A clear PrivscanError when a detector's package or weights
    are missing.
    """
    try:
        from privscan.detectors.ocr import DEFAULT_MAX_SIDE, build_engine, read_words
        from privscan.detectors.text import text_mask
    except ImportError as e:
        raise UsageError(
            f"the person/text mask detectors cannot be imported ({e})",
            hint="install the detectors (`make setup`) or pass --masks none",
        ) from e
    engine = build_engine(ocr_engine, device="cpu")
    people = build_detectors(["people"])

    def text_fn(image: DecodedImage) -> np.ndarray:
        words = read_words(engine, image.rgb, max_side=DEFAULT_MAX_SIDE)
        return text_mask(words, image.height, image.width)

    return {
        "person": MaskSource("people:" + "+".join(d.version for d in reversed(people)), person_mask_fn(people)),
        "text": MaskSource(f"ocr:{engine.name}:{engine.version}:max{DEFAULT_MAX_SIDE}", text_fn),
    }
