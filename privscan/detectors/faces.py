"""Faces: MediaPipe BlazeFace (short- and full-range models) -> a9_face_complete / a10_face_partial.

Both models run on the photo shrunk to 1024 px (their inputs are 128 and 192 px, so more pixels only cost
resizing); photos larger than that also get a full-range pass over 2 x 2 overlapping tiles of the 1600 px
copy (the one OCR uses, so it is resized once), which finds faces too small for the whole-frame pass.
Overlapping detections are merged (IoU > 0.3 keeps the most confident).

Complete vs partial (VISPR: a face fully visible vs partly visible). A face is **partial** when any of:
- truncated: more than 15% of its box lies outside the frame, or an eye, the nose tip or the mouth
  keypoint falls outside it;
- turned away: the nose tip lies outside the middle 60% of the span between the eyes (|yaw| large enough
  that one side of the face is hidden), measured from BlazeFace's six keypoints.
Otherwise it is **complete**. The finding's score is the detector's confidence. Occlusion inside the frame
(a hand, a mask) is not told apart: BlazeFace's confidence did not separate it reliably enough to claim it.

Thresholds, measured on scikit-image's lfw_subset (100 face and 100 non-face 25 px crops, upscaled to
128 px): the short-range model at 0.6 finds 99% of the faces and fires on 6% of the non-faces (15% at
0.5); the full-range model fires on none at 0.5 (and finds fewer of these close-ups, which is what the
short-range model is for).

MediaPipe graphs are not thread-safe: calls are serialised with a lock. The person detector reads this
detector's result from `prior` (its SPEC requires "faces"), so each photo gets one face pass.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from privscan import weights
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, Prior, Region
from privscan.detectors.scale import downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.errors import WeightsError
from privscan.io.decode import DecodedImage

WHOLE_SIDE = 1024
TILE_SOURCE_SIDE = 1600
MIN_CONFIDENCE_SHORT = 0.6
MIN_CONFIDENCE_FULL = 0.5
COMPLETE, PARTIAL = "a9_face_complete", "a10_face_partial"  # the VISPR ids this detector reports


@dataclass(frozen=True)
class Face:
    box: Box  # pixels of the original image, not clipped (may extend past the frame)
    score: float
    keypoints: tuple[tuple[float, float], ...]  # right eye, left eye, nose tip, mouth, right ear, left ear
    model: str


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Silence C++ log lines (TFLite's "Created TensorFlow Lite XNNPACK delegate", absl warnings) that
    MediaPipe writes straight to file descriptor 2 while it builds and first runs its graphs; used only
    while detectors are built (before any progress output), never per image."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters): nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def require_mediapipe() -> None:
    import importlib.util

    if importlib.util.find_spec("mediapipe") is None:
        raise WeightsError("mediapipe is not installed", hint=weights.SETUP_HINT)
    try:
        from mediapipe import solutions  # noqa: F401
    except Exception as e:  # e.g. a mediapipe without `solutions`, or numpy 2
        raise WeightsError(f"mediapipe.solutions cannot be imported ({type(e).__name__}: {e})",
                           hint=weights.SETUP_HINT) from e


def nms(faces: list[Face], iou: float = 0.3) -> list[Face]:
    kept: list[Face] = []
    for f in sorted(faces, key=lambda f: -f.score):
        if all(f.box.iou(k.box) <= iou for k in kept):
            kept.append(f)
    return kept


def classify(face: Face, width: int, height: int) -> tuple[str, list[str]]:
    """('a9_face_complete' | 'a10_face_partial', reasons) by the rule in the module docstring."""
    reasons = []
    b = face.box
    inside = b.clip(width, height).area
    if b.area > 0 and 1 - inside / b.area > 0.15:
        reasons.append("cut by the frame")
    core = face.keypoints[:4]
    if any(not (0 <= x < width and 0 <= y < height) for x, y in core):
        reasons.append("keypoint outside the frame")
    if len(face.keypoints) >= 3:
        (rx, _), (lx, _), (nx, _) = face.keypoints[:3]
        span = lx - rx
        if abs(span) > 1e-6:
            r = (nx - rx) / span
            if r < 0.2 or r > 0.8:
                reasons.append("turned away (nose outside the eyes' middle)")
    return (PARTIAL if reasons else COMPLETE), reasons


class FaceDetector:
    """Faces with boxes and complete/partial labels. Build once, call per image."""

    name = "faces"
    version = "faces-1+blazeface-short+full+tiles"
    weight_names = ("mediapipe_face_short_range", "mediapipe_face_full_range")

    def __init__(self, *, tiles: bool = True) -> None:
        require_mediapipe()
        for name in self.weight_names:
            weights.verified_path(name)  # the exact files mediapipe's graphs load
        from mediapipe.python.solutions import face_detection

        with quiet_native_stderr():
            self._short = face_detection.FaceDetection(
                model_selection=0, min_detection_confidence=MIN_CONFIDENCE_SHORT
            )
            self._full = face_detection.FaceDetection(model_selection=1, min_detection_confidence=MIN_CONFIDENCE_FULL)
            blank = np.zeros((64, 64, 3), np.uint8)
            self._short.process(blank)  # graphs start lazily: warm them up while stderr is quiet
            self._full.process(blank)
        self.tiles = tiles
        self._lock = threading.Lock()

    def _run(self, solution: object, rgb: np.ndarray, scale: float, ox: float, oy: float, model: str) -> list[Face]:
        h, w = rgb.shape[:2]
        out = solution.process(np.ascontiguousarray(rgb))  # type: ignore[attr-defined]
        faces = []
        for det in out.detections or []:
            loc = det.location_data
            rb = loc.relative_bounding_box
            x0, y0 = rb.xmin * w, rb.ymin * h
            x1, y1 = x0 + rb.width * w, y0 + rb.height * h
            box = Box((x0 + ox) / scale, (y0 + oy) / scale, (x1 + ox) / scale, (y1 + oy) / scale)
            kps = tuple(((k.x * w + ox) / scale, (k.y * h + oy) / scale) for k in loc.relative_keypoints)
            faces.append(Face(box, float(det.score[0]), kps, model))
        return faces

    def faces(self, image: DecodedImage) -> list[Face]:
        rgb = image.rgb
        small, scale = downscaled(rgb, WHOLE_SIDE)
        with self._lock:
            found = self._run(self._short, small, scale, 0, 0, "short") + self._run(
                self._full, small, scale, 0, 0, "full"
            )
            if self.tiles and max(rgb.shape[:2]) > WHOLE_SIDE:
                src, s2 = downscaled(rgb, TILE_SOURCE_SIDE)
                h, w = src.shape[:2]
                th, tw = int(h * 0.6), int(w * 0.6)
                for ty in (0, h - th):
                    for tx in (0, w - tw):
                        tile = src[ty : ty + th, tx : tx + tw]
                        tile_faces = self._run(self._full, tile, s2, tx, ty, "full-tile")
                        # a face cut by a tile edge that is not the frame's edge is seen whole by another pass
                        found += [f for f in tile_faces if _inside_tile(f, tx, ty, tw, th, w, h, s2)]
        return nms(found)

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        faces = self.faces(image)
        findings = []
        for f in faces:
            attribute, reasons = classify(f, image.width, image.height)
            findings.append(
                Finding(
                    attribute=attribute,
                    score=round(f.score, 3),
                    source="face:mediapipe",
                    regions=[Region(box=f.box.clip(image.width, image.height))],
                    kind="face_partial" if reasons else "face_complete",
                    detail={"model": f.model, "partial_reasons": reasons},
                )
            )
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _inside_tile(face: Face, tx: int, ty: int, tw: int, th: int, w: int, h: int, scale: float) -> bool:
    b = face.box.scaled(scale)
    margin = 2.0
    if b.x0 < tx + margin and tx > 0:
        return False
    if b.y0 < ty + margin and ty > 0:
        return False
    if b.x1 > tx + tw - margin and tx + tw < w:
        return False
    return not (b.y1 > ty + th - margin and ty + th < h)


def _build(context: BuildContext) -> FaceDetector:
    return FaceDetector()


SPEC = DetectorSpec(
    name=FaceDetector.name,
    kind="face",
    version=FaceDetector.version,
    build=_build,
    order=10,
    weights=FaceDetector.weight_names,
    packages=("mediapipe",),
    locates=frozenset({COMPLETE, PARTIAL}),
)
