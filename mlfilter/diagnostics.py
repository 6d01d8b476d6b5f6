"""Diagnostics and reports: the records every check produces and every renderer reads."""

from __future__ import annotations

import re
from enum import Enum

from mlfilter.records import record


class Severity(str, Enum):
    """How bad a diagnostic is: an error means MLflow rejects (or fails on) the search; a
    warning, that MLflow runs it but it almost surely does not do what was meant."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Applicability(str, Enum):
    """How safe a fix is (after ruff): SAFE keeps the meaning the user wrote and is applied by
    `--fix`; UNSAFE is a guess (a did-you-mean) that a person must confirm."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@record
class Span:
    """Half-open [start, end) offsets into the checked text."""

    start: int
    end: int


@record
class Edit:
    """Replace the text at `span` with `replacement`."""

    span: Span
    replacement: str


@record
class Fix:
    """A machine-applicable fix: its edits (non-overlapping) and how safe it is."""

    title: str
    edits: tuple[Edit, ...]
    applicability: Applicability = Applicability.SAFE


@record
class Diagnostic:
    """One problem: a stable code (`mlfilter rules CODE`), its severity, the exact span in the
    checked text, a message saying what is wrong, a hint saying what to do, and a fix where
    one is known."""

    code: str
    severity: Severity
    span: Span
    message: str
    hint: str | None = None
    fix: Fix | None = None
    notes: tuple[str, ...] = ()
    # When MLflow meets it: "parse" (its parser), "store" (building the query) or "execution"
    # (the database, running it). MLflow stops at the first problem: the verdict comes from it.
    stage: str = "parse"


class LineIndex:
    """Offset -> 1-based (line, column); columns count characters, as editors do."""

    def __init__(self, text: str):
        self._starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self._starts.append(i + 1)

    def line_col(self, offset: int) -> tuple[int, int]:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self._starts[lo] + 1


_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@record(slots=False, compare=("source", "api", "diagnostics", "kind", "target"),
        shown=("source", "api", "diagnostics", "kind", "target"))
class Report:
    """What a check found in one filter (or order_by) string, for one API."""

    source: str
    api: str
    diagnostics: tuple[Diagnostic, ...]
    kind: str = "filter"  # or "order_by"
    target: str | None = None  # "3.17.2/sqlite": the MLflow release and database checked for
    _lines: LineIndex | None = None  # built on first use; not compared or shown

    @property
    def ok(self) -> bool:
        """True when MLflow would run the search (no error diagnostic)."""
        return not self.errors

    @property
    def verdict(self) -> str:
        """What MLflow does: "accepted", "rejected" (HTTP 400), "crash" (HTTP 500) or
        "unsupported" (the release has no such search)."""
        from mlfilter.compat import verdict_of

        return verdict_of(self.diagnostics)[0]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.WARNING]

    @property
    def infos(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity is Severity.INFO]

    def line_col(self, offset: int) -> tuple[int, int]:
        index = self._lines
        if index is None:
            index = LineIndex(self.source)
            object.__setattr__(self, "_lines", index)
        return index.line_col(offset)

    def to_dict(self) -> dict:
        out = []
        for d in self.diagnostics:
            line, column = self.line_col(d.span.start)
            fix = None
            if d.fix is not None:
                fix = _flatten_fix(self.source, d.fix)
            out.append(
                {
                    "code": d.code,
                    "severity": d.severity.value,
                    "message": d.message,
                    "start": d.span.start,
                    "end": d.span.end,
                    "line": line,
                    "column": column,
                    "hint": d.hint,
                    "fix": fix,
                }
            )
        return {"ok": self.ok, "diagnostics": out}

    def __str__(self) -> str:
        from mlfilter.render import render_text

        return render_text(self, color=False)

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import report_html

        return report_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty, report_text

        pretty(report_text(self), p, cycle)


def _flatten_fix(source: str, fix: Fix) -> dict:
    """One edit spanning all of a fix's edits: the JSON contract has a single replacement."""
    edits = sorted(fix.edits, key=lambda e: e.span.start)
    start, end = edits[0].span.start, max(e.span.end for e in edits)
    pieces, pos = [], start
    for e in edits:
        pieces.append(source[pos : e.span.start])
        pieces.append(e.replacement)
        pos = e.span.end
    pieces.append(source[pos:end])
    return {"start": start, "end": end, "replacement": "".join(pieces)}


def sort_diagnostics(diags: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Sorted by position, errors first at one position; exact duplicates dropped."""
    if not diags:
        return ()
    seen = set()
    unique = []
    for d in diags:
        key = (d.code, d.span, d.message)
        if key not in seen:
            seen.add(key)
            unique.append(d)
    unique.sort(key=lambda d: (d.span.start, _SEVERITY_ORDER[d.severity], d.span.end, d.code))
    return tuple(unique)


# A message quotes the user's text; a 1 MB value must not make a 1 MB message. The span still
# points at all of it, and a fix still carries the whole replacement.
_LONG_WORD = re.compile(r"\S{81,}")
_LONG_QUOTED = re.compile(r"`[^`]{61,}`|'[^']{61,}'|\"[^\"]{61,}\"")
MAX_MESSAGE = 400


def _elide(text: str, keep: int) -> str:
    return f"{text[:keep]}...{text[-keep:]}"


def brief(message: str) -> str:
    """`message` with each very long word (and, if still long, each long quoted part) cut in
    its middle."""
    if len(message) <= 80:
        return message
    message = _LONG_WORD.sub(lambda m: _elide(m.group(), 30), message)
    if len(message) > MAX_MESSAGE:
        message = _LONG_QUOTED.sub(lambda m: _elide(m.group(), 25), message)
    return message
