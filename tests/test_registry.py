"""The detector registry: specs found in the detector modules, run order, requirements, checked attribute ids.

Nothing here loads a model except `test_detect_all_hands_prior_and_skips_dependants`, which builds the real
face and person detectors (small, from their registry packages).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from privscan import vocab
from privscan.detectors import registry
from privscan.detectors.base import DetectorResult
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.engine.options import AuditOptions
from privscan.errors import UsageError
from privscan.io.decode import DecodedImage


def _spec(name: str, order: int, requires: tuple[str, ...] = ()) -> DetectorSpec:
    return DetectorSpec(name=name, kind=name, version=f"{name}-1", build=lambda ctx: None, order=order,  # type: ignore[arg-type,return-value]
                        requires=requires)


def test_every_detector_module_declares_a_spec() -> None:
    specs = registry.specs()
    assert set(specs) == {"text", "faces", "people", "nudity", "plates", "codes", "metadata", "scene", "documents",
                          "receipts", "screens"}
    assert registry.names() == ("text", "faces", "people", "nudity", "plates", "codes", "metadata", "documents",
                                "scene", "receipts", "screens")
    assert registry.default_names() == registry.names()
    assert AuditOptions().detectors == registry.default_names()
    for spec in specs.values():
        assert spec.version and spec.kind
        assert spec.locates <= spec.finds
        assert vocab.check_ids(spec.finds, where=spec.name) == spec.finds  # all known: no warning (an error here)


def test_requirements_are_added_and_run_first() -> None:
    assert registry.resolve(["people"]) == ["faces", "people"]
    assert registry.resolve(["people"], with_requirements=False) == ["people"]
    assert registry.resolve(["metadata", "people", "text"]) == ["text", "faces", "people", "metadata"]
    assert registry.resolve([]) == []
    with pytest.raises(UsageError, match="unknown detector"):
        registry.resolve(["faces", "x-ray"])


def test_run_order_follows_requires_before_order() -> None:
    table = {"a": _spec("a", 0, requires=("b",)), "b": _spec("b", 5), "c": _spec("c", 1)}
    assert registry._run_order(table, ["a", "b", "c"]) == ["c", "b", "a"]
    cycle = {"a": _spec("a", 0, requires=("b",)), "b": _spec("b", 1, requires=("a",))}
    with pytest.raises(ValueError, match="cycle"):
        registry._run_order(cycle, ["a", "b"])


def test_unknown_attribute_id_is_an_error_in_tests_and_a_warning_at_run_time() -> None:
    with pytest.raises(vocab.UnknownAttributeWarning, match="a9_face_compleet"):
        DetectorSpec(name="typo", kind="x", version="1", build=lambda ctx: None, order=0,  # type: ignore[arg-type,return-value]
                     locates=frozenset({"a9_face_compleet"}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert vocab.check_ids(["a9_face_compleet", "a9_face_complete"], where="run") == {
            "a9_face_compleet", "a9_face_complete"}
    assert [type(w.message) for w in caught] == [vocab.UnknownAttributeWarning]


def test_fusion_warns_about_an_unknown_id_instead_of_dropping_it() -> None:
    from privscan.detectors.base import Finding
    from privscan.engine.fusion import fuse_attributes
    from privscan.engine.pipeline import Analysis

    image = DecodedImage(Path("x.png"), np.zeros((4, 4, 3), np.uint8), "0" * 64, 0, "PNG", "RGB")
    analysis = Analysis(image=image, results=[DetectorResult("t", findings=[Finding("a99_nope", 0.9, "test")])])
    with pytest.raises(vocab.UnknownAttributeWarning, match="a99_nope"):
        fuse_attributes(analysis, show_values=False)


def test_locating_and_masks_come_from_the_specs() -> None:
    assert registry.locating(["a9_face_complete"]) == ("faces",)
    assert registry.locating(["a30_credit_card", "a4_gender"]) == ("text", "people")
    assert registry.locating(["a103_license_plate_complete"]) == ("plates",)
    assert registry.locating(["a13_full_nudity", "a12_semi_nudity"]) == ("nudity",)
    assert registry.producing(["person"]) == ("people",)
    assert registry.producing(["text", "person"]) == ("text", "people")


def test_text_spec_depends_on_the_ocr_engine_without_loading_it() -> None:
    text = registry.specs()["text"]
    rapid = text.resolved(BuildContext(ocr_engine="auto"))
    easy = text.resolved(BuildContext(ocr_engine="easyocr", ocr_max_side=640))
    assert rapid.weights == ("rapidocr_det", "rapidocr_rec") and "rapidocr-" in rapid.version
    assert easy.weights == ("easyocr_craft", "easyocr_english_g2") and "+max640+" in easy.version
    assert registry.describe(rapid)["note"].startswith(f"version {rapid.version}")


def _photo(rgb: np.ndarray) -> DecodedImage:
    return DecodedImage(Path("photo.png"), np.ascontiguousarray(rgb, dtype=np.uint8), "0" * 64, 0, "PNG", "RGB")


def test_detect_all_hands_prior_and_skips_dependants() -> None:
    from skimage import data

    built = registry.build_detectors(["people"])
    assert [d.name for d in built] == ["faces", "people"]
    assert all(d.version == s.version for d, s in zip(built, registry.resolved_specs(["people"], BuildContext()),
                                                      strict=True))
    faces, _ = built
    calls = []
    original = faces.faces  # type: ignore[attr-defined]

    def counting(img: DecodedImage) -> list:  # a spy around the real detector, not a stand-in
        calls.append(img)
        return original(img)

    faces.faces = counting  # type: ignore[attr-defined]
    try:
        timings: dict[str, float] = {}
        results = registry.detect_all(built, _photo(data.astronaut()), timings=timings)
    finally:
        del faces.faces  # type: ignore[attr-defined]
    assert len(calls) == 1 and set(results) == set(timings) == {"faces", "people"}
    assert "person" in results["people"].masks

    def broken(image: DecodedImage, prior: object) -> DetectorResult:
        raise RuntimeError("boom")

    # a detector failing on one image cannot be provoked reliably from outside: make the real one raise
    faces.detect = broken  # type: ignore[method-assign]
    errors: list[tuple[str, str]] = []
    try:
        results = registry.detect_all(built, _photo(data.astronaut()),
                                      on_error=lambda d, e: errors.append((d.name, type(e).__name__)))
    finally:
        del faces.detect
    assert results == {} and errors == [("faces", "RuntimeError"), ("people", "SkippedError")]
