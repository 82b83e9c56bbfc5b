"""The HTML report's markup: escaping, no network references, masking, thumbnails, verdict wording.

What a browser does with the page is tested in test_report_browser.py; these checks read the file itself.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re

import numpy as np
import pytest
from markupsafe import escape
from PIL import Image
from report_samples import XSS_NAME, XSS_OCR_TEXT, XSS_OWNER, build_sample_audit

from privscan.report.html import render_html, write_report_html
from privscan.report.schema import ImageRecord, ModelInfo, Report, Verdict
from privscan.report.summary import sort_by_risk
from privscan.report.thumbnails import redact_thumbnail, value_regions


def esc(text: str) -> str:
    """The text as jinja2's autoescape writes it."""
    return str(escape(text))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_sample_audit(tmp_path_factory.mktemp("audit") / "photos")


@pytest.fixture(scope="module")
def page(sample) -> str:
    return render_html(sample.report, thumbnails=sample.thumbnails)


def test_file_derived_strings_are_escaped(page):
    assert html.escape(XSS_NAME, quote=False) in page
    for raw in (XSS_NAME, "<img src=x", "<script>alert", "<svg onload", "onerror=alert(1)>"):
        assert raw not in page
    assert esc(XSS_OWNER) in page
    # the OCR text was masked, and its masked form is escaped as well
    assert "alert(2)" not in page and "&lt;s*****&gt;" in page
    assert XSS_OCR_TEXT not in page


