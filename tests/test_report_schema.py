"""Report schema, JSON / JSON-lines files, masking, summary and terminal output, on a realistic audit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import jsonschema
import pytest
from pydantic import ValidationError
from report_samples import XSS_NAME, build_sample_audit
from rich.console import Console
from typer.testing import CliRunner

from privscan.cli.app import app
from privscan.report.jsonl import (
    RecordWriter,
    ReportFormatError,
    read_records,
    read_report_json,
    report_to_json,
    write_report_json,
)
from privscan.report.masking import mask_value, masked_fields
from privscan.report.schema import (
    SCHEMA_VERSION,
    ErrorModel,
    ImageRecord,
    Report,
    record_json_schema,
    report_json_schema,
)
from privscan.report.summary import risk_level, sort_by_risk, summarize
from privscan.report.terminal import print_summary, summary_line


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_sample_audit(tmp_path_factory.mktemp("audit") / "photos")


def _validator(schema: dict) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# ---- schema ------------------------------------------------------------------------------------------


def test_report_round_trips_through_the_final_json(sample, tmp_path):
    path = tmp_path / "report.json"
    write_report_json(sample.report, path)
    back = read_report_json(path)
    assert back.images == sample.report.images
    assert back.header == sample.report.header
    assert back.summary == summarize(sample.report.images)  # filled on write
    assert back.header.schema_version == SCHEMA_VERSION
    assert not list(tmp_path.glob("*.part"))  # the atomic writer left no temporary file


def test_final_json_validates_against_the_published_json_schema(sample, tmp_path):
    """An independent validator (jsonschema) checks the file against what `privscan schema` prints."""
    path = tmp_path / "report.json"
    write_report_json(sample.report, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    _validator(report_json_schema()).validate(data)
    record_validator = _validator(record_json_schema())
    for record in data["images"]:
        record_validator.validate(record)


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (lambda r: r["verdict"].update(p_private=1.5), "p_private above 1"),
        (lambda r: r.update(colour="red"), "unknown field"),
        (lambda r: r.update(schema_version="2.0"), "another major version"),
        (lambda r: r["attributes"][0]["evidence"][0]["regions"][0].update(box=[1, 2, 3]), "box of 3 numbers"),
        (lambda r: r.pop("path"), "missing path"),
    ],
)
def test_invalid_records_are_refused_by_pydantic_and_by_the_json_schema(sample, change, what):
    record = json.loads(sample.report.images[2].model_dump_json())  # credit_card.png: has regions
    assert record["attributes"][0]["evidence"][0]["regions"], "sample record must carry a region"
    change(record)
    with pytest.raises(ValidationError):
        ImageRecord.model_validate(record)
    with pytest.raises(jsonschema.ValidationError):
        _validator(record_json_schema()).validate(record)


def test_other_major_version_is_refused_with_a_readable_message():
    with pytest.raises(ValidationError, match="not readable by this privscan"):
        ImageRecord(path="a.jpg", schema_version="2.0")
    assert ImageRecord(path="a.jpg", schema_version="1.7").schema_version == "1.7"  # newer minor: same major


def test_schema_command_prints_the_json_schema():
    runner = CliRunner()
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == report_json_schema()
    result = runner.invoke(app, ["schema", "--record"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == record_json_schema()
    assert printed["title"] == "ImageRecord"
    assert printed["$schema"].endswith("2020-12/schema")


# ---- JSON lines ----------------------------------------------------------------------------------------


def test_json_lines_round_trip_and_a_truncated_last_line_is_skipped(sample, tmp_path):
    path = tmp_path / "records.jsonl"
    with RecordWriter(path) as writer:
        for record in sample.report.images:
            writer.write(record)
    assert writer.count == len(sample.report.images)
    assert read_records(path) == sample.report.images
    # an interrupted write leaves half a line behind
    partial = sample.report.images[0].model_dump_json()[:57]
    with path.open("a", encoding="utf-8") as f:
        f.write(partial)
    assert read_records(path) == sample.report.images
    # resuming appends after cutting the half line off
    extra = ImageRecord(path="later.jpg", errors=[ErrorModel(kind="truncated", message="file ends early")])
    with RecordWriter(path, append=True) as writer:
        writer.write(extra)
    assert read_records(path) == [*sample.report.images, extra]
    assert path.read_text(encoding="utf-8").count("\n") == len(sample.report.images) + 1


def test_corrupt_line_in_the_middle_is_an_error_with_its_line_number(sample, tmp_path):
    path = tmp_path / "records.jsonl"
    lines = [r.model_dump_json() for r in sample.report.images[:3]]
    lines[1] = lines[1][:40]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReportFormatError, match=r"records\.jsonl:2"):
        read_records(path)


_WRITER_SCRIPT = """
import sys, time
from privscan.report.jsonl import RecordWriter
from privscan.report.schema import ImageRecord
with RecordWriter(sys.argv[1]) as w:
    for i in range(10_000):
        w.write(ImageRecord(path=f"img_{i:05d}.jpg", sha256="ab" * 32, size_bytes=i))
        time.sleep(0.002)
