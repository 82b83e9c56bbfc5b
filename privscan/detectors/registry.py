"""Which detectors exist (each module's SPEC), in what order they run, how they are built and described.

The registry walks the modules of `privscan.detectors` and collects their `SPEC`s; there is no list of
detector names anywhere else. Detectors run in dependency order (a detector after those it `requires`,
otherwise by `order`), and asking for a detector adds the ones it requires ("people" brings "faces").
`build_detectors(["faces", "nudity"], ocr_engine="auto", device=...)` loads each model once
(sha256-checked through the weights manifest); `detect_all` runs built detectors on one image, handing
each the results of those before it. A detector whose package or weights are missing raises WeightsError
naming the command to run. Describing and checking detectors (`describe`, `detector_status`) reads the
specs only: no model is loaded.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from privscan import weights
from privscan.detectors.base import Detector, DetectorResult
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.errors import PrivscanError, UsageError, WeightsError
from privscan.io.decode import DecodedImage


@cache
def specs() -> dict[str, DetectorSpec]:
    """Every detector's spec by name, in run order (see `resolve`)."""
    import privscan.detectors as package

    found: dict[str, DetectorSpec] = {}
    for module in pkgutil.iter_modules(package.__path__):
        spec = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "SPEC", None)
        if not isinstance(spec, DetectorSpec):
            continue
        if spec.name in found:
            raise ValueError(f"two detector modules declare the name {spec.name!r}")
        found[spec.name] = spec
    for spec in found.values():
        unknown = [r for r in spec.requires if r not in found]
        if unknown:
            raise ValueError(f"detector {spec.name!r} requires unknown detector(s) {', '.join(unknown)}")
    return {name: found[name] for name in _run_order(found, list(found))}


def _run_order(table: dict[str, DetectorSpec], names: list[str]) -> list[str]:
    """`names` in dependency order, ties (and independent detectors) by (order, name)."""
    left = set(names)
    done: list[str] = []
    while left:
        ready = [n for n in left if all(r in done or r not in left for r in table[n].requires)]
        if not ready:
            raise ValueError(f"detectors {', '.join(sorted(left))} require each other in a cycle")
        first = min(ready, key=lambda n: (table[n].order, n))
        done.append(first)
        left.remove(first)
    return done


def names() -> tuple[str, ...]:
    """Every detector name, in run order."""
    return tuple(specs())


def default_names() -> tuple[str, ...]:
    """The detectors of a default audit, in run order."""
    return tuple(n for n, s in specs().items() if s.default)


def resolve(wanted: Iterable[str] | None, *, with_requirements: bool = True) -> list[str]:
    """The named detectors (the default set when None) plus those they require, in run order."""
    table = specs()
    if wanted is None:
        chosen = list(default_names())
    else:
        chosen = list(dict.fromkeys(n.strip().lower() for n in wanted if n and n.strip()))
        unknown = [n for n in chosen if n not in table]
        if unknown:
            raise UsageError(f"unknown detector(s): {', '.join(unknown)}", hint=f"choose from {', '.join(table)}")
    if with_requirements:
        stack = list(chosen)
        while stack:
            for r in table[stack.pop()].requires:
                if r not in chosen:
                    chosen.append(r)
                    stack.append(r)
    return _run_order(table, chosen)


def resolved_specs(wanted: Iterable[str] | None, context: BuildContext, *,
                   with_requirements: bool = True) -> list[DetectorSpec]:
    """The specs `resolve` picks, as they are for `context` (no model is loaded)."""
    return [specs()[n].resolved(context) for n in resolve(wanted, with_requirements=with_requirements)]


def locating(attribute_ids: Iterable[str]) -> tuple[str, ...]:
    """Detectors that declare they locate at least one of these ids, in run order (requirements not added)."""
    ids = set(attribute_ids)
    return tuple(n for n, s in specs().items() if s.locates & ids)


def producing(mask_names: Iterable[str]) -> tuple[str, ...]:
    """Detectors whose results carry one of these named pixel masks ("person", "text"), in run order."""
    wanted = set(mask_names)
    return tuple(n for n, s in specs().items() if s.masks & wanted)


def build_detectors(
    names: Iterable[str] | None = None,
    *,
    ocr_engine: str | None = "auto",
    device: object = "cpu",
    ocr_max_side: int | None = None,
    with_requirements: bool = True,
    threads: int | None = None,
) -> list[Detector]:
    """Build the named detectors (the default set when None) and those they require, in run order.

    WeightsError if one cannot load. `with_requirements=False` builds only the named ones (the caller then
    supplies the required results in `prior` itself). `threads`: see BuildContext."""
    context = BuildContext(device=str(device), ocr_engine=ocr_engine, ocr_max_side=ocr_max_side, threads=threads)
    built: list[Detector] = []
    for spec in resolved_specs(names, context, with_requirements=with_requirements):
        try:
            detector = spec.build(context)
        except PrivscanError:
            raise
        except ImportError as e:  # a package that is there but broken, or missing below our checks
            raise WeightsError(f"detector {spec.name!r} cannot load: {e}", hint=weights.SETUP_HINT) from e
        if detector.version != spec.version:  # a programming error: the cache key would lie
            raise RuntimeError(f"detector {spec.name!r} built version {detector.version!r}, spec says {spec.version!r}")
        built.append(detector)
    return built


