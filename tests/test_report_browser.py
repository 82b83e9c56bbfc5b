"""The HTML report in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

Checks what a user sees: the rows, counts and masked values in the DOM, filters and region toggles that
work, overlays placed on the thumbnails where the regions are, a table that reads with JavaScript off,
no network request at all, and a file named like markup that shows as text and runs nothing (a JavaScript
dialog would be reported by the browser itself; a control page proves the harness sees one). Screenshots
go to out/test-artifacts/.
"""

from __future__ import annotations

import json

import pytest
from report_cdp import Browser, find_chromium
from report_samples import XSS_NAME, build_sample_audit

from privscan.report.html import write_report_html
from privscan.report.summary import sort_by_risk

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="chromium not found (/usr/bin/chromium, Debian package `chromium`; .ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_sample_audit(tmp_path_factory.mktemp("audit") / "photos")


@pytest.fixture(scope="module")
def report_url(sample, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report_html(sample.report, path, thumbnails=sample.thumbnails)
    return path.as_uri()


@pytest.fixture(scope="module")
def browser():
    b = Browser(CHROMIUM, width=1280, height=900)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture()
def page(browser, report_url) -> Browser:
    browser.call("Emulation.setScriptExecutionDisabled", value=False)
    browser.goto(report_url)
    return browser


def js(b: Browser, expression: str):
    return b.eval(expression)


def visible_paths(b: Browser) -> list[str]:
    return js(
        b,
        "Array.from(document.querySelectorAll('tr.rec')).filter(r => !r.hidden)"
        ".map(r => r.querySelector('.path').textContent)",
    )


def test_harness_sees_a_dialog_when_script_runs(browser, tmp_path):
    """Control: the same markup unescaped in a plain page does run, and the harness notices."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><p>{XSS_NAME}</p>", encoding="utf-8")
    browser.call("Emulation.setScriptExecutionDisabled", value=False)
    browser.goto(control.as_uri(), settle=0.5)
    dialogs = browser.dialogs()
    assert len(dialogs) == 1 and dialogs[0]["type"] == "alert" and dialogs[0]["message"] == "1"


def test_report_runs_nothing_injected_and_loads_nothing(page, report_url):
    assert page.dialogs() == []
    assert page.requests() == [report_url]  # the page itself; thumbnails are data: URIs
    assert page.problems() == []  # no CSP violation, no script error
    assert js(page, "document.scripts.length") == 1
    assert js(page, "document.querySelectorAll('img[src=\"x\"], [onerror], [onload]').length") == 0


def test_markup_file_name_shows_as_text(page):
    names = js(page, "Array.from(document.querySelectorAll('td.file .path')).map(e => e.textContent)")
    assert XSS_NAME in names
    owner = js(page, "Array.from(document.querySelectorAll('li.md code.val')).map(e => e.textContent)")
    assert '"><svg onload=alert(3)>' in owner


def test_rows_counts_and_order(page, sample):
    expected = [r.path for r in sort_by_risk(sample.report.images)]
    assert js(page, "Array.from(document.querySelectorAll('tr.rec .path')).map(e => e.textContent)") == expected
    assert js(page, "document.querySelectorAll('tr.rec.failed').length") == 1
    counts = js(
        page,
        "Object.fromEntries(Array.from(document.querySelectorAll('#counts dd')).map(e => [e.id, e.textContent]))",
    )
    assert counts == {
        "count-images": "8",
        "count-private": "6",
        "count-public": "1",
        "count-unknown": "0",
        "count-failed": "1",
        "count-errors": "1",
    }
    bars = js(page, "Array.from(document.querySelectorAll('#chart-attributes g.bar title')).map(e => e.textContent)")
    assert "Full Name: 3 of 8" in bars and len(bars) == 11
    assert js(page, "document.getElementById('shown').textContent") == "showing 8 of 8"


def test_values_are_masked_in_the_dom(page, sample):
    text = js(page, "document.body.innerText")
    markup = js(page, "document.documentElement.outerHTML")
    for masked in sample.masked:
        assert masked in text, masked
    for secret in sample.secrets:
        assert secret not in markup, secret
    assert "p_private: n/a — no DRAG weights" in text


def test_filters_by_risk_group_and_name(page, sample):
    page.eval("document.querySelector('input[name=level][value=high]').click()")
    assert visible_paths(page) == ["<img src=x onerror=alert(1)>.jpg", "coffee.jpg", "not_a_photo.jpg"]
    page.eval("document.querySelector('input[name=level][value=high]').click()")
    page.eval("document.querySelector('input[name=group][value=documents]').click()")
    assert visible_paths(page) == ["credit_card.png", "id_card.jpg"]
    page.eval("document.querySelector('input[name=group][value=whereabouts]').click()")
    # documents or whereabouts (GPS in EXIF, address, landmark text), still in risk order
    assert visible_paths(page) == ["credit_card.png", "id_card.jpg", "letter.jpg", "chelsea_gps.jpg", XSS_NAME]
    page.eval("const s = document.getElementById('search'); s.value = 'LETTER'; s.dispatchEvent(new Event('input'))")
    assert visible_paths(page) == ["letter.jpg"]
    assert js(page, "document.getElementById('shown').textContent") == "showing 1 of 8"


def test_sort_by_path(page, sample):
    page.eval(
        "const s = document.getElementById('sort'); s.value = 'path';"
        "s.dispatchEvent(new Event('change', {bubbles: true}))"
    )
    assert visible_paths(page) == sorted((r.path for r in sample.report.images), key=str.lower)


def test_regions_sit_on_the_thumbnail_and_toggle(page, sample):
    astro = next(r for r in sample.report.images if r.path == "astronaut.jpg")
    box = astro.attributes[0].evidence[0].regions[0].box
    geometry = js(
        page,
        """(() => {
          const img = document.querySelector('img[alt="preview of astronaut.jpg"]');
          const e = img.parentElement.querySelector('svg.overlay ellipse').getBoundingClientRect();
          const i = img.getBoundingClientRect();
          return {iw: i.width, ih: i.height, x0: e.left - i.left, y0: e.top - i.top, x1: e.right - i.left,
                  y1: e.bottom - i.top};
        })()""",
    )
    sx, sy = geometry["iw"] / astro.width, geometry["ih"] / astro.height
    # the stroke (2 px, non-scaling) widens the painted box by about 1 px on each side
    for got, want in zip(
        (geometry["x0"], geometry["y0"], geometry["x1"], geometry["y1"]),
        (box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy),
        strict=True,
    ):
        assert abs(got - want) <= 2.5, geometry
    shown = (
        "Array.from(document.querySelectorAll('svg.overlay'))"
        ".filter(s => getComputedStyle(s).display !== 'none').length"
    )
    assert js(page, shown) == 5
    page.eval("document.getElementById('show-regions').click()")
    assert js(page, shown) == 0
    page.eval("document.getElementById('show-regions').click()")
    page.eval("document.querySelector('img[alt=\"preview of astronaut.jpg\"]').parentElement.click()")
    assert js(page, shown) == 4


def test_screenshot(page, artifacts_dir):
    shot = page.screenshot(artifacts_dir / "report.png")
    assert shot.stat().st_size > 50_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_reads_with_javascript_off(browser, report_url, sample, artifacts_dir):
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.goto(report_url)
        state = json.loads(
            browser.eval(
                """JSON.stringify({
                  rows: Array.from(document.querySelectorAll('tr.rec')).map(r => [
                    r.querySelector('.path').textContent, r.getBoundingClientRect().height > 0]),
                  controls: getComputedStyle(document.getElementById('controls')).display,
                  shown: document.getElementById('shown').textContent,
                  text: document.body.innerText})"""
            )
        )
        browser.screenshot(artifacts_dir / "report-nojs.png")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)
    assert state["rows"] == [[r.path, True] for r in sort_by_risk(sample.report.images)]
    assert state["controls"] == "none"  # filters need the script: hidden, not broken
    assert state["shown"] == ""  # proves the script really did not run
    assert "**** 6467" in state["text"]
    assert browser.dialogs() == []