def test_page_references_nothing_outside_itself(page):
    assert page.count("<script") == 1 and "<script src" not in page
    assert not re.search(r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:|//|file:)""", page, re.I)
    for needle in ("@import", "@font-face", "url(", "<link", "<iframe", "<object", "<embed"):
        assert needle not in page
    srcs = re.findall(r'<img src="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/jpeg;base64,") for s in srcs)


def test_content_security_policy_pins_the_inline_script(page):
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in csp and "img-src data:" in csp
    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp


def test_values_are_masked_unless_asked(sample, page, tmp_path):
    for secret in sample.secrets:
        assert esc(secret) not in page and secret not in page, secret
    for masked in sample.masked:
        assert esc(masked) in page, masked
    assert 'id="values-banner"' in page and "Detected values are masked" in page

    clear = build_sample_audit(tmp_path / "photos", show_values=True)
    clear_page = render_html(clear.report, thumbnails=clear.thumbnails)
    assert "This report shows detected values in clear" in clear_page
    for secret in ("4539 1488 0343 6467", "Johanna Whitfield", "SN-4471-0932"):
        assert esc(secret) in clear_page


def test_rows_are_sorted_by_risk_and_errors_are_one_line_rows(sample, page):
    paths = [html.unescape(p) for p in re.findall(r'<span class="path" title="([^"]*)">', page)]
    assert paths == [r.path for r in sort_by_risk(sample.report.images)]
    assert paths[-1] == "not_a_photo.jpg"
    failed = re.search(r'<tr class="rec failed[^>]*>(.*?)</tr>', page, re.S).group(1)
    assert failed.count("<td") == 1 and "not-an-image: not an image (text file)" in failed


def test_verdict_says_why_p_private_is_missing_and_shows_a_real_one(sample):
    page = render_html(sample.report, thumbnails={})
    assert "p_private: n/a — no DRAG weights" in page
    assert not re.search(r'class="p">\d', page)  # no number where no model produced one

    header = sample.report.header.model_copy(
        update={"models": [ModelInfo(name="drag", kind="classifier", status="loaded", weights_sha256="ab" * 32)]}
    )
    scored = ImageRecord(
        path="scored.jpg", width=100, height=80, verdict=Verdict(label="private", p_private=0.913, source="drag")
    )
    unscored = ImageRecord(path="unscored.jpg", width=100, height=80, verdict=Verdict(label="unknown", source="drag"))
    page = render_html(Report(header=header, images=[scored, unscored]))
    assert 'p_private <span class="p">0.91</span> (drag)' in page
    assert "p_private: n/a — no classifier score for this image" in page


def test_record_without_thumbnail_still_renders(sample):
    page = render_html(sample.report, thumbnails={})
    assert "<img" not in page
    assert page.count("no preview") == len(sample.report.images) - 1  # the failed record has no preview cell
    assert page.count('<svg class="overlay"') == 5  # regions still drawn, on a blank box of the image's shape


def test_overlays_use_the_oriented_image_coordinates(sample, page):
    card = next(r for r in sample.report.images if r.path == "credit_card.png")
    svg = re.search(r'alt="preview of credit_card.png">\s*<svg class="overlay" viewBox="([^"]+)"', page).group(1)
    assert svg == f"0 0 {card.width} {card.height}"
    astro = re.search(r"preview of astronaut.jpg.*?</svg>", page, re.S).group(0)
    assert '<ellipse class="g-personal-description" cx="245" cy="127.5" rx="85" ry="97.5">' in astro


def _region_std(jpeg: bytes, box: list[float], record: ImageRecord) -> float:
    img = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float64)
    sx, sy = img.shape[1] / record.width, img.shape[0] / record.height
    x0, y0, x1, y1 = (int(box[0] * sx) + 1, int(box[1] * sy) + 1, int(box[2] * sx) - 1, int(box[3] * sy) - 1)
    return float(img[y0:y1, x0:x1].std())


def test_thumbnails_hide_the_pixels_of_detected_values(sample):
    """The card number is legible in a 256 px thumbnail; the report's copy has it painted over."""
    card = next(r for r in sample.report.images if r.path == "credit_card.png")
    original = sample.thumbnails[card.path]
    redacted = redact_thumbnail(original, card)
    number_box = card.attributes[0].evidence[0].regions[0].box
    assert number_box in value_regions(card)
    assert _region_std(original, number_box, card) > 25  # white digits on dark blue
    assert _region_std(redacted, number_box, card) < 4  # one flat colour (plus JPEG noise)
    coffee = next(r for r in sample.report.images if r.path == "coffee.jpg")
    assert redact_thumbnail(sample.thumbnails[coffee.path], coffee) == sample.thumbnails[coffee.path]
    assert redact_thumbnail(b"not an image", card) is None


def test_write_report_html_is_atomic_and_complete(sample, tmp_path):
    path = tmp_path / "report.html"
    path.write_text("old", encoding="utf-8")
    write_report_html(sample.report, path, thumbnails=sample.thumbnails)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert not list(tmp_path.glob("*.part"))


def test_run_details_name_models_and_timings(page):
    models = re.search(r'<table class="models" id="models">(.*?)</table>', page, re.S).group(1)
    assert "<td>drag</td><td>classifier</td><td>missing</td>" in models
    assert "no DRAG weights: privscan train drag" in models
    timings = re.search(r'<dl class="options" id="timings">(.*?)</dl>', page, re.S).group(1)
    assert "<dt>total</dt><dd>7.00 s</dd>" in timings
    assert "<dt>images per second</dt><dd>1.37</dd>" in timings


def test_paths_are_shown_relative_to_their_common_folder(sample):
    header = sample.report.header
    records = [
        ImageRecord(path="/home/ana/Photos/2023/beach.jpg", width=10, height=10),
        ImageRecord(path="/home/ana/Photos/2024/trip/<img src=x>.jpg", width=10, height=10),
    ]
    page = render_html(Report(header=header, images=records))
    assert '<p class="note" id="root">Paths relative to <code>/home/ana/Photos</code></p>' in page
    assert '<span class="dir">2023/</span>beach.jpg</span>' in page
    assert '<span class="dir">2024/trip/</span>&lt;img src=x&gt;.jpg</span>' in page
    assert 'title="/home/ana/Photos/2023/beach.jpg"' in page


def test_bidi_and_control_characters_in_names_are_shown_escaped(sample):
    """A right-to-left override in a file name would make "photo\u202egpj.exe" read as "photoexe.jpg" on the
    page; the shown folder and name carry the escape instead of the character."""
    hostile = ImageRecord(path="trips/photo\u202egpj.exe\x1b[2J.jpg", width=10, height=10)
    page = render_html(Report(header=sample.report.header, images=[hostile]))
    shown = re.sub(r'"[^"]*"', '""', page)  # attribute values (title, data-path) are not rendered as text
    assert "\u202e" not in shown and "\x1b" not in shown
    assert "photo\\u202egpj.exe" in page
