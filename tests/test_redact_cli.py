"""End-to-end redaction through the CLI with the real detectors, one test per alias, on generated images
whose truth boxes are known (support.synth draws the text and records each value's pixel box; the two
face boxes in the face scene were read off scikit-image's astronaut photo by eye, brows to chin).

Each test checks: at least 95% of the truth pixels changed; every pixel away from the redacted regions
(the sidecar's grown boxes plus one JPEG block for the encoder's 16 px blocks) differs from the original
by no more than re-encoding the original with the same writer does (measured per file); no metadata is
left (Pillow parse + byte scan); the original's bytes are unchanged; the sidecar holds masked values only.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from redact_helpers import (
    SECRET_ARTIST,
    XMP_PACKET,
    assert_no_metadata,
    dirty_jpeg,
    exif_with_thumbnail,
    sha256_file,
    srgb_icc,
)
from support import synth
from typer.testing import CliRunner

from privscan import vocab
from privscan.cli.app import app
from privscan.detectors.base import Box
from privscan.io.clean_save import encode_clean, plan_output
from privscan.io.decode import load_image

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


@dataclass
class Sample:
    name: str
    data: bytes
    truth: dict[str, list[Box]]  # kind -> boxes
    thumbnail: bytes | None
    icc: bytes | None
    lossless: bool


def _face_scene() -> tuple[Image.Image, list[Box]]:
    """Astronaut photo at full size plus a second, cropped copy: two real faces, known boxes."""
    from skimage import data

    astro = Image.fromarray(data.astronaut())
    canvas = Image.new("RGB", (1000, 700), (214, 220, 226))
    canvas.paste(astro, (40, 100))
    canvas.paste(astro.crop((130, 30, 330, 250)), (720, 200))
    face = (185, 85, 272, 185)  # in astronaut(): brows to chin, cheek to cheek (read off the image)
    boxes = [
        Box(face[0] + 40, face[1] + 100, face[2] + 40, face[3] + 100),
        Box(face[0] - 130 + 720, face[1] - 30 + 200, face[2] - 130 + 720, face[3] - 30 + 200),
    ]
    return canvas, boxes


def _png_with_metadata(image: Image.Image, icc: bytes) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET_ARTIST)
    info.add_itxt("XML:com.adobe.xmp", XMP_PACKET.decode())
    buf = io.BytesIO()
    image.save(buf, "PNG", exif=exif_with_thumbnail(b"\xff\xd8\xff\xd9"), icc_profile=icc, pnginfo=info)
    return buf.getvalue()


def _truth(s: synth.SynthImage) -> dict[str, list[Box]]:
    out: dict[str, list[Box]] = {}
    for item in s.items:
        out.setdefault(item.kind, []).append(item.box)
    return out


@pytest.fixture(scope="module")
def samples() -> dict[str, Sample]:
    icc = srgb_icc()
    letter = synth.letter(0, size=(620, 877))
    card = synth.credit_card(1, size=(600, 380))
    idcard = synth.id_card(2, size=(800, 500))
    faces, face_boxes = _face_scene()
    out = {}
    data, thumb = dirty_jpeg(letter.image, quality=90, icc=icc)
    out["letter"] = Sample("letter.jpg", data, _truth(letter), thumb, icc, False)
    data, thumb = dirty_jpeg(card.image, quality=85, icc=icc)
    out["card"] = Sample("card.jpg", data, _truth(card), thumb, icc, False)
    out["idcard"] = Sample("idcard.png", _png_with_metadata(idcard.image, icc), _truth(idcard), None, icc, True)
    data, thumb = dirty_jpeg(faces, quality=92, icc=icc)
    out["faces"] = Sample("faces.jpg", data, {"face": face_boxes}, thumb, icc, False)
    return out


def _covering(box: Box, hw: tuple[int, int]) -> tuple[slice, slice]:
    h, w = hw
    x0, y0 = max(0, int(np.floor(box.x0))), max(0, int(np.floor(box.y0)))
    x1, y1 = min(w, int(np.ceil(box.x1))), min(h, int(np.ceil(box.y1)))
    return slice(y0, y1), slice(x0, x1)


def _sidecar(folder: Path) -> dict:
    found = sorted(folder.glob("privscan-redact-*.json"))
    assert len(found) == 1, f"expected one sidecar in {folder}, found {found}"
    return json.loads(found[0].read_text(encoding="utf-8"))


def _redact(tmp_path: Path, sample: Sample, *args: str) -> tuple[Path, Path, str]:
    src = tmp_path / sample.name
    src.write_bytes(sample.data)
    before = sha256_file(src)
    result = runner.invoke(app, ["redact", str(src), *args])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert sha256_file(src) == before, "the original file changed"
    out = tmp_path / "redacted" / sample.name
    assert out.is_file(), result.output
    return src, out, result.output


def _check_redaction(src: Path, out: Path, sample: Sample, kinds: list[str], hidden_ids: set[str]) -> dict:
    """The shared acceptance checks; returns the file's sidecar entry."""
    original = load_image(src)
    orig = original.rgb.astype(np.int16)
    with Image.open(out) as im:
        assert im.format == Image.open(src).format, "the copy must keep the source's format"
        copy = np.asarray(im.convert("RGB"), dtype=np.int16)
    assert copy.shape == orig.shape
    # Measured re-encoding noise: the original through the very same writer.
    settings = plan_output(src.read_bytes(), original)
    reencoded = np.asarray(Image.open(io.BytesIO(encode_clean(original.rgb, settings))).convert("RGB"), np.int16)
    noise = np.abs(reencoded - orig).max(axis=2)
    diff = np.abs(copy - orig).max(axis=2)
    threshold = int(np.percentile(noise, 99.9)) + 1  # a pixel "changed" beyond what re-encoding alone does

    truth = [b for k in kinds for b in sample.truth[k]]
    assert truth, f"no truth boxes for {kinds}"
    for box in truth:
        region = _covering(box, orig.shape[:2])
        changed = float((diff[region] > threshold).mean())
        assert changed >= 0.95, f"only {changed:.1%} of the truth pixels of {box} changed"

    sidecar = _sidecar(out.parent)
    entry = next(f for f in sidecar["files"] if Path(f["input"]).name == sample.name)
    assert entry["status"] == "redacted" and entry["hidden"]
    for item in entry["hidden"]:
        assert item["attribute"] in hidden_ids or (item["attribute"] == "person" and set(item["covers"]) <= hidden_ids)
    # Away from every redacted region (the grown boxes, plus one 16 px JPEG block and a pixel for chroma
    # upsampling), the copy equals the original up to the measured re-encoding noise.
    near = np.zeros(orig.shape[:2], dtype=bool)
    pad = 0 if sample.lossless else 17
    for item in entry["hidden"]:
        for region in item["regions"]:
            x0, y0, x1, y1 = region["box"]
            near[max(0, y0 - pad) : y1 + pad, max(0, x0 - pad) : x1 + pad] = True
    outside = ~near
    assert outside.mean() > 0.3, "the redaction covered most of the image: too coarse to check"
    assert (diff[outside] <= noise[outside].max()).all()
    assert diff[outside].mean() <= noise[outside].mean() + 0.01
    if sample.lossless:
        assert (diff[outside] == 0).all()
    # No metadata, no clear values in the record.
    assert_no_metadata(out, thumbnail=sample.thumbnail, icc=sample.icc)
    text = json.dumps(sidecar)
    for item in synth.FAKE_NAMES + synth.TEST_CARDS:
        assert item not in text and item.upper() not in text
    return entry


