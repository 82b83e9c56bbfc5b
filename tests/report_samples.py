"""A small, realistic audit for the report tests, built from real files (not a mock of the engine).

Real photos (scikit-image) and support.synth documents are written to disk, decoded with privscan's own
decoder (sha256, size, EXIF-oriented width/height), and given findings where the documents' truth boxes
and the photos' known content are: the records look like what the audit engine writes. The privacy score
is VISPR's, computed with privscan.vocab from the attribute scores. No model ran, so p_private is None and
the header says DRAG has no weights, exactly what a run without DRAG weights reports.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from support import synth

from privscan import vocab
from privscan.errors import ImageError
from privscan.io.decode import load_image
from privscan.report.masking import masked_fields
from privscan.report.schema import (
    AttributeResult,
    ErrorModel,
    Evidence,
    ImageRecord,
    MetadataFinding,
    ModelInfo,
    RegionModel,
    Report,
    RunHeader,
    Verdict,
)

XSS_NAME = "<img src=x onerror=alert(1)>.jpg"
XSS_OCR_TEXT = "<script>alert(2)</script>"
XSS_OWNER = '"><svg onload=alert(3)>'
GPS = (48.858370, 2.294481)


@dataclass
class SampleAudit:
    report: Report
    thumbnails: dict[str, bytes]
    #: clear values that must never appear in a masked report
    secrets: list[str] = field(default_factory=list)
    #: masked forms that must appear
    masked: list[str] = field(default_factory=list)


def _thumbnail(image: Image.Image, size: int = 256) -> bytes:
    thumb = image.copy()
    thumb.thumbnail((size, size))
    buf = io.BytesIO()
    thumb.save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def _attribute(attr_id: str, evidence: list[Evidence]) -> AttributeResult:
    a = vocab.by_id()[attr_id]
    return AttributeResult(id=a.id, name=a.name, group=a.group, score=max(e.score for e in evidence), evidence=evidence)


def _score(attrs: list[AttributeResult]) -> float:
    vec = np.zeros(vocab.num_attributes())
    index = {a.id: a.index for a in vocab.attributes()}
    for a in attrs:
        vec[index[a.id]] = a.score
    return round(float(vocab.privacy_score(vec, vocab.profile_vector())), 4)


def _text_evidence(item: synth.TruthItem, score: float, show_values: bool, kind: str | None = None) -> Evidence:
    return Evidence(
        source=f"ocr:rapidocr+pii:{item.kind}",
        score=score,
        kind=kind or item.kind,
        regions=[RegionModel(box=item.box.as_list())],
        **masked_fields(kind or item.kind, item.text, show_values=show_values),
    )


def _record(path: Path, attrs: list[AttributeResult], metadata: list[MetadataFinding] | None = None) -> ImageRecord:
    decoded = load_image(path)
    label = "private" if attrs and max(a.score for a in attrs) >= 0.5 else "public"
    return ImageRecord(
        path=str(path.name),
        sha256=decoded.sha256,
        size_bytes=decoded.file_size,
        width=decoded.width,
        height=decoded.height,
        format=decoded.format,
        verdict=Verdict(label=label, p_private=None, source="evidence", note="no DRAG weights"),
        privacy_score=_score(attrs),
        privacy_score_source="evidence x mean VISPR profile (max)",
        attributes=attrs,
        metadata=metadata or [],
        timings={"decode": 0.01},
    )


def build_sample_audit(directory: Path, *, show_values: bool = False) -> SampleAudit:
    """Write the sample files under `directory` and return the report an audit of them gives."""
    from skimage import data

    directory.mkdir(parents=True, exist_ok=True)
    out = SampleAudit(report=None, thumbnails={})  # type: ignore[arg-type]
    records: list[ImageRecord] = []

    def add(path: Path, record: ImageRecord) -> None:
        records.append(record)
        out.thumbnails[record.path] = _thumbnail(load_image(path).pil())

    # astronaut: a real face (the box make_examples.py crops as the face), plus a weak model guess
    astronaut = Image.fromarray(data.astronaut())
    p = directory / "astronaut.jpg"
    astronaut.save(p, quality=90)
    face = Evidence(
        source="face:mediapipe",
        score=0.96,
        kind="face",
        regions=[RegionModel(box=[160, 30, 330, 225], shape="ellipse")],
    )
    weak = Evidence(source="privobfnet", score=0.31)
    add(p, _record(p, [_attribute("a9_face_complete", [face]), _attribute("a1_age_approx", [weak])]))

    # coffee: nothing private
    p = directory / "coffee.jpg"
    Image.fromarray(data.coffee()).save(p, quality=90)
    add(p, _record(p, []))

    # a payment card: number and holder name
    card = synth.credit_card(seed=2)
    p = directory / "credit_card.png"
    card.image.save(p)
    number = next(i for i in card.items if i.kind == "card")
    holder = next(i for i in card.items if i.kind == "name")
    attrs = [
        _attribute("a30_credit_card", [_text_evidence(number, 0.98, show_values, kind="credit_card")]),
        _attribute("a19_name_full", [_text_evidence(holder, 0.81, show_values)]),
    ]
    add(p, _record(p, attrs))
    out.secrets += [number.text, number.text.replace(" ", ""), holder.text]
    out.masked.append("**** " + number.text.replace(" ", "")[-4:])

    # a letter: name, address, e-mail, phone, date; plus GPS in its EXIF
    letter = synth.letter(seed=3)
    p = directory / "letter.jpg"
    letter.image.save(p, quality=90, exif=synth.exif_bytes(gps=(40.748817, -73.985428)))
    by_kind = {i.kind: i for i in letter.items}
    attrs = [
        _attribute("a90_email", [_text_evidence(by_kind["email"], 0.99, show_values)]),
        _attribute("a49_phone", [_text_evidence(by_kind["phone"], 0.93, show_values)]),
        _attribute("a19_name_full", [_text_evidence(by_kind["name"], 0.77, show_values)]),
        _attribute("a78_address_home_complete", [_text_evidence(by_kind["address"], 0.72, show_values)]),
        _attribute("a82_date_time", [_text_evidence(by_kind["date"], 0.66, show_values)]),
    ]
    gps = MetadataFinding(
        kind="gps_position",
        attribute="a74_address_current_complete",
        tag="EXIF GPSInfo",
        **masked_fields("gps_position", "40.748817, -73.985428", show_values=show_values),
    )
    add(p, _record(p, attrs, [gps]))
    email = by_kind["email"].text
    out.secrets += [email, by_kind["phone"].text, "40.748817"]
    out.masked += [f"{email[0]}***@{email.split('@')[1]}", "~40.7, -74.0"]

    # the cat with GPS, camera serial, owner and capture time in EXIF (what make_examples.py writes)
    p = directory / "chelsea_gps.jpg"
    exif = synth.exif_bytes(
        gps=GPS, make="Nowhere Optics", model="NX-100", serial="SN-4471-0932", artist="Johanna Whitfield",
        datetime_original="2024:05:17 14:32:09",
    )  # fmt: skip
    Image.fromarray(data.chelsea()).save(p, quality=90, exif=exif)
    meta = [
        MetadataFinding(kind="gps_position", attribute="a74_address_current_complete", tag="EXIF GPSInfo",
                        **masked_fields("gps_position", f"{GPS[0]}, {GPS[1]}", show_values=show_values)),
        MetadataFinding(kind="owner", attribute="a19_name_full", tag="EXIF Artist",
                        **masked_fields("owner", "Johanna Whitfield", show_values=show_values)),
        MetadataFinding(kind="camera_serial", tag="EXIF BodySerialNumber",
                        **masked_fields("camera_serial", "SN-4471-0932", show_values=show_values)),
        MetadataFinding(kind="capture_time", attribute="a82_date_time", tag="EXIF DateTimeOriginal",
                        **masked_fields("capture_time", "2024:05:17 14:32:09", show_values=show_values)),
        MetadataFinding(kind="camera_model", tag="EXIF Model", **masked_fields("camera_model", "NX-100")),
    ]  # fmt: skip
    location = Evidence(source="exif:gps", score=1.0, kind="gps_position")
    add(p, _record(p, [_attribute("a74_address_current_complete", [location])], meta))
    out.secrets += [str(GPS[0]), "Johanna Whitfield", "SN-4471-0932"]
    out.masked += ["~48.9, 2.3", "J. W."]

    # an ID card with the astronaut's face: name, birth date, ID number, address
    idc = synth.id_card(seed=1, face=astronaut.crop((150, 20, 340, 230)))
    p = directory / "id_card.jpg"
    idc.image.save(p, quality=90)
    by_kind = {i.kind: i for i in idc.items}
    attrs = [
        _attribute("a29_ausweis", [_text_evidence(by_kind["id_number"], 0.9, show_values)]),
        _attribute("a19_name_full", [_text_evidence(by_kind["name"], 0.88, show_values)]),
        _attribute("a24_birth_date", [_text_evidence(by_kind["birth_date"], 0.85, show_values)]),
        # the address is drawn on two lines: one finding per line, as OCR reads them
        _attribute(
            "a78_address_home_complete",
            [_text_evidence(i, 0.74, show_values) for i in idc.items if i.kind == "address"],
        ),
        _attribute(
            "a9_face_complete",
            [
                Evidence(
                    source="face:mediapipe", score=0.93, kind="face", regions=[RegionModel(box=[51, 160, 384, 600])]
                )
            ],
        ),
    ]
    add(p, _record(p, attrs))
    out.secrets += [by_kind["id_number"].text, by_kind["birth_date"].text]

    # a file whose name is markup, with OCR text and an EXIF owner that are markup too
    p = directory / XSS_NAME
    Image.fromarray(data.rocket()).save(p, format="JPEG", quality=90)
    ocr = Evidence(
        source="ocr:rapidocr", score=0.7, kind="text", regions=[RegionModel(box=[10, 10, 200, 40], shape="polygon",
        polygon=[[10, 10], [200, 12], [198, 40], [8, 38]])], **masked_fields(None, XSS_OCR_TEXT, show_values=True),
    )  # fmt: skip
    owner = MetadataFinding(kind="owner", tag="XMP dc:creator", value_masked=XSS_OWNER, value=XSS_OWNER)
    add(p, _record(p, [_attribute("a73_landmark", [ocr])], [owner]))

    # not an image at all: the decoder's own error becomes the record's error
    p = directory / "not_a_photo.jpg"
    p.write_text("This is a text file with a .jpg name.\n")
    try:
        load_image(p)
        raise AssertionError("a text file decoded as an image")
    except ImageError as e:
        records.append(
            ImageRecord(path=p.name, size_bytes=p.stat().st_size, errors=[ErrorModel(kind=e.kind, message=e.reason)])
        )

    header = RunHeader(
        privscan_version="0.1.0",
        started_at="2026-11-22T10:00:00+00:00",
        finished_at="2026-11-22T10:00:07+00:00",
        device="cpu",
        show_values=show_values,
        inputs=[str(directory)],
        models=[
            ModelInfo(name="drag", kind="classifier", status="missing", note="no DRAG weights: privscan train drag"),
            ModelInfo(name="face:mediapipe", kind="detector", status="loaded", weights="mediapipe 0.10.21"),
            ModelInfo(name="ocr:rapidocr", kind="detector", status="loaded", weights="rapidocr 3.10.0"),
        ],
        options={"profile": "mean", "pooling": "max", "show_values": show_values},
        timings={"total_s": 7.0, "setup_s": 1.25, "images_per_s": 1.37},
    )
    out.report = Report(header=header, images=records)
    return out
