"""The per-image analysis: every enabled detector plus DRAG and PrivObfNet (when their weights exist).

Models are built once per run; images go through in batches so the classifiers run batched on the device,
while detectors run per image in the registry's order, each handed the results of those before it. A
detector that fails on one image records an error for that image and the run goes on. The detectors'
part of the cache key (`config_key`) comes from their specs and the weights manifest, not from the loaded
models. Nothing here knows about files or reports: that is `audit` (I/O) and `fusion` (records).

Lanes: a pipeline built with `lanes` > 1 runs the detectors of several images at once, one image per lane.
Each lane is a worker thread with its own detector instances, whose native sessions use the lane's share of
the cores (`threads`, privscan.engine.lanes). One image's detectors on one core each, side by side, waste
less than one image's detectors each split over every core (measured on 2 cores: YuNet gains 1.33x from a
second thread for 1.4x the CPU; README "Speed"). Lanes past the first are built by their own thread on their
first image (0.5 s, about 390 MB each). The classifiers still run batched, in the calling thread (`finish`).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from privscan import __version__
from privscan.detectors.base import Detector, DetectorResult, Finding, OcrWord
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.engine.options import AuditOptions
from privscan.errors import PrivscanError
from privscan.io.decode import DecodedImage
from privscan.report.schema import ModelInfo

if TYPE_CHECKING:
    import torch

    from privscan.engine.drag_predictor import DragPredictor
    from privscan.engine.privobfnet_predictor import PrivObfNetPredictor


@dataclass
class Analysis:
    """Everything the models and detectors found in one image."""

    image: DecodedImage
    results: list[DetectorResult] = field(default_factory=list)
    p_private: float | None = None  # DRAG, only when its weights exist
    attribute_probs: NDArray[Any] | None = None  # PrivObfNet (68,), only when its weights exist
    model_privacy_score: float | None = None  # PrivObfNet's privacy head
    privobfnet_output: Any = None  # kept for redaction masks
    errors: list[tuple[str, str]] = field(default_factory=list)  # (kind, one-line message)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    @property
    def words(self) -> list[OcrWord]:
        return [w for r in self.results for w in r.words]

    def mask(self, name: str) -> NDArray[Any] | None:
        """A named pixel mask (e.g. 'person', 'text') from whichever detector produced it."""
        for r in self.results:
            if name in r.masks:
                return r.masks[name]
        return None


def _load_drag(device: torch.device, options: AuditOptions) -> DragPredictor | None:
    """The run's DRAG predictor, or None when there are no DRAG weights (load_drag_predictor's rule).

    Its module is imported only when there is a checkpoint to load: the DRAG model code imports
    torch-geometric, about 2 s of every audit's start, and most runs have no DRAG weights registered.
    """
    from privscan.engine.entries import default_entry

    if options.drag_weights is None and default_entry("drag") is None:
        return None
    from privscan.engine.drag_predictor import load_drag_predictor

    return load_drag_predictor(device, options.drag_weights)


class Pipeline:
    """Loaded detectors and models, ready to analyse batches of decoded images.

    torch is imported only when something in the run runs on the device (`run_key.uses_device`): a
    metadata-, face- or text-only audit never loads it. `device` is then None and the detectors are built
    for the CPU. `lanes`: see the module docstring (1: every image in the calling thread, on every core)."""

    def __init__(self, options: AuditOptions, *, lanes: int = 1) -> None:
        from privscan.detectors import registry
        from privscan.engine import run_key

        self.options = options
        self.device: torch.device | None = None
        self.device_name = run_key.NO_DEVICE
        self.drag: DragPredictor | None = None
        self.privobfnet: PrivObfNetPredictor | None = None
        if run_key.uses_device(options):
            from privscan.device import describe, resolve_device
            from privscan.engine.privobfnet_predictor import load_privobfnet_predictor

            self.device = resolve_device(options.device)
            self.device_name = describe(self.device)
            self.drag = _load_drag(self.device, options) if options.load_drag else None
            self.privobfnet = load_privobfnet_predictor(self.device, options.privobfnet_weights)
        from privscan.engine.lanes import lane_threads

        self.lanes = max(1, lanes)
        self.threads = lane_threads(self.lanes)
        context = BuildContext(device=self.device_type, ocr_engine=options.ocr_engine)
        self.specs: list[DetectorSpec] = registry.resolved_specs(options.detectors, context)
        self.detectors: list[Detector] = self._build_detectors()  # lane 0's
        self._lane_detectors: dict[int, list[Detector]] = {0: self.detectors}
        self._detector_info = [registry.describe(s) for s in self.specs]
        self._pool: ThreadPoolExecutor | None = None
        self._free_lanes: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._local = threading.local()

    def _build_detectors(self) -> list[Detector]:
        from privscan.detectors import registry

        return registry.build_detectors(
            [s.name for s in self.specs],
            ocr_engine=self.options.ocr_engine,
            device=self._build_device,
            threads=self.threads,
        )

    @property
    def device_type(self) -> str:
        """'cpu' or 'cuda' ('cpu' when no model runs on a device)."""
        return self.device.type if self.device is not None else "cpu"

    @property
    def _build_device(self) -> str:
        return str(self.device) if self.device is not None else "cpu"

    # ---- description -------------------------------------------------------------------------------

    def models_info(self) -> list[ModelInfo]:
        infos = [
            _predictor_info(self.drag, "drag", "classifier", "no DRAG weights: verdicts come from detector evidence"),
            _predictor_info(
                self.privobfnet,
                "privobfnet",
                "attributes",
                "no PrivObfNet weights: attributes and privacy score come from detector evidence",
            ),
        ]
        return infos + [ModelInfo(**info) for info in self._detector_info]

    def config_key(self) -> str:
        """Hash of everything that changes a record: version, detector versions, weights, options."""
        payload = {
            "privscan": __version__,
            "detectors": [(s.name, s.version) for s in self.specs],
            "models": [(m.name, m.status, m.weights_sha256) for m in self.models_info()],
            "options": self.options.result_fields(),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]

    # ---- analysis ----------------------------------------------------------------------------------

    def analyze_batch(self, images: list[DecodedImage], only: Collection[str] | None = None) -> list[Analysis]:
        """Detectors per image first (their person/text masks guide PrivObfNet, as in training; in the lanes
        side by side when there are several), then the classifiers batched on the device. `only`: run just
        these of the loaded detectors (a caller that shares one pipeline between runs that need different
        detectors; requirements must be included)."""
        if self.lanes > 1 and len(images) > 1:
            analyses = [f.result() for f in [self.detect_async(image, only) for image in images]]
        else:
            analyses = [self.detect(image, only) for image in images]
        return self.finish(analyses)

    def analyze(self, image: DecodedImage, only: Collection[str] | None = None) -> Analysis:
        return self.analyze_batch([image], only)[0]

    def detect(self, image: DecodedImage, only: Collection[str] | None = None, lane: int = 0) -> Analysis:
        """One image through one lane's detectors (lane 0: the pipeline's own, `self.detectors`)."""
        from privscan.detectors.registry import detect_all

        analysis = Analysis(image=image)
        loaded = self._lane(lane)
        detectors = loaded if only is None else [d for d in loaded if d.name in only]
        crashed: list[str] = []

        def failed(detector: Detector, e: Exception) -> None:
            # a PrivscanError is the input's or environment's; anything else is a detector bug on one odd
            # image, which must not end the run either
            if isinstance(e, PrivscanError):
                message = e.one_line()
            else:
                message = _one_line(f"{type(e).__name__}: {e}")
                crashed.append(detector.name)
            analysis.errors.append((f"detector:{detector.name}", message))

        results = detect_all(detectors, image, on_error=failed, timings=analysis.timings)
        analysis.results.extend(results.values())
        if crashed:
            self._rebuild_detectors(lane)
        return analysis

    def detect_async(self, image: DecodedImage, only: Collection[str] | None = None) -> Future[Analysis]:
        """`detect` in the next free lane's thread. Call `finish` on the analyses before using them."""
        if self._pool is None:
            for lane in range(self.lanes):
                self._free_lanes.put(lane)
            self._pool = ThreadPoolExecutor(self.lanes, thread_name_prefix="lane", initializer=self._claim_lane)
        return self._pool.submit(self._detect_in_own_lane, image, only)

    def _claim_lane(self) -> None:
        self._local.lane = self._free_lanes.get()

    def _detect_in_own_lane(self, image: DecodedImage, only: Collection[str] | None) -> Analysis:
        return self.detect(image, only, lane=self._local.lane)

    def _lane(self, lane: int) -> list[Detector]:
        """The lane's detectors, built on its first image (in its own thread: only that thread uses them)."""
        if lane not in self._lane_detectors:
            self._lane_detectors[lane] = self._build_detectors()
        return self._lane_detectors[lane]

    def finish(self, analyses: list[Analysis]) -> list[Analysis]:
        """The classifiers (DRAG, PrivObfNet) batched over analyses whose detectors have run."""
        if analyses and (self.drag is not None or self.privobfnet is not None):
            self._run_models(analyses)
        return analyses

    def close(self) -> None:
        """Stop the lanes' threads (waiting for their current images); the pipeline stays usable."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            self._free_lanes = queue.SimpleQueue()

    def _rebuild_detectors(self, lane: int = 0) -> None:
        """A native graph that failed once (MediaPipe on a 1 x 65000 image) stays broken and fails every later
        image: after a crash the lane's detectors are built afresh, so one odd image cannot poison the run."""
        self._lane_detectors[lane] = self._build_detectors()
        if lane == 0:
            self.detectors = self._lane_detectors[0]

    def _run_models(self, analyses: list[Analysis]) -> None:
        import torch

        with torch.inference_mode():
            self._run_models_on_device(analyses)

    def _run_models_on_device(self, analyses: list[Analysis]) -> None:
        from privscan.models.preprocess import batch_inputs

        rgbs = [a.image.rgb for a in analyses]
        if self.drag is not None:
            start = time.perf_counter()
            batch = self.drag.inputs(rgbs).to(self.device)
            probs = self.drag.predict(batch)
            for a, p in zip(analyses, probs, strict=True):
                a.p_private = float(p)
            _share_time(analyses, "drag", time.perf_counter() - start)
        if self.privobfnet is not None:
            start = time.perf_counter()
            size = self.privobfnet.input_size
            batch = batch_inputs(rgbs, size).to(self.device)
            for a, out in zip(analyses, self.privobfnet.predict(batch, _guides(analyses, size)), strict=True):
                a.attribute_probs = np.asarray(out.attribute_probs, dtype=np.float64)
                a.model_privacy_score = float(out.privacy_score)
                a.privobfnet_output = out
            _share_time(analyses, "privobfnet", time.perf_counter() - start)