class SkippedError(PrivscanError):
    """A detector did not run on an image because a detector it requires failed there."""

    kind = "skipped"


def detect_all(
    detectors: Sequence[Detector],
    image: DecodedImage,
    *,
    on_error: Callable[[Detector, Exception], None] | None = None,
    timings: dict[str, float] | None = None,
    prior: Mapping[str, DetectorResult] | None = None,
) -> dict[str, DetectorResult]:
    """Run `detectors` (in the given order, as `build_detectors` returns them) on one image.

    Each gets the results of the detectors before it as `prior` (plus `prior` given here: results the
    caller already has, e.g. rebuilt from a report; those are not in the returned dict). With `on_error`,
    a detector that raises is reported there and left out of the results (and so is a detector whose
    requirement failed: its error is a SkippedError); without it, the exception propagates. `timings`
    gets seconds per detector.
    """
    import time

    table = specs()
    given = dict(prior or {})
    results: dict[str, DetectorResult] = {}
    for detector in detectors:
        start = time.perf_counter()
        try:
            spec = table.get(detector.name)
            missing = [r for r in (spec.requires if spec else ()) if r not in results and r not in given]
            if missing:
                raise SkippedError(f"not run: it needs {', '.join(missing)}, which did not run on this image")
            results[detector.name] = detector.detect(image, {**given, **results})
        except Exception as e:
            if on_error is None:
                raise
            on_error(detector, e)
        finally:
            if timings is not None:
                timings[detector.name] = round(time.perf_counter() - start, 4)
    return results


# ---- description (no model loaded) ------------------------------------------------------------------


def _weight_files(spec: DetectorSpec) -> list[tuple[str, str, str]]:
    """(manifest name, file name, sha256 from the manifest) of the weights a detector loads."""
    out = []
    for wname in spec.weights:
        item = weights.entry(wname)
        out.append((wname, item.file.rsplit("/", 1)[-1], item.sha256 or ""))
    return out


def describe(spec: DetectorSpec, status: str = "loaded", note: str | None = None) -> dict[str, Any]:
    """A ModelInfo-shaped dict (name, kind, status, weights, weights_sha256, note) for the run header.

    With one weights file `weights_sha256` is that file's sha256; with several it is the sha256 of their
    "name=sha256" lines (sorted), and `note` lists each file's hash prefix."""
    files = _weight_files(spec)
    if len(files) == 1:
        combined = files[0][2]
    elif files:
        combined = hashlib.sha256("\n".join(sorted(f"{f}={s}" for _, f, s in files)).encode()).hexdigest()
    else:
        combined = None
    parts = [f"version {spec.version}"]
    if len(files) > 1:
        parts.append("files " + ", ".join(f"{f} {s[:12]}" for _, f, s in files))
    if note:
        parts.append(note)
    return {
        "name": spec.name,
        "kind": f"detector:{spec.kind}",
        "status": status,
        "weights": ", ".join(f for _, f, _ in files) or None,
        "weights_sha256": combined,
        "note": "; ".join(parts),
    }


def describe_detectors(detectors: Iterable[Detector], context: BuildContext | None = None) -> list[dict[str, Any]]:
    """Run-header entries of built detectors (`context`: the one they were built with)."""
    context = context or BuildContext()
    return [describe(specs()[d.name].resolved(context)) for d in detectors]


def detector_status(names: Iterable[str] | None = None, *, ocr_engine: str | None = "auto") -> list[dict[str, Any]]:
    """Without loading any model: for each detector, 'loaded' if its packages and weights are in place
    (it would load), else 'missing' with the reason. For `privscan weights` style listings."""
    rows = []
    context = BuildContext(ocr_engine=ocr_engine)
    for spec in resolved_specs(list(specs()) if names is None else names, context, with_requirements=False):
        missing = [m for m in spec.packages if importlib.util.find_spec(m) is None]
        problem = f"missing package(s) {', '.join(missing)}" if missing else None
        shas = []
        for w in spec.weights:
            try:
                shas.append(weights.sha256_file(weights.verified_path(w)))
            except WeightsError as e:
                problem = problem or e.one_line()
        rows.append({
            "name": spec.name,
            "kind": f"detector:{spec.kind}",
            "status": "missing" if problem else "loaded",
            "weights": ", ".join(weights.entry(w).file.rsplit("/", 1)[-1] for w in spec.weights) or None,
            "weights_sha256": shas[0] if len(shas) == 1 else None,
            "note": (problem + f" ({weights.SETUP_HINT})") if problem else None,
        })
    return rows
