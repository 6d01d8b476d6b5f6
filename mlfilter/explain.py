""""Why does my search return nothing?": for each condition of a run search, how many runs match
it alone and how many remain after adding it, naming the condition that empties the result.

On a database the counts are COUNT queries built with MLflow's own filter-clause code (so they
equal what MLflow's search returns), one round trip per condition, on a read-only connection.
On a tracking server they are `max_results=1` probes: "0" or "at least 1", never all runs.
"""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ExplainRow:
    clause: str
    alone: int | None  # runs matching this condition alone
    remaining: int | None  # runs matching this and every condition before it
    at_least: bool = False  # counts are lower bounds (server probes)


@dataclass(frozen=True)
class Explanation:
    filter: str
    rows: tuple[ExplainRow, ...]
    total: int | None  # runs searched (no filter)
    source: str
    at_least: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def emptied_by(self) -> str | None:
        """The first condition after which no run remains."""
        for row in self.rows:
            if row.remaining == 0:
                return row.clause
        return None

    def to_dict(self) -> dict:
        return {
            "filter": self.filter,
            "source": self.source,
            "total": self.total,
            "counts_are_lower_bounds": self.at_least,
            "emptied_by": self.emptied_by,
            "clauses": [{"clause": r.clause, "alone": r.alone, "remaining": r.remaining}
                        for r in self.rows],
            "notes": list(self.notes),
        }

    def __str__(self) -> str:
        return render_table(self)

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import explanation_html

        return explanation_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty

        pretty(render_table(self), p, cycle)


def _n(value, at_least: bool) -> str:
    if value is None:
        return "?"
    return f">={value}" if at_least and value else str(value)


def render_table(e: Explanation) -> str:
    head = ("condition", "alone", "remaining")
    rows = [(r.clause, _n(r.alone, e.at_least), _n(r.remaining, e.at_least)) for r in e.rows]
    total = "?" if e.total is None else _n(e.total, e.at_least)
    width = max([len(head[0])] + [len(r[0]) for r in rows])
    lines = [f"runs searched: {total}  ({e.source})",
             f"{head[0]:<{width}}  {head[1]:>7}  {head[2]:>9}"]
    for (clause, alone, remaining), row in zip(rows, e.rows):
        mark = "  <- empties the result" if row.clause == e.emptied_by else ""
        lines.append(f"{clause:<{width}}  {alone:>7}  {remaining:>9}{mark}")
    lines.extend(f"note: {n}" for n in e.notes)
    return "\n".join(lines)


def explain(filter_string: str, store, experiment_ids=None, view_type=None) -> Explanation:
    """Count, per condition, the runs of `store` (a database or tracking-server URI) that match.
    Raises FilterError if MLflow would reject the filter, SchemaError if the store cannot be read."""
    from mlfilter.checker import parse
    from mlfilter.grouping import effective_comparisons
    from mlfilter.printer import print_node
    from mlfilter.schema.errors import SchemaError

    filt = parse(filter_string, "runs")
    parsed = filt.to_mlflow()
    clauses = [print_node(c) for c in effective_comparisons(filt)]
    view = _view(view_type)
    from mlfilter.schema.model import store_kind

    if not isinstance(store, str):
        raise SchemaError("explain needs a store URI (database or tracking server)")
    kind = store_kind(store)
    if kind == "snapshot":
        raise SchemaError("explain counts runs, so it needs the store itself (a database or "
                          "tracking server URI), not a schema snapshot")
    if kind == "server":
        return _explain_server(filter_string, clauses, store, experiment_ids, view)
    return _explain_database(filter_string, clauses, parsed, store, experiment_ids, view)


def _view(view_type) -> int:
    if view_type is None:
        return 1
    if isinstance(view_type, str):
        key = view_type.strip().lower()
        mapping = {"active_only": 1, "deleted_only": 2, "all": 3}
        if key not in mapping:
            from mlfilter.schema.errors import SchemaError

            raise SchemaError(f"unknown view type {view_type!r}: active_only, deleted_only or all")
        return mapping[key]
    return int(view_type)


