"""The audit engine end to end: real detectors, real files, the cache, resumption and ordering."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from privscan import vocab
from privscan.engine import audit as audit_module
from privscan.engine.audit import run_audit
from privscan.engine.fusion import build_record
from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Analysis, Pipeline
from privscan.io.decode import load_image
from privscan.report.jsonl import read_records
from privscan.vocab import profile_vector

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAST = AuditOptions(detectors=("faces", "metadata"), batch_size=2, workers=2)


@pytest.fixture(scope="module")
def fast_pipeline() -> Pipeline:
    return Pipeline(FAST)


@pytest.fixture
def photos(tmp_path) -> Path:
    """A small photo folder: real photos, a GPS photo, a nested folder, and three bad files."""
    root = tmp_path / "photos"
    (root / "trip").mkdir(parents=True)
    shutil.copy(EXAMPLES / "astronaut.jpg", root / "astronaut.jpg")
    shutil.copy(EXAMPLES / "coffee.jpg", root / "trip" / "coffee.jpg")
    shutil.copy(EXAMPLES / "chelsea_gps.jpg", root / "trip" / "cat.JPG")
    (root / "empty.jpg").write_bytes(b"")
    (root / "notes.png").write_text("not an image at all")
    data = (EXAMPLES / "coffee.jpg").read_bytes()
    (root / "trip" / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (root / "trip" / "readme.txt").write_text("ignored: not an image extension")
    return root


class DecodeCounter:
    """Counts calls of the engine's read-and-decode step (the real function still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[str] = []
        real = audit_module._read_and_decode

        def counted(path: Path, max_pixels: int, sides: tuple[int, ...] = ()):
            self.paths.append(path.name)
            return real(path, max_pixels, sides)

        monkeypatch.setattr(audit_module, "_read_and_decode", counted)


EXPECTED_ORDER = ["astronaut.jpg", "empty.jpg", "notes.png", "trip/cat.JPG", "trip/coffee.jpg", "trip/truncated.jpg"]


def _names(records, root: Path) -> list[str]:
    return [Path(r.path).relative_to(root).as_posix() for r in records]


def test_folder_with_bad_files_finishes_with_errors_recorded(photos, tmp_path, fast_pipeline):
    out = tmp_path / "out"
    result = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    records = result.report.images
    assert _names(records, photos) == EXPECTED_ORDER
    by_name = {Path(r.path).name: r for r in records}
    assert [e.kind for e in by_name["empty.jpg"].errors] == ["empty"]
    assert [e.kind for e in by_name["notes.png"].errors] == ["not-an-image"]
    assert [e.kind for e in by_name["truncated.jpg"].errors] == ["truncated"]
    for bad in ("empty.jpg", "notes.png", "truncated.jpg"):
        assert by_name[bad].failed and by_name[bad].verdict is None and by_name[bad].privacy_score is None
        assert "\n" not in by_name[bad].errors[0].message
    astronaut = by_name["astronaut.jpg"]
    assert "a9_face_complete" in {a.id for a in astronaut.attributes}
    assert astronaut.verdict.p_private is None and astronaut.verdict.source == "evidence"
    assert "no DRAG weights" in astronaut.verdict.note
    cat = by_name["cat.JPG"]
    assert "gps_position" in {m.kind for m in cat.metadata}
    assert not by_name["coffee.jpg"].attributes and by_name["coffee.jpg"].verdict.label == "public"
    # streamed records equal the final report, and every output exists
    assert [r.path for r in read_records(out / "records.jsonl")] == [r.path for r in records]
    assert json.loads((out / "report.json").read_text())["images"][0]["path"] == records[0].path
    assert (out / "report.html").stat().st_size > 1000
    assert result.failed == 3 and result.analysed == 3


def test_rerun_decodes_nothing_and_changed_file_is_redone(photos, tmp_path, fast_pipeline, monkeypatch):
    out = tmp_path / "out"
    first = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline).report.images
    counter = DecodeCounter(monkeypatch)
    second = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    assert counter.paths == []
    assert second.reused == len(first) and all(r.cached for r in second.report.images)
    strip = {"cached", "timings"}
    assert [r.model_dump(exclude=strip) for r in second.report.images] == [r.model_dump(exclude=strip) for r in first]
    # change one photo's bytes: only that one is read again
    shutil.copy(EXAMPLES / "rocket.jpg", photos / "astronaut.jpg")
    third = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    assert counter.paths == ["astronaut.jpg"]
    assert "a9_face_complete" not in {a.id for a in third.report.images[0].attributes}


