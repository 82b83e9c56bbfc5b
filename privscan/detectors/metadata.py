"""MetadataDetector: EXIF / XMP / PNG-text facts as Findings, with the VISPR ids they reveal.

Which ids, and why:
- GPS position -> a74_address_current_complete ("visited location, complete"): the coordinates say where
  the camera was when the photo was taken, i.e. a place the photographer visited, to a few metres. It is
  not a73 (a landmark seen in the picture) nor a78 (home: it may be home, but nothing says so). Stored
  coordinates coarser than 0.001 degree (about 100 m) -> a75_address_current_partial.
- Place names in XMP (city, state, country, IPTC location) -> a75_address_current_partial.
- Capture time (DateTimeOriginal, XMP CreateDate, GPS time stamp) -> a82_date_time ("date/time of the
  activity"); digitised/modified times, which usually equal it, count with lower scores.
- Owner / artist / author / creator / camera-owner / people-in-image names -> a19_name_full (two or more
  words), a20_name_first or a21_name_last (one word: US Census first-name list decides); copyright notices
  with the name left after removing (c), years and "all rights reserved" count at a lower score.
- Free text (descriptions, comments, keywords, creator contact) is run through the PII recogniser, so an
  e-mail or phone number in a comment is found with its own id ("exif:UserComment+pii:email").
- Camera make/model/serial, lens serial, software, the embedded thumbnail: facts without a VISPR id
  (attribute "" — the fusion lists them under the record's `metadata`, not as attributes). A serial number
  ties photos to one camera and so to its owner; the thumbnail can show the photo before cropping (its
  difference from the photo is measured) and it is what metadata stripping must remove.

Every fact becomes a Finding with `kind` (gps_position, capture_time, camera_serial, owner, thumbnail, ...),
`source` "exif:<Tag>" / "xmp:<prefix:Property>" / "metadata:png:<key>", `value` in clear and
detail["tag"] (where it was found). Broken metadata never raises: its warnings become
"metadata_unreadable" facts. `detect` returns a `MetadataResult`, a DetectorResult that also carries the
raw `facts`, `warnings` and the thumbnail bytes. Thread-safe (no state).
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from privscan.detectors import pii
from privscan.detectors.base import NO_ATTRIBUTE, NO_PRIOR, DetectorResult, Finding, Prior
from privscan.detectors.spec import BuildContext, DetectorSpec
from privscan.io.decode import DecodedImage
from privscan.io.metadata import MetadataFact, read_metadata

PLACE_COMPLETE, PLACE_PARTIAL = "a74_address_current_complete", "a75_address_current_partial"
DATE_TIME = "a82_date_time"
NAME_FULL, NAME_FIRST, NAME_LAST = "a19_name_full", "a20_name_first", "a21_name_last"
GPS_COMPLETE_PRECISION = 0.001  # degrees; about 100 m
THUMB_DIFFERS = 0.18  # mean absolute difference (0..1) above which the thumbnail does not show the photo

_TIME_SCORES = {"capture_time": 0.9, "digitized_time": 0.7, "modify_time": 0.5}
_NAME_KINDS = {"owner": 0.9, "person_in_image": 0.9, "copyright": 0.7}
_TEXT_KINDS = {"description", "keywords", "owner_contact", "owner_position"}
_COPYRIGHT_NOISE = re.compile(
    r"(©|\(c\)|copyright|all\s+rights\s+reserved|\b(19|20)\d\d\b(\s*[-–]\s*(19|20)?\d\d)?|[.,;]+$)", re.I
)

# Orientation tag -> Pillow transposes that turn the stored (thumbnail) pixels into the oriented photo
_ORIENT = {
    2: (Image.Transpose.FLIP_LEFT_RIGHT,),
    3: (Image.Transpose.ROTATE_180,),
    4: (Image.Transpose.FLIP_TOP_BOTTOM,),
    5: (Image.Transpose.TRANSPOSE,),
    6: (Image.Transpose.ROTATE_270,),
    7: (Image.Transpose.TRANSVERSE,),
    8: (Image.Transpose.ROTATE_90,),
}


@dataclass
class MetadataResult(DetectorResult):
    facts: list[MetadataFact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    thumbnail: bytes | None = None


def _name_attribute(name: str) -> str | None:
    words = [w for w in re.split(r"[\s,]+", name) if re.search(r"[A-Za-zÀ-ÿ]", w)]
    if not words or len(words) > 6 or "@" in name:
        return None
    if len(words) >= 2:
        return NAME_FULL
    from privscan.detectors.pii import _census

    first, _ = _census()
    return NAME_FIRST if words[0].upper() in first else NAME_LAST


def thumbnail_difference(thumb: bytes, image: DecodedImage) -> float | None:
    """Mean absolute grey-level difference (0..1) between the EXIF thumbnail and the photo, both at 32x32."""
    try:
        with Image.open(io.BytesIO(thumb)) as t:
            t.load()
            small = t.convert("L")
        for op in _ORIENT.get(image.orientation, ()):
            small = small.transpose(op)
        a = np.asarray(small.resize((32, 32), Image.Resampling.BILINEAR), dtype=np.float32) / 255
        from privscan.detectors.scale import downscaled

        photo, _ = downscaled(image.rgb, 256)
        b = np.asarray(Image.fromarray(photo).convert("L").resize((32, 32), Image.Resampling.BILINEAR),
                       dtype=np.float32) / 255
        return float(np.abs(a - b).mean())
    except Exception:
        return None


class MetadataDetector:
    """EXIF/XMP facts -> findings. No model; `version` changes when the mapping does."""

    name = "metadata"
    version = "metadata-1"

    def __init__(self) -> None:
        from privscan.detectors.pii import PiiRecogniser

        self.pii = PiiRecogniser()

    def detect(self, image: DecodedImage, prior: Prior = NO_PRIOR) -> MetadataResult:
        start = time.perf_counter()
        read = read_metadata(image.exif, image.xmp, image.info)
        findings: list[Finding] = []
        for fact in read.facts:
            findings.extend(self._findings(fact, image, read.thumbnail))
        for warning in read.warnings:
            findings.append(
                Finding(NO_ATTRIBUTE, 1.0, "metadata:warning", kind="metadata_unreadable", value=warning,
                        detail={"tag": "EXIF/XMP"})
            )
        return MetadataResult(
            detector=self.name,
            findings=findings,
            seconds=time.perf_counter() - start,
            facts=read.facts,
            warnings=read.warnings,
            thumbnail=read.thumbnail,
        )

    def _findings(self, fact: MetadataFact, image: DecodedImage, thumb: bytes | None) -> list[Finding]:
        source = fact.source if not fact.source.startswith("png:") else f"metadata:{fact.source}"
        detail: dict[str, object] = {"tag": fact.tag, **fact.detail}

        def one(attribute: str, score: float, kind: str | None = None, value: str | None = None) -> Finding:
            return Finding(attribute, score, source, kind=kind or fact.kind, value=value or fact.value,
                           detail=detail)

        if fact.kind == "gps_position":
            precision = fact.detail.get("precision_deg")
            coarse = isinstance(precision, float) and precision > GPS_COMPLETE_PRECISION
            return [one(PLACE_PARTIAL if coarse else PLACE_COMPLETE, 1.0)]
        if fact.kind == "location_name":
            return [one(PLACE_PARTIAL, 0.9)]
        if fact.kind in _TIME_SCORES:
            return [one(DATE_TIME, _TIME_SCORES[fact.kind])]
        if fact.kind in _NAME_KINDS:
            name = fact.value
            if fact.kind == "copyright":
                name = _COPYRIGHT_NOISE.sub(" ", name)
                name = re.sub(r"\s+", " ", name).strip(" ,.-")
            out = self._text_findings(fact, source, detail)  # e.g. an e-mail inside a copyright notice
            attribute = _name_attribute(name)
            if attribute:
                out.append(one(attribute, _NAME_KINDS[fact.kind], value=name))
            return out or [one(NO_ATTRIBUTE, 1.0)]
        if fact.kind in _TEXT_KINDS:
            return [one(NO_ATTRIBUTE, 1.0), *self._text_findings(fact, source, detail)]
        if fact.kind == "thumbnail" and thumb is not None:
            diff = thumbnail_difference(thumb, image)
            detail["mean_difference"] = None if diff is None else round(diff, 3)
            detail["differs_from_image"] = diff is not None and diff > THUMB_DIFFERS
            value = fact.value + (" — differs from the photo (may show it before editing)"
                                  if detail["differs_from_image"] else "")
            return [one(NO_ATTRIBUTE, 1.0, value=value)]
        return [one(NO_ATTRIBUTE, 1.0)]

    def _text_findings(self, fact: MetadataFact, source: str, detail: dict[str, object]) -> list[Finding]:
        from privscan.detectors.pii import ATTRIBUTES

        out = []
        for m in self.pii.find_in_text(fact.value):
            if m.kind.startswith("name"):
                continue  # names: the owner fields are names by definition; in free text the signal is weak
            out.append(Finding(ATTRIBUTES[m.kind], round(m.score, 3), f"{source}+pii:{m.recogniser}",
                               kind=m.kind, value=m.value, detail=dict(detail)))
        return out


def _build(context: BuildContext) -> MetadataDetector:
    return MetadataDetector()


SPEC = DetectorSpec(
    name=MetadataDetector.name,
    kind="metadata",
    version=MetadataDetector.version,
    build=_build,
    order=40,
    packages=("phonenumbers", "stdnum", "usaddress", "probablepeople", "names"),  # the PII recognisers'
    # no regions: metadata is never painted over, redaction drops all of it
    finds=frozenset({PLACE_COMPLETE, PLACE_PARTIAL, DATE_TIME, NAME_FULL, NAME_FIRST, NAME_LAST,
                     *pii.ATTRIBUTES.values()}),
)
