"""What `privscan audit` prints at the end: a rich table of the riskiest images and a one-line summary.

File names and other file-derived strings go into rich `Text` objects, never into markup strings, so a file
called "[red]x[/red].jpg" prints as itself, and through privscan.io.names.printable, so control and bidi
characters in a name (clear screen, cursor moves, right-to-left override) show as escapes instead of
rewriting the table. Detected values are not printed at all (terminal scrollback
is a leak of its own); the reports hold them, masked.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from privscan.io.names import printable
from privscan.report.schema import ImageRecord, Report, Summary
from privscan.report.summary import present_attributes, risk_level, risk_of, sort_by_risk, summarize

LEVEL_STYLES = {"high": "bold red", "medium": "yellow", "low": "green", "n/a": "dim", "failed": "dim red"}
VERDICT_STYLES = {"private": "red", "public": "green", "unknown": "dim"}
MAX_ATTRIBUTES_SHOWN = 4


def _risk_cell(record: ImageRecord) -> Text:
    level = risk_level(record)
    risk = risk_of(record)
    text = Text(level, style=LEVEL_STYLES.get(level, ""))
    if risk is not None:
        text.append(f" {risk:.2f}")
    return text


def _verdict_cell(record: ImageRecord) -> Text:
    v = record.verdict
    if record.failed or v is None:
        return Text("—", style="dim")
    text = Text(v.label, style=VERDICT_STYLES.get(v.label, ""))
    if v.p_private is not None:
        text.append(f" p={v.p_private:.2f}", style="dim")
    return text


def _found_cell(record: ImageRecord) -> Text:
    if record.failed:
        return Text(printable("; ".join(f"{e.kind}: {e.message}" for e in record.errors)), style="red")
    found = present_attributes(record)
    text = Text()
    for i, a in enumerate(found[:MAX_ATTRIBUTES_SHOWN]):
        if i:
            text.append(", ")
        text.append(a.name)
        text.append(f" {a.score:.2f}", style="dim")
    if len(found) > MAX_ATTRIBUTES_SHOWN:
        text.append(f" +{len(found) - MAX_ATTRIBUTES_SHOWN} more", style="dim")
    if record.errors:
        text.append(f"{' ' if found else ''}({len(record.errors)} error{'s' * (len(record.errors) > 1)})", style="red")
    if not text.plain:
        text.append("none", style="dim")
    return text


def _metadata_cell(record: ImageRecord) -> Text:
    kinds = list(dict.fromkeys(m.kind.replace("_", " ") for m in record.metadata))
    return Text(printable(", ".join(kinds))) if kinds else Text("—", style="dim")


#: below this console width the metadata column folds into the "found" column
COMPACT_WIDTH = 110


def summary_table(report: Report, *, limit: int = 20, width: int | None = None) -> Table:
    """The `limit` riskiest records (failed ones included at the end when room is left).

    `width` is the console width: narrow consoles get four columns, metadata kinds joining "found".
    """
    records = sort_by_risk(report.images)
    compact = width is not None and width < COMPACT_WIDTH
    table = Table(title="privscan audit", title_justify="left", show_lines=False, expand=False)
    table.add_column("risk", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("file", overflow="fold")
    table.add_column("found", overflow="fold")
    if not compact:
        table.add_column("metadata", overflow="fold")
    for record in records[:limit]:
        found = _found_cell(record)
        cells = [_risk_cell(record), _verdict_cell(record), Text(printable(record.path)), found]
        if compact:
            if record.metadata:
                found.append("; metadata: ", style="dim")
                found.append_text(_metadata_cell(record))
        else:
            cells.append(_metadata_cell(record))
        table.add_row(*cells)
    total = report.summary.images if report.summary is not None else len(records)  # images may be the top few
    if total > limit:
        table.caption = f"{total - min(limit, len(records))} more in the report files"
    return table


def summary_line(report: Report | Summary) -> str:
    """'8 images: 6 private, 1 public, 0 unknown, 1 not analysed; risk: 5 high, 1 medium, 1 low'."""
    s = report if isinstance(report, Summary) else (report.summary or summarize(report.images))
    parts = [f"{s.private} private", f"{s.public} public", f"{s.unknown} unknown"]
    if s.failed:
        parts.append(f"{s.failed} not analysed")
    line = f"{s.images} image{'s' * (s.images != 1)}: " + ", ".join(parts)
    levels = [f"{s.risk_levels[k]} {k}" for k in ("high", "medium", "low") if s.risk_levels.get(k)]
    if levels:
        line += "; risk: " + ", ".join(levels)
    if s.with_errors:
        line += f"; {s.with_errors} with errors"
    return line


def print_summary(report: Report, console: Console, *, limit: int = 20) -> None:
    """The table, then the summary line (as plain text: it holds no markup)."""
    console.print(summary_table(report, limit=limit, width=console.width))
    console.print(Text(summary_line(report)))
