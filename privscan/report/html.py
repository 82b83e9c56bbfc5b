"""The self-contained HTML report: one file, no network, readable with JavaScript off.

Everything the page needs is inside it: CSS and JS inline, thumbnails as data URIs, charts as inline SVG.
Rows are rendered on the server side in risk order, so the table is complete without JavaScript; the
script only adds filters, sorting and the region toggle.

A page for a whole library must still open: `HtmlReportBuilder` takes records one at a time and keeps only
the `DETAILED_ROWS` riskiest with their previews and the next `LISTED_ROWS` as compact one-line rows (no
preview); the rest are counted per risk level (they are in records.jsonl and report.json). Its memory and
the page size are bounded by those two numbers, not by the number of images.

Every string that comes from a file (paths, EXIF text, OCR values) goes through jinja2's autoescape, and a
Content-Security-Policy allows no network and runs only the report's own script (pinned by its sha256),
so even a markup slip could not run code.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from privscan.io.atomic import atomic_write_text
from privscan.io.names import printable
from privscan.report.schema import SCHEMA_VERSION, ImageRecord, ModelInfo, RegionModel, Report, RunHeader, Summary
from privscan.report.summary import (
    HIGH_RISK,
    MEDIUM_RISK,
    PRESENT_THRESHOLD,
    RISK_LEVELS,
    SummaryBuilder,
    present_attributes,
    risk_key,
    risk_level,
    risk_of,
)
from privscan.report.thumbnails import redact_thumbnail
from privscan.vocab import by_id, groups

#: one colour per VISPR attribute group (overlays, dots, chart bars)
GROUP_COLOURS: dict[str, str] = {
    "Safe": "#6b7280",
    "Personal Description": "#e11d48",
    "Documents": "#d97706",
    "Health": "#059669",
    "Employment": "#0891b2",
    "Personal Life": "#7c3aed",
    "Relationship": "#db2777",
    "Whereabouts": "#2563eb",
    "Internet": "#0d9488",
    "Automobile": "#65a30d",
}
LEVEL_COLOURS = {"high": "#dc2626", "medium": "#d97706", "low": "#16a34a", "n/a": "#6b7280", "failed": "#6b7280"}
TOP_ATTRIBUTES_IN_CHART = 12
HISTOGRAM_BINS = 10
#: records shown in full, with preview and overlays (about 35 KB of page each with 320 px thumbnails)
DETAILED_ROWS = 100
#: records after those shown as one compact line each (about 0.3 KB each); the rest are counted only
LISTED_ROWS = 20_000
#: attribute names a compact row spells out
COMPACT_ATTRIBUTES = 3
#: compact rows per table chunk: the browser lays out (and skips while off screen) one chunk at a time,
#: which made a 5,000-record page open about 4x faster than one table of all rows (measured in Chromium)
COMPACT_CHUNK = 250
#: the same column widths in the detailed table and every chunk (fixed table layout: no whole-table pass)
COLGROUP = Markup(
    '<colgroup><col style="width:172px"><col style="width:24%"><col style="width:13%"><col style="width:10%">'
    "<col><col style=\"width:20%\"></colgroup>"
)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


# ---- view models: what the template shows, already formatted ---------------------------------------


@dataclass
class ShapeView:
    tag: str  # rect | ellipse | polygon
    attrs: dict[str, str]
    group: str
    label: str
    dashed: bool = False


@dataclass
class ValueView:
    text: str
    clear: bool  # True when it is the unmasked value (--show-values)


@dataclass
class AttributeView:
    id: str
    name: str
    group: str
    group_slug: str
    score: str
    sources: list[str]
    values: list[ValueView]


@dataclass
class MetadataView:
    kind: str
    tag: str
    attribute: str | None
    value: ValueView | None


@dataclass
class RowView:
    index: int
    path: str
    path_dir: str  # folder part shown, relative to the common folder of all records
    path_name: str
    failed: bool
    level: str
    risk: str | None
    risk_source: str | None
    risk_source_full: str | None
    group_slugs: list[str]
    details: list[str]
    sha256: str | None
    verdict_label: str
    p_private: str | None
    p_source: str | None
    p_missing: str | None
    p_missing_full: str | None
    thumbnail: str | None
    width: int | None
    height: int | None
    shapes: list[ShapeView]
    attributes: list[AttributeView]
    weak_attributes: list[AttributeView]
    metadata: list[MetadataView]
    errors: list[str]
    cached: bool


@dataclass(slots=True)
class CompactView:
    """One line for a record below the detailed rows: no preview, the few facts a user scans for."""

    index: int
    path: str
    path_dir: str
    path_name: str
    failed: bool
    level: str
    risk: str | None
    verdict_label: str
    group_slugs: list[str]
    attributes: list[tuple[str, str]]  # (group slug, name)
    more_attributes: int
    metadata_kinds: list[str]
    errors: list[str]


@dataclass(slots=True)
class _Compact:
    """What the builder keeps of a compact row until the page is rendered (its index and folder come then)."""

    path: str
    failed: bool
    level: str
    risk: str | None
    verdict_label: str
    group_slugs: list[str]
    attributes: list[tuple[str, str]]
    more_attributes: int
    metadata_kinds: list[str]
    errors: list[str]


@dataclass
class BarView:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class ChartView:
    width: int
    height: int
    bars: list[BarView] = field(default_factory=list)
    ticks: list[tuple[float, str]] = field(default_factory=list)
    note: str = ""


# ---- building the views ------------------------------------------------------------------------------


def _fmt_score(x: float) -> str:
    return f"{x:.2f}"


def _fmt_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _image_mime(data: bytes) -> str | None:
    """Only real image bytes become data URIs; anything else is left out."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _data_uri(data: bytes | None) -> str | None:
    if not data:
        return None
    mime = _image_mime(data)
    if mime is None:
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _shape(region: RegionModel, group: str, label: str) -> ShapeView:
    x0, y0, x1, y1 = region.box
    x0, x1 = min(x0, x1), max(x0, x1)
    y0, y1 = min(y0, y1), max(y0, y1)
    g = slug(group)
    if region.shape == "ellipse":
        attrs = {
            "cx": _num((x0 + x1) / 2),
            "cy": _num((y0 + y1) / 2),
            "rx": _num((x1 - x0) / 2),
            "ry": _num((y1 - y0) / 2),
        }
        return ShapeView("ellipse", attrs, g, label)
    if region.shape == "polygon" and region.polygon and len(region.polygon) >= 3:
        points = " ".join(f"{_num(p[0])},{_num(p[1])}" for p in region.polygon if len(p) >= 2)
        return ShapeView("polygon", {"points": points}, g, label)
    attrs = {"x": _num(x0), "y": _num(y0), "width": _num(x1 - x0), "height": _num(y1 - y0)}
    return ShapeView("rect", attrs, g, label, dashed=region.shape == "mask")


