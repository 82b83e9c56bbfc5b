"""Faces, person masks, nudity and the registry, on scikit-image's real photos with the packaged models."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from privscan.detectors import registry
from privscan.detectors.base import Box
from privscan.detectors.faces import Face, FaceDetector, classify
from privscan.detectors.nudity import NudityDetector, nudity_attribute
from privscan.detectors.people import PersonDetector, gate_mask
from privscan.errors import UsageError, WeightsError
from privscan.io.decode import DecodedImage
from privscan.report.schema import ModelInfo


def decoded(rgb: np.ndarray, name: str = "photo.png") -> DecodedImage:
    return DecodedImage(Path(name), np.ascontiguousarray(rgb, dtype=np.uint8), "0" * 64, 0, "PNG", "RGB")


@pytest.fixture(scope="module")
def faces() -> FaceDetector:
    return FaceDetector()


@pytest.fixture(scope="module")
def people() -> PersonDetector:
    return PersonDetector()


@pytest.fixture(scope="module")
def nudity() -> NudityDetector:
    return NudityDetector()


# ---- faces -----------------------------------------------------------------------------------------------


def test_astronaut_has_one_complete_face(faces: FaceDetector) -> None:
    result = faces.detect(decoded(data.astronaut()))
    assert [f.attribute for f in result.findings] == ["a9_face_complete"]
    face = result.findings[0]
    box = face.regions[0].box
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    assert 170 < cx < 290 and 80 < cy < 190  # Eileen Collins' face, upper middle-left of the 512 px photo
    assert 60 < box.width < 160 and face.score > 0.8 and face.source == "face:yunet"


@pytest.mark.parametrize("name", ["coffee", "chelsea", "rocket"])
def test_photos_without_people_have_no_face(faces: FaceDetector, name: str) -> None:
    assert faces.detect(decoded(getattr(data, name)())).findings == []


def test_face_cut_by_the_frame_is_partial(faces: FaceDetector) -> None:
    result = faces.detect(decoded(data.astronaut()[:, :240]))
    assert [f.attribute for f in result.findings] == ["a10_face_partial"]
    assert "cut by the frame" in result.findings[0].detail["partial_reasons"]


def test_small_face_in_a_big_photo_is_found(faces: FaceDetector) -> None:
    """A face of about 50 px in a 4000 px photo: 12 px at the whole-frame pass's 960 px, 20 px at 1600 px."""
    import cv2

    scene = cv2.resize(data.coffee(), (4000, 3000))
    scene[1200:1320, 2500:2620] = cv2.resize(
        data.astronaut()[40:260, 120:340], (120, 120), interpolation=cv2.INTER_AREA
    )
    result = faces.detect(decoded(scene))
    assert len(result.findings) == 1
    assert result.findings[0].detail["pass"] == "detail"  # found by the 1600 px pass, which the gate opened
    box = result.findings[0].regions[0].box
    assert Box(2500, 1200, 2620, 1320).intersection(box).area > 0.8 * box.area  # on the pasted face


def test_detail_pass_is_gated_by_the_whole_pass(faces: FaceDetector) -> None:
    """A big photo in which the 960 px pass sees nothing small and face-like gets no 1600 px pass, unless
    asked: neither gravel nor a portrait whose one face is big at 960 px."""
    import cv2

    gravel = cv2.resize(cv2.cvtColor(data.gravel(), cv2.COLOR_GRAY2RGB), (4000, 3000))
    assert faces.passes(decoded(gravel))[1] == ("whole",)
    portrait = decoded(cv2.resize(data.astronaut(), (3000, 3000)))
    found, ran = faces.passes(portrait)
    assert ran == ("whole",) and len(found) == 1 and found[0].box.height > 48 * 3000 / 960
    assert FaceDetector(detail="always").passes(decoded(gravel))[1] == ("whole", "detail")
    assert FaceDetector(detail=False).passes(decoded(cv2.resize(data.coffee(), (4000, 3000))))[1] == ("whole",)


def test_partial_rule_on_keypoints() -> None:
    frontal = Face(
        Box(100, 100, 200, 200), 0.9, ((130, 140), (170, 140), (150, 165), (150, 185), (105, 150), (195, 150)), "short"
    )
    assert classify(frontal, 400, 400)[0] == "a9_face_complete"
    profile = Face(frontal.box, 0.9, ((130, 140), (170, 140), (175, 165), (165, 185), (105, 150), (195, 150)), "short")
    assert classify(profile, 400, 400)[0] == "a10_face_partial"
    assert classify(frontal, 180, 400)[0] == "a10_face_partial"  # frame ends inside the face


