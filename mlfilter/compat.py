"""Verdicts across MLflow releases and databases: the compatibility matrix, and the hints that
name the release change a verdict depends on.

Both work by checking the same text against other tables (mlfilter.apis.api_for), never by
asking rule code about versions: a Change is "responsible" for a diagnostic when taking that one
change the other way makes the diagnostic go away.
"""

from __future__ import annotations

import re

from mlfilter.apis import Api, api_for, api_name
from mlfilter.diagnostics import Diagnostic, Severity
from mlfilter.records import fields as record_fields, record, replace
from mlfilter.versions import (
    BACKEND_NAMES,
    BACKENDS,
    RELEASES,
    SUPPORTED,
    line_of,
    release_tuple,
)

ACCEPTED, REJECTED, CRASH, UNSUPPORTED = "accepted", "rejected", "crash", "unsupported"
_STAGES = {"parse": 0, "store": 1, "execution": 2}
_HTTP_CLAIM = re.compile(r"\(HTTP (5\d\d)\)")


def verdict_of(diagnostics) -> tuple[str, int | None, str | None]:
    """(verdict, HTTP status, deciding code) of a list of diagnostics. MLflow stops at the first
    problem it meets; a join limit is only met when the query runs, after every other check."""
    from mlfilter.rules.registry import http_status

    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if not errors:
        return ACCEPTED, 200, None
    first = min(errors, key=lambda d: (_STAGES.get(d.stage, 0), d.span.start, d.span.end))
    # a code's usual status, unless this diagnostic says MLflow crashes on this very input
    claimed = _HTTP_CLAIM.search(first.message)
    status = int(claimed.group(1)) if claimed else http_status(first.code)
    if status == 404:
        return UNSUPPORTED, status, first.code
    return (CRASH if status >= 500 else REJECTED), status, first.code


# ---- hints --------------------------------------------------------------------------------------

def version_hints(rerun, spec: Api, items: list[Diagnostic]) -> list[Diagnostic]:
    """Add to each error the release change it depends on. `rerun(api)` re-checks the same input
    against another table and returns its diagnostics."""
    line = line_of(spec.version)
    errors = [d for d in items if d.severity is Severity.ERROR]
    have = {(d.code, d.span) for d in errors}
    notes: dict[int, list[str]] = {}
    for change, flipped in _flips(spec.name, line, spec.backend):
        remaining = {(d.code, d.span) for d in rerun(flipped) if d.severity is Severity.ERROR}
        if release_tuple(spec.version) < release_tuple(change.since):
            # a newer release: it explains an error it removes without adding others, or, for a
            # change that is not a relaxation (a crash become a 400), any error it removes
            if change.accepts and not remaining < have:
                continue
        elif remaining:
            continue  # an older release: worth naming only when it accepted the input
        for i, d in enumerate(errors):
            if (d.code, d.span) not in remaining:
                notes.setdefault(i, []).append(change_note(change, spec.version))
    if not notes:
        return items
    out, index = [], 0
    for d in items:
        if d.severity is Severity.ERROR:
            extra = notes.get(index)
            index += 1
            if extra:
                note = "; ".join(extra)
                d = replace(d, hint=f"{d.hint} ({note})" if d.hint else note)
        out.append(d)
    return out


_flip_cache: dict = {}


def _flips(name: str, line: str, backend: str):
    """(change, table with that change taken the other way) for the changes that alter the
    table of (name, line, backend)."""
    key = (name, line, backend)
    found = _flip_cache.get(key)
    if found is None:
        from mlfilter.changes import CHANGES

        spec = api_for(name, line, backend)
        found = []
        for change in CHANGES:
            # an older release can only have accepted more where the change took something away
            if change.accepts and release_tuple(change.since) <= release_tuple(spec.version):
                continue
            if name in change.apis:
                flipped = api_for(name, line, backend, flip=change.id)
                if flipped != spec:
                    found.append((change, flipped))
        _flip_cache[key] = found
    return found


def change_note(change, version: str) -> str:
    """How one change reads from a target release: what a newer one does, or what an older one
    did."""
    if release_tuple(version) < release_tuple(change.since):
        if not change.bisected:
            verb = "accepted by" if change.accepts else "changed in"
            return f"{verb} MLflow {change.since} (not run on the releases before): {change.summary}"
        verb = "accepted" if change.accepts else "changed"
        return f"{verb} since MLflow {change.since}: {change.summary}"
    older = change.last_before or f"releases before {change.since}"
    return f"MLflow {older} accepted it; changed in {change.since}: {change.summary}"


# ---- the matrix ---------------------------------------------------------------------------------

@record
class Cell:
    version: str  # the release the line is tested at, e.g. "3.17.2"
    backend: str
    verdict: str  # accepted | rejected | crash | unsupported
    http: int | None
    code: str | None  # the diagnostic that decides it


