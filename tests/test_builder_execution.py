"""OR and NOT, executed: `.run()` returns exactly what the expression means, on a real store.

A SQLite store built with MLflow's own client holds a few hundred runs in two experiments:
params, metrics and tags that some runs lack, every status, some runs deleted, tied start times
and metric values. For every expression hypothesis draws, and every view type, the runs `.run()`
returns (client path: a list of Run; fluent path: mlflow.search_runs' DataFrame) are exactly
those a brute-force Python evaluation of the expression selects from all runs, with MLflow's
semantics: a condition on a key the run lacks is false (`!=` too), IS NULL is true when it is
missing, NOT is Python's `not`, LIKE is SQL LIKE (case-sensitive on MLflow's SQLite), ILIKE
compares SQLite's ASCII lower case. With order_by and a limit, the result is the first rows of
MLflow's own ordering of that set.

MLFILTER_EXAMPLES scales the number of generated expressions (default 100 -> 62 here).
"""

from __future__ import annotations

import os
import random
import re

import pytest

pytest.importorskip("mlflow")

from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from mlfilter import BuildError, F, search_runs  # noqa: E402
from test_builder_properties import Leaf, build, structure_refusals  # noqa: E402

pytestmark = pytest.mark.mlflow

EXAMPLES = max(5, int(os.environ.get("MLFILTER_EXAMPLES", "100")) * 5 // 8)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")))

N_RUNS = 240
LR = ["0.1", "0.01", "0.001", "1e-3"]
OPT = ["adam", "Adam", "sgd", "it's", "50%_off", "ünï"]
TEAM = ["ml", "ML", "data", "a_b", "a%b"]
NAMES = ["alpha", "Alpha", "beta", "gamma_1", "delta%", "ÉTÉ"]
METRIC_VALUES = [-1.5, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0, 3.0]  # repeated: ties in ordering
TERMINAL = ["FINISHED", "FAILED", "KILLED"]


# ---- the store ----------------------------------------------------------------------------------

class Store:
    def __init__(self, uri, client, experiment_ids, runs):
        self.uri, self.client, self.experiment_ids, self.runs = uri, client, experiment_ids, runs
        self.ids = sorted(r.info.run_id for r in runs)

    def query(self):
        return search_runs(self.experiment_ids)


def _fast_sqlite(directory: str):
    """SQLite durability off (no fsync per commit) for databases in `directory` only: building
    a few hundred runs takes seconds instead of a minute. Searches are unaffected."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def on_connect(dbapi_connection, _record):
        try:
            files = [row[2] for row in dbapi_connection.execute("PRAGMA database_list")]
        except Exception:  # noqa: BLE001 - not SQLite
            return
        if any(f and f.startswith(directory) for f in files):
            dbapi_connection.execute("PRAGMA synchronous = OFF")

    event.listen(Engine, "connect", on_connect)
    return lambda: event.remove(Engine, "connect", on_connect)


@pytest.fixture(scope="module")
def run_store(tmp_path_factory):
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag, ViewType

    directory = str(tmp_path_factory.mktemp("exec-store"))
    undo = _fast_sqlite(directory)
    uri = f"sqlite:///{directory}/mlflow.db"
    saved_env = os.environ.pop("PYTEST_CURRENT_TEST", None)  # MLflow's read-only tripwire
    try:
        client = MlflowClient(uri)
        ids = [client.create_experiment(name, artifact_location=f"{directory}/{name}")
               for name in ("exec-A", "exec-B")]
        rng = random.Random(5)
        for i in range(N_RUNS):
            exp = ids[0] if i % 4 else ids[1]
            start = 1_700_000_000_000 + rng.randrange(60) * 1000  # many ties
            run = client.create_run(exp, start_time=start,
                                    run_name=f"{rng.choice(NAMES)}-{i}")
            rid = run.info.run_id
            metrics = [Metric(k, rng.choice(METRIC_VALUES), 0, 0)
                       for k, p in (("acc", 0.8), ("loss", 0.6)) if rng.random() < p]
            params = [Param(k, rng.choice(vals))
                      for k, vals, p in (("lr", LR, 0.8), ("opt", OPT, 0.7)) if rng.random() < p]
            tags = [RunTag(k, rng.choice(vals))
                    for k, vals, p in (("team", TEAM, 0.75), ("note", ["x", "", "X y"], 0.4))
                    if rng.random() < p]
            client.log_batch(rid, metrics=metrics, params=params, tags=tags)
            if rng.random() < 0.7:
                client.set_terminated(rid, rng.choice(TERMINAL),
                                      end_time=start + rng.randrange(1, 5) * 1000)
            if rng.random() < 0.15:
                client.delete_run(rid)
        runs = list(client.search_runs(ids, "", ViewType.ALL, max_results=1000))
        assert len(runs) == N_RUNS
        yield Store(uri, client, ids, runs)
    finally:
        undo()
        if saved_env is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved_env


@pytest.fixture(autouse=True)
def _mlflow_session(run_store):
    """The fluent API reads the global tracking URI; MLflow refuses writes in pytest."""
    import mlflow
    from mlflow.tracking._tracking_service import utils

    saved_uri = utils._tracking_uri  # None unless set: restored as it was
    mlflow.set_tracking_uri(run_store.uri)
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
    yield
    utils._tracking_uri = saved_uri
    if saved is not None:
        os.environ["PYTEST_CURRENT_TEST"] = saved


# ---- brute force ------------------------------------------------------------------------------

def _like_regex(pattern: str, fold: bool) -> re.Pattern:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.DOTALL)


def _ascii_lower(s: str) -> str:
    """SQLite's lower() folds ASCII letters only."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def value_of(run, leaf: Leaf):
    if leaf.kind == "metric":
        return run.data.metrics.get(leaf.key)
    if leaf.kind == "param":
        return run.data.params.get(leaf.key)
    if leaf.kind == "tag":
        return run.data.tags.get(leaf.key)
    return {"run_id": run.info.run_id, "status": run.info.status,
            "start_time": run.info.start_time, "end_time": run.info.end_time,
            "run_name": run.info.run_name}[leaf.key]


def holds(run, tree) -> bool:
    """MLflow's meaning of the expression for one run, in plain Python."""
    if not isinstance(tree, Leaf):
        tag, *items = tree
        if tag == "not":
            return not holds(run, items[0])
        results = [holds(run, i) for i in items]
        return all(results) if tag == "and" else any(results)
    have, op, v = value_of(run, tree), tree.op, tree.value
    if op == "IS NULL":
        return have is None
    if op == "IS NOT NULL":
        return have is not None
    if have is None:
        return False
    if op in ("LIKE", "ILIKE"):
        fold = op == "ILIKE"
        text, pat = (_ascii_lower(have), _ascii_lower(v)) if fold else (have, v)
        return _like_regex(pat, fold).fullmatch(text) is not None
    if op == "IN":
        return have in v
    if op == "NOT IN":
        return have not in v
    return {"=": have == v, "!=": have != v, "<": have < v, "<=": have <= v, ">": have > v,
            ">=": have >= v}[op]


VIEWS = {"active_only": ("active",), "deleted_only": ("deleted",), "all": ("active", "deleted")}


def expected_ids(run_store, tree, view: str) -> set[str]:
    return {r.info.run_id for r in run_store.runs
            if r.info.lifecycle_stage in VIEWS[view] and holds(r, tree)}


def mlflow_order(run_store, ids, order_by) -> list[str]:
    """MLflow's own ordering (SQL, with its tie-breaks) of exactly these runs."""
    from mlflow.entities import ViewType

    if not ids:
        return []
    quoted = ", ".join(f"'{i}'" for i in sorted(ids))
    runs = run_store.client.search_runs(run_store.experiment_ids, f"attributes.run_id IN ({quoted})",
                                    ViewType.ALL, max_results=1000, order_by=order_by)
    return [r.info.run_id for r in runs]


# ---- expressions over the run_store's vocabulary ------------------------------------------------------

def leaves_for(store_ids):
    patterns = st.sampled_from(["%", "a%", "A%", "%a%", "_%", "%\\_%", "%_1", "0.0%", "%é%",
                                "%É%", "ü%", "%%", "", "x", "X%", "%'%", "adam"])
    return st.one_of(
        st.builds(Leaf, st.just("metric"), st.sampled_from(["acc", "loss", "absent"]),
                  st.sampled_from(["=", "!=", "<", "<=", ">", ">="]),
                  st.sampled_from(METRIC_VALUES + [-10.0, 10.0])),
        st.builds(Leaf, st.just("param"), st.sampled_from(["lr", "opt", "absent"]),
                  st.sampled_from(["=", "!="]), st.sampled_from(LR + OPT + ["", "none"])),
        st.builds(Leaf, st.sampled_from(["param", "tag"]),
                  st.sampled_from(["lr", "opt", "team", "note"]),
                  st.sampled_from(["LIKE", "ILIKE"]), patterns),
        st.builds(Leaf, st.just("tag"), st.sampled_from(["team", "note", "absent"]),
                  st.sampled_from(["=", "!="]), st.sampled_from(TEAM + ["x", "", "X y"])),
        st.builds(Leaf, st.sampled_from(["param", "tag"]), st.sampled_from(["lr", "team"]),
                  st.sampled_from(["IS NULL", "IS NOT NULL"]), st.none()),
        st.builds(Leaf, st.just("attr"), st.just("status"), st.sampled_from(["=", "!="]),
                  st.sampled_from(["RUNNING"] + TERMINAL)),
        st.builds(Leaf, st.just("attr"), st.just("status"), st.just("LIKE"),
                  st.sampled_from(["F%", "%ED", "R_NNING"])),
        st.builds(Leaf, st.just("attr"), st.sampled_from(["start_time", "end_time"]),
                  st.sampled_from(["<", ">=", "=", "!="]),
                  st.integers(0, 64).map(lambda s: 1_700_000_000_000 + s * 1000)),
        st.builds(Leaf, st.just("attr"), st.just("run_name"), st.sampled_from(["LIKE", "ILIKE"]),
                  patterns),
        st.builds(Leaf, st.just("attr"), st.just("run_id"), st.sampled_from(["IN", "NOT IN"]),
                  st.lists(st.sampled_from(store_ids), min_size=1, max_size=40, unique=True)
                  .map(tuple)),
    )


def trees(store_ids):
    return st.recursive(
        leaves_for(store_ids),
        lambda sub: st.one_of(st.tuples(st.just("and"), sub, sub),
                              st.tuples(st.just("or"), sub, sub),
                              st.tuples(st.just("not"), sub)),
        max_leaves=5,
    )


ORDERS = [
    [F.metric("acc").desc()], [F.metric("loss").asc(), F.attr("start_time").desc()],
    [F.param("opt").asc()], [F.tag("team").desc(), F.metric("acc")], [F.attr("run_name")],
    [F.attr("start_time").asc()], [F.attr("end_time").desc()], [F.attr("status").asc()],
]


def build_query(run_store, tree, view):
    try:
        return run_store.query().where(build(tree)).view(view)
    except BuildError as e:
        reasons = [r for r, _ in structure_refusals("runs", tree)]
        assert reasons and any(r in str(e) for r in reasons), f"unexpected refusal: {e}"
        event("refused: no exact negation")
        return None


# ---- the tests --------------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_run_returns_exactly_the_brute_force_set(run_store, data):
    tree = data.draw(trees(run_store.ids), label="tree")
    view = data.draw(st.sampled_from(sorted(VIEWS)), label="view")
    query = build_query(run_store, tree, view)
    if query is None:
        return
    want = expected_ids(run_store, tree, view)
    event(f"searches: {min(len(query.filters()), 4)}{'+' if len(query.filters()) > 4 else ''}")
    event("matches: none" if not want else "matches: all" if len(want) == sum(
        r.info.lifecycle_stage in VIEWS[view] for r in run_store.runs) else "matches: some")
    got = [r.info.run_id for r in query.run(run_store.client)]
    assert len(got) == len(set(got)), "duplicates in the union"
    assert set(got) == want, f"{query.filters()}: {len(got)} runs, expected {len(want)}"
    frame = query.run()  # the fluent path: mlflow.search_runs' DataFrame
    assert list(frame["run_id"]) == got


@SETTINGS
@given(data=st.data())
def test_order_and_limit_follow_mlflow_ordering(run_store, data):
    tree = data.draw(trees(run_store.ids), label="tree")
    view = data.draw(st.sampled_from(sorted(VIEWS)), label="view")
    orders = data.draw(st.sampled_from(ORDERS), label="order_by")
    limit = data.draw(st.integers(1, 60), label="limit")
    query = build_query(run_store, tree, view)
    if query is None:
        return
    query = query.order_by(*orders).limit(limit)
    want = mlflow_order(run_store, expected_ids(run_store, tree, view), list(query.orders))[:limit]
    got = [r.info.run_id for r in query.run(run_store.client)]
    assert got == want, query.filters()
    assert list(query.run()["run_id"]) == want, "fluent path"
    if len(query.filters()) == 1:  # one search: exactly what MLflow itself returns
        import mlflow

        direct = run_store.client.search_runs(**query.to_kwargs("client"))
        assert [r.info.run_id for r in direct] == want
        assert list(mlflow.search_runs(**query.to_kwargs("fluent"))["run_id"]) == want


def test_not_equal_is_not_the_same_as_not_equals(run_store):
    """`params.lr != '0.1'` skips runs without lr; `~(lr == '0.1')` includes them."""
    base = run_store.query().view("all")
    ne = {r.info.run_id for r in base.where(F.param("lr") != "0.1").run(run_store.client)}
    negated = {r.info.run_id for r in base.where(~(F.param("lr") == "0.1")).run(run_store.client)}
    missing = {r.info.run_id for r in run_store.runs if "lr" not in r.data.params}
    assert missing and negated == ne | missing and not ne & missing
    assert base.where(~(F.param("lr") == "0.1")).filters() == \
        ["params.lr != '0.1'", "params.lr IS NULL"]


def test_union_of_overlapping_searches_has_no_duplicates_and_respects_limit(run_store):
    expr = (F.param("opt") == "adam") | (F.metric("acc") >= 0.5) | (F.tag("team") == "ml")
    query = run_store.query().where(expr).view("all").order_by(F.metric("acc").desc()).limit(25)
    assert len(query.filters()) == 3
    ids = [r.info.run_id for r in query.run(run_store.client)]
    tree = ("or", ("or", Leaf("param", "opt", "=", "adam"), Leaf("metric", "acc", ">=", 0.5)),
            Leaf("tag", "team", "=", "ml"))
    assert ids == mlflow_order(run_store, expected_ids(run_store, tree, "all"), ["metrics.acc DESC"])[:25]


def test_default_view_is_active_only_like_mlflow(run_store):
    ids = {r.info.run_id for r in run_store.query().where(F.metric("acc") > -100).run(run_store.client)}
    tree = Leaf("metric", "acc", ">", -100)
    assert ids == expected_ids(run_store, tree, "active_only") != expected_ids(run_store, tree, "all")


def test_experiment_names_resolve_to_ids(run_store):
    by_name = search_runs(experiment_names=["exec-A", "exec-B"]).where(
        (F.attr("status") == "KILLED") | (F.param("opt") == "it's")).view("all")
    by_id = run_store.query().where(
        (F.attr("status") == "KILLED") | (F.param("opt") == "it's")).view("all")
    got = {r.info.run_id for r in by_name.run(run_store.client)}
    assert got == {r.info.run_id for r in by_id.run(run_store.client)} != set()
    assert set(by_name.run()["run_id"]) == got


# ---- unions of the other searches, on the oracle's store -----------------------------------------

def _other_unions(o):
    from mlfilter import (search_experiments, search_logged_models, search_model_versions,
                          search_registered_models, search_traces)

    a, b = o.experiment_ids["exp-A"], o.experiment_ids["exp-B"]
    return {
        "experiments": (
            search_experiments().where((F.attr("name") == "exp-A") | ~(F.tag("team") == "ml"))
            .view("all"), [F.attr("name").desc()],
            lambda c, order: c.search_experiments(view_type=3, order_by=order),
            lambda e: e.experiment_id),
        "registered_models": (
            search_registered_models().where((F.attr("name") == "model-a")
                                             | (F.tag("team") == "ml")),
            [F.attr("last_updated_timestamp").desc()],
            lambda c, order: c.search_registered_models(order_by=order), lambda m: m.name),
        "model_versions": (
            search_model_versions().where((F.attr("name") == "model-a")
                                          | (F.attr("run_id") == o.run_ids["Beta"])),
            [F.attr("creation_timestamp").asc()],
            lambda c, order: c.search_model_versions(order_by=order),
            lambda v: (v.name, int(v.version))),
        "logged_models": (
            search_logged_models([a, b]).where((F.attr("name") == "lm-one")
                                               | (F.param("p") == "2")
                                               | (F.tag("stage") == "prod")),
            [F.attr("name").asc()],
            lambda c, order: c.search_logged_models([a, b], order_by=order),
            lambda m: m.model_id),
        "traces": (
            search_traces([a]).where((F.tag("env") == "prod") | (F.tag("env") == "dev")),
            [F.attr("execution_time_ms").asc()],
            lambda c, order: c.search_traces(locations=[a], order_by=order, include_spans=False),
            lambda t: t.info.trace_id),
    }


@pytest.mark.parametrize("ordered", [False, True], ids=["default order", "order_by"])
@pytest.mark.parametrize("api", ["experiments", "registered_models", "model_versions",
                                 "logged_models", "traces"])
def test_unions_of_other_searches_follow_mlflow_ordering(api, ordered):
    """Each union's entities are those its searches find, in the order MLflow's SQL store gives
    the same entities (its full ordering restricted to them)."""
    from mlflow import MlflowClient
    from mlflow_oracle import get_oracle

    o = get_oracle()
    client = MlflowClient(o.uri)
    query, orders, everything, identity = _other_unions(o)[api]
    if ordered:
        query = query.order_by(*orders)
    assert len(query.filters()) > 1
    got = [identity(x) for x in query.run(client)]
    found = set()
    for kw in query.searches("client"):
        found |= {identity(x) for x in getattr(client, query.spec.client_method)(**kw)}
    assert len(got) == len(set(got)) and set(got) == found and len(found) >= 2
    all_in_order = [identity(x) for x in everything(client, list(query.orders) or None)]
    assert got == [i for i in all_in_order if i in found]
    limited = query.limit(1).run(client)
    assert [identity(x) for x in limited] == got[:1]
