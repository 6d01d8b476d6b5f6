"""Probe MLflow 3.17.2's search APIs on SQLite, PostgreSQL and MariaDB (and MSSQL, compiled only).

Run with a venv that has mlflow==3.17.2, psycopg[binary], pymysql and pyyaml:

    /tmp/be-venv/bin/python tests/compat/probe_backends.py \
        [--postgresql postgresql+psycopg://postgres@127.0.0.1:5432/postgres] \
        [--mysql mysql+pymysql://root@127.0.0.1:3306/] \
        [--out tests/compat/cases_backends.yaml] [--sql-out FILE] [--only REGEX]

The admin URLs name a server and a login that may CREATE and DROP databases. The script creates
one fresh database per server (`be_probe_<pid>_<hex>`; MariaDB with CHARACTER SET utf8mb4 and the
server's default collation), lets MLflow's own SqlAlchemyStore (tracking and registry) create
its tables, logs the same data set through the store API on every backend (plus a SQLite file in
a temporary directory), runs every probe through the store methods the tracking server calls, and
always drops its databases at the end (also on errors and Ctrl-C).

Verdicts are classified the way the tracking server answers: MlflowException -> its HTTP status
(`get_http_status_code()`), any other exception -> 500. A status below 500 is "rejected", 500 or
above (503 included) is "crash". MSSQL is not run on a server: each probe is run against the
SQLite store with the dialect name patched to "mssql"; Python-side errors (RLIKE refused) are real
MLflow code paths, and the first SQL statement is compiled with SQLAlchemy's mssql dialect and
recorded instead of being executed ("mssql_python: compiles").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import uuid
import warnings
from pathlib import Path

os.environ.pop("PYTEST_CURRENT_TEST", None)  # MLflow's test-only read-only-session tripwire
os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
os.environ.pop("MLFLOW_EXPERIMENT_NAME", None)

import sqlalchemy as sa  # noqa: E402
import yaml  # noqa: E402

BACKENDS = ("sqlite", "postgresql", "mysql")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms

LONG_300 = "L" * 300
LONG_5000 = "V" * 5000
LONG_9000 = "W" * 9000

_LOG = logging.getLogger("probe_backends")


# ---------------------------------------------------------------------------------------------
# databases


def _admin_engine(url):
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def create_database(kind, admin_url, name):
    engine = _admin_engine(admin_url)
    with engine.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    base = sa.engine.make_url(admin_url)
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(kind, admin_url, name):
    engine = _admin_engine(admin_url)
    try:
        with engine.connect() as conn:
            if kind == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        engine.dispose()


@contextlib.contextmanager
def quiet():
    names = ("mlflow", "alembic", "sqlalchemy", "urllib3", "opentelemetry")
    levels = {n: logging.getLogger(n).level for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            logging.getLogger(n).setLevel(logging.CRITICAL)
        try:
            yield
        finally:
            for n, lv in levels.items():
                logging.getLogger(n).setLevel(lv)


# ---------------------------------------------------------------------------------------------
# the data set (identical on every backend)


class Stores:
    def __init__(self, kind, uri, artifact_dir):
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as Registry
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as Tracking

        self.kind = kind
        self.uri = uri
        with quiet():
            self.tracking = Tracking(uri, Path(artifact_dir).as_uri())
            self.registry = Registry(uri)
        self.experiment_ids: list[str] = []
        self.notes: list[str] = []  # what could not be logged identically

    def dispose(self):
        for s in (self.tracking, self.registry):
            with contextlib.suppress(Exception):
                s.engine.dispose()


RUN_TAGS = {
    # run name -> tags
    "alpha": {"team": "ML", "note": "50% off", "path": "C:\\temp", "pad": "x ", "emoji": "🚀",
              "uni": "ключ", "under": "a_b", "mixed": "Hello", "long": LONG_5000, "ü": "umlaut-key",
              "sp": " lead"},
    "beta": {"team": "ml", "note": "500 off", "path": "C:/temp", "pad": "x", "emoji": "😀",
             "uni": "КЛЮЧ", "under": "axb", "mixed": "hello", "long": "short", "sp": "lead"},
    "Gamma": {"team": "Ml", "note": "50\\% off", "pad": "X", "emoji": "x", "uni": "ключ ",
              "under": "a\\_b", "mixed": "HELLO", "ß": "sharp-s"},
}
RUN_PARAMS = {
    "alpha": {"lr": "0.01", "opt": "Adam", "path": "C:\\temp", "long": LONG_5000, "PAD": "v "},
    "beta": {"lr": "0.1", "opt": "adam", "path": "C:\\\\temp", "long": "short", "pad": "v"},
    "Gamma": {"lr": "1e-2", "opt": "ADAM", "ünï": "x"},
}
NAN, INF = float("nan"), float("inf")
RUN_METRICS = {
    "alpha": {"loss": 0.5, "acc": 0.9, "neg": -1.5, "big": INF, "int": 3.0},
    "beta": {"loss": NAN, "acc": 0.1, "neg": -INF, "big": 1e300, "int": 2.0},
    "Gamma": {"loss": 2.0, "acc": 0.5, "big": -INF, "int": 4e18},
}
RUN_STATUS = {"alpha": "FINISHED", "beta": "FAILED", "Gamma": "RUNNING"}
EXPERIMENTS = {
    # name -> tags
    "Exp-A": {"team": "ML", "note": "50% off", "pad": "x "},
    "exp-b": {"team": "ml", "note": "500 off", "pad": "x"},
    "Exp_C 🚀": {"team": "Ml", "uni": "ключ"},
}
REG_MODELS = {
    "Model-A": {"stage": "Prod", "note": "50% off", "pad": "x "},
    "model-b": {"stage": "prod", "note": "500 off", "pad": "x"},
    "Model_C 🚀": {"stage": "PROD", "uni": "ключ"},
}


def fill(st: Stores):
    from mlflow.entities import (
        Dataset, DatasetInput, InputTag, LoggedModelParameter, LoggedModelStatus, LoggedModelTag,
        Metric, Param, RunTag, ViewType,
    )

    tr = st.tracking
    ids = {}
    for i, (name, tags) in enumerate(EXPERIMENTS.items()):
        eid = tr.create_experiment(name, tags=[_exp_tag(k, v) for k, v in tags.items()])
        ids[name] = eid
    st.experiment_ids = [ids[n] for n in EXPERIMENTS]
    e1 = ids["Exp-A"]
    runs = {}
    for j, (rname, tags) in enumerate(RUN_TAGS.items()):
        start = T0 + (j + 1) * 1000
        run = tr.create_run(e1, user_id=["alice", "Bob", "carol"][j], start_time=start,
                            tags=[RunTag("mlflow.runName", rname)], run_name=rname)
        rid = run.info.run_id
        runs[rname] = rid
        metrics = [Metric(k, v, T0, 0) for k, v in RUN_METRICS[rname].items()]
        params = [Param(k, v) for k, v in RUN_PARAMS[rname].items()]
        rtags = [RunTag(k, v) for k, v in tags.items()]
        for m in metrics:
            try:
                tr.log_batch(rid, metrics=[m], params=[], tags=[])
            except Exception as e:  # noqa: BLE001
                st.notes.append(f"log metric {rname}.{m.key}={m.value}: {_first(e)}")
        for p in params:
            try:
                tr.log_batch(rid, metrics=[], params=[p], tags=[])
            except Exception as e:  # noqa: BLE001
                st.notes.append(f"log param {rname}.{p.key}: {_first(e)}")
        for t in rtags:
            try:
                tr.log_batch(rid, metrics=[], params=[], tags=[t])
            except Exception as e:  # noqa: BLE001
                st.notes.append(f"log tag {rname}.{t.key}: {_first(e)}")
        if RUN_STATUS[rname] != "RUNNING":
            from mlflow.entities import RunStatus

            tr.update_run_info(rid, RunStatus.from_string(RUN_STATUS[rname]), start + 500, rname)
    # dataset inputs
    for rname, (dname, digest, ctx) in {"alpha": ("DS-Train", "abc123", "training"),
                                        "beta": ("ds-train", "def456", "Training"),
                                        "Gamma": ("ds 🚀", "d3", "eval ")}.items():
        ds = Dataset(name=dname, digest=digest, source_type="local", source="file:///tmp/x")
        tr.log_inputs(runs[rname], [DatasetInput(ds, [InputTag("mlflow.data.context", ctx)])])
    # a deleted run in experiment 2
    run = tr.create_run(ids["exp-b"], user_id="dave", start_time=T0 + 9000,
                        tags=[RunTag("mlflow.runName", "deleted-one")], run_name="deleted-one")
    tr.delete_run(run.info.run_id)

    # registry
    rg = st.registry
    from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag

    for name, tags in REG_MODELS.items():
        rg.create_registered_model(name, tags=[RegisteredModelTag(k, v) for k, v in tags.items()])
    for name, rname, tags in (("Model-A", "alpha", {"validated": "true", "pad": "x "}),
                              ("Model-A", "beta", {"validated": "True", "pad": "x"}),
                              ("model-b", "Gamma", {"validated": "TRUE", "uni": "ключ"}),
                              ("Model_C 🚀", "alpha", {})):
        rg.create_model_version(name, source=f"file:///tmp/{rname}/Model", run_id=runs[rname],
                                tags=[ModelVersionTag(k, v) for k, v in tags.items()])

    # logged models
    lms = {}
    for name, rname, params, tags, status, metrics in (
        ("lm-one", "alpha", {"p": "1", "Opt": "Adam", "pad": "v "}, {"fw": "Torch", "pad": "x "},
         LoggedModelStatus.READY, {"score": 0.9}),
        ("LM-two", "beta", {"p": "2", "opt": "adam"}, {"fw": "torch", "pad": "x"},
         LoggedModelStatus.FAILED, {"score": NAN}),
        ("lm_three 🚀", "Gamma", {"p": "10"}, {"fw": "TORCH", "uni": "ключ"},
         None, {"score": -INF}),
        ("lm-four", "Gamma", {}, {}, LoggedModelStatus.UNSPECIFIED, {}),
    ):
        lm = tr.create_logged_model(e1, name=name, source_run_id=runs[rname],
                                    tags=[LoggedModelTag(k, v) for k, v in tags.items()],
                                    params=[LoggedModelParameter(k, v) for k, v in params.items()])
        lms[name] = lm.model_id
        if status is not None:
            tr.finalize_logged_model(lm.model_id, status)
        for k, v in metrics.items():
            try:
                tr.log_batch(runs[rname], metrics=[Metric(k, v, T0 + 5, 0, model_id=lm.model_id)],
                             params=[], tags=[])
            except Exception as e:  # noqa: BLE001
                st.notes.append(f"log logged-model metric {name}.{k}={v}: {_first(e)}")

    _traces(st, e1)
    st.run_ids = runs
    st.logged_model_ids = lms


def _exp_tag(k, v):
    from mlflow.entities import ExperimentTag

    return ExperimentTag(k, v)


TRACES = (
    # name (root span), tags, metadata, span type, execution-time hint, feedback
    ("Answer", {"env": "prod", "pad": "x ", "emoji": "🚀", "note": "50% off"},
     {"mkey": "Alpha", "long": LONG_300}, "CHAIN", {"quality": 0.8, "label": "good"}),
    ("answer", {"env": "Prod", "pad": "x", "emoji": "😀", "note": "500 off"},
     {"mkey": "alpha"}, "LLM", {"quality": 0.2, "label": "Good"}),
    ("réponse 🚀", {"env": "PROD", "uni": "ключ"}, {"mkey": "ALPHA"}, "TOOL", {}),
)


def _traces(st: Stores, eid):
    import mlflow
    from mlflow.tracking._tracking_service import utils as tracking_utils
    from mlflow.tracking import fluent

    saved = fluent._active_experiment_id
    ids = []
    with tracking_utils._use_tracking_uri(st.uri):
        try:
            fluent._active_experiment_id = eid
            for name, tags, metadata, span_type, _fb in TRACES:
                with mlflow.start_span(name=name, span_type=span_type) as span:
                    span.set_inputs({"q": name})
                    span.set_attribute("model", "gpt-4o")
                    span.set_outputs({"a": name[::-1]})
                    mlflow.update_current_trace(tags=tags, metadata=metadata,
                                                client_request_id=f"req-{name}")
                    with mlflow.start_span(name="child", span_type="RETRIEVER"):
                        time.sleep(0.002)
                ids.append(mlflow.get_last_active_trace_id())
            for trace_id, (_n, _t, _m, _s, fb) in zip(ids, TRACES):
                for k, v in fb.items():
                    mlflow.log_feedback(trace_id=trace_id, name=k, value=v)
        finally:
            fluent._active_experiment_id = saved
    st.trace_ids = ids


MESSAGE_CAP = 400


def _first(e):
    """The first line of an exception's text, cut at MESSAGE_CAP characters (the filter is
    often quoted whole in MLflow's messages)."""
    text = str(e).strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= MESSAGE_CAP else line[:MESSAGE_CAP] + " [...]"


