#!/usr/bin/env python
"""Store benchmarks: schema extraction and explain, against MLflow's own client on the same store.

Stores of 1k and 10k runs (and 100k with --full) are written in bulk through MLflow's own
SQLAlchemy models (tests/stores.py: bulk_store; experiments created by MLflow's store; 3
experiments, 5 params, 3 tags, 2 metrics per run, 1 run in 25 deleted, 1 in 50 with a NaN loss).

1. Schema extraction: `Schema.from_store(uri)` (aggregate SQL, bounded samples) against the
   reference, the same information through MLflow's client: every run of every experiment paged
   with `MlflowClient.search_runs(..., run_view_type=ALL)` and folded into per-key run counts,
   active counts, distinct values, metric ranges and NaN counts. Two page sizes: MLflow's
   default (1,000 runs a page, offset paging) and its largest (50,000: one page here, the
   reference's best case). Target: at least 50x faster at 10k runs.
2. explain: `explain(filter, uri)` (a fresh read-only connection, then per condition one round
   trip with its count alone and with the conditions before it) against one
   `search_runs(ids, filter, max_results=50000)` call that returns the matching runs (the
   client and its engine made once, before timing). Three filters: one that empties the result,
   one that keeps ~1 % of the runs, one that keeps ~40 %. Target: cheaper. A third column times
   a prototype, `histogram_explain` below: the same counts from one query (a CASE flag per
   condition, each an EXISTS over MLflow's own filter subquery, grouped by the flags),
   checked equal to explain's counts before timing.

The client talks to the database directly (no tracking server): the reference's best case.
Both sides are timed in one process on the same store, alternating which goes first; medians.
It prints numbers and never fails on them (no test asserts timings).

    .venv/bin/python bench/bench_schema.py            # 1k and 10k runs, SQLite (a few minutes)
    .venv/bin/python bench/bench_schema.py --full     # and 100k runs (much longer)
    .venv/bin/python bench/bench_schema.py --backend postgresql   # a fresh database, dropped after
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
warnings.filterwarnings("ignore")

SIZES = (1_000, 10_000)
FULL_SIZES = SIZES + (100_000,)
REPS = {1_000: 7, 10_000: 3, 100_000: 1}
EXTRACT_TARGET = 50.0
EXPLAIN_FILTERS = {
    "empties": "params.optimizer = 'Adamm' AND metrics.accuracy > 0.6",
    "~1 %": ("params.optimizer = 'adam' AND metrics.accuracy > 0.8 AND tags.stage = 'prod' AND "
             "params.batch_size = '64'"),
    "~40 %": "params.optimizer = 'adam' AND metrics.accuracy > 0.6",
}
EXPLAIN_FILTER = EXPLAIN_FILTERS["~1 %"]


def histogram_explain(text: str, uri: str, experiment_ids) -> tuple:
    """Prototype: explain's counts (total, alone per condition, remaining per condition) from a
    single query over the runs, grouped by one 0/1 flag per condition."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import SqlRun
    from mlflow.store.tracking.sqlalchemy_store import _get_sqlalchemy_filter_clauses
    from mlflow.utils.search_utils import SearchUtils
    from sqlalchemy.orm import Session

    from mlfilter.schema.store import check_revision, connect

    parsed = SearchUtils.parse_search_filter(text)
    with connect(uri) as conn:
        check_revision(conn, uri)
        session = Session(bind=conn)
        dialect = {"mariadb": "mysql"}.get(conn.dialect.name, conn.dialect.name)
        flags = []
        for part in parsed:
            attribute, joined, datasets = _get_sqlalchemy_filter_clauses([part], session, dialect)
            conds = list(attribute)
            conds += [sa.exists().where(sub.c.run_uuid == SqlRun.run_uuid) for sub in joined]
            conds += [sa.exists().where(sub.c.destination_id == SqlRun.run_uuid)
                      for sub in datasets]
            flags.append(sa.case((sa.and_(*conds), 1), else_=0).label(f"f{len(flags)}"))
        rows = session.execute(
            sa.select(*flags, sa.func.count()).select_from(SqlRun)
            .where(SqlRun.experiment_id.in_(experiment_ids), SqlRun.lifecycle_stage == "active")
            .group_by(*[sa.literal_column(f.name) for f in flags])).all()
        session.close()
    n = len(flags)
    return (sum(r[-1] for r in rows), [sum(r[-1] for r in rows if r[i]) for i in range(n)],
            [sum(r[-1] for r in rows if all(r[: i + 1])) for i in range(n)])


