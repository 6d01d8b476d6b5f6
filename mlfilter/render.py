"""Report -> text, like a compiler: `error[MF201]: message`, the filter, a caret line under the
span, then `= help:`. Pure functions; colour only when asked (the CLI asks on a terminal without
NO_COLOR)."""

from __future__ import annotations

import unicodedata

from mlfilter.versions import BACKEND_NAMES
from mlfilter.diagnostics import Report, Severity

_COLORS = {Severity.ERROR: "\x1b[1;31m", Severity.WARNING: "\x1b[1;33m", Severity.INFO: "\x1b[1;36m"}
_BOLD, _BLUE, _RESET = "\x1b[1m", "\x1b[1;34m", "\x1b[0m"


def _width(text: str) -> int:
    """Display width: wide (CJK) characters take two cells, combining marks none."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _visible(line: str) -> str:
    """Tabs to spaces and control characters to a visible mark, so carets line up."""
    out = []
    for ch in line:
        if ch == "\t":
            out.append("    ")
        elif not ch.isprintable():
            out.append("\N{REPLACEMENT CHARACTER}")
        else:
            out.append(ch)
    return "".join(out)


# A source line longer than this (in characters) is cut to a window around the span, as rustc
# and ruff do, so that a long filter never prints a line of thousands of columns.
MAX_LINE = 100
CONTEXT = 24  # characters kept before the span
ELLIPSIS = "..."


def excerpt(src: str, start: int, stop: int) -> tuple[str, int, int]:
    """(the line as shown, caret indent, caret width) for the span [start, stop) of one line.
    Costs O(MAX_LINE) whatever the line's length."""
    stop = max(start, min(stop, len(src)))
    if len(src) <= MAX_LINE:
        left, right = 0, len(src)
    else:
        left = max(0, start - CONTEXT)
        right = min(len(src), left + MAX_LINE)
        left = max(0, min(left, right - MAX_LINE))
    head = ELLIPSIS if left > 0 else ""
    tail = ELLIPSIS if right < len(src) else ""
    shown = head + _visible(src[left:right]) + tail
    pad = len(head) + _width(_visible(src[left:start]))
    width = max(1, _width(_visible(src[start:min(stop, right)])))
    return shown, pad, width


def render_text(report: Report, color: bool = False, label: str | None = None) -> str:
    if not report.diagnostics:
        return ""
    label = label or report.kind
    lines_of_source = report.source.split("\n")
    blocks = []
    for d in report.diagnostics:
        line, col = report.line_col(d.span.start)
        end_line, end_col = report.line_col(max(d.span.start, d.span.end))
        src = lines_of_source[line - 1] if line - 1 < len(lines_of_source) else ""
        gutter = " " * len(str(line))
        head = f"{d.severity.value}[{d.code}]"
        if color:
            head = f"{_COLORS[d.severity]}{head}{_RESET}{_BOLD}"
        out = [f"{head}: {d.message}{_RESET if color else ''}",
               f"{gutter}--> {label}:{line}:{col}"]
        stop = end_col - 1 if end_line == line else len(src)
        shown, pad, width = excerpt(src, col - 1, stop)
        caret = " " * pad + "^" * width
        bar = f"{_BLUE}|{_RESET}" if color else "|"
        if color:
            caret = f"{_COLORS[d.severity]}{caret}{_RESET}"
        out += [f"{gutter} {bar}", f"{line} {bar} {shown}", f"{gutter} {bar} {caret}"]
        if d.hint:
            out.append(f"{gutter} = help: {d.hint}")
        if d.fix is not None:
            out.append(f"{gutter} = fix ({d.fix.applicability.value}): {d.fix.title}")
        for note in d.notes:
            out.append(f"{gutter} = note: {note}")
        blocks.append("\n".join(out))
    return "\n\n".join(blocks)


def render_summary(report: Report, show_target: bool = False) -> str:
    """One line: MLflow's verdict and the counts; with `show_target`, for which release and
    database (when the user chose them, or a store told)."""
    n_err, n_warn = len(report.errors), len(report.warnings)
    what = "filter" if report.kind == "filter" else "order_by"
    from mlfilter.compat import verdict_of

    verdict, http, _ = verdict_of(report.diagnostics)
    release, backend = (report.target or "/").split("/")
    mlflow = f"MLflow {release}" if release and show_target else "MLflow"
    where = report.api + (f", {BACKEND_NAMES.get(backend, backend)}"
                          if show_target and backend else "")
    said = {"accepted": f"{mlflow} accepts this {what}",
            "rejected": f"{mlflow} rejects this {what}",
            "crash": f"{mlflow} fails on this {what} (HTTP {http})",
            "unsupported": f"{mlflow} has no such search"}[verdict]
    return f"{said} ({where}): {n_err} error(s), {n_warn} warning(s)"


def render_json(reports: list[Report]) -> str:
    import json

    if len(reports) == 1:
        return json.dumps(reports[0].to_dict(), indent=2, ensure_ascii=False)
    # With --order-by: one list, each diagnostic saying which input its offsets point into.
    diagnostics = []
    for report in reports:
        for d in report.to_dict()["diagnostics"]:
            diagnostics.append({**d, "in": report.kind})
    return json.dumps({"ok": all(r.ok for r in reports), "diagnostics": diagnostics},
                      indent=2, ensure_ascii=False)
