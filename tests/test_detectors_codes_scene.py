"""Barcodes/QR codes (zxing-cpp) and scene evidence (MobileNetV2's ImageNet classes) on real photos.

Codes are drawn by zxing-cpp's own writer into scikit-image's real photos (what the detector reads is a
real encoded symbol in a real photo); the scene classifier runs the shipped ImageNet weights.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from vision_helpers import BOARDING_PASS, CONTACT, decoded, symbol

from privscan.detectors import registry
from privscan.detectors.codes import ATTRIBUTE, CodeDetector, payload_kind
from privscan.detectors.scene import TABLE, SceneDetector, imagenet_categories, row_indices, scene_findings


def paste(photo: np.ndarray, gray: np.ndarray, x: int, y: int) -> tuple[int, int, int, int]:
    h, w = gray.shape
    photo[y : y + h, x : x + w] = gray[..., None]
    return x, y, x + w, y + h


@pytest.fixture(scope="module")
def codes() -> CodeDetector:
    return CodeDetector()


@pytest.fixture(scope="module")
def scene() -> SceneDetector:
    return SceneDetector()


# ---- codes ----------------------------------------------------------------------------------------------


def test_boarding_pass_and_contact_codes_in_a_photo(codes: CodeDetector) -> None:
    photo = data.astronaut().copy()
    aztec = paste(photo, symbol(BOARDING_PASS, "Aztec", 5), 300, 320)
    qr = paste(photo, symbol(CONTACT, "QRCode", 3), 10, 10)
    result = codes.detect(decoded(photo))
    by_kind = {f.kind: f for f in result.findings}
    assert set(by_kind) == {"code_boarding_pass", "code_contact"}
    for finding, (x0, y0, x1, y1) in ((by_kind["code_boarding_pass"], aztec), (by_kind["code_contact"], qr)):
        assert finding.attribute == ATTRIBUTE
        box = finding.regions[0].box
        # the symbol (its quiet zone included) lies inside the region, and the region is not much bigger
        assert box.x0 <= x0 + 12 and box.y0 <= y0 + 12 and box.x1 >= x1 - 12 and box.y1 >= y1 - 12
        assert box.area < 1.6 * (x1 - x0) * (y1 - y0)
    assert by_kind["code_boarding_pass"].value == BOARDING_PASS  # kept for redaction; reports mask it
    assert by_kind["code_boarding_pass"].source == "code:zxing:Aztec"


def test_value_is_masked_in_the_report(codes: CodeDetector) -> None:
    from privscan.engine.fusion import _evidence

    photo = data.coffee().copy()
    paste(photo, symbol(BOARDING_PASS, "PDF417", 2), 20, 20)
    [finding] = codes.detect(decoded(photo)).findings
    evidence = _evidence(finding, show_values=False)
    assert evidence.value is None and evidence.value_masked and "DESMARAIS" not in evidence.value_masked


def test_retail_barcodes_and_plain_photos_give_nothing(codes: CodeDetector) -> None:
    photo = data.chelsea().copy()
    paste(photo, symbol("4006381333931", "EAN13", 3), 20, 20)
    import zxingcpp

    assert zxingcpp.read_barcodes(photo)  # zxing can read the product code ...
    assert codes.read(photo) == []  # ... but product codes are not personal: not searched for
    for name in ("coffee", "rocket", "astronaut"):
        assert codes.detect(decoded(getattr(data, name)())).findings == []


def test_small_code_in_a_big_photo_is_found(codes: CodeDetector) -> None:
    photo = cv2.resize(data.coffee(), (4000, 3000))
    x0, y0, x1, y1 = paste(photo, symbol(CONTACT, "QRCode", 8), 2500, 1800)
    [finding] = codes.detect(decoded(photo)).findings
    assert finding.regions[0].box.iou(type(finding.regions[0].box)(x0, y0, x1, y1)) > 0.6


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (BOARDING_PASS, "boarding_pass"),
        ("@\n\x1e\rANSI 636014040002DL00410278ZC03190008DLDAQ", "driving_licence"),
        (CONTACT, "contact"),
        ("MATMSG:TO:jane@example.org;SUB:hi;;", "email"),
        ("tel:+441234567890", "phone"),
        ("geo:48.8583,2.2945", "geo"),
        ("WIFI:S:home;T:WPA;P:secret;;", "wifi"),
        ("https://example.org/x", "url"),
        ("hello", "text"),
    ],
)
def test_payload_kinds(text: str, kind: str) -> None:
    assert payload_kind(text) == kind


# ---- scene ----------------------------------------------------------------------------------------------


def test_table_names_real_imagenet_classes_and_vispr_ids() -> None:
    rows = row_indices(imagenet_categories())
    assert len(rows) == len(TABLE) and all(len(r) == len(row.classes) for r, row in zip(rows, TABLE, strict=True))
    assert registry.specs()["scene"].finds == {*(row.attribute for row in TABLE), "a10_face_partial"}
    from privscan.detectors.scene import COVER_CLASSES

    assert set(COVER_CLASSES) <= set(imagenet_categories())
    with pytest.raises(KeyError, match="not ImageNet classes"):
        index = {c: i for i, c in enumerate(imagenet_categories()) if c != "altar"}
        row_indices([c for c in index])


def test_rule_fires_on_summed_probability_and_names_the_classes() -> None:
    categories = imagenet_categories()
    rows = row_indices(categories)
    probs = np.zeros(len(categories))
    probs[categories.index("church")] = 0.2
    probs[categories.index("altar")] = 0.2
    probs[categories.index("daisy")] = 0.6
    [finding] = scene_findings(probs, categories, rows)
    assert finding.attribute == "a55_religion" and finding.score == pytest.approx(0.4)
    assert set(finding.detail["classes"]) == {"church", "altar"} and finding.regions == []


@pytest.mark.parametrize("name", ["coffee", "chelsea", "astronaut", "camera", "hubble_deep_field"])
def test_photos_without_scene_evidence_stay_clean(scene: SceneDetector, name: str) -> None:
    arr = getattr(data, name)()
    rgb = arr if arr.ndim == 3 else np.stack([arr] * 3, axis=-1)
    assert scene.detect(decoded(rgb[..., :3])).findings == []


def test_classifier_sees_the_photo(scene: SceneDetector) -> None:
    probs = scene.probabilities(data.chelsea())
    assert probs.shape == (1000,) and probs.sum() == pytest.approx(1.0, abs=1e-3)
    assert scene.categories[int(np.argmax(probs))] in {"tabby", "tiger cat", "Egyptian cat"}


def test_a_face_crop_scored_as_a_mask_becomes_a10_that_replaces_a9() -> None:
    """The covered-face rule on probability rows (the classes are real ImageNet names), and fusion's
    replacement of the face detector's a9 for the same box only."""
    from privscan.detectors.base import Box, Finding, Region
    from privscan.detectors.scene import COMPLETE, COVER_THRESHOLD, PARTIAL, cover_findings
    from privscan.engine.fusion import without_replaced

    categories = imagenet_categories()
    masked, bare = np.zeros(1000), np.zeros(1000)
    masked[categories.index("gasmask")] = COVER_THRESHOLD - 0.05
    masked[categories.index("ski mask")] = 0.1
    masked[categories.index("neck brace")] = 0.5  # fires on bare faces too: not a covering class
    bare[categories.index("neck brace")] = 0.9
    boxes = [Box(10, 10, 60, 70), Box(100, 10, 150, 70)]
    [covered] = cover_findings(np.stack([masked, bare]), boxes, categories)
    assert covered.attribute == PARTIAL and covered.regions[0].box == boxes[0]
    assert covered.score == pytest.approx(COVER_THRESHOLD + 0.05, abs=1e-3)
    assert set(covered.detail["classes"]) == {"gasmask", "ski mask"} and covered.detail["replaces"] == COMPLETE
    faces = [Finding(COMPLETE, 0.9, "face:yunet", regions=[Region(box=b)]) for b in boxes]
    kept = without_replaced([*faces, covered])
    assert kept == [faces[1], covered]  # the masked face is partial only; the other face stays complete


def test_scene_classifies_the_found_faces_in_the_same_batch(scene: SceneDetector) -> None:
    """A real uncovered face: its crop is classified with the photo and is not called covered."""
    from privscan.detectors.faces import FaceDetector
    from privscan.detectors.scene import face_boxes, face_crop

    image = decoded(data.astronaut())
    prior = {"faces": FaceDetector().detect(image)}
    boxes = face_boxes(prior)
    assert len(boxes) == 1
    probs = scene.probabilities(image.rgb, [face_crop(image.rgb, b) for b in boxes])
    assert probs.shape == (2, 1000) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-3)
    assert np.allclose(probs[0], scene.probabilities(image.rgb), atol=1e-4)  # the photo's row is unchanged
    assert scene.detect(image, prior).findings == []
