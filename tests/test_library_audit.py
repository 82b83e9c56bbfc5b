"""The audit of a library: streamed outputs, a cached re-run that loads no model, phone formats, the API.

Real detectors (faces, metadata) on real photos; the HEIC fixture is a real HEIC file (see
tests/data/make_phone_fixtures.py) and the AVIF one is encoded here by Pillow itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

import privscan
from privscan.engine import pipeline as pipeline_module
from privscan.engine.audit import run_audit
from privscan.engine.options import AuditOptions
from privscan.report.jsonl import read_report_json

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
HEIC = REPO / "tests" / "data" / "astronaut_gps.heic"
FAST = AuditOptions(detectors=("faces", "metadata"))
STRIP = {"cached", "timings"}


@pytest.fixture
def photos(tmp_path) -> Path:
    root = tmp_path / "photos"
    (root / "phone").mkdir(parents=True)
    shutil.copy(EXAMPLES / "astronaut.jpg", root / "astronaut.jpg")
    shutil.copy(EXAMPLES / "chelsea_gps.jpg", root / "cat.jpg")
    shutil.copy(HEIC, root / "phone" / "IMG_0001.HEIC")
    Image.open(EXAMPLES / "coffee.jpg").save(root / "phone" / "coffee.avif", quality=60)
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    return root


def test_report_files_are_complete_and_agree(photos, tmp_path):
    result = run_audit([str(photos)], FAST, tmp_path / "out")
    records = list(result.records())
    assert len(records) == 5 == result.summary.images
    report = read_report_json(result.outputs["json"])
    assert [r.model_dump() for r in report.images] == [r.model_dump() for r in records]
    assert report.summary == result.summary
    assert report.header.finished_at is not None
    assert {r.path for r in result.top} == {r.path for r in records}  # a small run: every record is in the top


def test_cached_rerun_loads_no_model(photos, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run_audit([str(photos)], FAST, out)
    assert first.models_loaded

    def no_models(*args, **kwargs):
        raise AssertionError("a fully cached re-run built the pipeline")

    monkeypatch.setattr(pipeline_module.Pipeline, "__init__", no_models)
    again = run_audit([str(photos)], FAST, out)
    assert not again.models_loaded and again.reused == 5
    expected = [r.model_dump(exclude=STRIP) for r in first.records()]
    assert [r.model_dump(exclude=STRIP) for r in again.records()] == expected
    notes = {m.name: m.note for m in again.header.models}
    assert notes["faces"] == notes["metadata"] == "not loaded: every image came from the cache"


def test_heic_and_avif_are_decoded_and_audited_by_default(photos, tmp_path):
    result = run_audit([str(photos / "phone")], AuditOptions(), tmp_path / "out", formats=("json",))
    by_name = {Path(r.path).name: r for r in result.records()}
    heic, avif = by_name["IMG_0001.HEIC"], by_name["coffee.avif"]
    assert heic.format == "HEIF" and (heic.width, heic.height) == (320, 320) and not heic.errors
    assert avif.format == "AVIF" and not avif.errors
    assert {"a9_face_complete", "a74_address_current_complete"} <= {a.id for a in heic.attributes}
    assert "gps_position" in {m.kind for m in heic.metadata}


def test_python_api(photos, tmp_path):
    assert set(privscan.__all__) >= {"audit", "redact", "read_records", "ImageRecord"}
    assert (Path(privscan.__file__).parent / "py.typed").is_file()
    in_memory = list(privscan.audit(photos, detectors="faces,metadata"))
    names = ["IMG_0001.HEIC", "astronaut.jpg", "broken.jpg", "cat.jpg", "coffee.avif"]
    assert sorted(Path(r.path).name for r in in_memory) == names
    assert not (photos / "cache.sqlite").exists()
    out = tmp_path / "out"
    streamed = list(privscan.audit([photos], out=out, detectors=["faces", "metadata"]))
    assert [r.model_dump(exclude=STRIP) for r in streamed] == [r.model_dump(exclude=STRIP) for r in in_memory]
    assert [r.path for r in privscan.read_records(out / "records.jsonl")] == [r.path for r in streamed]
    assert json.loads((out / "report.json").read_text())["summary"]["images"] == 5
    run = privscan.redact(photos / "astronaut.jpg", "face", out=tmp_path / "red")
    assert [r.status for r in run.results] == ["redacted"]
    assert (photos / "astronaut.jpg").read_bytes() == (EXAMPLES / "astronaut.jpg").read_bytes()
