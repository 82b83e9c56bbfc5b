"""A real `privscan audit` of the bundled examples: its files validate against the published JSON Schema,
no detected value leaks in clear, and its HTML report renders in headless Chromium without running the
markup of a hostile file name or touching the network.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from report_cdp import Browser, find_chromium
from report_samples import XSS_NAME

from privscan.report.jsonl import read_records, read_report_json
from privscan.report.schema import record_json_schema, report_json_schema

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


@pytest.fixture(scope="module")
def audit_out(tmp_path_factory) -> Path:
    """The audit runs in this process through the real CLI command (typer's runner): no second interpreter
    to start and no second torch import. The hostile file name is a small real photo: only its name matters
    here, and a full-size copy cost one more full OCR pass."""
    from PIL import Image
    from typer.testing import CliRunner

    from privscan.cli.app import app

    photos = tmp_path_factory.mktemp("photos")
    for f in sorted(EXAMPLES.iterdir()):
        if f.suffix.lower() in IMAGE_SUFFIXES:
            shutil.copy2(f, photos / f.name)
    with Image.open(EXAMPLES / "coffee.jpg") as coffee:
        coffee.convert("RGB").resize((96, 64)).save(photos / XSS_NAME, quality=90)
    out = tmp_path_factory.mktemp("audit")
    # text, faces and metadata cover values, regions and EXIF; people and nudity would double the run time
    args = ["audit", str(photos), "--out", str(out), "--no-cache", "--quiet", "--detectors", "text,faces,metadata"]
    done = CliRunner().invoke(app, args, catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return out


def _n_inputs() -> int:
    return sum(1 for f in EXAMPLES.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) + 1


def _clear_values() -> list[str]:
    """Every value drawn into the example documents, plus the GPS positions in their EXIF."""
    truth = json.loads((EXAMPLES / "truth.json").read_text(encoding="utf-8"))
    values = [item["text"] for items in truth.values() for item in items if len(item["text"]) >= 6]
    values += [v.replace(" ", "") for v in values if v.replace(" ", "").isdigit()]
    return [*values, "48.85837", "2.294481", "40.748817", "-73.985428", "SN-4471-0932"]


def test_real_audit_validates_against_the_schema(audit_out):
    data = json.loads((audit_out / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_json_schema()).validate(data)
    record_validator = jsonschema.Draft202012Validator(record_json_schema())
    lines = (audit_out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        record_validator.validate(json.loads(line))
    report = read_report_json(audit_out / "report.json")
    assert len(report.images) == _n_inputs() == len(lines)
    assert sorted(r.path for r in read_records(audit_out / "records.jsonl")) == sorted(r.path for r in report.images)
    assert report.summary is not None and report.summary.images == _n_inputs()
    bad = next(r for r in report.images if r.path.endswith("not_a_photo.jpg"))
    assert bad.failed and bad.errors[0].kind == "not-an-image"
    for r in report.images:
        if not r.failed:
            assert r.verdict is not None
            assert (r.verdict.p_private is None) == (r.verdict.source != "drag")


def test_real_audit_shows_no_value_in_clear(audit_out):
    for name in ("report.json", "records.jsonl", "report.html"):
        text = (audit_out / name).read_text(encoding="utf-8")
        for value in _clear_values():
            assert value not in text, f"{value!r} in clear in {name}"


@pytest.mark.browser
@pytest.mark.skipif(
    find_chromium() is None, reason="chromium not found (Debian package `chromium`; .ci/run installs it)"
)
def test_real_audit_html_in_chromium(audit_out, artifacts_dir):
    url = (audit_out / "report.html").as_uri()
    with Browser(find_chromium(), width=1280, height=900) as b:
        b.goto(url)
        paths = b.eval("Array.from(document.querySelectorAll('tr.rec .path')).map(e => e.textContent)")
        text = b.eval("document.body.innerText")
        counts = b.eval(
            "[document.getElementById('count-images').textContent, document.getElementById('count-failed').textContent]"
        )
        assert b.dialogs() == []
        assert b.requests() == [url]
        assert b.problems() == []
        b.screenshot(artifacts_dir / "audit-report.png")
    assert len(paths) == _n_inputs()
    assert any(p.endswith(XSS_NAME) for p in paths)
    assert paths[-1].endswith("not_a_photo.jpg")
    assert counts == [str(_n_inputs()), "1"]
    # what the detectors found, masked: the card's last 4 digits, the cat photo's GPS rounded
    card = next(
        i["text"] for i in json.loads((EXAMPLES / "truth.json").read_text())["credit_card.png"] if i["kind"] == "card"
    )
    assert f"**** {card.replace(' ', '')[-4:]}" in text
    assert "~48.9, 2.3" in text