def _value(value_masked: str | None, value: str | None, show_values: bool) -> ValueView | None:
    if show_values and value:
        return ValueView(value, clear=True)
    if value_masked:
        return ValueView(value_masked, clear=False)
    return None


def _thumbnail(record: ImageRecord, data: bytes | None, show_values: bool) -> bytes | None:
    if not data or show_values:
        return data
    return redact_thumbnail(data, record)


def _short(text: str | None) -> str | None:
    """The head of a long note ("no DRAG weights: label from ..." -> "no DRAG weights"); the rest goes to a tooltip."""
    if not text:
        return text
    for sep in (": ", " ("):
        if sep in text:
            return text.split(sep, 1)[0]
    return text


def _split_path(path: str, root: str) -> tuple[str, str]:
    """(folder, name) as shown on the page: control and bidi characters escaped (`printable`), so a
    right-to-left override in a hostile file name cannot reorder what the row says."""
    rel = path[len(root) :].lstrip("/\\") if root and path.startswith(root) else path
    folder, sep, name = rel.replace("\\", "/").rpartition("/")
    return (printable(folder + sep), printable(name)) if sep else ("", printable(rel))


def _missing_p_reason(header: RunHeader) -> str:
    """Why no model produced p_private, from the run's model list (never a guessed number)."""
    drag = [m for m in header.models if "drag" in m.name.lower()]
    if drag and all(m.status != "loaded" for m in drag):
        m = drag[0]
        return "no DRAG weights" if m.status == "missing" else f"DRAG {m.status}"
    if not drag:
        return "no DRAG model in this run"
    return "no classifier score for this image"