"""


def test_a_killed_run_keeps_every_record_it_finished(tmp_path):
    """A real writer process is killed (SIGKILL, no clean-up) while streaming; its file stays readable."""
    path = tmp_path / "records.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", _WRITER_SCRIPT, str(path)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if path.exists() and path.stat().st_size > 4000:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the writer wrote nothing in 60 s")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    records = read_records(path)
    assert len(records) >= 10
    assert [r.path for r in records] == [f"img_{i:05d}.jpg" for i in range(len(records))]


# ---- masking -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("credit_card", "4539 1488 0343 6467", "**** 6467"),
        ("ocr:rapidocr+pii:Credit-Card", "5425-2334-3010-9903", "**** 9903"),
        ("iban", "DE89 3704 0044 0532 0130 00", "DE** **** 3000"),
        ("email", "johanna.whitfield@example.org", "j***@example.org"),
        ("phone", "+1 (415) 555-1234", "***234"),
        ("phone", "030 12345", "***45"),
        ("gps_position", "48.858370, 2.294481", "~48.9, 2.3"),
        ("gps", "40 44 55.7 N, 73 59 7.5 W", "~40.7, -74.0"),
        ("gps_position", "somewhere", "[position hidden]"),
        ("name", "Johanna Whitfield", "J. W."),
        ("owner", "AMELIA HARTIGAN", "A. H."),
        ("birth_date", "19.02.1966", "**.**.1966"),
        ("capture_time", "2024:05:17 14:32:09", "2024:**:** **:**:**"),
        ("id_number", "L25X619501", "********01"),
        ("camera_serial", "SN-4471-0932", "********32"),
        ("username", "jwhit", "j***"),
        ("address", "88 Quarry Hill Road", "** Q***** H*** R***"),
        (None, "Dear neighbour", "D*** n********"),
        ("camera_model", "NX-100", "NX-100"),
        ("email", "  ", ""),
    ],
)
def test_mask_value(kind, value, expected):
    assert mask_value(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("card", "4111 1111 1111 1111"),
        ("email", "marcus.oyelaran@example.org"),
        ("phone", "+1 (415) 555-9876"),
        ("gps_position", "40.748817, -73.985428"),
        ("name", "Ingrid Castellanos"),
        ("address", "1427 Larkspur Lane, Springfield, IL 62704"),
        ("birth_date", "02.11.1958"),
        ("passport", "C01X00T47"),
        ("something_new", "secret token 8812-4471"),
    ],
)
def test_masked_form_never_contains_the_value(kind, value):
    masked = mask_value(kind, value)
    assert masked and masked != value
    compact = value.replace(" ", "")
    assert value not in masked and compact not in masked.replace(" ", "")
    assert masked_fields(kind, value) == {"value_masked": masked, "value": None}
    assert masked_fields(kind, value, show_values=True) == {"value_masked": masked, "value": value}


# ---- summary and terminal ----------------------------------------------------------------------------


def test_summary_counts_the_sample_audit(sample):
    s = summarize(sample.report.images)
    assert (s.images, s.private, s.public, s.unknown, s.failed, s.with_errors) == (8, 6, 1, 0, 1, 1)
    assert s.attributes["a19_name_full"] == 3  # card holder, letter sender, ID card
    assert s.attributes["a9_face_complete"] == 2  # astronaut and the ID card photo
    assert "a1_age_approx" not in s.attributes  # 0.31 is below the presence threshold
    assert sum(s.risk_levels.values()) == 8 and s.risk_levels["failed"] == 1
    order = sort_by_risk(sample.report.images)
    assert order[-1].path == "not_a_photo.jpg" and risk_level(order[-1]) == "failed"
    scores = [r.privacy_score for r in order[:-1]]
    assert scores == sorted(scores, reverse=True)


def test_terminal_table_prints_names_as_text_and_no_values(sample):
    markup_name = "[bold red]boom[/bold red].jpg"
    extra = ImageRecord(path=markup_name, errors=[ErrorModel(kind="empty", message="file is empty")])
    report = Report(header=sample.report.header, images=[*sample.report.images, extra])
    console = Console(record=True, width=200, color_system=None)
    print_summary(report, console, limit=50)
    out = console.export_text()
    assert markup_name in out  # printed literally, not interpreted as rich markup
    assert XSS_NAME in out
    assert "credit_card.png" in out and "Credit Card 0.98" in out
    for secret in sample.secrets:
        assert secret not in out
    assert summary_line(report) in out
    assert summary_line(report).startswith("9 images: 6 private, 1 public, 0 unknown, 2 not analysed")


def test_terminal_table_is_limited(sample):
    console = Console(record=True, width=200, color_system=None)
    print_summary(sample.report, console, limit=3)
    out = console.export_text()
    assert "5 more in the report files" in out
    assert "coffee.jpg" not in out  # lowest risk, cut


def test_report_to_json_is_the_final_json(sample):
    text = report_to_json(sample.report)
    data = json.loads(text)
    assert data["summary"]["images"] == 8
    assert [r["path"] for r in data["images"]] == [r.path for r in sample.report.images]


def test_terminal_table_folds_metadata_on_narrow_consoles(sample):
    wide = Console(record=True, width=160, color_system=None)
    print_summary(sample.report, wide)
    assert "┃ metadata" in wide.export_text()
    narrow = Console(record=True, width=80, color_system=None)
    print_summary(sample.report, narrow)
    out = narrow.export_text()
    assert "┃ metadata" not in out
    assert "metadata: gps position" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_report_files_are_private_to_their_owner(sample, tmp_path):
    with RecordWriter(tmp_path / "records.jsonl") as writer:
        writer.write(sample.report.images[0])
    write_report_json(sample.report, tmp_path / "report.json")
    for name in ("records.jsonl", "report.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
