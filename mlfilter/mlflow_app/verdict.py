"""SearchRequest -> the reports of its filter, order_by, view type and page size, and the answer
the server gives: MLflow's own 400, with mlfilter's diagnostics as its message.

Built on mlfilter's public API (check, check_order_by, get_api, render_text); nothing here
touches the request or Flask.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from mlfilter.apis import get_api
from mlfilter.checker import check, check_order_by
from mlfilter.compat import verdict_of
from mlfilter.diagnostics import Diagnostic, Report, Severity, Span
from mlfilter.mlflow_app.request import SearchRequest
from mlfilter.render import render_text
from mlfilter.versions import BACKEND_NAMES

CACHE_SIZE = 2048  # distinct filters and order_by lists remembered per worker
CACHE_MAX_TEXT = 4096  # longer filters are checked every time (bounded memory: ~8 MiB of keys)
VIEW_NAMES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


@dataclass(frozen=True)
class Target:
    release: str  # the server's MLflow release, as it reports it
    line: str  # the release line whose tables are used
    backend: str  # the tracking store's database
    registry_backend: str  # the model registry's database


@dataclass(frozen=True)
class Verdict:
    reports: tuple[Report, ...]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for r in self.reports for d in r.errors]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for r in self.reports for d in r.warnings]

    def blocks(self, fail_on: str) -> bool:
        return bool(self.errors or (fail_on == "warning" and self.warnings))


class Checker:
    """Checks search requests for one server; remembers the reports of recent filters."""

    def __init__(self, target: Target):
        self.target = target
        self._cache: OrderedDict = OrderedDict()
        self._lock = threading.Lock()  # uvicorn runs the Flask app in a thread pool

    def api(self, name: str):
        backend = (self.target.registry_backend if name in ("registered_models", "model_versions")
                   else self.target.backend)
        return get_api(name, self.target.line, backend)

    def verdict(self, search: SearchRequest) -> Verdict:
        spec = self.api(search.route.api)
        # in the order MLflow meets them: the handler's page-size check, then the store's
        # parse of the filter, then of order_by
        reports = [_page_size(search, spec)]
        if search.filter:
            reports.append(self._cached(("filter", spec.name, search.filter),
                                        lambda: check(search.filter, spec)))
        if search.order_by:
            key = ("order_by", spec.name, _frozen(search.order_by))
            reports.append(self._cached(key, lambda: check_order_by(search.order_by, spec)))
        reports.append(_view_type(search, spec))
        return Verdict(tuple(r for r in reports if r is not None and r.diagnostics))

    def _cached(self, key, make) -> Report:
        if len(repr(key[2])) > CACHE_MAX_TEXT:
            return make()
        with self._lock:
            report = self._cache.get(key)
        if report is None:
            report = make()
            with self._lock:
                self._cache[key] = report
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return report

    def message(self, verdict: Verdict, fail_on: str = "error", graphql: bool = False) -> str:
        """The error message the server answers with: each blocking diagnostic as the command
        line shows it (message, caret, hint), then what MLflow would have done (over GraphQL a
        crash is no HTTP 500 but an error naming Python's exception)."""
        blocking = {Severity.ERROR} | ({Severity.WARNING} if fail_on == "warning" else set())
        blocks, first = [], None
        for report in verdict.reports:
            shown = tuple(d for d in report.diagnostics if d.severity in blocking)
            if shown:
                blocks.append(render_text(Report(report.source, report.api, shown,
                                                 kind=report.kind, target=report.target)))
                if report.errors and first is None:
                    first = verdict_of(report.diagnostics)  # MLflow stops at the first problem it meets
        t = self.target
        where = f"MLflow {t.release} on {BACKEND_NAMES.get(t.backend, t.backend)}"
        if first is not None and first[0] == "crash":
            how = "an internal error" if graphql else f"HTTP {first[1]}"
            said = f"{where} would fail on this search ({how})"
        elif first is not None:
            said = f"{where} rejects this search"
        else:
            said = "this search is almost surely wrong (warnings are blocking on this server)"
        return "\n\n".join(blocks) + f"\n\n(mlfilter: {said})"


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _report(source: str, spec, kind: str, code: str, severity: Severity, span: Span,
            message: str, hint: str) -> Report:
    return Report(source, spec.name, (Diagnostic(code, severity, span, message, hint),),
                  kind=kind, target=f"{spec.version}/{spec.backend}")


def _page_size(search: SearchRequest, spec) -> Report | None:
    page, value = search.route.page, search.max_results
    source = f"max_results={value}"
    span = Span(len("max_results="), len(source))
    call = spec.mlflow_call
    if page.high is not None and value > page.high:
        return _report(source, spec, "max_results", "MF605", Severity.ERROR, span,
                       f"{call} takes at most {page.high:,} results; MLflow rejects "
                       f"max_results={value:,}", "page through the results with page_token")
    if page.low is None or value >= page.low:
        return None
    if page.below == "rejected":
        message = (f"MLflow rejects max_results={value:,}: {call} takes a positive integer"
                   if search.max_results_sent else
                   f"{call} over REST needs max_results: without it MLflow reads 0 and "
                   "rejects the request")
        return _report(source, spec, "max_results", "MF605", Severity.ERROR, span, message,
                       "pass 1 or more")
    return _report(source, spec, "max_results", "MF606", Severity.WARNING, span,
                   f"max_results={value:,}: {call} returns nothing", "pass 1 or more")


def _view_type(search: SearchRequest, spec) -> Report | None:
    """A view type protobuf could not read is dropped: MLflow searches active entities only."""
    sent, field = search.view_type, search.route.view_field
    if sent is None or search.view_type_read is not None:
        return None
    source = f"{field}={sent!r}" if not isinstance(sent, str) else f"{field}={sent}"
    return _report(source, spec, "view_type", "MF604", Severity.WARNING,
                   Span(len(field) + 1, len(source)),
                   f"{field} {sent!r} is not a view type MLflow reads: {spec.mlflow_call} "
                   "searches the active ones only", "send ACTIVE_ONLY, DELETED_ONLY or ALL "
                   "(or 1, 2, 3)")