def _row(index: int, record: ImageRecord, header: RunHeader, thumbnail: bytes | None, root: str) -> RowView:
    show = header.show_values
    attrs: list[AttributeView] = []
    weak: list[AttributeView] = []
    shapes: list[ShapeView] = []
    present_ids = {a.id for a in present_attributes(record)}
    ordered = present_attributes(record) + sorted(
        (a for a in record.attributes if a.id not in present_ids), key=lambda a: -a.score
    )
    for a in ordered:
        values = [shown for e in a.evidence if (shown := _value(e.value_masked, e.value, show)) is not None]
        view = AttributeView(
            id=a.id,
            name=a.name,
            group=a.group,
            group_slug=slug(a.group),
            score=_fmt_score(a.score),
            sources=a.sources,
            values=values,
        )
        if a.id in present_ids:
            attrs.append(view)
            shapes.extend(_shape(r, a.group, f"{a.name} {view.score}") for r in a.regions)
        else:
            weak.append(view)
    metadata = [
        MetadataView(
            kind=m.kind.replace("_", " "),
            tag=m.tag,
            attribute=by_id()[m.attribute].name if m.attribute in by_id() else m.attribute,
            value=_value(m.value_masked, m.value, show),
        )
        for m in record.metadata
    ]
    details = []
    if record.width and record.height:
        details.append(f"{record.width}×{record.height}")
    if record.format:
        details.append(record.format)
    if record.size_bytes is not None:
        details.append(_fmt_bytes(record.size_bytes))
    v = record.verdict
    risk = risk_of(record)
    risk_source: str | None
    if record.privacy_score is not None:
        risk_source = record.privacy_score_source or "privacy score"
    else:
        risk_source = "p_private" if risk is not None else None
    group_slugs = sorted({slug(a.group) for a in present_attributes(record)})
    p_missing = None
    if v is None or v.p_private is None:
        p_missing = v.note if v is not None and v.note else _missing_p_reason(header)
    path_dir, path_name = _split_path(record.path, root)
    return RowView(
        index=index,
        path=record.path,
        path_dir=path_dir,
        path_name=path_name,
        failed=record.failed,
        level=risk_level(record),
        risk=_fmt_score(risk) if risk is not None else None,
        risk_source=_short(risk_source),
        risk_source_full=risk_source,
        group_slugs=group_slugs,
        details=details,
        sha256=record.sha256,
        verdict_label=v.label if v is not None else "unknown",
        p_private=_fmt_score(v.p_private) if v is not None and v.p_private is not None else None,
        p_source=v.source if v is not None else None,
        p_missing=_short(p_missing),
        p_missing_full=p_missing,
        thumbnail=_data_uri(thumbnail),
        width=record.width,
        height=record.height,
        shapes=shapes,
        attributes=attrs,
        weak_attributes=weak,
        metadata=metadata,
        errors=[f"{e.kind}: {e.message}" for e in record.errors],
        cached=record.cached,
    )


def _attribute_chart(counts: Mapping[str, int], images: int) -> ChartView:
    top = list(counts.items())[:TOP_ATTRIBUTES_IN_CHART]
    label_w, bar_w, row_h = 190, 230, 20
    chart = ChartView(width=label_w + bar_w + 40, height=max(1, len(top)) * row_h + 6)
    peak = max([c for _, c in top], default=1)
    for i, (attr_id, count) in enumerate(top):
        attr = by_id().get(attr_id)
        name = attr.name if attr else attr_id
        colour = GROUP_COLOURS.get(attr.group, "#6b7280") if attr else "#6b7280"
        w = bar_w * count / peak
        chart.bars.append(
            BarView(name, count, label_w, 3 + i * row_h, max(w, 1.0), row_h - 6, colour, f"{name}: {count} of {images}")
        )
    if not top:
        chart.note = "no attribute found at or above the presence threshold"
    return chart


def _risk_bin(record: ImageRecord) -> int | None:
    """The histogram bin of a record's risk; None when it has no risk figure."""
    risk = risk_of(record)
    if risk is None or record.failed:
        return None
    return min(int(risk * HISTOGRAM_BINS), HISTOGRAM_BINS - 1)


def _risk_histogram(bins: list[int], no_risk: int) -> ChartView:
    left, plot_w, plot_h, top_pad = 28, 380, 110, 14
    chart = ChartView(width=left + plot_w + 12, height=plot_h + top_pad + 24)
    peak = max(bins) or 1
    step = plot_w / HISTOGRAM_BINS
    for i, count in enumerate(bins):
        lo, hi = i / HISTOGRAM_BINS, (i + 1) / HISTOGRAM_BINS
        level = "high" if lo >= HIGH_RISK - 1e-9 else "medium" if lo >= MEDIUM_RISK - 1e-9 else "low"
        h = plot_h * count / peak
        chart.bars.append(
            BarView(
                f"{lo:.1f}–{hi:.1f}",
                count,
                left + i * step + 1,
                top_pad + plot_h - h,
                step - 2,
                h,
                LEVEL_COLOURS[level],
                f"risk {lo:.1f}–{hi:.1f}: {count}",
            )
        )
    chart.ticks = [(left + plot_w * t, f"{t:.1f}".rstrip("0").rstrip(".") or "0") for t in (0, 0.5, 1.0)]
    if no_risk:
        chart.note = f"{no_risk} without a risk figure (not analysed or no score)"
    return chart