def _guides(analyses: list[Analysis], size: int) -> torch.Tensor:
    """(B, 2, size, size) person and text masks (zeros where a detector found none or did not run)."""
    import torch

    from privscan.models.preprocess import resize_square

    planes = []
    for a in analyses:
        h, w = a.image.height, a.image.width
        person, text = a.mask("person"), a.mask("text")
        stack = np.stack(
            [
                person if person is not None else np.zeros((h, w), np.float32),
                text if text is not None else np.zeros((h, w), np.float32),
            ]
        ).astype(np.float32)
        planes.append(resize_square(torch.from_numpy(stack), size))
    return torch.stack(planes)


def _one_line(message: str) -> str:
    """Native libraries put newlines and whole stack dumps into their messages: keep the first 300 chars
    on one line (a report error is one line)."""
    flat = " ".join(message.split())
    return flat if len(flat) <= 300 else flat[:299] + "…"


def _share_time(analyses: list[Analysis], name: str, seconds: float) -> None:
    for a in analyses:
        a.timings[name] = round(seconds / len(analyses), 4)


def _predictor_info(predictor: Any, name: str, kind: str, missing_note: str) -> ModelInfo:
    if predictor is None:
        return ModelInfo(name=name, kind=kind, status="missing", note=missing_note)
    return ModelInfo(
        name=name,
        kind=kind,
        status="loaded",
        weights=predictor.name,
        weights_sha256=predictor.weights_sha256,
        note=f"input {predictor.input_size}px",
    )