def reference_schema(client, experiment_ids, page_size: int = 50000) -> dict:
    """What Schema.from_store reads, computed from every run MLflow's client returns."""
    out = {}
    for eid in experiment_ids:
        keys = {"params": {}, "tags": {}, "metrics": {}}
        runs = {}
        token = None
        while True:
            page = client.search_runs([eid], "", run_view_type=3, max_results=page_size,
                                      page_token=token)
            for run in page:
                active = run.info.lifecycle_stage == "active"
                slot = f"{run.info.lifecycle_stage}/{run.info.status}"
                runs[slot] = runs.get(slot, 0) + 1
                for part, data in (("params", run.data.params), ("tags", run.data.tags)):
                    for key, value in data.items():
                        k = keys[part].setdefault(key, [0, 0, set()])
                        k[0] += 1
                        k[1] += active
                        k[2].add(value)
                for key, value in run.data.metrics.items():
                    k = keys["metrics"].setdefault(key, [0, 0, None, None, 0])
                    k[0] += 1
                    k[1] += active
                    if math.isnan(value):
                        k[4] += 1
                    else:
                        k[2] = value if k[2] is None else min(k[2], value)
                        k[3] = value if k[3] is None else max(k[3], value)
            token = page.token
            if not token:
                break
        out[eid] = (runs, keys)
    return out


def agree(schema, reference) -> bool:
    """The reference and the extraction hold the same counts (a sanity check before timing)."""
    for eid, (runs, keys) in reference.items():
        exp = schema.experiments[eid]
        if exp.runs != runs:
            return False
        for part in ("params", "tags"):
            for key, (n, active, values) in keys[part].items():
                info = getattr(exp, part)[key]
                if (info.entities, info.active, info.distinct) != (n, active, len(values)):
                    return False
        for key, (n, active, lo, hi, nan) in keys["metrics"].items():
            info = exp.metrics[key]
            if (info.entities, info.active, info.nan) != (n, active, nan):
                return False
            if abs(info.minimum - lo) > 1e-9 or abs(info.maximum - hi) > 1e-9:
                return False
    return True


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def paired(first, second, reps: int) -> tuple[list[float], list[float]]:
    a, b = [], []
    for i in range(reps):
        if i % 2:
            b.append(timed(second))
            a.append(timed(first))
        else:
            a.append(timed(first))
            b.append(timed(second))
    return a, b


def median_of(fn, reps: int) -> float:
    return statistics.median(timed(fn) for _ in range(reps))