# ---- people ----------------------------------------------------------------------------------------------


def test_person_mask_on_astronaut_reuses_the_face_pass(faces: FaceDetector, people: PersonDetector) -> None:
    image = decoded(data.astronaut())
    calls = []
    original = faces.faces

    def counting(img: DecodedImage) -> list[Face]:  # a spy around the real detector, not a stand-in
        calls.append(img)
        return original(img)

    faces.faces = counting  # type: ignore[method-assign]
    try:
        prior = {"faces": faces.detect(image)}
        result = people.detect(image, prior)
    finally:
        del faces.faces
    assert len(calls) == 1
    mask = result.masks["person"]
    assert mask.shape == (512, 512) and mask.dtype == np.float32
    assert 0.2 < float((mask > 0.5).mean()) < 0.8
    assert float(mask[130, 225]) > 0.5  # the face is part of the person


def test_selfie_segmentation_on_coffee_is_gated_away(faces: FaceDetector, people: PersonDetector) -> None:
    image = decoded(data.coffee())
    raw = people._selfie.process(np.ascontiguousarray(image.rgb)).segmentation_mask
    assert float((raw > 0.5).mean()) > 0.1  # the ungated model does fire on the cup
    assert people.detect(image, {"faces": faces.detect(image)}).masks == {}


def test_gate_keeps_only_blobs_touching_an_anchor() -> None:
    soft = np.zeros((50, 50), np.float32)
    soft[5:15, 5:15] = 0.9
    soft[30:45, 30:45] = 0.8
    gated = gate_mask(soft, [Box(8, 8, 12, 12)])
    assert gated[10, 10] == pytest.approx(0.9) and gated[40, 40] == 0.0


# ---- nudity ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["astronaut", "coffee"])
def test_everyday_photos_are_not_nude(nudity: NudityDetector, name: str) -> None:
    image = decoded(getattr(data, name)())
    assert nudity.score(image) < 0.2
    assert nudity.detect(image).findings == []


def test_semi_nudity_band_needs_a_person() -> None:
    from privscan.detectors.base import NO_PRIOR, DetectorResult
    from privscan.detectors.nudity import person_seen

    assert registry.resolve(["nudity"]) == ["faces", "people", "nudity"]
    assert not person_seen({"people": DetectorResult(detector="people")})  # people ran and found nobody
    assert person_seen({"people": DetectorResult(detector="people", masks={"person": np.ones((2, 2), np.float32)})})
    assert person_seen(NO_PRIOR)  # run alone: nothing says there is nobody


def test_nudity_bands() -> None:
    assert nudity_attribute(0.1) is None
    assert nudity_attribute(0.5) == "a12_semi_nudity"
    assert nudity_attribute(0.9) == "a13_full_nudity"


# ---- registry --------------------------------------------------------------------------------------------


def test_registry_builds_and_describes(faces: FaceDetector) -> None:
    built = registry.build_detectors(["people", "faces", "nudity", "metadata"])
    assert [d.name for d in built] == ["faces", "people", "nudity", "metadata"]
    assert registry.specs()["people"].requires == ("faces",)  # one face pass per photo: people reads it in prior
    infos = registry.describe_detectors(built)
    for info in infos:
        ModelInfo(**info)
    by_name = {i["name"]: i for i in infos}
    assert by_name["nudity"]["weights_sha256"].startswith("864bb37b")
    assert by_name["metadata"]["weights"] is None
    assert all(d.version for d in built)
    status = registry.detector_status()
    assert {s["name"]: s["status"] for s in status} == dict.fromkeys(registry.names(), "loaded")


def test_registry_unknown_name() -> None:
    with pytest.raises(UsageError, match="unknown detector"):
        registry.build_detectors(["faces", "x-ray"])


def test_missing_package_is_a_weights_error(monkeypatch) -> None:
    # mediapipe IS installed here; hide it from the import system to see what a user without it gets
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "mediapipe" else real(n, *a))
    with pytest.raises(WeightsError, match="mediapipe") as err:
        registry.build_detectors(["people"], with_requirements=False)  # person masks still need mediapipe
    assert "make setup" in err.value.one_line()