ALIAS_CASES = [
    ("face", "faces", ["face"]),
    ("name", "letter", ["name"]),
    ("address", "letter", ["address"]),
    ("email", "letter", ["email"]),
    ("phone", "letter", ["phone"]),
    ("date", "letter", ["date"]),
    ("card", "card", ["card"]),
    ("document", "idcard", ["id_number"]),
    ("birthdate", "idcard", ["birth_date"]),
    ("text", "letter", ["name", "address", "email", "phone", "date"]),
    ("person", "faces", ["face"]),
]


@pytest.fixture(scope="module")
def alias_pipeline():
    """One loaded pipeline with every detector the alias cases need (OCR, faces, people), shared by the
    cases so each stops reloading OCR; each case still redacts with exactly the options `privscan redact
    --hide ALIAS` builds."""
    from privscan.engine.redaction import RedactOptions
    from privscan.engine.redaction.live import redaction_pipeline

    hide = [a for case in ALIAS_CASES for a in vocab.resolve_names(case[0])]
    return redaction_pipeline(RedactOptions(hide=tuple(dict.fromkeys(hide))))


def _redact_shared(tmp_path: Path, sample: Sample, alias: str, pipeline) -> tuple[Path, Path]:
    """`privscan redact FILE --hide ALIAS` through the engine with the shared pipeline (same checks as
    `_redact`: the run succeeded, the original is unchanged, the copy exists)."""
    from privscan.engine.redaction import RedactOptions, redact

    src = tmp_path / sample.name
    src.write_bytes(sample.data)
    before = sha256_file(src)
    run = redact([str(src)], RedactOptions(hide=tuple(vocab.resolve_names(alias))), pipeline=pipeline)
    assert run.failed == 0, [r.error for r in run.results]  # the CLI's exit status 0
    assert sha256_file(src) == before, "the original file changed"
    out = tmp_path / "redacted" / sample.name
    assert out.is_file(), run.results
    return src, out