@contextlib.contextmanager
def store_of(size: int, backend: str, tmp: str):
    import stores

    if backend == "sqlite":
        uri = f"sqlite:///{Path(tmp, f'bench-{size}.db')}"
        t = time.perf_counter()
        ids = stores.bulk_store(uri, tmp, size)
        yield uri, ids, time.perf_counter() - t
        return
    kind = "postgresql" if backend == "postgresql" else "mysql"
    reason = stores.server_available(kind)
    if reason:
        raise SystemExit(f"bench_schema: {reason}")
    name = stores.fresh_name("mlfilter_bench")
    uri = stores.create_database(kind, name)
    try:
        t = time.perf_counter()
        ids = stores.bulk_store(uri, tmp, size)
        yield uri, ids, time.perf_counter() - t
    finally:
        stores.drop_database(kind, name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="also 100k runs")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "mariadb"),
                        default="sqlite")
    args = parser.parse_args()
    import stores
    from mlflow import MlflowClient

    from mlfilter.explain import explain
    from mlfilter.schema import Schema

    sizes = FULL_SIZES if args.full else SIZES
    print(f"bench_schema: Python {platform.python_version()}, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.1f}, backend {args.backend}", flush=True)
    extraction, explained_rows = [], []
    tmp = tempfile.mkdtemp(prefix="mlfilter-bench-")
    try:
        for size in sizes:
            with store_of(size, args.backend, tmp) as (uri, ids, build), stores.quiet_mlflow():
                client = MlflowClient(tracking_uri=uri)
                reference = reference_schema(client, ids)  # warms MLflow's engine and caches
                schema = Schema.from_store(uri)
                if not agree(schema, reference) or not agree(schema, reference_schema(
                        client, ids, 1000)):
                    print(f"bench_schema: the extraction and MLflow disagree at {size} runs")
                    return 2
                reps = REPS[size]
                ext, one_page = paired(lambda u=uri: Schema.from_store(u),
                                       lambda c=client: reference_schema(c, ids), reps)
                default_pages = median_of(lambda c=client: reference_schema(c, ids, 1000), reps)
                extraction.append((size, statistics.median(ext), statistics.median(one_page),
                                   default_pages))
                print(f"  {size:>7,} runs: built in {build:.1f} s", flush=True)
                for label, text in EXPLAIN_FILTERS.items():
                    e = explain(text, uri, ids)
                    matching = len(client.search_runs(ids, text, max_results=50000))
                    counts = (e.total, [r.alone for r in e.rows], [r.remaining for r in e.rows])
                    if e.rows[-1].remaining != matching or histogram_explain(
                            text, uri, ids) != counts:
                        print(f"bench_schema: explain and MLflow disagree at {size} runs: {text}")
                        return 2
                    ex, search = paired(lambda t=text: explain(t, uri, ids),
                                        lambda t=text, c=client: c.search_runs(
                                            ids, t, max_results=50000),
                                        max(reps, 3))
                    proto = median_of(lambda t=text: histogram_explain(t, uri, ids), max(reps, 3))
                    explained_rows.append((size, label, matching, statistics.median(ex),
                                           statistics.median(search), proto))
                client._tracking_client.store.engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("\nSchema extraction vs the same information from search_runs pages; medians")
    print(f"{'runs':>8}  {'mlfilter':>9}  {'pages of 1000':>13}  {'ratio':>7}  "
          f"{'one page':>10}  {'ratio':>7}  target {EXTRACT_TARGET:g}x at 10k")
    for size, ext, one, default in extraction:
        verdict = ""
        if size == 10_000:
            verdict = "/".join("met" if r >= EXTRACT_TARGET else "not met"
                               for r in (default / ext, one / ext))
        print(f"{size:>8,}  {ext * 1000:>7.0f}ms  {default * 1000:>11.0f}ms  {default / ext:>6.1f}x  "
              f"{one * 1000:>8.0f}ms  {one / ext:>6.1f}x  {verdict}")
    print("\nexplain vs one search_runs returning the matching runs; medians")
    print(f"{'runs':>8}  {'filter':>8}  {'matches':>7}  {'explain':>8}  {'search_runs':>11}  "
          f"{'ratio':>6}  {'one-query':>9}  {'ratio':>6}  target: cheaper")
    for size, label, matching, ex, search, proto in explained_rows:
        print(f"{size:>8,}  {label:>8}  {matching:>7,}  {ex * 1000:>6.0f}ms  {search * 1000:>9.0f}ms"
              f"  {search / ex:>5.1f}x  {proto * 1000:>7.0f}ms  {search / proto:>5.1f}x  "
              f"{'met' if ex < search else 'not met'}")
    print("\nGrowth with 10x the runs (time at this size / time at the previous size)")
    for (s0, e0, o0, d0), (s1, e1, o1, d1) in itertools.pairwise(extraction):
        print(f"  {s0:,} -> {s1:,}: extraction {e1 / e0:.1f}x, pages of 1000 {d1 / d0:.1f}x, "
              f"one page {o1 / o0:.1f}x")
        for label in EXPLAIN_FILTERS:
            a = next(r for r in explained_rows if r[0] == s0 and r[1] == label)
            b = next(r for r in explained_rows if r[0] == s1 and r[1] == label)
            print(f"    {label:>8}: explain {b[3] / a[3]:.1f}x, search_runs {b[4] / a[4]:.1f}x, "
                  f"one-query {b[5] / a[5]:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
