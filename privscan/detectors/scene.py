"""Scene evidence from the ImageNet classifier privscan already ships (torchvision's MobileNetV2, 1,000 classes).

Without trained DRAG/PrivObfNet weights most of VISPR's scene-level attributes (religion, health, sports,
education, vehicles, ...) have no source at all. Many of them show as objects ImageNet names: an altar, a
syringe, a mortarboard, a police van. `TABLE` maps each attribute to the ImageNet classes that show it, each
row with the reason. Per row the evidence is the summed softmax probability of its classes (any of them
shows the attribute); a row fires when that sum reaches its threshold, and the finding names the classes
that carried it. Image-level only: the classifier locates nothing, so the table's findings have no regions
(the covered-face findings below carry the face detector's boxes, which `--hide face` already hides).

Thresholds (`THRESHOLD`, and per-row overrides) were chosen on real photos with nothing private in them
(real-dev's 12 negatives: landscapes, plants, animals, objects): the highest row sum there was 0.10 (the
religion row on a lighthouse photo), every other row stayed below 0.05; rows fire from 0.35. On real-dev's
car photos the vehicle row reaches 0.44-0.99 (all 23).

The classifier sees the photo resized (not cropped) to 224 x 224, like the rest of privscan's models.

**Covered faces.** The same forward pass also classifies each face the face detector found (its SPEC
requires "faces"; at most `COVER_MAX_FACES`, the largest, of at least `COVER_MIN_SIDE` px): a square crop
1.3 times the face box. A face whose crop puts `COVER_THRESHOLD` (0.25) or more of the probability on
`COVER_CLASSES` (gas mask, oxygen mask, ski mask: what ImageNet calls a face behind a medical mask or a
covering) is reported as **a10_face_partial** with the face's region, and that finding replaces the face
detector's a9_face_complete for the same box (`detail["replaces"]`, applied by the engine's fusion).
Measured on real-dev's 39 annotated faces: the 4 faces behind medical masks score 0.32, 0.52, 0.92 and
0.98; the 35 uncovered faces at most 0.13 (a face with sunglasses), the next 0.03. Four masked faces are
a small sample: the threshold sits between the two groups, and the finding names the classes that carried
it. The face detector alone cannot tell: YuNet finds masked faces with high confidence and its five
landmarks give nothing to separate them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from privscan.detectors.base import NO_PRIOR, Box, DetectorResult, Finding, Prior, Region
from privscan.detectors.scale import downscaled
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.io.decode import DecodedImage

INPUT_SIDE = 224
COVER_CLASSES = ("gasmask", "oxygen mask", "ski mask")
COVER_THRESHOLD = 0.25
COVER_MIN_SIDE = 24  # px of the face box's height in the photo: smaller crops say little
COVER_MAX_FACES = 16
COVER_CROP = 1.3  # the crop's side, in face-box heights (the mask and the chin stay inside)
FACES = "faces"  # the detector whose boxes are classified (by name: faces does not import torch)
PARTIAL, COMPLETE = "a10_face_partial", "a9_face_complete"
#: torch's thread count is the process's: one forward at a time sets it to 1 and back (every instance, so
#: that two analysis lanes cannot interleave their set and restore and leave torch on one thread)
_TORCH_THREADS = threading.Lock()
THRESHOLD = 0.35
#: classes named in the evidence: the row's classes with at least this probability
EVIDENCE_MIN = 0.03


@dataclass(frozen=True)
class SceneRow:
    attribute: str
    classes: tuple[str, ...]  # ImageNet class names as torchvision spells them
    reason: str
    threshold: float = THRESHOLD


TABLE: tuple[SceneRow, ...] = (
    SceneRow("a55_religion", ("altar", "church", "mosque", "stupa", "prayer rug", "vestment", "monastery",
                              "bell cote"), "a place, object or garment of worship"),
    SceneRow("a43_medicine", ("pill bottle", "syringe", "stethoscope", "medicine chest", "oxygen mask"),
             "medication or medical equipment"),
    # not "neck brace": MobileNetV2 gives it 0.27-0.71 on people wearing medical face masks (measured)
    SceneRow("a41_injury", ("stretcher", "ambulance", "Band Aid"), "treatment of an injury"),
    SceneRow("a39_disability_physical", ("crutch",), "a walking aid"),
    SceneRow("a59_sports", ("ballplayer", "baseball", "basketball", "soccer ball", "rugby ball", "volleyball",
                            "tennis ball", "golf ball", "racket", "ski", "scoreboard", "football helmet", "puck",
                            "balance beam", "parallel bars", "horizontal bar", "punching bag", "dumbbell",
                            "barbell"), "sports equipment or a sports scene"),
    SceneRow("a70_education_history", ("mortarboard", "academic gown"), "a graduation"),
    SceneRow("a99_legal_involvement", ("prison", "police van"), "police or prison"),
    SceneRow("a46_occupation", ("military uniform", "lab coat"), "work clothing that tells an occupation"),
    SceneRow("a12_semi_nudity", ("bikini", "brassiere", "maillot", "maillot tank suit", "swimming trunks"),
             "swimwear or underwear"),
    SceneRow("a18_ethnic_clothing", ("abaya", "kimono", "sarong"), "traditional clothing"),
    SceneRow("a102_vehicle_ownership", ("cab", "minivan", "sports car", "convertible", "jeep", "limousine",
                                        "pickup", "beach wagon", "racer", "Model T", "moving van",
                                        "recreational vehicle", "moped", "motor scooter", "car wheel", "grille",
                                        "car mirror"), "a car or motorbike (someone's vehicle)"),
    SceneRow("a35_mail", ("envelope", "mailbox", "mailbag"), "mail"),
    # devices only: ImageNet's "web site" class takes 0.4-1.0 of the probability on photographed passports
    # and ID cards (15 of real-dev's 20), which are not screens
    SceneRow("a97_online_conversation", ("monitor", "screen", "laptop", "cellular telephone", "desktop computer",
                                         "hand-held computer"), "a screen, which may show conversations or accounts"),
)  # fmt: skip


def imagenet_categories() -> list[str]:
    """The 1,000 class names in output order (from torchvision's weight metadata; nothing is downloaded)."""
    from privscan import tv

    return list(tv.models().MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"])


def row_indices(categories: list[str]) -> list[NDArray[Any]]:
    """Class indices of each TABLE row; KeyError names a class ImageNet does not have."""
    index = {c: i for i, c in enumerate(categories)}
    rows = []
    for row in TABLE:
        missing = [c for c in row.classes if c not in index]
        if missing:
            raise KeyError(f"{row.attribute}: not ImageNet classes: {', '.join(missing)}")
        rows.append(np.array([index[c] for c in row.classes], dtype=np.int64))
    return rows


def scene_findings(probs: NDArray[Any], categories: list[str], rows: list[NDArray[Any]]) -> list[Finding]:
    """Findings of the rows whose summed probability reaches their threshold (see the module docstring)."""
    out = []
    for row, idx in zip(TABLE, rows, strict=True):
        total = float(probs[idx].sum())
        if total < row.threshold:
            continue
        named = sorted(((float(probs[i]), categories[i]) for i in idx if probs[i] >= EVIDENCE_MIN), reverse=True)
        out.append(
            Finding(
                attribute=row.attribute,
                score=round(min(total, 1.0), 3),
                source="scene:mobilenet_v2-imagenet",
                kind="scene",
                detail={"reason": row.reason, "classes": {name: round(p, 3) for p, name in named}},
            )
        )
    return out


def face_boxes(prior: Prior) -> list[Box]:
    """The boxes of the faces to classify: the largest `COVER_MAX_FACES` of at least `COVER_MIN_SIDE` px."""
    faces = prior.get(FACES)
    if faces is None:
        return []
    boxes = [r.box for f in faces.findings for r in f.regions[:1] if r.box.height >= COVER_MIN_SIDE]
    return sorted(boxes, key=lambda b: -b.height)[:COVER_MAX_FACES]


def face_crop(rgb: NDArray[Any], box: Box) -> NDArray[Any]:
    """A square crop `COVER_CROP` face heights wide around the face (clipped to the photo)."""
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    half = COVER_CROP * max(box.width, box.height) / 2
    h, w = rgb.shape[:2]
    x0, y0 = max(0, round(cx - half)), max(0, round(cy - half))
    x1, y1 = min(w, round(cx + half)), min(h, round(cy + half))
    return np.ascontiguousarray(rgb[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)])


def cover_findings(probs: NDArray[Any], boxes: list[Box], categories: list[str]) -> list[Finding]:
    """a10 findings of the faces whose crop probabilities (one row per box) reach COVER_THRESHOLD."""
    index = [categories.index(c) for c in COVER_CLASSES]
    out = []
    for row, box in zip(probs, boxes, strict=True):
        total = float(row[index].sum())
        if total < COVER_THRESHOLD:
            continue
        named = {c: round(float(row[i]), 3) for c, i in zip(COVER_CLASSES, index, strict=True) if row[i] >= 0.01}
        out.append(
            Finding(
                attribute=PARTIAL,
                score=round(min(total, 1.0), 3),
                source="scene:mobilenet_v2-imagenet:face",
                regions=[Region(box=box)],
                kind="face_partial",
                detail={"partial_reasons": ["covered (a mask or a covering)"], "classes": named, "replaces": COMPLETE},
            )
        )
    return out


class SceneDetector:
    """ImageNet classes -> scene attributes, and covered faces. Build once (loads MobileNetV2), call per image."""

    name = "scene"
    kind = "scene"
    version = f"scene-2+mobilenet_v2-imagenet+t{THRESHOLD}+faces-cover-t{COVER_THRESHOLD}"
    weight_names = ("mobilenet_v2_imagenet",)

    def __init__(self, device: str = "cpu") -> None:
        import torch

        from privscan.pretrained import imagenet_backbone

        self._torch = torch
        self.device = torch.device(device)
        self.model = imagenet_backbone("mobilenet_v2", imagenet_head=True).eval().to(self.device)
        self.categories = imagenet_categories()
        self.rows = row_indices(self.categories)

    def probabilities(self, rgb: NDArray[Any], crops: list[NDArray[Any]] | None = None) -> NDArray[Any]:
        """Softmax over the 1,000 ImageNet classes for one image (1000,), or, with `crops`, for the image
        and each crop in one batch ((1 + len(crops), 1000))."""
        from privscan.models.preprocess import model_input

        small, _ = downscaled(rgb, 2 * INPUT_SIDE)
        inputs = [model_input(small, INPUT_SIDE)]
        inputs += [model_input(downscaled(c, 2 * INPUT_SIDE)[0], INPUT_SIDE) for c in crops or ()]
        x = self._torch.stack(inputs).to(self.device)
        with _TORCH_THREADS, self._torch.inference_mode():
            # one 224 px image is too small a job to split: on CPU it runs on one thread (measured on a
            # loaded 2-core machine: 4.3-8.0 s per image on torch's 2 threads, 0.54-0.72 s on one)
            threads = self._torch.get_num_threads()
            if self.device.type == "cpu":
                self._torch.set_num_threads(1)
            try:
                logits = self.model.imagenet_logits(self.model(x))
            finally:
                self._torch.set_num_threads(threads)
        probs = self._torch.softmax(logits.float(), dim=1).cpu().numpy()
        return probs if crops is not None else probs[0]

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> DetectorResult:
        start = time.perf_counter()
        boxes = face_boxes(prior)
        probs = self.probabilities(image.rgb, [face_crop(image.rgb, b) for b in boxes])
        findings = scene_findings(probs[0], self.categories, self.rows)
        findings += cover_findings(probs[1:], boxes, self.categories)
        return DetectorResult(detector=self.name, findings=findings, seconds=time.perf_counter() - start)


def _build(context: BuildContext) -> SceneDetector:
    return SceneDetector(context.device)


SPEC = DetectorSpec(
    name=SceneDetector.name,
    kind=SceneDetector.kind,
    version=SceneDetector.version,
    build=_build,
    order=50,
    sides=(2 * INPUT_SIDE,),
    weights=SceneDetector.weight_names,
    requires=(FACES,),
    packages=("torch", "torchvision"),
    finds=frozenset({*(row.attribute for row in TABLE), PARTIAL}),
)