@record(compare=("source", "api", "kind", "cells"), shown=("source", "api", "kind", "cells"))
class CompatReport:
    source: str
    api: str
    kind: str  # "filter" or "order_by"
    cells: tuple[Cell, ...]
    given: object = None  # the input as passed (not compared or shown)

    def cell(self, version: str, backend: str = "sqlite") -> Cell:
        release = RELEASES.get(version, version)
        return next(c for c in self.cells if c.version == release and c.backend == backend)

    @property
    def backends_matter(self) -> bool:
        by_version: dict[str, set] = {}
        for c in self.cells:
            by_version.setdefault(c.version, set()).add(c.verdict)
        return any(len(v) > 1 for v in by_version.values())

    def first_accepted(self, backend: str = "sqlite") -> str | None:
        """The oldest supported release that accepts it on `backend`, or None."""
        for line in SUPPORTED:
            if self.cell(line, backend).verdict == ACCEPTED:
                return RELEASES[line]
        return None

    def first_release(self, backend: str = "sqlite") -> tuple[str | None, list[str]]:
        """The first release that accepts it, from the changes' first releases (found by running
        the releases between two supported ones), and the changes that make the difference."""
        first = self.first_accepted(backend)
        if first is None or first == RELEASES[SUPPORTED[0]]:
            return first, []
        previous = RELEASES[SUPPORTED[SUPPORTED.index(line_of(first)) - 1]]
        return _first_between(self, previous, first, backend)

    def to_dict(self) -> dict:
        first, why = self.first_release()
        return {"source": self.source, "api": self.api, "kind": self.kind,
                "first_accepted": first, "changes": why,
                "cells": [{n: getattr(c, n) for n in record_fields(c)} for c in self.cells]}

    def __str__(self) -> str:
        return render_compat(self)


def compat(filter_string=None, api: str = "runs", order_by=None) -> CompatReport:
    """The verdict of every supported MLflow release on every backend, for a filter string or
    (with `order_by`) an order_by list."""
    from mlfilter.checker import check, check_order_by

    name = api_name(api) if not isinstance(api, Api) else api.name
    cells = []
    source = None
    for line in SUPPORTED:
        for backend in BACKENDS:
            if order_by is not None:
                report = check_order_by(order_by, name, mlflow_version=line, backend=backend)
            else:
                report = check(filter_string, name, mlflow_version=line, backend=backend)
            source = report.source
            verdict, http, code = verdict_of(report.diagnostics)
            cells.append(Cell(RELEASES[line], backend, verdict, http, code))
    kind = "order_by" if order_by is not None else "filter"
    return CompatReport(source or "", name, kind, tuple(cells),
                        order_by if order_by is not None else filter_string)


def _first_between(report: CompatReport, old: str, new: str, backend: str):
    """The oldest release after `old` (up to `new`) whose table accepts the input: the tables of
    the releases in between are the changes' first releases."""
    from mlfilter.apis import api_at
    from mlfilter.changes import CHANGES
    from mlfilter.checker import _filter_items, _order_by_items

    between = [c for c in CHANGES if report.api in c.apis
               and release_tuple(old) < release_tuple(c.since) <= release_tuple(new)]
    for release in sorted({c.since for c in between}, key=release_tuple):
        api = api_at(report.api, release, backend)
        items = (_order_by_items(report.given, api)[1] if report.kind == "order_by"
                 else _filter_items(report.given, api)[1])
        if verdict_of(items)[0] == ACCEPTED:
            older = api_at(report.api, old, backend)
            why = [c.summary for c in between if release_tuple(c.since) <= release_tuple(release)
                   and _alters(report, c, older, backend)]
            return release, why
    return new, []


def _alters(report: CompatReport, change, older, backend: str) -> bool:
    """Whether taking `change` alone the other way changes the old release's diagnostics."""
    from mlfilter.apis import api_at
    from mlfilter.checker import _filter_items, _order_by_items

    flipped = api_at(report.api, older.version, backend, flip=change.id)
    if flipped == older:
        return False
    run = ((lambda a: _order_by_items(report.given, a)[1]) if report.kind == "order_by"
           else (lambda a: _filter_items(report.given, a)[1]))
    return {(d.code, d.span) for d in run(flipped)} != {(d.code, d.span) for d in run(older)}


def render_compat(report: CompatReport) -> str:
    call = api_for(report.api, SUPPORTED[-1], "sqlite").mlflow_call
    shown = report.source if len(report.source) <= 120 else report.source[:117] + "..."
    lines = [f"{call}: {shown}" if report.kind == "filter" else f"{call} order_by: {shown!r}"]
    backends = BACKENDS if report.backends_matter else ("sqlite",)
    head = ["MLflow"] + ([BACKEND_NAMES[b] for b in backends] if report.backends_matter
                         else ["every backend"])
    rows = [head]
    for line in SUPPORTED:
        row = [RELEASES[line]]
        for b in backends:
            c = report.cell(line, b)
            row.append(c.verdict if c.verdict == ACCEPTED else f"{c.verdict} ({c.http}, {c.code})")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        lines.append("  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip())
    first, why = report.first_release()
    if first is None:
        lines.append("no supported MLflow release accepts it")
    elif first == RELEASES[SUPPORTED[0]]:
        if all(c.verdict == ACCEPTED for c in report.cells):
            lines.append("accepted by every supported release on every backend")
        else:
            lines.append(f"first accepted: MLflow {first}")
    else:
        lines.append(f"first accepted: MLflow {first}" + (f" ({'; '.join(why)})" if why else ""))
    if first is not None and report.cell(SUPPORTED[-1]).verdict != ACCEPTED:
        last = max((line for line in SUPPORTED if report.cell(line).verdict == ACCEPTED),
                   key=SUPPORTED.index)
        lines.append(f"not accepted after MLflow {RELEASES[last]}")
    return "\n".join(lines)