def test_renamed_file_reuses_its_record_by_content(photos, tmp_path, fast_pipeline, monkeypatch):
    out = tmp_path / "out"
    run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    (photos / "astronaut.jpg").rename(photos / "portrait.jpg")
    analysed: list[int] = []
    real = fast_pipeline.analyze_batch
    monkeypatch.setattr(fast_pipeline, "analyze_batch", lambda images: analysed.append(len(images)) or real(images))
    result = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    portrait = next(r for r in result.report.images if r.path.endswith("portrait.jpg"))
    assert portrait.cached and "a9_face_complete" in {a.id for a in portrait.attributes}
    assert analysed == []


def test_interrupted_audit_resumes_without_redoing(photos, tmp_path, fast_pipeline, monkeypatch):
    out = tmp_path / "out"

    def interrupt_after_two(record) -> None:
        interrupt_after_two.seen += 1
        if interrupt_after_two.seen == 2:
            raise KeyboardInterrupt

    interrupt_after_two.seen = 0
    with pytest.raises(KeyboardInterrupt):
        run_audit([str(photos)], FAST, out, on_record=interrupt_after_two, pipeline=fast_pipeline)
    done = read_records(out / "records.jsonl")
    assert _names(done, photos) == EXPECTED_ORDER[:2]
    assert not (out / "report.json").exists()
    counter = DecodeCounter(monkeypatch)
    resumed = run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    assert _names(resumed.report.images, photos) == EXPECTED_ORDER
    assert "astronaut.jpg" not in counter.paths and "empty.jpg" not in counter.paths
    # images after the interruption may have been decoded ahead, but none is recomputed twice
    assert resumed.reused >= 2


def test_options_change_invalidates_cache(photos, tmp_path, fast_pipeline, monkeypatch):
    out = tmp_path / "out"
    run_audit([str(photos)], FAST, out, pipeline=fast_pipeline)
    other = AuditOptions(detectors=("faces", "metadata"), batch_size=2, profile_user=7)
    counter = DecodeCounter(monkeypatch)
    run_audit([str(photos)], other, out, pipeline=Pipeline(other))
    assert len(counter.paths) == len(EXPECTED_ORDER)


def test_full_detectors_on_documents(tmp_path):
    """Every default detector, real OCR included, on the bundled generated documents."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ("id_card.jpg", "credit_card.png"):
        shutil.copy(EXAMPLES / name, folder / name)
    result = run_audit([str(folder)], AuditOptions(), tmp_path / "out")
    card, id_card = result.report.images  # credit_card.png sorts first
    assert "a30_credit_card" in {a.id for a in card.attributes}
    card_evidence = next(a for a in card.attributes if a.id == "a30_credit_card").evidence[0]
    assert card_evidence.value is None and card_evidence.value_masked.endswith("6467")
    assert "4539" not in (tmp_path / "out" / "report.json").read_text()  # the report is not the leak
    assert {"a9_face_complete", "a19_name_full", "a24_birth_date"} <= {a.id for a in id_card.attributes}
    assert all(m.status == "loaded" for m in result.report.header.models if m.kind.startswith("detector"))


def test_drag_probability_drives_verdict_when_present(skimage_photo, tmp_path):
    """With a DRAG p_private the verdict is DRAG's; without, no probability is reported."""
    path = tmp_path / "coffee.png"
    from PIL import Image

    Image.fromarray(skimage_photo("coffee")).save(path)
    analysis = Analysis(image=load_image(path), p_private=0.83)
    record = build_record(analysis, profile=profile_vector(), pooling="max", show_values=False)
    assert record.verdict.source == "drag" and record.verdict.label == "private" and record.verdict.p_private == 0.83
    bare = build_record(Analysis(image=load_image(path)), profile=profile_vector(), pooling="max", show_values=False)
    assert bare.verdict.p_private is None and bare.privacy_score == 0.0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "privscan", *args], capture_output=True, text=True)


def test_cli_json_and_fail_on(tmp_path):
    """--json and --fail-on in process (typer's runner keeps stdout and stderr apart); one real subprocess
    checks the entry point itself: a usage error is one line on stderr with exit code 2, never a traceback."""
    from typer.testing import CliRunner

    from privscan.cli.app import app

    runner = CliRunner()
    gps = tmp_path / "gps"
    gps.mkdir()
    shutil.copy(EXAMPLES / "chelsea_gps.jpg", gps / "cat.jpg")
    args = ["audit", str(gps), "--out", str(tmp_path / "o1"), "--detectors", "metadata", "--json"]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)  # stdout holds the report and nothing else
    assert report["images"][0]["privacy_score"] > 0.5
    risky = runner.invoke(app, [*args, "--fail-on", "0.5", "--quiet"], catch_exceptions=False)
    assert risky.exit_code == 1 and "at or above risk 0.5" in risky.stderr
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copy(EXAMPLES / "coffee.jpg", clean / "coffee.jpg")
    ok = runner.invoke(
        app,
        ["audit", str(clean), "--out", str(tmp_path / "o2"), "--detectors", "metadata", "--fail-on", "0.5", "-q"],
        catch_exceptions=False,
    )
    assert ok.exit_code == 0, ok.stderr
    bad = _cli("audit", str(clean), "--out", str(tmp_path / "o3"), "--format", "pdf")
    assert bad.returncode == 2 and "unknown --format pdf" in bad.stderr and "Traceback" not in bad.stderr