def _explain_database(text, clauses, parsed, uri, experiment_ids, view) -> Explanation:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from mlfilter.schema.model import mask
    from mlfilter.schema.store import check_revision, connect

    try:
        from mlflow.entities import LifecycleStage
        from mlflow.store.tracking.dbmodels.models import SqlExperiment, SqlRun
        from mlflow.store.tracking.sqlalchemy_store import _get_sqlalchemy_filter_clauses
    except ImportError:
        from mlfilter.schema.errors import SchemaError

        raise SchemaError("explain on a database needs MLflow's store code: install "
                          "mlfilter[store]") from None
    with connect(uri) as conn:
        check_revision(conn, uri)
        session = Session(bind=conn)
        dialect = conn.dialect.name
        dialect = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql",
                   "sqlite": "sqlite", "mssql": "mssql"}[dialect]
        ids = _experiment_ids(session, SqlExperiment, experiment_ids)
        stages = list(LifecycleStage.view_type_to_stages(view))
        scope = (SqlRun.experiment_id.in_(ids), SqlRun.lifecycle_stage.in_(stages))

        def counted(parts):
            attribute, joined, datasets = _get_sqlalchemy_filter_clauses(parts, session, dialect)
            stmt = sa.select(sa.func.count(sa.distinct(SqlRun.run_uuid))).select_from(SqlRun)
            for sub in joined:
                stmt = stmt.join(sub)
            for sub in datasets:
                stmt = stmt.join(sub, SqlRun.run_uuid == sub.c.destination_id)
            return stmt.where(*scope, *attribute).scalar_subquery()

        total = session.execute(sa.select(counted([]))).scalar()
        rows = []
        for i, clause in enumerate(clauses):
            # One round trip per condition: its count alone and with all before it.
            alone, remaining = session.execute(
                sa.select(counted([parsed[i]]), counted(parsed[: i + 1]))).one()
            rows.append(ExplainRow(clause, alone, remaining))
        session.close()
    return Explanation(text, tuple(rows), total, mask(uri))


def _experiment_ids(session, SqlExperiment, refs):
    from mlfilter.schema.errors import SchemaError

    rows = session.query(SqlExperiment.experiment_id, SqlExperiment.name).all()
    if not refs:
        return [r[0] for r in rows]
    out = []
    for ref in refs:
        match = [r[0] for r in rows if str(r[0]) == str(ref) or r[1] == str(ref)]
        if not match:
            raise SchemaError(f"no experiment with id or name {ref!r}")
        out.extend(match)
    return out


def _explain_server(text, clauses, uri, experiment_ids, view) -> Explanation:
    from mlfilter.schema.model import mask
    from mlfilter.schema.server import client_for, experiments_at

    client = client_for(uri)
    ids = [e.experiment_id for e in experiments_at(client, uri, experiment_ids)]

    def any_match(filter_string: str) -> int:
        found = client.search_runs(ids, filter_string, run_view_type=view, max_results=1)
        return len(found)

    total = any_match("")
    rows = []
    for i, clause in enumerate(clauses):
        rows.append(ExplainRow(clause, any_match(clause), any_match(" AND ".join(clauses[: i + 1])),
                               at_least=True))
    return Explanation(text, tuple(rows), total, mask(uri), at_least=True,
                       notes=("a tracking server cannot count without fetching every run: "
                              "counts show 0 or at least 1",))


class _CallableModule(types.ModuleType):
    """`mlfilter.explain` is both this module (`from mlfilter.explain import explain`, the path
    since 0.1) and the function: importing a submodule rebinds the package's attribute of its
    name to the module, so the module itself must be the function too."""

    def __call__(self, filter_string: str, store, experiment_ids=None, view_type=None):
        return explain(filter_string, store, experiment_ids, view_type)


_CallableModule.__call__.__doc__ = explain.__doc__
sys.modules[__name__].__class__ = _CallableModule