# ---------------------------------------------------------------------------------------------
# calling the stores the way the tracking server does


def _names_runs(res):
    return [r.info.run_name for r in res]


def call(st: Stores, api, filter_string, order_by):
    from mlflow.entities import ViewType

    tr, rg = st.tracking, st.registry
    if api == "runs":
        res = tr.search_runs(st.experiment_ids, filter_string or "", ViewType.ALL, 1000,
                             order_by, None)
        return [r.info.run_name for r in res]
    if api == "experiments":
        res = tr.search_experiments(ViewType.ALL, 1000, filter_string, order_by, None)
        return [e.name for e in res]
    if api == "registered_models":
        res = rg.search_registered_models(filter_string, 1000, order_by, None)
        return [m.name for m in res]
    if api == "model_versions":
        res = rg.search_model_versions(filter_string, 10000, order_by, None)
        return [f"{m.name}/{m.version}" for m in res]
    if api == "logged_models":
        res = tr.search_logged_models(st.experiment_ids, filter_string, None, 1000, order_by,
                                      None)
        return [m.name for m in res]
    if api == "traces":
        res, _token = tr.search_traces(filter_string=filter_string, max_results=1000,
                                       order_by=order_by, locations=st.experiment_ids)
        return [t.tags.get("mlflow.traceName") for t in res]
    raise ValueError(api)