@pytest.mark.parametrize(("alias", "sample_key", "kinds"), ALIAS_CASES, ids=[c[0] for c in ALIAS_CASES])
def test_redact_alias(tmp_path, samples, alias_pipeline, alias, sample_key, kinds):
    sample = samples[sample_key]
    src, out = _redact_shared(tmp_path, sample, alias, alias_pipeline)
    entry = _check_redaction(src, out, sample, kinds, set(vocab.resolve_names(alias)))
    if alias == "person":
        # the whole person, not only the face: the astronaut's torso (read off the photo) is hidden too
        # (the suit has black parts: count pixels painted with the fill colour, black, not pixels that changed)
        copy = np.asarray(Image.open(out).convert("RGB"), dtype=np.int16)
        torso = (slice(380, 550), slice(240, 400))
        assert (copy[torso].max(axis=2) <= 6).mean() > 0.95
        persons = [item for item in entry["hidden"] if item["attribute"] == "person"]
        assert len(persons) >= 2 and all(r["shape"] == "mask" for p in persons for r in p["regions"])
    if alias in ("name", "email", "card"):
        assert all(item["value_masked"] for item in entry["hidden"])


def test_hidden_only_what_was_asked(tmp_path, samples):
    """--hide email on a (lossless) letter: every pixel outside the email's grown region is bit-identical,
    so the name, address, phone and date are untouched."""
    letter = Image.open(io.BytesIO(samples["letter"].data))
    buf = io.BytesIO()
    letter.save(buf, "PNG")
    sample = Sample("letter.png", buf.getvalue(), samples["letter"].truth, None, None, True)
    src, out, _ = _redact(tmp_path, sample, "--hide", "email")
    original = load_image(src).rgb
    copy = np.asarray(Image.open(out).convert("RGB"))
    changed = np.any(copy != original, axis=2)
    (entry,) = _sidecar(out.parent)["files"]
    (item,) = entry["hidden"]
    x0, y0, x1, y1 = item["regions"][0]["box"]
    inside = np.zeros_like(changed)
    inside[y0:y1, x0:x1] = True
    assert changed.any() and not changed[~inside].any()
    for kind in ("name", "address", "phone", "date"):
        for box in sample.truth[kind]:
            assert not changed[_covering(box, changed.shape)].any(), f"{kind} was touched"


