"""Faces: YuNet (libfacedetection, via the `yuface` package) -> a9_face_complete / a10_face_partial.

YuNet finds far smaller faces than MediaPipe's BlazeFace did (on real group and crowd photos, boxes down to
8 x 10 px), so the passes are chosen for size:
- the whole photo shrunk to `WHOLE_SIDE` (960 px; never enlarged);
- photos smaller than `UPSCALE_BELOW` (1000 px) also get a pass enlarged x2 (at most to 1280 px), which
  finds the 15-25 px faces of small group photos;
- photos larger than `DETAIL_ABOVE` (2000 px) also get a pass over the 1600 px copy (the one the other
  detectors already resized to), for faces too small at 960 px (a 25 px face of a 4000 px photo is 10 px
  there, YuNet's limit, and 16 px at 1600) -- but only when the whole pass saw a *small* face-like
  candidate: one scoring >= `DETAIL_GATE` (0.35; findings need `MIN_CONFIDENCE`) whose box is at most
  `DETAIL_GATE_SIDE` (48 px) tall in the 960 px copy. One such pass costs about 4 passes at 960 px
  (0.37 s vs 0.09 s on a 2-core machine). Why small: the detail pass only adds faces under about 16 px at
  960 px, and the faces of one group photo come in similar sizes, so a crowd too small to see shows itself
  by the few faces that are just big enough (8-32 px candidates on every pasted group photo that the
  detail pass helped, measured with `benchmarks/bench_small_faces.py`: real-dev's group photos pasted into
  4000 px scenes, faces 18-50 px tall). A portrait's face (150-210 px at 960) no longer opens it: on the
  audit benchmark's big photos every candidate was 150 px or more, and the pass, run on 5 of its 20
  photos, was a sixth of the audit's time. What this gives up is a background crowd too small to leave
  any candidate of its own behind a big face. The 2 x 2 overlapping tiles of the same copy that were tried
  first cost about 5.8 passes at 960 px, for the same resolution.
Overlapping detections are merged (IoU > 0.3 keeps the most confident).

Boxes: YuNet's box is narrower than the usual face annotation (about 1.3 times taller than wide; the
ears and cheek edges fall outside it), so each box is widened by `WIDEN` (25%) and heightened by `HEIGHTEN`
(5%) about its centre; the redaction margin comes on top. Measured on real-dev's 39 annotated faces (PASCAL VOC,
Open Images, Kaggle boxes): 97.4% covered >= 70% and 100% with IoU >= 0.5 (the raw boxes: 89.7% / 92.3%).

Threshold `MIN_CONFIDENCE` 0.6: on real-dev every annotated face YuNet found scored >= 0.72, while its only
detections on the 12 photos without people (plants, a wine glass) scored 0.56 and 0.59.

Complete vs partial (VISPR: a face fully visible vs partly visible). A face is **partial** when any of:
- truncated: YuNet's box reaches the frame's edge (YuNet clips its boxes to the image), more than 15% of
  the box lies outside the frame, or an eye, the nose tip or a mouth corner falls outside it;
- turned away: the nose tip lies outside the middle 60% of the span between the eyes (|yaw| large enough
  that one side of the face is hidden), from YuNet's five landmarks.
Otherwise it is **complete**. The finding's score is YuNet's confidence. Occlusion inside the frame (a hand,
a medical mask) is not told apart: YuNet finds masked faces with high confidence and nothing in its output
separates them.

yuface's extension runs on OpenMP threads; they are set to sleep when idle (OMP_WAIT_POLICY=PASSIVE, unless
the user chose a policy), because spinning threads measured 3-4x slower on a loaded 2-core machine. Built
with `threads` (an audit lane's share of the cores), each call first sets the calling thread's OpenMP team
size in yuface's own OpenMP runtime (`omp_threads_setter`): OpenMP keeps that setting per thread, and an
environment variable would change torch's threads too. Calls are serialised with a lock. The person
detector reads this detector's result from `prior` (its SPEC requires "faces"), so each photo gets one face
pass.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from privscan import weights
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, Prior, Region
from privscan.detectors.scale import PYRAMID_BASE, downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.errors import WeightsError
from privscan.io.decode import DecodedImage

WHOLE_SIDE = 960
UPSCALE_BELOW = 1000
UPSCALE_MAX_SIDE = 1280
DETAIL_ABOVE = 2000
DETAIL_GATE = 0.35
DETAIL_GATE_SIDE = 48  # px in the 960 px copy: only candidates this small open the detail pass
MIN_CONFIDENCE = 0.6
WIDEN, HEIGHTEN = 1.25, 1.05
COMPLETE, PARTIAL = "a9_face_complete", "a10_face_partial"  # the VISPR ids this detector reports


@dataclass(frozen=True)
class Face:
    box: Box  # pixels of the original image, not clipped (may extend past the frame)
    score: float
    keypoints: tuple[tuple[float, float], ...]  # right eye, left eye, nose tip, right/left mouth corner
    model: str  # which pass found it: "whole", "x2", "detail"
    at_edge: bool = False  # YuNet's box reached the frame's edge (it clips its boxes to the image)


def _yuface_version() -> str:
    try:
        return metadata.version("yuface")
    except metadata.PackageNotFoundError:
        return "missing"


def require_yuface() -> object:
    """The yuface module (its import starts OpenMP, so the wait policy is set first)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import yuface
    except ImportError as e:
        raise WeightsError(f"yuface (YuNet) cannot be imported: {e}", hint=weights.SETUP_HINT) from e
    return yuface