def classify(fn):
    """(verdict, count, rows, status, exception type, first line of the message)."""
    from mlflow.exceptions import MlflowException

    t0 = time.perf_counter()
    try:
        rows = fn()
    except MlflowException as e:
        status = e.get_http_status_code()
        cause = e.__cause__
        etype = "MlflowException" + (f"({type(cause).__module__}.{type(cause).__name__})"
                                     if cause is not None else f"[{e.error_code}]")
        verdict = "rejected" if status < 500 else "crash"
        return dict(verdict=verdict, count=None, rows=None, status=status, type=etype,
                    message=_first(e.message if isinstance(e.message, str) else str(e)),
                    seconds=time.perf_counter() - t0)
    except Exception as e:  # noqa: BLE001 - the server answers 500 to anything else
        return dict(verdict="crash", count=None, rows=None, status=500,
                    type=f"{type(e).__module__}.{type(e).__name__}", message=_first(e),
                    seconds=time.perf_counter() - t0)
    return dict(verdict="ok", count=len(rows), rows=rows, status=200, type=None, message=None,
                seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------------------------------------
# MSSQL without a server: MLflow's own code with the dialect name patched, SQL compiled only


class _Compiled(Exception):
    pass


@contextlib.contextmanager
def mssql_mode(st: Stores):
    """Patch the stores' dialect name to 'mssql'; the first ORM statement that carries the
    filter is compiled with SQLAlchemy's mssql dialect and not executed."""
    import types

    from sqlalchemy import event
    from sqlalchemy.dialects import mssql
    from sqlalchemy.orm import Session

    captured = []
    # A dialect as it is after connecting to SQL Server 2019 (OFFSET/FETCH pagination; a bare
    # mssql.dialect() assumes a pre-2012 server and paginates with ROW_NUMBER()).
    dialect = mssql.dialect()
    dialect.server_version_info = (15, 0)
    dialect._setup_version_attributes()

    def hook(state):
        if not state.is_select:  # MLflow's own PRAGMA statements at session start
            return
        sql = str(state.statement.compile(dialect=dialect))
        captured.append(sql)
        raise _Compiled(sql)

    tr, rg = st.tracking, st.registry
    saved_engine = rg.engine
    tr._get_dialect = lambda: "mssql"
    rg._get_dialect = lambda: "mssql"
    rg.engine = types.SimpleNamespace(dialect=types.SimpleNamespace(name="mssql"))
    event.listen(Session, "do_orm_execute", hook)
    try:
        yield captured
    finally:
        event.remove(Session, "do_orm_execute", hook)
        del tr._get_dialect
        del rg._get_dialect
        rg.engine = saved_engine


def classify_mssql(st: Stores, api, filter_string, order_by):
    with mssql_mode(st) as captured:
        r = classify(lambda: call(st, api, filter_string, order_by))
    if r["type"] and "_Compiled" in r["type"]:
        return dict(verdict="compiles", sql=captured[0] if captured else None)
    if r["verdict"] == "ok":  # answered without a query (e.g. an empty IN list)
        return dict(verdict="compiles", sql=None)
    if "CompileError" in (r["type"] or ""):
        return dict(verdict="compile-error", message=r["message"], status=r["status"])
    return dict(verdict=r["verdict"], status=r["status"], message=r["message"], type=r["type"])


# ---------------------------------------------------------------------------------------------
# the probes


def P(api, filter=None, order_by=None, topic=None, ids=False, note=None):  # noqa: A002
    """One probe. `topic`: the difference it looks for (kept only where backends disagree).
    `ids`: the rows carry random ids (run/trace/model ids), so only their count is compared."""
    return dict(api=api, filter=filter, order_by=order_by, topic=topic, ids=ids, note=note)


def _and(clauses):
    return " AND ".join(clauses)


def probes():
    out = []
    add = out.append

    # --- a string bound to an integer column --------------------------------------------------
    t = "string-vs-integer-column"
    for f in ("timestamp_ms > '0'", "execution_time > '5'", "execution_time_ms = '0'",
              "timestamp_ms != 'abc'", "end_time > '0'", "trace.timestamp_ms >= '1'",
              "timestamp_ms > 0", "execution_time > 5"):
        add(P("traces", f, topic=t))
    add(P("traces", "timestamp_ms > '0' AND span.name = 'child'", topic=t))
    for f in ("experiment_id = '1'", "experiment_id = 1", "experiment_id != '1'",
              "experiment_id IN ('1', '2')", "experiment_id NOT IN ('2')",
              "experiment_id LIKE '1%'", "experiment_id ILIKE '1'", "experiment_id = 'abc'",
              "experiment_id = '01'", "experiment_id = ' 1'", "experiment_id = '1.0'",
              "status = 'READY'", "status = '2'", "status = 2", "status != 'READY'",
              "status IN ('READY', 'FAILED')", "status IN ('2')", "status LIKE 'R%'",
              "creation_timestamp > 0", "creation_timestamp_ms > 1.5",
              "last_updated_timestamp > 0", "creation_time < 1e30"):
        add(P("logged_models", f, topic=t))
    for f in ("version_number = '1'", "version_number = 1", "version_number > '1'",
              "version_number = ' 1'"):
        add(P("model_versions", f, topic=t))
    for f in ("experiment_id = '1'", "experiment_id IN ('1', '2')", "experiment_id != '0'"):
        add(P("experiments", f, topic=t))

    # --- integers beyond 64 / 32 bits, floats on integer columns ------------------------------
    t = "integer-overflow"
    for f in ("start_time < 99999999999999999999999", "start_time < 9223372036854775808",
              "start_time < 9223372036854775807", "start_time > -9223372036854775809",
              "end_time != 18446744073709551616", "created > -99999999999999999999999"):
        add(P("runs", f, topic=t))
    for f in ("creation_time < 99999999999999999999999", "creation_time < 9223372036854775808",
              "last_update_time > -9223372036854775809"):
        add(P("experiments", f, topic=t))
    for f in ("version_number < 99999999999999999999999", "version_number < 9223372036854775808",
              "version_number < 2147483648", "version_number > -2147483649",
              "version_number = '99999999999999999999999'"):
        add(P("model_versions", f, topic=t))
    for f in ("timestamp_ms < 99999999999999999999999", "execution_time < 9223372036854775808",
              "end_time < 99999999999999999999999", "timestamp < 99999999999999999999999"):
        add(P("traces", f, topic=t))
    for f in ("creation_timestamp < 99999999999999999999999", "experiment_id = 2147483648",
              "experiment_id = '99999999999999999999999'", "status = 99999999999999999999999"):
        add(P("logged_models", f, topic=t))
    t = "float-vs-integer-column"
    for f in ("start_time < 1.8e12", "start_time > 1767225601000.5", "end_time = 1767225601500.0",
              "start_time < 1e400", "start_time > -1e400"):
        add(P("runs", f, topic=t))
    for f in ("execution_time > 0.5", "timestamp_ms < 1e400", "execution_time < 1e400"):
        add(P("traces", f, topic=t))
    add(P("logged_models", "creation_timestamp < 1e400", topic=t))

    # --- NaN / inf metrics ------------------------------------------------------------------
    t = "nan-inf-metrics"
    for f in ("metrics.loss > 0", "metrics.loss != 0.5", "metrics.loss = 0", "metrics.loss >= 0",
              "metrics.big > 1e308", "metrics.big >= 1.7976931348623157e308",
              "metrics.big < -1e308", "metrics.neg < -1e308", "metrics.big = 1e300",
              "metrics.int = 4e18", "metrics.int > 4000000000000000001",
              "metrics.big < 1e400", "metrics.big > -1e400", "metrics.big = 1e400",
              "metrics.neg != -1e400", "metrics.acc > 1e-400"):
        add(P("runs", f, topic=t))
    for f in ("metrics.score > 0", "metrics.score < 0", "metrics.score != 0.9",
              "metrics.score = nan", "metrics.score != nan", "metrics.score > nan",
              "metrics.score < inf", "metrics.score > -inf", "metrics.score < -1e308",
              "metrics.score = -inf", "metrics.score >= 1e400", "metrics.score > 1e-400"):
        add(P("logged_models", f, topic=t))
    for f in ("feedback.quality > 0.5", "feedback.quality < 1e400", "feedback.quality > -1e400"):
        add(P("traces", f, topic=t))

    # --- NUL characters ----------------------------------------------------------------------
    t = "nul-character"
    add(P("runs", "tags.note = 'a\x00b'", topic=t))
    add(P("runs", "params.lr LIKE '%\x00%'", topic=t))
    add(P("runs", "tags.`a\x00b` = 'x'", topic=t))
    add(P("runs", "attributes.run_name = 'al\x00pha'", topic=t))
    add(P("runs", "dataset.name = 'x\x00'", topic=t))
    add(P("experiments", "name = 'Exp\x00A'", topic=t))
    add(P("experiments", "tags.team ILIKE '\x00'", topic=t))
    add(P("registered_models", "name = 'a\x00'", topic=t))
    add(P("registered_models", "name IN ('a\x00', 'b')", topic=t))
    add(P("model_versions", "tags.validated = 'tr\x00ue'", topic=t))
    add(P("logged_models", "name = 'lm\x00'", topic=t))
    add(P("logged_models", "params.p = '\x00'", topic=t))
    add(P("traces", "tags.env = 'pr\x00od'", topic=t))
    add(P("traces", "tags.env RLIKE 'pr\x00od'", topic=t))
    add(P("traces", "span.name = 'x\x00'", topic=t))

    # --- 4-byte UTF-8, lone surrogates, non-ASCII case -------------------------------------
    t = "unicode"
    for f in ("tags.emoji = '🚀'", "tags.emoji != '🚀'", "tags.emoji LIKE '🚀'",
              "tags.emoji ILIKE '🚀'", "tags.emoji ILIKE '%🚀%'", "tags.uni = 'ключ'",
              "tags.uni ILIKE 'КЛЮЧ'", "tags.uni ILIKE 'ключ'", "tags.uni LIKE 'ключ%'",
              "tags.`ü` = 'umlaut-key'", "tags.`u` = 'umlaut-key'", "tags.`ß` = 'sharp-s'",
              "tags.`ss` = 'sharp-s'", "tags.`🚀key` = 'emoji-key'",
              "params.`ünï` = 'x'", "params.`uni` = 'x'",
              "dataset.name = 'ds 🚀'", "dataset.name ILIKE 'DS 🚀'",
              "tags.emoji = '\ud83d'", "tags.`\ud83d` = 'x'"):
        add(P("runs", f, topic=t))
    for f in ("name = 'Exp_C 🚀'", "name ILIKE 'exp_c 🚀'", "name ILIKE 'exp_c 😀'",
              "tags.uni ILIKE 'КЛЮЧ'", "name = '\udfff'"):
        add(P("experiments", f, topic=t))
    for f in ("name = 'Model_C 🚀'", "name ILIKE 'model_c 😀'", "tags.uni ILIKE 'КЛЮЧ'",
              "name IN ('Model_C 🚀')"):
        add(P("registered_models", f, topic=t))
    for f in ("tags.uni ILIKE 'КЛЮЧ'", "name ILIKE 'MODEL_C 🚀'"):
        add(P("model_versions", f, topic=t))
    for f in ("name = 'lm_three 🚀'", "name ILIKE 'LM_THREE 😀'", "tags.uni ILIKE 'КЛЮЧ'",
              "name = '\ud83d'"):
        add(P("logged_models", f, topic=t))
    for f in ("tags.emoji = '🚀'", "tags.emoji ILIKE '😀'", "tags.uni ILIKE 'КЛЮЧ'",
              "name = 'réponse 🚀'", "name ILIKE 'RÉPONSE 🚀'", "name ILIKE 'reponse 🚀'",
              "tags.emoji RLIKE '^.$'", "name RLIKE '^r.ponse'", "tags.uni RLIKE '^кл'"):
        add(P("traces", f, topic=t))

    # --- long values and keys (column sizes) -----------------------------------------------
    t = "long-values"
    for f in (f"tags.long = '{LONG_5000}'", f"tags.long LIKE '{LONG_5000[:4000]}%'",
              f"tags.x = '{LONG_9000}'", f"tags.`{LONG_300}` = 'x'", f"params.`{LONG_300}` = 'x'",
              f"params.long = '{LONG_5000}'", f"attributes.run_name = '{LONG_300}'",
              f"tags.long ILIKE '{LONG_5000.lower()}'", f"metrics.`{'m' * 600}` > 0",
              f"dataset.name = '{'d' * 600}'", f"dataset.context = '{'c' * 600}'"):
        add(P("runs", f, topic=t))
    for f in (f"name = '{'e' * 300}'", f"tags.x = '{LONG_9000}'", f"tags.`{LONG_300}` = 'x'"):
        add(P("experiments", f, topic=t))
    for f in (f"name = '{'m' * 300}'", f"tags.x = '{LONG_9000}'",
              f"name IN ('{'m' * 300}', 'Model-A')"):
        add(P("registered_models", f, topic=t))
    for f in (f"source_path = '{'s' * 600}'", f"run_id = '{'r' * 40}'",
              f"tags.`{LONG_300}` = 'x'"):
        add(P("model_versions", f, topic=t))
    for f in (f"name = '{'n' * 600}'", f"params.`{LONG_300}` = 'x'", f"tags.x = '{LONG_9000}'",
              f"model_id = '{'i' * 40}'"):
        add(P("logged_models", f, topic=t))
    for f in (f"metadata.long = '{LONG_300}'", f"tags.x = '{LONG_9000}'",
              f"request_id = '{'q' * 60}'", f"client_request_id = '{'c' * 60}'",
              f"status IN ('{'s' * 60}')", f"name = '{'n' * 5000}'"):
        add(P("traces", f, topic=t))

    # --- LIKE escapes (backslash, %, _) ----------------------------------------------------
    t = "like-backslash-escape"
    for f in ("tags.note LIKE '50\\% off'", "tags.note LIKE '50% off'", "tags.note LIKE '50_ off'",
              "tags.under LIKE 'a\\_b'", "tags.under LIKE 'a_b'", "tags.path LIKE 'C:\\temp'",
              "tags.path LIKE 'C:\\\\temp'", "tags.path = 'C:\\temp'", "tags.path LIKE 'C:\\'",
              "tags.path LIKE '%\\'", "tags.path ILIKE 'c:\\temp'", "tags.note ILIKE '50\\% OFF'",
              "params.path LIKE 'C:\\\\\\\\temp'", "params.path = 'C:\\\\temp'",
              "params.path LIKE 'C:\\temp'", "tags.note != '50\\% off'"):
        add(P("runs", f, topic=t))
    for f in ("tags.note LIKE '50\\% off'", "name LIKE 'Exp\\_C%'", "name LIKE 'Exp_C%'"):
        add(P("experiments", f, topic=t))
    for f in ("tags.note LIKE '50\\% off'", "name LIKE 'Model\\_C%'", "name ILIKE 'model\\_c%'"):
        add(P("registered_models", f, topic=t))
    add(P("model_versions", "source_path LIKE 'file:///tmp/alpha\\%'", topic=t))
    for f in ("name LIKE 'lm\\_three%'", "name LIKE 'lm_three%'", "tags.fw LIKE 'T\\orch'"):
        add(P("logged_models", f, topic=t))
    for f in ("tags.note LIKE '50\\% off'", "tags.note LIKE '50%'", "name LIKE 'Answer\\'",
              "span.attributes.model LIKE '%gpt\\-4o%'"):
        add(P("traces", f, topic=t))

    # --- trailing spaces (PAD SPACE collations) ----------------------------------------------
    t = "trailing-space"
    for f in ("tags.pad = 'x'", "tags.pad = 'x '", "tags.pad != 'x'", "tags.pad LIKE 'x'",
              "tags.pad ILIKE 'x'", "tags.pad ILIKE 'X'", "tags.`pad ` = 'x'",
              "params.PAD = 'v'", "params.pad = 'v '", "tags.sp = 'lead'",
              "attributes.run_name = 'alpha '", "status = 'FINISHED '", "user_id = 'alice '",
              "dataset.context = 'eval'", "dataset.context IN ('eval')",
              "dataset.name IN ('DS-Train ')", "tags.pad IS NOT NULL", "tags.`pad ` IS NOT NULL"):
        add(P("runs", f, topic=t))
    for f in ("tags.pad = 'x'", "name = 'Exp-A '", "name ILIKE 'exp-a '",
              "tags.`pad ` IS NOT NULL", "tags.`team ` IS NULL"):
        add(P("experiments", f, topic=t))
    for f in ("name = 'Model-A '", "name IN ('Model-A ')", "name != 'Model-A '",
              "tags.pad = 'x'", "tags.`stage ` = 'Prod'"):
        add(P("registered_models", f, topic=t))
    for f in ("name = 'Model-A '", "tags.pad = 'x'", "run_id IN ('x ')"):
        add(P("model_versions", f, topic=t))
    for f in ("name = 'lm-one '", "name IN ('lm-one ')", "tags.pad = 'x'", "params.pad = 'v'",
              "params.`p ` = '1'", "tags.`fw ` = 'Torch'", "metrics.`score ` > 0",
              "status = 'READY '"):
        add(P("logged_models", f, topic=t))
    for f in ("tags.pad = 'x'", "tags.`env ` = 'prod'", "name = 'Answer '", "status = 'OK '",
              "status IN ('OK ')", "span.name = 'child '", "feedback.label = 'good '",
              "feedback.`label ` = 'good'", "tags.`env ` IS NOT NULL", "metadata.`mkey ` IS NULL"):
        add(P("traces", f, topic=t))

    # --- case sensitivity of values (=, !=, LIKE, ILIKE, IN, RLIKE) and of keys ---------------
    t = "case-sensitivity"
    for f in ("tags.mixed = 'hello'", "tags.mixed != 'hello'", "tags.mixed LIKE 'hel%'",
              "tags.mixed ILIKE 'HELLO'", "params.opt = 'adam'", "params.opt LIKE 'ADAM'",
              "status = 'finished'", "status LIKE 'FIN%'", "status ILIKE 'finished'",
              "user_id = 'bob'", "attributes.run_name = 'gamma'", "attributes.run_name ILIKE 'GAMMA'",
              "dataset.name = 'ds-train'", "dataset.name IN ('DS-TRAIN')",
              "dataset.name NOT IN ('ds-train')", "dataset.digest = 'ABC123'",
              "dataset.context = 'training'", "dataset.context ILIKE 'TRAINING'",
              "tags.TEAM = 'ML'", "params.OPT = 'Adam'", "metrics.LOSS > 0",
              "tags.TEAM IS NOT NULL", "params.LR IS NULL", "params.lr IS NULL",
              "tags.team IS NULL", "tags.Mixed IS NOT NULL"):
        add(P("runs", f, topic=t))
    for f in ("name = 'exp-a'", "name != 'exp-a'", "name LIKE 'exp%'", "name ILIKE 'EXP%'",
              "tags.team = 'ml'", "tags.TEAM = 'ML'", "tags.TEAM IS NOT NULL",
              "tags.team IS NOT NULL", "tags.TEAM IS NULL"):
        add(P("experiments", f, topic=t))
    for f in ("name = 'model-a'", "name IN ('model-a', 'MODEL-B')", "name NOT IN ('model-a')",
              "name LIKE 'model%'", "name ILIKE 'model%'", "tags.stage = 'prod'",
              "tags.STAGE = 'Prod'", "tags.stage ILIKE 'PROD'"):
        add(P("registered_models", f, topic=t))
    for f in ("name = 'model-a'", "name IN ('MODEL-A')", "tags.validated = 'true'",
              "tags.VALIDATED = 'true'", "tags.validated ILIKE 'TRUE'",
              "source_path LIKE '%/model'", "source_path ILIKE '%/model'"):
        add(P("model_versions", f, topic=t))
    for f in ("name = 'lm-two'", "name != 'lm-two'", "name IN ('lm-two')", "name NOT IN ('lm-two')",
              "name LIKE 'lm%'", "name ILIKE 'LM%'", "tags.fw = 'torch'", "tags.FW = 'torch'",
              "tags.FW = 'Torch'", "params.P = '1'", "params.opt = 'adam'", "params.OPT = 'adam'",
              "metrics.SCORE > 0", "lifecycle_stage = 'ACTIVE'",
              "status = 'ready'"):
        add(P("logged_models", f, topic=t))
    for f in ("tags.env = 'prod'", "tags.env != 'prod'", "tags.ENV = 'prod'", "tags.env LIKE 'p%'",
              "tags.env ILIKE 'PROD'", "tags.env RLIKE 'prod'", "tags.ENV RLIKE 'prod'",
              "tags.ENV IS NOT NULL", "tags.env IS NOT NULL", "metadata.mkey = 'alpha'",
              "metadata.MKEY = 'alpha'", "metadata.MKEY IS NOT NULL", "metadata.mkey RLIKE '^a'",
              "status = 'ok'", "status IN ('ok')", "status RLIKE '^o'", "status ILIKE 'ok'",
              "name = 'answer'", "name != 'answer'", "name ILIKE 'ANSWER'", "name RLIKE '^a'",
              "client_request_id = 'REQ-answer'", "client_request_id IN ('req-answer')",
              "span.name = 'CHILD'", "span.name IN ('Child')", "span.name ILIKE 'CHILD'",
              "span.type = 'chain'", "span.type RLIKE 'chain'",
              "span.attributes.model LIKE '%GPT%'", "span.attributes.MODEL LIKE '%gpt%'",
              "span.attributes.model ILIKE '%GPT%'", "span.attributes.model RLIKE 'GPT'",
              "span.attributes.model RLIKE 'gpt'",
              "feedback.label = 'good'", "feedback.label != 'good'", "feedback.LABEL = 'good'",
              "feedback.QUALITY > 0.5", "feedback.label ILIKE 'GOOD'",
              "feedback.LABEL IS NOT NULL", "feedback.label IS NULL", "trace.text LIKE '%ANSWER%'",
              "trace.text ILIKE '%ANSWER%'"):
        add(P("traces", f, topic=t))

    # --- RLIKE regex dialects (traces) -------------------------------------------------------
    t = "rlike-dialect"
    for f in ("tags.env RLIKE '^pr'", "tags.env RLIKE '(?i)prod'", "tags.env RLIKE '^\\w+$'",
              "tags.env RLIKE '\\d'", "tags.env RLIKE 'p(?=r)'", "tags.env RLIKE 'p(?!x)'",
              "tags.env RLIKE '('", "tags.env RLIKE '['", "tags.env RLIKE '*'",
              "tags.env RLIKE 'a{2'", "tags.env RLIKE '[[:alpha:]]+'", "tags.env RLIKE '\\bprod\\b'",
              "tags.env RLIKE '\\yprod\\y'", "tags.env RLIKE '\\p{L}+'", "tags.env RLIKE '^.{4}$'",
              "tags.env RLIKE 'PROD|prod'", "tags.env RLIKE '(?<=p)rod'", "tags.env RLIKE '\\Aprod\\Z'",
              "tags.env RLIKE ''", "tags.env RLIKE '^Prod$'", "tags.env RLIKE 'pr[o]d'",
              "tags.env RLIKE '\\x70rod'", "tags.env RLIKE '(prod)\\1'", "tags.pad RLIKE 'x $'",
              "tags.note RLIKE '50% off'", "tags.emoji RLIKE '🚀'", "tags.emoji RLIKE '^[🚀]$'",
              "tags.uni RLIKE '^\\w+$'", "request_id RLIKE '^tr-'", "status RLIKE 'OK|ERROR'",
              "span.name RLIKE '^ch'", "metadata.mkey RLIKE '(?i)ALPHA'",
              "span.attributes.model RLIKE '^gpt'", "span.attributes.model RLIKE '4o$'",
              "feedback.label RLIKE '^g'", "name RLIKE '('", "tags.env RLIKE '\\'"):
        add(P("traces", f, topic=t))
    add(P("runs", "tags.env RLIKE 'x'", topic="rlike-dialect"))
    add(P("logged_models", "name RLIKE 'x'", topic="rlike-dialect"))

    # --- many joined conditions --------------------------------------------------------------
    t = "join-limit"
    for n in (30, 59, 60, 61, 62, 63, 64, 65, 70, 200):
        add(P("runs", _and(["metrics.acc > -1"] * n), topic=t))
    for n in (60, 61, 62, 64, 70):
        add(P("runs", _and(["tags.team != 'z'"] * n), topic=t))
    for n in (59, 60, 61, 62, 63, 64, 70, 200):
        add(P("traces", _and(["tags.env != 'z'"] * n), topic=t))
    for n in (60, 61, 62, 63, 64, 70, 200):
        add(P("logged_models", _and(["params.p != 'z'"] * n), topic=t))
    for n in (60, 61, 62, 63, 64, 70):
        add(P("experiments", _and(["tags.team != 'z'"] * n), topic=t))
    for n in (64, 200):
        add(P("registered_models", _and(["tags.stage != 'z'"] * n), topic=t))
        add(P("model_versions", _and(["tags.validated != 'z'"] * n), topic=t))
    for n in (30, 31, 32, 40, 64):
        add(P("runs", _and([f"metrics.acc > -{i}" for i in range(n)] + ["tags.team != 'z'"] * n),
              topic=t))

    # --- large IN lists (sqlparse refuses long filters before any database sees them) ---------
    t = "large-in-list"
    for n in (1000, 2400, 2600, 5000):
        add(P("runs", "run_id IN (" + ",".join(["'a'"] * n) + ")", topic=t))
    for n in (1000,):
        add(P("experiments", "experiment_id IN (" + ",".join(["'1'"] * n) + ")", topic=t))
        add(P("registered_models", "name IN (" + ",".join(["'a'"] * n) + ")", topic=t))
        add(P("model_versions", "name IN (" + ",".join(["'a'"] * n) + ")", topic=t))
        add(P("traces", "request_id IN (" + ",".join(["'a'"] * n) + ")", topic=t))
        add(P("logged_models", "name IN (" + ",".join(["'a'"] * n) + ")", topic=t))
        add(P("runs", "dataset.name IN (" + ",".join(["'a'"] * n) + ")", topic=t))

    # --- deep AND chains of attribute conditions -----------------------------------------------
    t = "expression-depth"
    for n in (500, 996, 997, 1000, 2000):
        add(P("runs", _and(["start_time > 0"] * n), topic=t))
    for n in (993, 994, 995, 996, 997, 998, 1000):
        add(P("runs", _and(["status != 'x'"] * n), topic=t))
        add(P("experiments", _and(["creation_time > 0"] * n), topic=t))
        add(P("traces", _and(["timestamp_ms > 0"] * n), topic=t))
        add(P("logged_models", _and(["creation_timestamp > 0"] * n), topic=t))
        add(P("model_versions", _and(["version_number > 0"] * n), topic=t))
        add(P("registered_models", _and(["name != 'x'"] * n), topic=t))

    # --- order_by per key ---------------------------------------------------------------------
    t = "order-by"
    for ob in (["start_time"], ["end_time"], ["end_time DESC"], ["attributes.run_name"],
               ["run_name DESC"], ["status"], ["user_id"], ["metrics.loss"], ["metrics.loss DESC"],
               ["metrics.big"], ["metrics.neg DESC"], ["params.opt"], ["params.lr DESC"],
               ["tags.mixed"], ["tags.mixed DESC"], ["tags.team"], ["tags.TEAM"], ["tags.`pad `"],
               ["params.OPT"], ["metrics.LOSS"], ["tags.uni"], ["tags.emoji"], ["tags.note"],
               ["artifact_uri"], ["run_id"], ["created DESC", "tags.under"]):
        add(P("runs", order_by=ob, topic=t, ids=ob == ["run_id"] or ob == ["artifact_uri"]))
    for ob in (["name"], ["name DESC"], ["experiment_id DESC"], ["creation_time"],
               ["last_update_time DESC"]):
        add(P("experiments", order_by=ob, topic=t))
    for ob in (["name"], ["name DESC"], ["timestamp"], ["last_updated_timestamp DESC"]):
        add(P("registered_models", order_by=ob, topic=t))
    for ob in (["name"], ["name DESC", "version_number"], ["version_number DESC"],
               ["creation_timestamp"], ["last_updated_timestamp DESC"]):
        add(P("model_versions", order_by=ob, topic=t))
    for ob in ([{"field_name": "name"}], [{"field_name": "name", "ascending": False}],
               [{"field_name": "metrics.score"}], [{"field_name": "metrics.score", "ascending": False}],
               [{"field_name": "metrics.SCORE"}], [{"field_name": "status"}],
               [{"field_name": "creation_time"}], [{"field_name": "experiment_id"}],
               [{"field_name": "model_id"}]):
        add(P("logged_models", order_by=ob, topic=t, ids=ob == [{"field_name": "model_id"}]))
    for ob in (["timestamp"], ["timestamp DESC"], ["execution_time"], ["end_time DESC"], ["status"],
               ["name"], ["name DESC"], ["tags.env"], ["tags.ENV"], ["tags.emoji"],
               ["metadata.mkey"], ["metadata.MKEY DESC"], ["request_id"], ["experiment_id"]):
        # execution times are measured, request ids random: compare counts only
        add(P("traces", order_by=ob, topic=t,
              ids=ob in (["request_id"], ["execution_time"], ["end_time DESC"])))

    # --- baseline probes that should agree everywhere ------------------------------------------
    t = None
    for f in ("", "metrics.acc > 0.2", "params.lr = '0.01'", "tags.team = 'ML'",
              "attributes.status = 'FINISHED'", "start_time > 0", "end_time > 0",
              "params.lr != '0.01'", "tags.team LIKE 'M%'", "metrics.neg <= -1.5",
              "dataset.context = 'training'", "params.lr IN ('0.01')",
              "run_id IN ('x', 'y')", "params.lr > '0'", "metrics.acc LIKE '1'",
              "tags.team = 'ML' OR tags.team = 'ml'", "(tags.team = 'ML')",
              "tags.`team` = 'ML'", "start_time > 1.5", "metrics.acc = '1'"):
        add(P("runs", f, topic=t))
    for f in ("", "name = 'Exp-A'", "name LIKE 'Exp%'", "creation_time > 0", "tags.team = 'ML'",
              "creation_time > 0.5", "name IN ('Exp-A')"):
        add(P("experiments", f, topic=t))
    for f in ("", "name = 'Model-A'", "tags.stage = 'Prod'", "name LIKE 'Model%'",
              "name IS NULL", "tags.stage > 'a'"):
        add(P("registered_models", f, topic=t))
    for f in ("", "name = 'Model-A'", "version_number >= 2", "tags.validated = 'true'",
              "version_number = 1.5", "run_id IN ('abc')"):
        add(P("model_versions", f, topic=t))
    for f in ("", "name = 'lm-one'", "metrics.score > 0.5", "params.p = '1'", "tags.fw = 'Torch'",
              "foo = 'x'", "metrics.score > 'x'", "name IS NULL", "params.p = 1"):
        add(P("logged_models", f, topic=t))
    for f in ("", "status = 'OK'", "name = 'Answer'", "tags.env = 'prod'", "span.name = 'child'",
              "feedback.quality > 0.5", "span.type = 'CHAIN'", "metadata.mkey = 'Alpha'",
              "tags.env IN ('prod')", "prompt = 'p'", "timestamp > 0.5"):
        add(P("traces", f, topic=t))
    return out


# ---------------------------------------------------------------------------------------------
# running and writing


def _key(r, probe):
    if r["verdict"] != "ok":
        return (r["verdict"], r["status"])
    rows = r["rows"]
    if probe["ids"]:
        return ("ok", len(rows))
    if probe["order_by"] is None:
        rows = sorted(map(str, rows))
    return ("ok", tuple(map(str, rows)))


def run_probe(stores, mssql_store, probe):
    res = {}
    for kind, st in stores.items():
        res[kind] = classify(lambda st=st: call(st, probe["api"], probe["filter"], probe["order_by"]))
    ms = None
    if mssql_store is not None:
        ms = classify_mssql(mssql_store, probe["api"], probe["filter"], probe["order_by"])
    return res, ms


def entry(probe, res, ms):
    e = {"api": probe["api"]}
    if probe["filter"] is not None:
        e["filter"] = probe["filter"]
    if probe["order_by"] is not None:
        e["order_by"] = probe["order_by"]
    kinds = list(res)
    e["verdicts"] = {k: res[k]["verdict"] for k in kinds}
    e["counts"] = {k: res[k]["count"] for k in kinds}
    for k in kinds:
        if res[k]["verdict"] != "ok":
            e[f"status_{k}"] = res[k]["status"]
            e[f"message_{k}"] = res[k]["message"]
            if res[k]["verdict"] == "crash":
                e[f"exception_{k}"] = res[k]["type"]
    keys = {k: _key(res[k], probe) for k in kinds}
    same = len(set(keys.values())) == 1
    if not same and all(res[k]["verdict"] == "ok" for k in kinds) and not probe["ids"]:
        e["rows"] = {k: res[k]["rows"] for k in kinds}
    if ms is not None:
        e["mssql_python"] = ms["verdict"]
        if ms["verdict"] not in ("compiles",):
            e["status_mssql"] = ms.get("status")
            e["message_mssql"] = ms.get("message")
    e["topic"] = "same" if same else refine_topic(probe, res)
    return e


def refine_topic(probe, res):
    """Name the mechanism behind a difference (see backends.md, one section per topic)."""
    msgs = " ".join(r["message"] or "" for r in res.values())
    f = probe["filter"] or ""
    rows = {k: _key(r, probe) for k, r in res.items()}
    if "operator does not exist" in msgs:
        return "pg-string-vs-integer-column"
    if "out of range" in msgs or "Python int too large" in msgs:
        return "integer-out-of-range"
    if probe["api"] == "logged_models" and "nan" in f and \
            rows["sqlite"] != rows["postgresql"]:
        return "nan-inf-values"
    if "can not be used with MySQL" in msgs:
        return "mysql-inf-nan-literal"
    if "NUL (0x00)" in msgs:
        return "pg-nul-character"
    if "tables in a join" in msgs or "FROM clause terms" in msgs:
        return "join-limit"
    if "Expression tree is too large" in msgs:
        return "sqlite-expression-depth"
    if "LIKE pattern must not end with escape" in msgs:
        return "like-backslash-escape"
    if "RLIKE" in f and ("Regex error" in msgs or "InvalidRegularExpression" in msgs):
        return "rlike-regex-dialect"
    if probe["order_by"] is not None:
        text = json.dumps(probe["order_by"])
        if any(k in text for k in ("TEAM", "OPT", "LOSS", "MKEY", "ENV", "SCORE", "pad ")):
            return "mysql-key-case-and-pad"
        return "order-by-collation"
    if "\\" in f and "LIKE" in f and "RLIKE" not in f:
        return "like-backslash-escape"
    if "RLIKE" in f:
        if rows["mysql"] != rows["postgresql"] and rows["sqlite"] == rows["postgresql"]:
            return "mysql-rlike-bytes"
        return "rlike-regex-dialect"
    if "ILIKE" in f and any(ord(c) > 127 for c in f):
        if rows["sqlite"] != rows["postgresql"] and rows["postgresql"] == rows["mysql"]:
            return "sqlite-ilike-ascii-only"
        return "mysql-ilike-collation"
    if rows["mysql"] != rows["sqlite"] and rows["sqlite"] == rows["postgresql"] and (
            "IS NULL" in f or "IS NOT NULL" in f or probe["api"] == "logged_models"
            or f.startswith(("feedback.", "expectation."))):
        return "mysql-key-case-and-pad"
    if probe["api"] == "logged_models" and ("nan" in f or "inf" in f):
        return "nan-inf-values"
    return probe["topic"] or "unclassified"


class _Dumper(yaml.SafeDumper):
    pass


def _flow_map(dumper, data):
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)