def test_scores_are_profile_weighted(photos, tmp_path, fast_pipeline):
    result = run_audit([str(photos / "astronaut.jpg")], FAST, tmp_path / "out", pipeline=fast_pipeline)
    record = result.report.images[0]
    face = next(a for a in record.attributes if a.id == "a9_face_complete")
    index = vocab.by_id()[face.id].index
    assert record.privacy_score == pytest.approx(face.score * profile_vector()[index] / 5, abs=1e-4)
    assert np.isfinite(record.privacy_score)


def test_models_drive_verdict_and_score_when_weights_exist(tmp_path, photos):
    """With DRAG and PrivObfNet checkpoints (random weights in the trainers' real formats: this checks the
    wiring and provenance, not accuracy) the verdict is DRAG's p_private and the score PrivObfNet's, and the
    run header names both with the checkpoint's sha256. Person/text masks reach PrivObfNet as guides."""
    from dataclasses import asdict

    import torch
    from privobfnet_helpers import random_checkpoint

    from privscan.io.checkpoint import save_checkpoint
    from privscan.models.drag import CHECKPOINT_FORMAT as DRAG_FORMAT
    from privscan.models.drag import Drag, DragConfig
    from privscan.weights import sha256_file

    torch.manual_seed(0)
    drag_cfg = DragConfig(regions=4, input_size=64)
    drag_path = tmp_path / "drag.pt"
    save_checkpoint(
        drag_path,
        {"format": DRAG_FORMAT, "config": asdict(drag_cfg), "state_dict": Drag(drag_cfg).state_dict(), "epoch": 0},
    )
    pob_path = random_checkpoint(tmp_path / "privobfnet.pt", input_size=64)

    options = AuditOptions(
        detectors=("faces", "people", "metadata"), drag_weights=drag_path, privobfnet_weights=pob_path, batch_size=3
    )
    pipeline = Pipeline(options)
    seen_guides: list[torch.Tensor] = []
    real_predict = pipeline.privobfnet.predict

    def spy(batch, guides=None):
        seen_guides.append(guides)
        return real_predict(batch, guides)

    pipeline.privobfnet.predict = spy
    result = run_audit([str(photos)], options, tmp_path / "out", pipeline=pipeline)
    analysed = [r for r in result.report.images if not r.failed]
    assert analysed
    for record in analysed:
        assert record.verdict.source == "drag" and 0.0 <= record.verdict.p_private <= 1.0
        assert record.privacy_score_source == "privobfnet"
    models = {m.name: m for m in result.report.header.models}
    assert models["drag"].status == "loaded" and models["drag"].weights_sha256 == sha256_file(drag_path)
    assert models["privobfnet"].weights_sha256 == sha256_file(pob_path)
    guides = torch.cat([g for g in seen_guides if g is not None])
    assert guides.shape[1:] == (2, 64, 64)
    assert float(guides[:, 0].max()) > 0.5  # the astronaut's person mask reached the model


def test_a_run_without_a_device_model_never_imports_torch(photos, tmp_path):
    """Faces, text and metadata run on onnxruntime, YuNet and Pillow: such an audit (a fresh process, as a
    user runs it) leaves torch unimported and says no model ran on a device; the scene classifier, which is
    a torch model, brings the device back."""
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from privscan.engine.audit import run_audit\n"
        "from privscan.engine.options import AuditOptions\n"
        "result = run_audit([sys.argv[1]], AuditOptions(detectors=tuple(sys.argv[3].split(','))), Path(sys.argv[2]))\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'device': result.header.device,\n"
        "                  'analysed': result.analysed}))\n"
    )
    runs = {}
    for detectors in ("faces,text,metadata", "scene"):
        out = tmp_path / detectors.replace(",", "-")
        done = subprocess.run([sys.executable, "-c", script, str(photos), str(out), detectors], capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        runs[detectors] = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs["faces,text,metadata"] == {"torch": False, "device": audit_module.run_key.NO_DEVICE, "analysed": 3}
    assert runs["scene"]["torch"] is True and runs["scene"]["device"].startswith("cpu (")