def omp_threads_setter() -> Callable[[int], None] | None:
    """`omp_set_num_threads` of the OpenMP runtime yuface's wheel ships beside its extension (yuface.libs),
    or None where there is none to find (a build linked against another runtime: its default is kept)."""
    spec = importlib.util.find_spec("yuface")
    if spec is None or spec.origin is None:
        return None
    for lib in sorted(Path(spec.origin).parent.parent.glob("yuface.libs/libgomp*.so*")):
        try:
            setter = ctypes.CDLL(str(lib)).omp_set_num_threads
        except (OSError, AttributeError):
            continue
        setter.argtypes, setter.restype = [ctypes.c_int], None
        return cast(Callable[[int], None], setter)
    return None


def nms(faces: list[Face], iou: float = 0.3) -> list[Face]:
    kept: list[Face] = []
    for f in sorted(faces, key=lambda f: -f.score):
        if all(f.box.iou(k.box) <= iou for k in kept):
            kept.append(f)
    return kept


def _small(face: Face, scale: float) -> bool:
    """Whether a candidate of the whole pass is small enough to open the detail pass (module docstring)."""
    return face.box.height * scale / HEIGHTEN <= DETAIL_GATE_SIDE


def classify(face: Face, width: int, height: int) -> tuple[str, list[str]]:
    """('a9_face_complete' | 'a10_face_partial', reasons) by the rule in the module docstring."""
    reasons = []
    b = face.box
    inside = b.clip(width, height).area
    if face.at_edge or (b.area > 0 and 1 - inside / b.area > 0.15):
        reasons.append("cut by the frame")
    core = face.keypoints[:5]
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
    version = f"faces-3+yunet-{_yuface_version()}+w960+x2+d1600g{DETAIL_GATE_SIDE}+c{MIN_CONFIDENCE}"
    weight_names: tuple[str, ...] = ()  # YuNet's weights are compiled into yuface's extension

    def __init__(self, *, detail: bool | Literal["always"] = True, threads: int | None = None) -> None:
        """`detail`: True runs the 1600 px pass on big photos where the whole pass saw a small candidate (the
        default), "always" on every big photo (what `benchmarks/bench_small_faces.py` compares), False never.
        `threads`: YuNet's OpenMP threads in the calling thread (None: OpenMP's default, every core)."""
        self._yuface = require_yuface()
        self.detail = detail
        self.threads = threads
        self._set_threads = omp_threads_setter() if threads else None
        self._lock = threading.Lock()
        self._run(np.zeros((32, 32, 3), np.uint8), 1.0, 0, 0, "warm-up", (32, 32))

    def _run(
        self,
        rgb: NDArray[Any],
        scale: float,
        ox: float,
        oy: float,
        model: str,
        frame: tuple[int, int],
        threshold: float = MIN_CONFIDENCE,
    ) -> list[Face]:
        """YuNet on `rgb` (a copy of the photo resized by `scale`, or a tile of it at offset ox, oy); boxes in
        the photo's pixels. `frame` is the photo's (width, height); detections below `threshold` are dropped
        by YuNet itself."""
        bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
        with self._lock, warnings.catch_warnings():
            if self._set_threads is not None and self.threads:
                self._set_threads(self.threads)
            # yuface warns about every input over 960 px; the passes above choose their sizes on purpose
            warnings.filterwarnings("ignore", message="Image size", category=UserWarning)
            confs, boxes, marks = self._yuface.detect(bgr, threshold)  # type: ignore[attr-defined]
        frame_w, frame_h = frame[0] * scale, frame[1] * scale
        faces = []
        for conf, (x, y, w, h), lm in zip(confs.astype(float), boxes.astype(float), marks.astype(float), strict=True):
            edge = ox + x <= 1 or oy + y <= 1 or ox + x + w >= frame_w - 1 or oy + y + h >= frame_h - 1
            cx, cy = (ox + x + w / 2) / scale, (oy + y + h / 2) / scale
            hw, hh = w * WIDEN / 2 / scale, h * HEIGHTEN / 2 / scale
            kps = tuple(((ox + float(lm[i])) / scale, (oy + float(lm[i + 1])) / scale) for i in range(0, 10, 2))
            faces.append(Face(Box(cx - hw, cy - hh, cx + hw, cy + hh), float(conf) / 100.0, kps, model, edge))
        return faces

    def faces(self, image: DecodedImage) -> list[Face]:
        return self.passes(image)[0]

    def passes(self, image: DecodedImage) -> tuple[list[Face], tuple[str, ...]]:
        """The merged faces and the names of the passes that ran (the detail pass is not always one)."""
        rgb = image.rgb
        frame = (image.width, image.height)
        longest = max(rgb.shape[:2])
        small, scale = downscaled(rgb, WHOLE_SIDE)
        big_photo = self.detail and longest > DETAIL_ABOVE
        seen = self._run(small, scale, 0, 0, "whole", frame, DETAIL_GATE if big_photo else MIN_CONFIDENCE)
        found = [f for f in seen if f.score >= MIN_CONFIDENCE]
        ran = ["whole"]
        if longest < UPSCALE_BELOW:
            factor = min(2.0, UPSCALE_MAX_SIDE / longest)
            big = cv2.resize(
                rgb, (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor)), interpolation=cv2.INTER_LINEAR
            )
            found += self._run(big, big.shape[1] / rgb.shape[1], 0, 0, "x2", frame)
            ran.append("x2")
        if big_photo and (self.detail == "always" or any(_small(f, scale) for f in seen)):
            src, s2 = downscaled(rgb, PYRAMID_BASE)
            found += self._run(src, s2, 0, 0, "detail", frame)
            ran.append("detail")
        return nms(found), tuple(ran)

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
                    source="face:yunet",
                    regions=[Region(box=f.box.clip(image.width, image.height))],
                    kind="face_partial" if reasons else "face_complete",
                    detail={"pass": f.model, "partial_reasons": reasons},
                )
            )
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _build(context: BuildContext) -> FaceDetector:
    return FaceDetector(threads=context.threads)


SPEC = DetectorSpec(
    name=FaceDetector.name,
    kind="face",
    version=FaceDetector.version,
    build=_build,
    order=10,
    sides=(WHOLE_SIDE,),
    weights=FaceDetector.weight_names,
    packages=("yuface",),
    locates=frozenset({COMPLETE, PARTIAL}),
)
