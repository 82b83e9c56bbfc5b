"""Reports for a whole library: bounded page, complete JSON files, and a 5,000-record page in Chromium.

The records are generated (a library's worth of real audits would take hours here) but are real
ImageRecords with real JPEG thumbnails of distinct content, attributes from the VISPR vocabulary, regions
and masked values, as the engine writes them. Open time is printed, not asserted (no timed tests: the
figure lives in benchmarks/bench_library.py); what is asserted is what bounds it: the page size and the
number of rows with previews.
"""

from __future__ import annotations

import io
import json
import random
import time

import pytest
from PIL import Image
from report_cdp import Browser, find_chromium

from privscan import vocab
from privscan.report.html import DETAILED_ROWS, HtmlReportBuilder, render_html
from privscan.report.jsonl import RecordWriter, iter_records, read_report_json, write_report_json_stream
from privscan.report.schema import (
    AttributeResult,
    ErrorModel,
    Evidence,
    ImageRecord,
    MetadataFinding,
    RegionModel,
    Report,
    RunHeader,
)
from privscan.report.summary import sort_by_risk, summarize

N_RECORDS = 5000
CHROMIUM = find_chromium()
IDS = ["a9_face_complete", "a74_address_current_complete", "a82_date_time", "a19_name_full",
       "a104_license_plate_partial"]


def _thumb(i: int) -> bytes:
    rng = random.Random(i)
    img = Image.new("RGB", (160, 120), tuple(rng.randrange(256) for _ in range(3)))
    img.paste(tuple(rng.randrange(256) for _ in range(3)), (rng.randrange(100), rng.randrange(60), 150, 110))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def make_record(i: int) -> ImageRecord:
    rng = random.Random(i)
    path = f"/photos/{2020 + i % 6}/{i % 12:02d}/IMG_{i:05d}.jpg"
    if i % 97 == 0:
        return ImageRecord(path=path, errors=[ErrorModel(kind="truncated", message="file ends early")])
    attrs = []
    for attr_id in rng.sample(IDS, rng.randrange(0, 3)):
        a = vocab.by_id()[attr_id]
        score = round(rng.random(), 3)
        ev = Evidence(source="face:test" if "face" in attr_id else "metadata:exif", score=score,
                      value_masked="48.9, 2.3" if "address" in attr_id else None,
                      regions=[RegionModel(box=[10, 10, 60, 70])] if "face" in attr_id else [])
        attrs.append(AttributeResult(id=attr_id, name=a.name, group=a.group, score=score, evidence=[ev]))
    metadata = [MetadataFinding(kind="gps_position", attribute="a74_address_current_complete", tag="EXIF GPSInfo",
                                value_masked="48.9, 2.3")] if i % 3 == 0 else []
    risk = max([a.score for a in attrs], default=0.0)
    return ImageRecord(path=path, sha256=f"{i:064x}", size_bytes=1000 + i, width=640, height=480, format="JPEG",
                       privacy_score=risk, privacy_score_source="evidence", attributes=attrs, metadata=metadata)


def header() -> RunHeader:
    return RunHeader(privscan_version="test", started_at="2026-12-03T00:00:00+00:00", device="cpu")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """records.jsonl, report.json and report.html of 5,000 generated records, written the way the engine does."""
    out = tmp_path_factory.mktemp("library")
    page = HtmlReportBuilder(show_values=False)
    with RecordWriter(out / "records.jsonl") as writer:
        for i in range(N_RECORDS):
            record = make_record(i)
            writer.write(record)
            page.add(record, _thumb(i))
    summary = page.summary()
    write_report_json_stream(header(), summary, out / "records.jsonl", out / "report.json")
    page.write(out / "report.html", header(), summary)
    return out


def test_json_files_hold_every_record(library):
    records = list(iter_records(library / "records.jsonl"))
    assert len(records) == N_RECORDS
    report = read_report_json(library / "report.json")
    assert [r.path for r in report.images] == [r.path for r in records]
    assert report.summary == summarize(records)


def test_page_is_bounded_whatever_the_count(library):
    html = (library / "report.html").read_text(encoding="utf-8")
    size = len(html.encode())
    print(f"report.html for {N_RECORDS} records: {size / 1e6:.2f} MB")
    assert size < 20e6
    assert html.count("data:image/jpeg;base64,") == DETAILED_ROWS
    assert html.count('<tr class="rec ') == N_RECORDS  # every record is a row: detailed or compact


def test_builder_keeps_the_riskiest_with_previews_and_counts_the_rest():
    records = [make_record(i) for i in range(300)]
    page = HtmlReportBuilder(show_values=False, detailed=10, listed=50)
    for r in records:
        page.add(r, _thumb(0))
    assert [r.path for r in page.top_records()] == [r.path for r in sort_by_risk(records)[:10]]
    html = page.render(header())
    assert html.count('<tr class="rec ') == 60 and "240 more (" in html
    # the same page as render_html of the in-memory report, and the same summary as summarize
    report = Report(header=header(), images=records)
    assert render_html(report, thumbnails={r.path: _thumb(0) for r in records}, detailed=10, listed=50) == html
    assert page.summary() == summarize(records)


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="chromium not found (Debian package `chromium`)")
def test_5k_record_page_opens_and_filters_in_chromium(library):
    with Browser(CHROMIUM, width=1280, height=900) as b:
        start = time.perf_counter()
        b.goto((library / "report.html").as_uri(), settle=0.0)
        seconds = time.perf_counter() - start
        print(f"report.html with {N_RECORDS} records: load event after {seconds:.2f} s")
        assert b.eval("document.querySelectorAll('tr.rec').length") == N_RECORDS
        assert b.eval("document.querySelectorAll('tr.rec img').length") == DETAILED_ROWS
        summary = json.loads((library / "report.json").read_text())["summary"]
        assert b.eval("document.getElementById('count-images').textContent") == str(N_RECORDS)
        # the risk filter works over detailed and compact rows alike
        b.eval("document.querySelector(\"input[name=level][value=low]\").click()")
        shown = b.eval("Array.from(document.querySelectorAll('tr.rec')).filter(r => !r.hidden).length")
        assert shown == N_RECORDS - summary["risk_levels"]["low"]
        assert [u for u in b.requests() if not u.startswith("file:")] == [] and not b.problems()