def test_second_run_refuses_politely_then_overwrite(tmp_path, samples):
    sample = samples["card"]
    _, out, _ = _redact(tmp_path, sample, "--hide", "card")
    before = sha256_file(out)
    proc = subprocess.run(
        [sys.executable, "-m", "privscan", "redact", str(tmp_path / sample.name), "--hide", "card"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "already exists" in lines[0] and str(out) in lines[0].replace("\n", "") and "--overwrite" in lines[0]
    assert "Traceback" not in proc.stderr
    assert sha256_file(out) == before
    again = runner.invoke(app, ["redact", str(tmp_path / sample.name), "--hide", "card", "--overwrite"])
    assert again.exit_code == 0, again.output
    assert len(list(out.parent.glob("privscan-redact-*.json"))) >= 1


def test_unknown_alias_is_a_clear_error_with_suggestion(tmp_path, samples):
    src = tmp_path / "letter.jpg"
    src.write_bytes(samples["letter"].data)
    proc = subprocess.run(
        [sys.executable, "-m", "privscan", "redact", str(src), "--hide", "facce,name"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "unknown attribute or alias 'facce'" in proc.stderr and "did you mean face" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "redacted").exists()


def test_pixelate_is_not_readable_by_ocr(tmp_path, samples):
    """Pixelated text: the real OCR + PII detector finds none of the values on the copy (it finds them all
    on the original)."""
    from privscan.detectors.registry import build_detectors

    sample = samples["letter"]
    src, out, _ = _redact(tmp_path, sample, "--hide", "text", "--style", "pixelate")
    (text,) = build_detectors(["text"])
    before = text.detect(load_image(src))
    after = text.detect(load_image(out))
    kinds_before = {f.kind for f in before.findings}
    assert {"email", "phone", "name_full"} <= kinds_before
    assert after.findings == [], [(f.kind, f.value) for f in after.findings]
    read = " ".join(w.text for w in after.words)
    for word in ("example.org", "555", "Quarry", "2024"):
        assert word not in read


def test_dry_run_writes_nothing_and_lists_masked_values(tmp_path, samples):
    sample = samples["letter"]
    src = tmp_path / sample.name
    src.write_bytes(sample.data)
    result = runner.invoke(app, ["redact", str(src), "--hide", "email,phone", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["dry_run"] is True
    (entry,) = doc["files"]
    assert entry["status"] == "dry-run" and entry["output_sha256"] is None
    kinds = {h["kind"]: h["value_masked"] for h in entry["hidden"]}
    assert set(kinds) == {"email", "phone"}
    assert kinds["email"].endswith("@example.org") and "*" in kinds["email"] and "*" in kinds["phone"]
    assert "EXIF block" in entry["metadata_removed"]
    assert not (tmp_path / "redacted").exists()


def test_folder_with_bad_files_goes_on_and_keeps_layout(tmp_path, samples):
    photos = tmp_path / "photos"
    (photos / "trip").mkdir(parents=True)
    (photos / "trip" / "faces.jpg").write_bytes(samples["faces"].data)
    (photos / "broken.jpg").write_bytes(samples["faces"].data[:2000])  # truncated JPEG
    (photos / "notes.png").write_text("not an image at all")
    (photos / "empty.png").write_bytes(b"")
    out = tmp_path / "out"
    result = runner.invoke(app, ["redact", str(photos), "--hide", "face", "--out", str(out)])
    assert result.exit_code == 1, result.output  # some files failed; the others were done
    assert (out / "trip" / "faces.jpg").is_file()
    sidecar = _sidecar(out)
    status = {Path(f["input"]).name: f for f in sidecar["files"]}
    assert status["faces.jpg"]["status"] == "redacted"
    for bad, kinds in (
        ("broken.jpg", ("truncated", "corrupt")),
        ("notes.png", ("not-an-image",)),
        ("empty.png", ("empty",)),
    ):
        assert status[bad]["status"] == "error" and status[bad]["error"]["kind"] in kinds
        assert not (out / bad).exists()
    errors = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(errors) == 3
    # A second run over the same folder with the default out does not treat earlier copies as inputs.
    again = runner.invoke(app, ["redact", str(photos / "trip"), "--hide", "face"])
    assert again.exit_code == 0, again.output
    rerun = runner.invoke(app, ["redact", str(photos / "trip"), "--hide", "face", "--overwrite", "--json"])
    inputs = [Path(f["input"]).parts[-2:] for f in json.loads(rerun.stdout)["files"]]
    assert inputs == [("trip", "faces.jpg")]


def test_from_report_redacts_without_running_ocr(tmp_path, samples):
    sample = samples["letter"]
    src = tmp_path / sample.name
    src.write_bytes(sample.data)
    audit = runner.invoke(app, ["audit", str(src), "--detectors", "text", "--out", str(tmp_path / "rep"), "-q"])
    assert audit.exit_code == 0, audit.output
    result = runner.invoke(
        app, ["redact", str(src), "--hide", "email,phone", "--from-report", str(tmp_path / "rep" / "report.json")]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "redacted" / sample.name
    entry = _check_redaction(src, out, sample, ["email", "phone"], set(vocab.resolve_names("email,phone")))
    sidecar = _sidecar(out.parent)
    assert sidecar["regions_from"].startswith("report") and sidecar["detectors"] == []
    assert entry["timings"]["detect"] < 0.5  # read from the report: no OCR ran
    # A file that changed since the audit is refused (its regions would be wrong), the run goes on.
    changed = tmp_path / "changed.jpg"
    changed.write_bytes(samples["card"].data)
    result = runner.invoke(
        app,
        [
            "redact",
            str(changed),
            "--hide",
            "card",
            "--from-report",
            str(tmp_path / "rep"),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert result.exit_code == 1 and "not in" in result.output
    # No PATH: every image the report lists.
    result = runner.invoke(
        app,
        ["redact", "--hide", "email", "--from-report", str(tmp_path / "rep"), "--json", "--out", str(tmp_path / "all")],
    )
    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["input"] == str(src) and entry["status"] == "redacted" and (tmp_path / "all" / src.name).is_file()


def test_output_onto_the_original_is_refused_even_with_overwrite(tmp_path, samples):
    src = tmp_path / "card.jpg"
    src.write_bytes(samples["card"].data)
    before = sha256_file(src)
    result = runner.invoke(app, ["redact", str(src), "--hide", "card", "--out", str(tmp_path), "--overwrite"])
    assert result.exit_code == 1 and "would replace the original" in result.output
    assert sha256_file(src) == before


def test_attribute_no_detector_locates_is_a_warning_and_metadata_still_goes(tmp_path, samples):
    src = tmp_path / "faces.jpg"
    src.write_bytes(samples["faces"].data)
    result = runner.invoke(app, ["redact", str(src), "--hide", "a8_signature"])
    assert result.exit_code == 0, result.output
    assert "no detector locates a8_signature" in result.stderr  # a25 nationality is now read by the text detector
    out = tmp_path / "redacted" / "faces.jpg"
    (entry,) = _sidecar(out.parent)["files"]
    assert entry["status"] == "clean-copy" and entry["hidden"] == [] and entry["masked_fraction"] == 0
    assert_no_metadata(out, thumbnail=samples["faces"].thumbnail, icc=samples["faces"].icc)


def test_from_report_recomputes_the_person_mask(tmp_path, samples):
    """Reports keep no pixel-exact person masks: with --from-report, hiding persons runs the people detector
    on that image alone (faces come from the report)."""
    sample = samples["faces"]
    src = tmp_path / sample.name
    src.write_bytes(sample.data)
    audit = runner.invoke(app, ["audit", str(src), "--detectors", "faces", "--out", str(tmp_path / "rep"), "-q"])
    assert audit.exit_code == 0, audit.output
    result = runner.invoke(app, ["redact", str(src), "--hide", "person", "--from-report", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "redacted" / sample.name
    entry = _check_redaction(src, out, sample, ["face"], set(vocab.resolve_names("person")))
    sources = {item["source"] for item in entry["hidden"]}
    assert "face:yunet" in sources and "people:segmentation (recomputed)" in sources
    assert _sidecar(out.parent)["detectors"] == ["people"]


def test_exif_rotated_photo_is_redacted_and_written_upright(tmp_path, samples):
    """A phone photo stored sideways with EXIF orientation 6: regions are found in the upright image, the
    copy is written upright with no orientation tag (it has no EXIF at all) and displays the same."""
    upright = synth.letter(0, size=(620, 877)).image
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # orientation 6 = turn 90 degrees clockwise to view
    data, thumb = dirty_jpeg(stored, quality=90, icc=srgb_icc(), orientation=6)
    sample = Sample("rotated.jpg", data, samples["letter"].truth, thumb, srgb_icc(), False)
    src, out, _ = _redact(tmp_path, sample, "--hide", "email")
    with Image.open(out) as im:
        assert im.size == upright.size and 0x0112 not in im.getexif()
    _check_redaction(src, out, sample, ["email"], set(vocab.resolve_names("email")))