class FlowMap(dict):
    pass


_Dumper.add_representer(FlowMap, _flow_map)


def keep_a_third_same(entries, probes_):
    """Every probe where the backends differ, and agreeing probes making about a third of the
    file: first the baseline probes (no topic), then evenly spread over the others."""
    diff = [i for i, e in enumerate(entries) if e["topic"] != "same"]
    same = [i for i, e in enumerate(entries) if e["topic"] == "same"]
    target = max(1, len(diff) // 2)
    base = [i for i in same if probes_[i]["topic"] is None]
    rest = [i for i in same if probes_[i]["topic"] is not None]
    chosen = base[:target]
    need = target - len(chosen)
    if need > 0 and rest:
        step = len(rest) / need
        chosen += [rest[int(k * step)] for k in range(min(need, len(rest)))]
    keep = set(diff) | set(chosen)
    return [e for i, e in enumerate(entries) if i in keep]


def write_yaml(entries, path):
    out = []
    for e in entries:
        e = dict(e)
        for k in ("verdicts", "counts"):
            e[k] = FlowMap(e[k])
        out.append(e)
    text = yaml.dump(out, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100000,
                     default_flow_style=False)
    header = ("# Generated by tests/compat/probe_backends.py (MLflow 3.17.2; SQLite, PostgreSQL,\n"
              "# MariaDB run; MSSQL: Python-side only, see backends.md). Do not edit by hand.\n")
    Path(path).write_text(header + text, encoding="utf-8")
    back = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    for a, b in zip(back, entries):
        assert a.get("filter") == b.get("filter") and a.get("order_by") == b.get("order_by"), a


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--postgresql", default=DEFAULT_PG, help="admin URL ('' to skip)")
    ap.add_argument("--mysql", default=DEFAULT_MYSQL, help="admin URL ('' to skip)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("cases_backends.yaml")))
    ap.add_argument("--raw-out", default=None, help="also write every raw result as JSON")
    ap.add_argument("--only", default=None, help="regex: run only probes whose text matches")
    ap.add_argument("--no-mssql", action="store_true")
    ap.add_argument("--all-same", action="store_true",
                    help="keep every agreeing probe (default: about a third of the file)")
    ap.add_argument("--from-raw", default=None,
                    help="rebuild the YAML from a --raw-out file without running anything")
    args = ap.parse_args(argv)
    if args.from_raw:
        raw = json.loads(Path(args.from_raw).read_text())
        entries = [entry(x["probe"], x["results"], x["mssql"]) for x in raw]
        kept = entries if args.all_same else keep_a_third_same(entries, [x["probe"] for x in raw])
        write_yaml(kept, args.out)
        print(f"{len(kept)} of {len(entries)} probes written to {args.out}", file=sys.stderr)
        return

    import signal

    # SIGTERM (kill, timeout) ends the run through `finally`, so the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    name = f"be_probe_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix="be_probe_"))
    made = []
    stores = {}
    mssql_store = None
    try:
        for kind, admin in (("sqlite", None), ("postgresql", args.postgresql),
                            ("mysql", args.mysql)):
            if kind != "sqlite" and not admin:
                continue
            if kind == "sqlite":
                uri = f"sqlite:///{tmp}/mlflow.db"
            else:
                uri = create_database(kind, admin, name)
                made.append((kind, admin))
            st = Stores(kind, uri, tmp / f"art-{kind}")
            with quiet():
                fill(st)
            for n in st.notes:
                print(f"[{kind}] not logged: {n}", file=sys.stderr)
            stores[kind] = st
        if not args.no_mssql:
            stores["sqlite"].tracking.engine.dispose()
            shutil.copy(tmp / "mlflow.db", tmp / "mssql.db")
            mssql_store = Stores("mssql", f"sqlite:///{tmp}/mssql.db", tmp / "art-mssql")
            mssql_store.experiment_ids = stores["sqlite"].experiment_ids

        selected = probes()
        if args.only:
            rx = re.compile(args.only)
            selected = [p for p in selected if rx.search(json.dumps(p))]
        entries, raw = [], []
        for i, probe in enumerate(selected):
            with quiet():
                res, ms = run_probe(stores, mssql_store, probe)
            e = entry(probe, res, ms)
            entries.append(e)
            raw.append({"probe": probe, "results": res, "mssql": ms})
            if e["topic"] != "same":
                shown = (probe["filter"] or json.dumps(probe["order_by"]))[:90]
                print(f"{i:4d} {probe['api']:<18} {e['topic']:<24} {e['verdicts']} "
                      f"{e['counts']} {shown!r}", file=sys.stderr)
        kept = entries if args.all_same else keep_a_third_same(entries, selected)
        write_yaml(kept, args.out)
        if args.raw_out:
            Path(args.raw_out).write_text(json.dumps(raw, ensure_ascii=True, indent=1,
                                                     default=str))
        n_diff = sum(e["topic"] != "same" for e in entries)
        print(f"{len(entries)} probes, {n_diff} differ, written to {args.out}", file=sys.stderr)
    finally:
        for st in list(stores.values()) + ([mssql_store] if mssql_store else []):
            st.dispose()
        for kind, admin in made:
            try:
                drop_database(kind, admin, name)
            except Exception as e:  # noqa: BLE001
                print(f"could not drop {kind} database {name}: {e}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