def _timings(timings: Mapping[str, float]) -> list[tuple[str, str]]:
    """'total_s' -> ('total', '7.00 s'); keys without a unit suffix keep their plain number."""
    out = []
    for key, value in timings.items():
        if key.endswith("_s") and not key.endswith("_per_s"):
            out.append((key[:-2], f"{value:.2f} s"))
        elif key.endswith("_per_s"):
            out.append((key[:-6] + " per second", f"{value:.2f}"))
        else:
            out.append((key, f"{value:.2f}"))
    return out


def _model_rows(models: list[ModelInfo]) -> list[ModelInfo]:
    order = {"loaded": 0, "failed": 1, "missing": 2, "disabled": 3}
    return sorted(models, key=lambda m: order.get(m.status, 9))


# ---- rendering ---------------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    # autoescape=True for every template: all of them are HTML, and file-derived text must never be markup
    return Environment(
        loader=PackageLoader("privscan.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _static(name: str) -> str:
    text = resources.files("privscan.report").joinpath("static", name).read_text(encoding="utf-8")
    if "</" in text:
        raise RuntimeError(f"static/{name} must not contain '</' (it is inlined into the page)")
    return text


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def _compact(record: ImageRecord) -> _Compact:
    present = present_attributes(record)
    risk = risk_of(record)
    return _Compact(
        path=record.path,
        failed=record.failed,
        level=risk_level(record),
        risk=_fmt_score(risk) if risk is not None else None,
        verdict_label=record.verdict.label if record.verdict is not None else "unknown",
        group_slugs=sorted({slug(a.group) for a in present}),
        attributes=[(slug(a.group), a.name) for a in present[:COMPACT_ATTRIBUTES]],
        more_attributes=max(0, len(present) - COMPACT_ATTRIBUTES),
        metadata_kinds=list(dict.fromkeys(m.kind.replace("_", " ") for m in record.metadata)),
        errors=[f"{e.kind}: {e.message}" for e in record.errors],
    )


@dataclass
class _Kept:
    """A heap entry: heap[0] is the kept record that sorts last in the report, the first to give way."""

    key: tuple[int, float, str]
    seq: int
    payload: Any

    def __lt__(self, other: _Kept) -> bool:
        return (self.key, self.seq) > (other.key, other.seq)


def _keep(heap: list[_Kept], entry: _Kept, limit: int) -> _Kept | None:
    """Keep the `limit` entries that sort first; return the one that gave way (maybe `entry`), if any."""
    if limit <= 0:
        return entry
    if len(heap) < limit:
        heapq.heappush(heap, entry)
        return None
    if (entry.key, entry.seq) < (heap[0].key, heap[0].seq):
        return heapq.heapreplace(heap, entry)
    return entry


class HtmlReportBuilder:
    """Collects records one by one (any number) and renders the page; memory bounded by the row limits."""

    def __init__(self, *, show_values: bool, detailed: int = DETAILED_ROWS, listed: int = LISTED_ROWS) -> None:
        self.show_values = show_values
        self.detailed_limit, self.listed_limit = detailed, listed
        self._summary = SummaryBuilder()
        self._detailed: list[_Kept] = []
        self._listed: list[_Kept] = []
        self._omitted: Counter[str] = Counter()
        self._bins = [0] * HISTOGRAM_BINS
        self._no_risk = 0
        self._root: str | None = None
        self._seq = itertools.count()

    def add(self, record: ImageRecord, thumbnail: bytes | None = None) -> None:
        self._summary.add(record)
        b = _risk_bin(record)
        if b is None:
            self._no_risk += 1
        else:
            self._bins[b] += 1
        folder = os.path.dirname(record.path)
        if self._root is None:
            self._root = folder
        elif self._root:
            try:
                self._root = os.path.commonpath([self._root, folder])
            except ValueError:  # absolute and relative paths mixed
                self._root = ""
        entry = _Kept(risk_key(record), next(self._seq), (record, thumbnail))
        out = _keep(self._detailed, entry, self.detailed_limit)
        if out is None:
            return
        out.payload = _compact(out.payload[0])
        dropped = _keep(self._listed, out, self.listed_limit)
        if dropped is not None:
            self._omitted[dropped.payload.level] += 1

    def summary(self) -> Summary:
        """The counts over every record added so far."""
        return self._summary.summary()

    def top_records(self) -> list[ImageRecord]:
        """The detailed rows' records, in report order (the riskiest of the run)."""
        return [e.payload[0] for e in sorted(self._detailed, key=lambda e: (e.key, e.seq))]

    def render(self, header: RunHeader, summary: Summary | None = None) -> str:
        summary = summary or self._summary.summary()
        root = self._root or ""
        rows = []
        for i, e in enumerate(sorted(self._detailed, key=lambda e: (e.key, e.seq))):
            record, thumb = e.payload
            rows.append(_row(i, record, header, _thumbnail(record, thumb, header.show_values), root))
        compact = []
        for i, e in enumerate(sorted(self._listed, key=lambda e: (e.key, e.seq)), start=len(rows)):
            c: _Compact = e.payload
            path_dir, path_name = _split_path(c.path, root)
            compact.append(
                CompactView(
                    i, c.path, path_dir, path_name, c.failed, c.level, c.risk, c.verdict_label, c.group_slugs,
                    c.attributes, c.more_attributes, c.metadata_kinds, c.errors,
                )
            )
        omitted = [(lvl, self._omitted[lvl]) for lvl in RISK_LEVELS if self._omitted[lvl]]
        return _render_page(header, summary, rows, compact, omitted, root, _risk_histogram(self._bins, self._no_risk))

    def write(self, path: str | os.PathLike[str], header: RunHeader, summary: Summary | None = None) -> None:
        """Write the page atomically."""
        atomic_write_text(path, self.render(header, summary))


def _render_page(
    header: RunHeader,
    summary: Summary,
    rows: list[RowView],
    compact: list[CompactView],
    omitted: list[tuple[str, int]],
    root: str,
    risk_chart: ChartView,
) -> str:
    order = {g: i for i, g in enumerate(groups())}
    present_groups = sorted(
        {by_id()[a].group for a in summary.attributes if a in by_id()}, key=lambda g: (order.get(g, 99), g)
    )
    script = _static("report.js")
    options = {k: json.dumps(v, ensure_ascii=False, default=str) for k, v in header.options.items()}
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            header=header,
            summary=summary,
            rows=rows,
            compact_rows=compact,
            compact_chunk=COMPACT_CHUNK,
            colgroup=COLGROUP,
            omitted=omitted,
            omitted_total=sum(n for _, n in omitted),
            root=root,
            options=options,
            models=_model_rows(header.models),
            timings=_timings(header.timings),
            group_filters=[(slug(g), g, GROUP_COLOURS.get(g, "#6b7280")) for g in present_groups],
            level_filters=[(lvl, summary.risk_levels.get(lvl, 0)) for lvl in RISK_LEVELS],
            group_colours={slug(g): c for g, c in GROUP_COLOURS.items()},
            level_colours={slug(k): c for k, c in LEVEL_COLOURS.items()},
            attribute_chart=_attribute_chart(summary.attributes, summary.images),
            risk_chart=risk_chart,
            present_threshold=_fmt_score(PRESENT_THRESHOLD),
            schema_version=SCHEMA_VERSION,
            css=Markup(_static("report.css")),
            script=Markup(script),
            csp=_csp(script),
            slug=slug,
        )
    )


def render_html(
    report: Report,
    *,
    thumbnails: Mapping[str, bytes] | None = None,
    detailed: int = DETAILED_ROWS,
    listed: int = LISTED_ROWS,
) -> str:
    """The report page of an in-memory report as one HTML string (see HtmlReportBuilder for a stream)."""
    thumbnails = thumbnails or {}
    builder = HtmlReportBuilder(show_values=report.header.show_values, detailed=detailed, listed=listed)
    for record in report.images:
        builder.add(record, thumbnails.get(record.path))
    return builder.render(report.header, report.summary)


def write_report_html(
    report: Report, path: str | os.PathLike[str], *, thumbnails: Mapping[str, bytes] | None = None
) -> None:
    """Write the report page atomically. `thumbnails` maps ImageRecord.path to small JPEG/PNG bytes."""
    atomic_write_text(path, render_html(report, thumbnails=thumbnails))
