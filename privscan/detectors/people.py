"""Person masks: MediaPipe selfie segmentation and pose segmentation, gated by a face or a pose detection.

Selfie segmentation marks "foreground person" on almost any photo (23% of scikit-image's coffee cup), so
its mask is only trusted where a person was actually detected: a face (the face detector's
result, which the engine passes in `prior["faces"]`: the SPEC requires "faces") or a BlazePose body. Of
the thresholded selfie mask only the connected blobs that touch a detected face box or the pose's
landmark box are kept (soft values inside them), and the pose model's own segmentation is added.
Without a face or a body there is no mask.

masks["person"] is H x W float32 in 0..1 at the image's resolution, present only when a person was found
(an all-zero full-size mask per photo would cost memory for nothing). No findings: VISPR has no "person"
attribute; faces are the face detector's findings. What it locates for redaction is the person itself:
the person-level attributes (age, gender, clothing, ...; see `whole_person_ids`) that only hiding the
whole person hides. Models see the photo shrunk to 512 px (their inputs are 256 px). Not thread-safe by
itself: MediaPipe graphs are serialised with a lock.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from privscan import vocab, weights
from privscan.detectors import faces as face_detector
from privscan.detectors import nudity as nudity_detector
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Prior
from privscan.detectors.scale import downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.errors import PrivscanError, WeightsError
from privscan.io.decode import DecodedImage
from privscan.masks.mask_types import MaskType, mask_type

SEG_SIDE = 512
POSE_VISIBILITY = 0.5


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


class PersonDetector:
    """Person masks gated by the face detector's result and BlazePose. Build once, call per image."""

    name = "people"
    version = "people-1+selfie-general+pose-full+gated"
    weight_names = ("mediapipe_selfie_segmentation", "mediapipe_pose_detection", "mediapipe_pose_landmark_full")

    def __init__(self, *, use_pose: bool = True) -> None:
        require_mediapipe()
        for name in self.weight_names:
            weights.verified_path(name)
        from mediapipe.python.solutions import pose, selfie_segmentation

        with quiet_native_stderr():
            self._selfie = selfie_segmentation.SelfieSegmentation(model_selection=0)
            self._pose = (
                pose.Pose(static_image_mode=True, model_complexity=1, enable_segmentation=True,
                          min_detection_confidence=0.5)
                if use_pose
                else None
            )
            blank = np.zeros((64, 64, 3), np.uint8)
            self._selfie.process(blank)  # graphs start lazily: warm them up while stderr is quiet
            if self._pose is not None:
                self._pose.process(blank)
        self._lock = threading.Lock()

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        """Person mask of one image, gated by the face boxes in `prior["faces"]` and a pose detection."""
        start = time.perf_counter()
        if face_detector.SPEC.name not in prior:
            raise PrivscanError("the person detector needs the face detector's result for this image")
        face_boxes = [r.box for f in prior[face_detector.SPEC.name].findings for r in f.regions]
        small, scale = downscaled(image.rgb, SEG_SIDE)
        sh, sw = small.shape[:2]
        anchors = [b.scaled(scale).clip(sw, sh) for b in face_boxes]
        pose_mask = None
        contiguous = np.ascontiguousarray(small)
        with self._lock:
            if self._pose is not None:
                out = self._pose.process(contiguous)
                if out.pose_landmarks is not None:
                    pts = [(lm.x * sw, lm.y * sh) for lm in out.pose_landmarks.landmark
                           if lm.visibility >= POSE_VISIBILITY]
                    if len(pts) >= 4:
                        xs, ys = zip(*pts, strict=True)
                        anchors.append(Box(min(xs), min(ys), max(xs), max(ys)).clip(sw, sh))
                        if out.segmentation_mask is not None:
                            pose_mask = np.asarray(out.segmentation_mask, dtype=np.float32)
            if not anchors:
                return DetectorResult(detector=self.name, seconds=time.perf_counter() - start)
            selfie = np.asarray(self._selfie.process(contiguous).segmentation_mask, dtype=np.float32)
        mask = gate_mask(selfie, anchors)
        if pose_mask is not None:
            mask = np.maximum(mask, pose_mask)
        masks = {}
        if float(mask.max()) > 0.5:
            full = mask if scale == 1.0 else cv2.resize(mask, (image.width, image.height),
                                                        interpolation=cv2.INTER_LINEAR)
            masks["person"] = np.clip(full, 0.0, 1.0).astype(np.float32, copy=False)
        return DetectorResult(detector=self.name, masks=masks, seconds=time.perf_counter() - start)


def gate_mask(soft: NDArray[Any], anchors: list[Box], threshold: float = 0.5) -> NDArray[Any]:
    """Keep the blobs of `soft > threshold` that touch an anchor box; soft values inside them, 0 elsewhere."""
    binary = (soft > threshold).astype(np.uint8)
    count, labels = cv2.connectedComponents(binary, connectivity=8)
    keep = np.zeros(count, dtype=bool)
    for b in anchors:
        x0, y0 = int(b.x0), int(b.y0)
        x1, y1 = max(int(np.ceil(b.x1)), x0 + 1), max(int(np.ceil(b.y1)), y0 + 1)
        keep[np.unique(labels[y0:y1, x0:x1])] = True
    keep[0] = False  # background
    return np.where(keep[labels], soft, 0.0).astype(np.float32)


def whole_person_ids() -> frozenset[str]:
    """VISPR ids read off a whole person (Human mask type) that neither a face nor nudity stands for.

    No detector names these (age, gender, race, clothing, tattoo, ...); what shows them is the person, so
    redaction hides the person segmentation for them.
    """
    others = face_detector.SPEC.locates | nudity_detector.SPEC.locates
    return frozenset(a.id for a in vocab.attributes() if mask_type(a.id) == MaskType.HUMAN and a.id not in others)


def _build(context: BuildContext) -> PersonDetector:
    return PersonDetector()


SPEC = DetectorSpec(
    name=PersonDetector.name,
    kind="person",
    version=PersonDetector.version,
    build=_build,
    order=20,
    sides=(SEG_SIDE,),
    requires=(face_detector.SPEC.name,),
    weights=PersonDetector.weight_names,
    packages=("mediapipe",),
    locates=whole_person_ids(),
    masks=frozenset({"person"}),
)
