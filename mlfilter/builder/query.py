"""Search requests: `mlfilter.search_runs(...).where(...).order_by(...).view(...).limit(n)`.

A query checks everything at build time against its API's rules (mlfilter.check), verifies that
MLflow reads every condition exactly as intended, and turns OR/NOT into the few searches MLflow
can run. `.to_kwargs()` and `.to_rest()` give one search; `.searches()` all of them; `.run()`
executes them through the MLflow client (imported only there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from mlfilter.builder.normalize import Complements, Conjunction, merge_in, to_union
from mlfilter.builder.render import BuildError
from mlfilter.builder.terms import OrderTerm, Predicate, Term


@dataclass(frozen=True)
class QuerySpec:
    """How one search API is called, per path (data only)."""

    api: str  # mlfilter's API name
    client_method: str
    fluent: str | None  # mlflow.<name> (returns a DataFrame), or None
    rest_method: str
    rest_path: str
    scope: str | None  # "experiment_ids", "locations" or None
    view_kw: str | None  # the Python keyword for the view type
    rest_view: str | None  # the REST field for the view type
    python_max: int | None  # store maximum of max_results for one call
    rest_max: int | None
    id_of: str  # how to get an entity's identity, for unions
    complements: Complements
    order_dicts: bool = False
    rest_order: str = "order_by"


_PARAM_TAG = frozenset({"param", "tag"})
SPECS = MappingProxyType({
    "runs": QuerySpec(
        "runs", "search_runs", "search_runs", "POST", "/api/2.0/mlflow/runs/search",
        "experiment_ids", "run_view_type", "run_view_type", 50000, 50000, "info.run_id",
        Complements(frozenset({("attribute", k) for k in
                               ("run_id", "status", "start_time", "created", "Created")}),
                    _PARAM_TAG)),
    "experiments": QuerySpec(
        "experiments", "search_experiments", "search_experiments", "POST",
        "/api/2.0/mlflow/experiments/search", None, "view_type", "view_type", 50000, 50000,
        "experiment_id",
        Complements(frozenset({("attribute", k) for k in
                               ("name", "experiment_id", "creation_time", "last_update_time")}),
                    frozenset({"tag"}))),
    "registered_models": QuerySpec(
        "registered_models", "search_registered_models", None, "GET",
        "/api/2.0/mlflow/registered-models/search", None, None, None, 1000, 1000, "name",
        Complements(frozenset({("attribute", "name")}), frozenset())),
    "model_versions": QuerySpec(
        "model_versions", "search_model_versions", None, "GET",
        "/api/2.0/mlflow/model-versions/search", None, None, None, 200000, 200000,
        "name,version",
        Complements(frozenset({("attribute", "name"), ("attribute", "version_number")}),
                    frozenset())),
    "logged_models": QuerySpec(
        "logged_models", "search_logged_models", "search_logged_models", "POST",
        "/api/2.0/mlflow/logged-models/search", "experiment_ids", None, None, None, None,
        "model_id",
        Complements(frozenset({("attribute", k) for k in
                               ("name", "model_id", "creation_time", "creation_timestamp",
                                "creation_timestamp_ms")}), frozenset()),
        order_dicts=True),
    "traces": QuerySpec(
        "traces", "search_traces", None, "POST", "/api/3.0/mlflow/traces/search", "locations",
        None, None, 50000, 500, "info.trace_id",
        Complements(frozenset({("attribute", k) for k in
                               ("request_id", "status", "timestamp", "timestamp_ms")}),
                    frozenset({"tag", "metadata"}))),
})

_VIEWS = {"active_only": 1, "deleted_only": 2, "all": 3}
_VIEW_NAMES = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}


@dataclass(frozen=True)
class Query:
    """An immutable search request; each method returns a new one."""

    spec: QuerySpec
    scope: tuple = ()
    scope_names: tuple = ()
    predicate: Predicate | None = None
    orders: tuple = ()
    view_type: int | None = None
    max_results: int | None = None
    union: tuple[Conjunction, ...] = field(default=((),), repr=False)
    mlflow_version: str | None = None  # the release line the query must run on (None: default)
    backend: str | None = None  # the tracking store's database (None: sqlite)

    @property
    def _target(self) -> dict:
        return {"mlflow_version": self.mlflow_version, "backend": self.backend}

    def target(self, mlflow_version: str | None = None, backend: str | None = None) -> Query:
        """The same request for another MLflow release or database; refused (BuildError) when
        that target cannot run it."""
        from mlfilter.versions import TargetError, resolve_backend, resolve_version

        try:
            line, db = resolve_version(mlflow_version), resolve_backend(backend)
        except TargetError as e:
            raise BuildError(str(e)) from None
        query = replace(self, mlflow_version=line, backend=db)
        query._check_available()
        for conj in query.union:
            query._verify(conj)
        if query.orders:
            query.order_by()  # re-checks the entries it has
        return query

    # ---- building ---------------------------------------------------------------------------
    def where(self, expr) -> Query:
        """Add a condition (a builder expression or a filter string), ANDed with earlier ones."""
        if isinstance(expr, str):
            expr = from_string(expr, self.spec.api, **self._target)
        if not isinstance(expr, Predicate):
            raise TypeError(f"where() takes a filter expression or string, not {type(expr).__name__}")
        combined = expr if self.predicate is None else self.predicate & expr
        union = to_union(combined, self.spec.complements)
        union = merge_in(union, self._takes_list)
        if len(union) > 50:
            raise BuildError(f"this expression needs {len(union)} searches, more than 50: "
                             "simplify it (IN lists help)")
        for conj in union:
            self._verify(conj)
        return replace(self, predicate=combined, union=tuple(union))

    def order_by(self, *entries) -> Query:
        """Order by terms (`F.metric("acc").desc()`) or checked strings (`"metrics.acc DESC"`);
        for search_logged_models also dicts."""
        out = []
        for e in entries:
            if isinstance(e, (list, tuple)):
                out.extend(e)
            else:
                out.append(e)
        rendered = [self._order_entry(OrderTerm(e) if isinstance(e, Term) else e) for e in out]
        rendered = list(self.orders) + rendered
        from mlfilter.checker import check_order_by

        report = check_order_by(rendered, self.spec.api, **self._target)
        if not report.ok:
            raise BuildError(_messages(report))
        return replace(self, orders=tuple(rendered))

    def view(self, view_type) -> Query:
        """ViewType (or 1/2/3), or "active_only" / "deleted_only" / "all" in any case."""
        if self.spec.view_kw is None:
            raise BuildError(f"search_{self.spec.api} has no view type")
        if isinstance(view_type, str):
            key = view_type.strip().lower()
            if key not in _VIEWS:
                raise BuildError(f"unknown view type {view_type!r}: use active_only, deleted_only "
                                 "or all")
            value = _VIEWS[key]
        elif isinstance(view_type, int) and not isinstance(view_type, bool) and view_type in _VIEW_NAMES:
            value = view_type  # mlflow.entities.ViewType members are these ints
        else:
            raise BuildError(f"unknown view type {view_type!r}: MLflow silently returns nothing "
                             "for it; use ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL")
        return replace(self, view_type=value)

    def limit(self, n: int) -> Query:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise BuildError(f"limit must be a positive integer, not {n!r}")
        return replace(self, max_results=n)

    # ---- what it will run -------------------------------------------------------------------
    def filters(self) -> list[str]:
        """The filter string of each search this query runs (their union is the result)."""
        return [" AND ".join(leaf.text for leaf in conj) for conj in self.union]

    def searches(self, path: str = "client") -> list[dict]:
        """Keyword arguments of each search, for MlflowClient (`path="client"`) or the fluent
        `mlflow.search_*` function (`path="fluent"`)."""
        return [self._kwargs(f, path) for f in self.filters()]

    def to_kwargs(self, path: str = "client") -> dict:
        """Keyword arguments for one MLflow search call; a query that needs several searches
        (OR) raises: use `.searches()` or `.run()`."""
        filters = self.filters()
        if len(filters) != 1:
            raise BuildError(f"this query needs {len(filters)} searches (MLflow has no OR): use "
                             ".searches() for their arguments or .run() to execute and merge them")
        return self._kwargs(filters[0], path)

    def to_rest(self) -> dict:
        """{"method", "path", "json" or "params"} of the REST request (one search)."""
        filters = self.filters()
        if len(filters) != 1:
            raise BuildError(f"this query needs {len(filters)} searches (MLflow has no OR) and a "
                             "REST request is one search: use .searches() for the arguments of "
                             "each, or .run() to execute and merge them")
        s = self.spec
        body: dict = {}
        if s.scope == "experiment_ids":
            body["experiment_ids"] = [str(x) for x in self._scope_ids()]
        elif s.scope == "locations":
            body["locations"] = [{"type": "MLFLOW_EXPERIMENT",
                                  "mlflow_experiment": {"experiment_id": str(x)}}
                                 for x in self._scope_ids()]
        if filters[0]:
            body["filter"] = filters[0]
        limit = self.max_results
        if s.rest_max is not None and limit is not None and limit > s.rest_max:
            raise BuildError(f"the REST endpoint of search_{s.api} takes at most {s.rest_max} "
                             f"results per page: use .limit({s.rest_max}) or less and follow "
                             "next_page_token, or .run(), which pages")
        if limit is None and s.api == "experiments":
            limit = 1000  # the endpoint has no default: a missing max_results is a 400
        if limit is not None:
            body["max_results"] = limit
        if self.orders:
            body["order_by"] = list(self.orders)
        if s.rest_view is not None and self.view_type is not None:
            body[s.rest_view] = _VIEW_NAMES[self.view_type]
        if s.rest_method == "GET":
            return {"method": "GET", "path": s.rest_path, "params": body}
        return {"method": "POST", "path": s.rest_path, "json": body}

    def run(self, client=None, path: str | None = None):
        """Run every search through MLflow, page through all results, merge them without
        duplicates, order and limit them with MLflow's own ordering. Returns a list of entities
        (client path) or what the fluent `mlflow.search_*` returns (a pandas DataFrame)."""
        from mlfilter.builder.execute import run_query

        return run_query(self, client, path or ("client" if client is not None else "fluent"))

    def __repr__(self) -> str:
        n = len(self.union)
        return f"<search_{self.spec.api}: {n} search{'es' if n != 1 else ''}: {self.filters()!r}>"

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import query_html

        return query_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty, query_text

        pretty(query_text(self), p, cycle)

    # ---- helpers ----------------------------------------------------------------------------
    def _scope_ids(self):
        if self.scope_names and not self.scope:
            raise BuildError("experiment names are resolved to ids when the query runs; "
                             "to_rest() needs experiment ids")
        return self.scope

    def _kwargs(self, filter_string: str, path: str) -> dict:
        s = self.spec
        kw: dict = {}
        if s.scope == "experiment_ids" or s.scope == "locations":
            if self.scope_names and path == "fluent" and s.api == "runs":
                kw["experiment_names"] = list(self.scope_names)
            else:
                kw["experiment_ids" if s.scope == "experiment_ids" or path == "fluent"
                   else "locations"] = [str(x) for x in self._scope_ids()]
        kw["filter_string"] = filter_string
        if self.view_type is not None:
            kw[s.view_kw] = self.view_type
        if self.max_results is not None:
            if s.python_max is not None and self.max_results > s.python_max and path == "client":
                raise BuildError(f"{s.client_method} takes at most {s.python_max} results per "
                                 "call; .run() pages through more")
            kw["max_results"] = self.max_results
        if self.orders:
            kw["order_by"] = list(self.orders)
        return kw

    def _order_entry(self, e):
        if self.spec.order_dicts:
            if isinstance(e, OrderTerm):
                name = e.term.key if e.term.kind == "attribute" else f"metrics.{e.term.key}"
                return {"field_name": name, "ascending": e.ascending}
            if isinstance(e, str):
                parts = e.split()
                asc = not (len(parts) == 2 and parts[1].upper() == "DESC")
                return {"field_name": parts[0], "ascending": asc}
            return e
        if isinstance(e, OrderTerm):
            _check_order_rewrite(self.spec.api, e.term)
            return str(e)
        if isinstance(e, str):
            return e
        raise BuildError(f"an order_by entry is a term (F.metric('a').desc()) or a string, not {e!r}")

    def _takes_list(self, leaf) -> bool:
        from mlfilter.checker import check

        return check(f"{leaf.key} IN ('x')", self.spec.api, **self._target).ok

    def _check_available(self) -> None:
        from mlfilter.apis import get_api

        api = get_api(self.spec.api, **self._target)
        if not api.available:
            raise BuildError(f"{api.mlflow_call} does not exist in MLflow {api.version}")

    def _verify(self, conj: Conjunction) -> None:
        """MLflow must accept the search and read each condition exactly as intended."""
        from mlfilter.checker import check, parse

        text = " AND ".join(leaf.text for leaf in conj)
        for leaf in conj:
            _check_rewrite(self.spec.api, leaf.intent.kind, leaf.intent.key, leaf.key, "filter on")
            _check_line_break(self.spec.api, leaf.intent.kind, leaf.intent.key)
        report = check(text, self.spec.api, **self._target)
        if not report.ok:
            raise BuildError(_messages(report))
        parsed = parse(text, self.spec.api, **self._target).to_mlflow()
        same_count = len(parsed) == len(conj)
        if same_count:
            for leaf, got in zip(conj, parsed):
                if leaf.intent.kind in _FREE_KEY_KINDS and got["key"] != leaf.intent.key:
                    raise BuildError(f"MLflow would read {leaf.text!r} as the key "
                                     f"{got['key']!r}, not {leaf.intent.key!r}")
        # MF317 warns about keys with spaces or empty parts around dots; the builder writes such
        # keys on purpose (quoted), and has just checked that MLflow reads them back.
        meaning_changers = [d for d in report.diagnostics if d.code in _MEANING_CODES
                            and not (d.code == "MF317" and same_count)]
        if meaning_changers:
            raise BuildError(_messages(report, meaning_changers))
        if not same_count:
            raise BuildError(f"MLflow would read {len(parsed)} conditions in {text!r}")
        for leaf, got in zip(conj, parsed):
            if not _same_value(leaf.intent.value, got["value"]):
                raise BuildError(f"MLflow would read {leaf.text!r} as the value "
                                 f"{got['value']!r}, not {leaf.intent.value!r}")


def _check_rewrite(api: str, kind: str, key: str, text: str, what: str) -> None:
    """search_traces rewrites some keys whatever their prefix (`tags.name` is the trace name)."""
    from mlfilter.apis import get_api

    rewrites = get_api(api).rewrites
    new = rewrites.get(key.lower()) if kind not in ("attribute", "span") else None
    if new is not None:
        raise BuildError(f"search_{api} rewrites the key {key!r} whatever its prefix: `{text}` "
                         f"would {what} the {new[0] or 'attribute'} `{new[1]}`, so this {kind} "
                         f"cannot be {'ordered by' if what == 'order by' else 'searched for'}")


def _check_line_break(api: str, kind: str, key: str) -> None:
    """search_logged_models finds the prefix with a regex whose `.` stops at a line break."""
    if api == "logged_models" and kind != "attribute" and "\n" in key:
        raise BuildError(f"search_logged_models cannot express the {kind} key {key!r}: MLflow "
                         "reads a key holding a line break as an unknown field and crashes")


def _check_order_rewrite(api: str, term) -> None:
    _check_rewrite(api, term.kind, term.key, term.text, "order by")


# Accepted by MLflow but meaning something else than written: never emitted by the builder.
# MF302, MF308 and MF310 are conditions that can never match: refused like the others.
_MEANING_CODES = frozenset({"MF307", "MF312", "MF313", "MF315", "MF317", "MF311", "MF314",
                            "MF302", "MF308", "MF310"})


# Kinds whose keys are free text: MLflow must read back exactly the key written.
_FREE_KEY_KINDS = frozenset({"metric", "param", "tag", "metadata", "feedback", "expectation"})


def _same_value(intended, got) -> bool:
    if intended is None or got is None:
        return intended is got
    if isinstance(intended, tuple):
        return tuple(got) == intended if isinstance(got, tuple) else False
    if isinstance(intended, (int, float)) and not isinstance(intended, bool):
        try:
            g = float(got)
        except (TypeError, ValueError):
            return False
        return g == float(intended) or (math.isinf(g) and math.isinf(float(intended)))
    return got == intended


def _messages(report, diags=None) -> str:
    diags = diags if diags is not None else report.errors
    return "; ".join(f"{d.code}: {d.message}" + (f" ({d.hint})" if d.hint else "") for d in diags)


def from_string(filter_string: str, api: str = "runs", mlflow_version: str | None = None,
                backend: str | None = None) -> Predicate:
    """A filter string -> a builder expression (edit it in code, `str()` it back)."""
    from mlfilter.builder.terms import Intent
    from mlfilter.checker import parse_tree
    from mlfilter.grouping import effective_comparisons
    from mlfilter.resolve import resolve

    tree = parse_tree(filter_string, api)
    intents = []
    from mlfilter.apis import get_api

    spec = get_api(api, mlflow_version, backend)
    for c in effective_comparisons(tree):
        if spec.parser == "logged_models" and c.op is not None:
            # search_logged_models has its own parser (unquoting, lists, key aliases)
            from mlfilter.rules.base import Sink
            from mlfilter.rules.logged_models import check_logged_model_comparison

            parsed = check_logged_model_comparison(c, spec, Sink())
            if parsed is not None:
                kind, key, op, value = parsed
                intents.append(Intent(_KIND.get(kind, kind), key, c.op.canonical, value))
                continue
        res = resolve(spec, c.left.text) if c.op is not None else None
        kind = _KIND.get(res.entity.name, res.entity.name) if res and res.entity else "attribute"
        key = res.key if res else c.left.text
        value = None
        if c.right is not None:
            from mlfilter.to_mlflow import value_as_read

            value = value_as_read(c.right, res.target) if res and res.target else c.right.text
        intents.append(Intent(kind, key, c.op.canonical if c.op else "", value))
    return Predicate(str(tree), tuple(intents))


_KIND = {"parameter": "param", "params": "param", "tags": "tag", "metrics": "metric",
         "request_metadata": "metadata", "attributes": "attribute"}


def _make(api: str):
    spec = SPECS[api]

    def factory(experiment_ids=None, experiment_names=None, mlflow_version=None,
                backend=None) -> Query:
        from mlfilter.versions import TargetError, resolve_backend, resolve_version

        try:
            target = {"mlflow_version": resolve_version(mlflow_version),
                      "backend": resolve_backend(backend)}
        except TargetError as e:
            raise BuildError(str(e)) from None
        Query(spec, **target)._check_available()
        if spec.scope is None:
            if experiment_ids is not None or experiment_names is not None:
                raise BuildError(f"search_{api} is not scoped by experiment")
            return Query(spec, **target)
        if experiment_ids is not None and experiment_names is not None:
            raise BuildError("give experiment_ids or experiment_names, not both")
        if experiment_ids is None and experiment_names is None:
            raise BuildError(f"search_{api} needs experiment_ids (or experiment_names)")
        if isinstance(experiment_ids, (str, int)):
            experiment_ids = [experiment_ids]
        if isinstance(experiment_names, str):
            experiment_names = [experiment_names]
        return Query(spec, tuple(str(x) for x in experiment_ids or ()),
                     tuple(experiment_names or ()), **target)

    factory.__name__ = f"search_{api}"
    factory.__doc__ = (f"A search_{api} request to build with .where(), .order_by(), ...; "
                       "`mlflow_version` and `backend` name the target it must run on (the "
                       "builder refuses what that target cannot run)")
    return factory


search_runs = _make("runs")
search_experiments = _make("experiments")
search_registered_models = _make("registered_models")
search_model_versions = _make("model_versions")
search_logged_models = _make("logged_models")
search_traces = _make("traces")
