"""Differential-test oracle: what does a REAL MLflow store do with a search request?

The oracle builds a SQLite file with MLflow's own ``SqlAlchemyStore`` (tracking store and
model-registry store on the same database), logs a small but varied set of entities so that
every search runs real SQL, and then answers questions such as "does ``search_runs`` accept
this filter string?" by calling the store exactly like the tracking server's request handlers
do.  Every exception is turned into a :class:`Verdict`; nothing propagates.

API names: ``runs``, ``experiments``, ``registered_models``, ``model_versions``,
``logged_models``, ``traces``.

Which MLflow (3.17.2) function does what, per API (read from the installed source):

==================  ============================================================  ==========================================================
api                 store call made by :meth:`Oracle.filter_verdict`              filter parser / order_by parser the store uses
==================  ============================================================  ==========================================================
runs                ``search_runs([A, B], f, ViewType.ALL)`` (max_results 1000)   ``SearchUtils.parse_search_filter`` /
                                                                                  ``SearchUtils.parse_order_by_for_search_runs``
experiments         ``search_experiments(ViewType.ALL, 1000, f)``                 ``SearchExperimentsUtils.parse_search_filter`` /
                                                                                  ``SearchExperimentsUtils.parse_order_by_for_search_experiments``
registered_models   registry ``search_registered_models(f)`` (max_results 100)   ``SearchModelUtils.parse_search_filter`` /
                                                                                  ``SearchUtils.parse_order_by_for_search_registered_models``
model_versions      registry ``search_model_versions(f)`` (max_results 10000)    ``SearchModelVersionUtils.parse_search_filter`` /
                                                                                  ``SearchModelVersionUtils.parse_order_by_for_search_model_versions``
logged_models       ``search_logged_models([A, B], f)`` (max_results None->100)   ``search_logged_model_utils.parse_filter_string`` /
                                                                                  (no parser: the store reads dict entries with ``.get``)
traces              ``search_traces(locations=[A], filter_string=f)`` (100)       ``SearchTraceUtils.parse_search_filter_for_search_traces`` /
                                                                                  ``SearchTraceUtils.parse_order_by_for_search_traces``
==================  ============================================================  ==========================================================

Other MLflow versions (2.22.1, 3.18.0) and backends: the same code runs in a venv with that
MLflow (tests/mlflow_versions.py builds them) as a worker process, driven by
tests/version_oracle.py. What differs by version is detected, not assumed: MLflow 2.22.1 has no
logged models (``logged_models`` answers status "unsupported"), no assessments in the store (the
traces exist, without feedback/expectations) and searches traces by ``experiment_ids``.

Backends: ``sqlite`` (a file in a temp dir), ``postgresql`` (127.0.0.1:5432, user postgres, no
password; SQLAlchemy's default driver) and ``mysql`` (MariaDB 127.0.0.1:3306, root, no password;
pymysql). For a server backend a fresh, uniquely named database is created, MLflow creates its
tables in it (its SqlAlchemyStore runs its migrations), the fixture below is logged, and the
database is dropped on exit (normal exit, stdin EOF, SIGTERM/SIGINT/SIGHUP). Override the
servers with MLFILTER_ORACLE_PG / MLFILTER_ORACLE_MYSQL (server URLs without a database name).

CLI for quick probing::

    .venv/bin/python tests/mlflow_oracle.py runs "metrics.loss < 1 AND params.lr = '0.01'"
    .venv/bin/python tests/mlflow_oracle.py traces --order-by '["timestamp", "timestamp_ms"]'
    .venv/bin/python tests/mlflow_oracle.py logged_models --order-by '[{"field_name": "name"}]'
    .venv/bin/python tests/mlflow_oracle.py runs "metrics.loss < 1" --backend postgresql

Worker mode (one JSON request per stdin line, one JSON verdict per stdout line)::

    PY tests/mlflow_oracle.py --serve --backend sqlite|postgresql|mysql [--dir DIR]

It first prints ``{"ready": true, "mlflow_version": ..., "backend": ..., "database": ...,
"dir": ..., "build_seconds": ...}`` (or ``{"ready": false, "error": ...}`` and exits 1). Requests:
``{"api": A, "filter": F}`` or ``{"api": A, "order_by": [...]}`` (an optional ``"id"`` is echoed);
answers: ``{"status", "http", "message", "exc_type", "n", "error_code", "mlflow_version"}`` with
status ok | rejected | crash | unsupported, or status "error" for a request it cannot read.
"""

from __future__ import annotations

import atexit
import contextlib
import inspect
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

APIS = (
    "runs",
    "experiments",
    "registered_models",
    "model_versions",
    "logged_models",
    "traces",
)

_QUIET_LOGGERS = ("mlflow", "alembic", "sqlalchemy", "opentelemetry", "urllib3", "git")


@dataclass(frozen=True)
class Verdict:
    """What MLflow did with one request.

    status: "ok" | "rejected" (MlflowException with a 4xx HTTP status) | "crash" (anything
    else: an MlflowException with a 5xx status, or a raw non-MLflow exception) | "unsupported"
    (this MLflow version has no such search, e.g. logged models before 3.0).
    """

    status: str
    http: int | None
    message: str | None
    exc_type: str | None
    n: int | None
    error_code: str | None = None  # MLflow error code (e.g. INVALID_PARAMETER_VALUE), if any

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def short(self) -> str:
        if self.status == "ok":
            return f"ok n={self.n}"
        return f"{self.status} {self.http} {self.exc_type}: {self.message}"


def _silence() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


@contextlib.contextmanager
def _quiet_call():
    """Silence warnings and hide pytest's marker from MLflow while calling into it.

    MLflow's session manager installs a 'read-only session' tripwire when
    ``PYTEST_CURRENT_TEST`` is set; a real server never has it, so it is removed for the call.
    """
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved


@contextlib.contextmanager
def _temp_env(**values: str | None):
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def verdict_from_exception(e: BaseException) -> Verdict:
    """Classify an exception the way the tracking server would answer it."""
    from mlflow.exceptions import MlflowException

    if isinstance(e, MlflowException):
        try:
            http = int(e.get_http_status_code())
        except Exception:  # pragma: no cover - defensive
            http = 500
        status = "rejected" if 400 <= http < 500 else "crash"
        return Verdict(status, http, e.message, type(e).__name__, None, e.error_code)
    # a raw exception: the server's generic handler answers 500
    return Verdict("crash", 500, str(e), type(e).__name__, None, None)


def _check_api(api: str) -> None:
    if api not in APIS:
        raise ValueError(f"unknown api {api!r}; expected one of {APIS}")


class Oracle:
    """A real MLflow store (SQLite by default) plus helpers that turn search calls into Verdicts.

    ``uri``: a database to use instead of a fresh SQLite file in ``directory`` (it must be empty:
    MLflow creates its tables there); ``directory`` still holds the artifacts.
    """

    def __init__(self, directory: str | Path, uri: str | None = None):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        # always a fresh sub-directory: never touch an existing database
        self.directory = Path(tempfile.mkdtemp(prefix="mlflow-oracle-", dir=directory))
        self.uri = uri or f"sqlite:///{self.directory / 'mlflow.db'}"
        self._lock = threading.RLock()
        self.skipped: list[str] = []  # fixture parts this MLflow version cannot log
        t0 = time.perf_counter()
        with self._lock, _quiet_call():
            import mlflow  # noqa: F401  (configures mlflow's loggers; silence them afterwards)

            self.mlflow_version = mlflow.__version__
            _silence()
            self._build()
            _silence()  # mlflow (re)configures its loggers on first use
        self.build_seconds = time.perf_counter() - t0

    def supports(self, api: str) -> bool:
        """Whether this MLflow version's store has the search for ``api``."""
        _check_api(api)
        if api == "logged_models":
            return hasattr(self._ts, "search_logged_models")
        return True

    def _unsupported(self, api: str) -> Verdict:
        return Verdict("unsupported", None, f"MLflow {self.mlflow_version} has no search for "
                       f"{api} (SqlAlchemyStore.search_{api} does not exist)", None, None)

    def close(self) -> None:
        """Release the store's database connections (before the database is dropped)."""
        with self._lock:
            for store in (getattr(self, "_ts", None), getattr(self, "_rs", None)):
                engine = getattr(store, "engine", None)
                if engine is not None:
                    with contextlib.suppress(Exception):
                        engine.dispose()

    # ------------------------------------------------------------------ store fixture
    def _build(self) -> None:
        import mlflow
        from mlflow import entities
        from mlflow.entities import (
            Dataset,
            DatasetInput,
            ExperimentTag,
            InputTag,
            Metric,
            Param,
            RunStatus,
            RunTag,
        )
        from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
        from mlflow.store.model_registry.sqlalchemy_store import (
            SqlAlchemyStore as RegistryStore,
        )
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

        artifacts = (self.directory / "artifacts").as_uri()
        ts = TrackingStore(self.uri, artifacts)
        rs = RegistryStore(self.uri)
        self._ts, self._rs = ts, rs
        now = int(time.time() * 1000)

        # ---- experiments (Default=0 exists already)
        ea = ts.create_experiment(
            "exp-A", tags=[ExperimentTag("team", "ml"), ExperimentTag("Env", "Prod")]
        )
        eb = ts.create_experiment("exp-B", tags=[ExperimentTag("mlflow.note.content", "b")])
        ed = ts.create_experiment("exp-deleted", tags=[ExperimentTag("team", "old")])
        ts.delete_experiment(ed)
        self.experiment_ids = {"exp-A": ea, "exp-B": eb, "exp-deleted": ed}

        # ---- runs
        r1 = ts.create_run(
            ea, "user1", now - 50_000, [RunTag("team", "ml"), RunTag("my key", "spaced")], "alpha-run"
        ).info.run_id
        ts.log_batch(
            r1,
            metrics=[
                Metric("loss", 0.8, now - 40_000, 0),
                Metric("loss", 0.5, now - 30_000, 1),
                Metric("acc", 0.9, now - 30_000, 1),
                Metric("neg", -1.0, now - 30_000, 0),
            ],
            params=[
                Param("lr", "0.01"),
                Param("batch_size", "32"),
                Param("model", "cnn"),
                Param("quote", "it's"),
            ],
            tags=[RunTag("note", "50% off"), RunTag("mlflow.user", "user1")],
        )
        ts.log_inputs(
            r1,
            datasets=[
                DatasetInput(
                    Dataset(name="ds1", digest="d1", source_type="local", source="/tmp/ds1"),
                    tags=[InputTag("mlflow.data.context", "training")],
                )
            ],
        )
        ts.update_run_info(r1, RunStatus.FINISHED, now - 10_000, None)

        r2 = ts.create_run(ea, "user2", now - 30_000, [], "Beta").info.run_id  # stays RUNNING
        ts.log_batch(
            r2,
            metrics=[
                Metric("loss", float("nan"), now - 20_000, 0),
                Metric("big", float("inf"), now - 20_000, 0),
                Metric("neg", float("-inf"), now - 20_000, 0),
            ],
            params=[Param("lr", "0.1")],
            tags=[RunTag("team", "data")],
        )
        r3 = ts.create_run(ea, "user1", now - 20_000, [], "gamma-deleted").info.run_id
        ts.log_batch(r3, metrics=[Metric("loss", 0.1, now, 0)], params=[], tags=[])
        ts.delete_run(r3)
        r4 = ts.create_run(eb, "user3", now - 15_000, [RunTag("env", "prod")], "delta").info.run_id
        ts.log_batch(r4, metrics=[Metric("loss", 1.5, now, 0)], params=[], tags=[])
        ts.update_run_info(r4, RunStatus.FAILED, now - 5_000, None)
        self.run_ids = {"alpha-run": r1, "Beta": r2, "gamma-deleted": r3, "delta": r4}

        # ---- logged models (MLflow 3)
        if hasattr(ts, "create_logged_model"):
            self._build_logged_models(ts, ea, eb, r1, now)
        else:
            self.logged_model_ids = {}
            self.skipped.append("logged models")

        # ---- model registry
        rs.create_registered_model("model-a", tags=[RegisteredModelTag("k", "v")])
        rs.create_registered_model("Model-B", tags=[RegisteredModelTag("team", "ml")])
        rs.create_model_version(
            "model-a", source=f"runs:/{r1}/model", run_id=r1, tags=[ModelVersionTag("t", "x")]
        )
        rs.create_model_version("model-a", source="s3://bucket/m2")
        rs.create_model_version(
            "Model-B", source="/local/path", run_id=r2, tags=[ModelVersionTag("t", "y")]
        )

        # ---- traces (fluent API, synchronous export into this same database)
        self._build_traces(mlflow, entities, ts, ea)

    def _build_logged_models(self, ts, ea, eb, r1, now) -> None:
        from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag, Metric

        lm1 = ts.create_logged_model(
            ea,
            name="lm-one",
            source_run_id=r1,
            tags=[LoggedModelTag("k", "v")],
            params=[LoggedModelParameter("p", "1")],
            model_type="agent",
        ).model_id
        ts.log_batch(
            r1,
            metrics=[
                Metric("score", 0.7, now, 0, model_id=lm1, dataset_name="ds1", dataset_digest="d1")
            ],
            params=[],
            tags=[],
        )
        lm2 = ts.create_logged_model(
            ea, name="lm-two", model_type="classifier", tags=[LoggedModelTag("stage", "prod")]
        ).model_id
        ts.finalize_logged_model(lm2, LoggedModelStatus.READY)
        lm3 = ts.create_logged_model(eb, name="lm-three", params=[LoggedModelParameter("p", "2")])
        self.logged_model_ids = {"lm-one": lm1, "lm-two": lm2, "lm-three": lm3.model_id}

    def _build_traces(self, mlflow, entities, ts, ea) -> None:
        from mlflow.tracking import fluent
        from mlflow.tracking._tracking_service import utils as tracking_utils

        saved_exp = fluent._active_experiment_id
        with (
            _temp_env(
                MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false",
                MLFLOW_TRACKING_URI=os.environ.get("MLFLOW_TRACKING_URI"),
                MLFLOW_EXPERIMENT_ID=None,
                MLFLOW_EXPERIMENT_NAME=None,
            ),
            tracking_utils._use_tracking_uri(self.uri),
        ):
            try:
                fluent._active_experiment_id = ea
                with mlflow.start_span(name="root-span", span_type="CHAIN") as s:
                    s.set_inputs({"q": "hello world"})
                    s.set_attribute("model", "gpt")
                    with mlflow.start_span(name="child", span_type="LLM") as c:
                        c.set_outputs({"a": "hi"})
                t1 = mlflow.get_last_active_trace_id()
                with mlflow.start_run(experiment_id=ea, run_name="trace-run") as run:
                    with mlflow.start_span(name="second") as s2:
                        s2.set_inputs({"q": "bye"})
                    t2 = mlflow.get_last_active_trace_id()
                r5 = run.info.run_id
                with contextlib.suppress(Exception):
                    mlflow.flush_trace_async_logging()
            finally:
                fluent._active_experiment_id = saved_exp
        ts.set_trace_tag(t1, "env", "prod")
        ts.set_trace_tag(t2, "env", "dev")
        # assessments: MLflow 3 stores them in the tracking store (2.22 has no such store call)
        names = ("AssessmentSource", "Feedback", "Expectation")
        if hasattr(ts, "create_assessment") and all(hasattr(entities, n) for n in names):
            human = entities.AssessmentSource(source_type="HUMAN", source_id="u1")
            feedback, expectation = entities.Feedback, entities.Expectation
            ts.create_assessment(feedback(name="quality", value=0.8, trace_id=t1, source=human))
            ts.create_assessment(feedback(name="verdict", value="good", trace_id=t2, source=human))
            ts.create_assessment(expectation(name="expected", value="hi", trace_id=t1, source=human))
        else:
            self.skipped.append("assessments")
        self.run_ids["trace-run"] = r5
        self.trace_ids = {"t1": t1, "t2": t2}

    # ------------------------------------------------------------------ searches
    def _search(self, api: str, filter_string: str | None, order_by: list | None) -> int:
        from mlflow.entities import ViewType

        ts, rs, ex = self._ts, self._rs, self.experiment_ids
        if api == "runs":
            res = ts.search_runs(
                [ex["exp-A"], ex["exp-B"]], filter_string, ViewType.ALL, order_by=order_by
            )
        elif api == "experiments":
            res = ts.search_experiments(
                view_type=ViewType.ALL, filter_string=filter_string, order_by=order_by
            )
        elif api == "registered_models":
            res = rs.search_registered_models(filter_string=filter_string, order_by=order_by)
        elif api == "model_versions":
            res = rs.search_model_versions(filter_string=filter_string, order_by=order_by)
        elif api == "logged_models":
            res = ts.search_logged_models(
                experiment_ids=[ex["exp-A"], ex["exp-B"]],
                filter_string=filter_string,
                order_by=order_by,
            )
        elif api == "traces":
            # MLflow 3 names the experiments "locations"; 2.x only has experiment_ids
            where = "locations" if _has_param(ts.search_traces, "locations") else "experiment_ids"
            res, _token = ts.search_traces(
                **{where: [ex["exp-A"]]}, filter_string=filter_string, order_by=order_by
            )
        else:  # pragma: no cover - _check_api guards
            raise ValueError(api)
        return len(res)

    def _verdict(self, api: str, filter_string: str | None, order_by: list | None) -> Verdict:
        if not self.supports(api):
            return self._unsupported(api)
        with self._lock, _quiet_call():
            try:
                n = self._search(api, filter_string, order_by)
            except Exception as e:  # noqa: BLE001 - every failure is an answer
                return verdict_from_exception(e)
        return Verdict("ok", 200, None, None, n)

    def filter_verdict(self, api: str, filter_string: str | None) -> Verdict:
        """Run the store's search for ``api`` with this filter (other args as a server would)."""
        return self._verdict(api, filter_string, None)

    def order_by_verdict(self, api: str, order_by: list) -> Verdict:
        """Run the store's search for ``api`` with this order_by list and no filter."""
        return self._verdict(api, None, list(order_by))

    # ------------------------------------------------------------------ parsers
    @staticmethod
    def filter_parser(api: str):
        """The exact filter parser function the store calls for ``api``."""
        _check_api(api)
        from mlflow.utils import search_utils as su

        if api == "logged_models":
            from mlflow.utils.search_logged_model_utils import parse_filter_string

            return parse_filter_string
        return {
            "runs": su.SearchUtils.parse_search_filter,
            "experiments": su.SearchExperimentsUtils.parse_search_filter,
            "registered_models": su.SearchModelUtils.parse_search_filter,
            "model_versions": su.SearchModelVersionUtils.parse_search_filter,
            "traces": su.SearchTraceUtils.parse_search_filter_for_search_traces,
        }[api]

    @staticmethod
    def order_by_parser(api: str):
        """The exact order_by parser the store calls for one entry (logged models: an emulation)."""
        _check_api(api)
        from mlflow.utils import search_utils as su

        if api == "logged_models":
            return _logged_model_order_by_entry
        return {
            "runs": su.SearchUtils.parse_order_by_for_search_runs,
            "experiments": su.SearchExperimentsUtils.parse_order_by_for_search_experiments,
            # the registry store calls the SearchUtils version (2-tuple), not SearchModelUtils'
            "registered_models": su.SearchUtils.parse_order_by_for_search_registered_models,
            "model_versions": su.SearchModelVersionUtils.parse_order_by_for_search_model_versions,
            "traces": su.SearchTraceUtils.parse_order_by_for_search_traces,
        }[api]

    def parse(self, api: str, filter_string: str) -> list[dict] | Verdict:
        """MLflow's own parser output for ``api`` (list of dicts), or a Verdict if it raises.

        Logged-model Comparisons become ``{"type", "key", "comparator", "value"}`` dicts.
        A raw (non-MLflow) exception is reported as a crash with http 500.
        """
        if not self.supports(api):
            return self._unsupported(api)
        fn = self.filter_parser(api)
        with self._lock, _quiet_call():
            try:
                out = fn(filter_string)
            except Exception as e:  # noqa: BLE001
                return verdict_from_exception(e)
        if api == "logged_models":
            return [
                {"type": c.entity.type.value, "key": c.entity.key, "comparator": c.op, "value": c.value}
                for c in out
            ]
        return list(out)

    def parse_order_by(self, api: str, entry: Any) -> tuple | Verdict:
        """MLflow's own order_by parser output for one entry, or a Verdict if it raises.

        runs/experiments/model_versions/traces: ``(type, key, ascending)``;
        registered_models: ``(key, ascending)``; logged_models (no parser exists; the store reads
        the dict with ``.get``): ``(field_name, ascending, dataset_name, dataset_digest)``.
        """
        if not self.supports(api):
            return self._unsupported(api)
        fn = self.order_by_parser(api)
        with self._lock, _quiet_call():
            try:
                return tuple(fn(entry))
            except Exception as e:  # noqa: BLE001
                return verdict_from_exception(e)


def _has_param(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return False


def _logged_model_order_by_entry(entry: Any) -> tuple:
    # What SqlAlchemyStore._apply_order_by_search_logged_models reads from one entry.
    return (
        entry.get("field_name"),
        entry.get("ascending", True),
        entry.get("dataset_name"),
        entry.get("dataset_digest"),
    )


# ------------------------------------------------------------------ server backends
BACKENDS = ("sqlite", "postgresql", "mysql")
# Server URLs (no database name). "postgresql://" names no driver on purpose: each MLflow gets
# its SQLAlchemy's default, as its users do (SQLAlchemy 2.1: psycopg 3; 2.0: psycopg2; MLflow
# 2.22.1's queries fail under psycopg 3).
PG_SERVER = os.environ.get("MLFILTER_ORACLE_PG", "postgresql://postgres@127.0.0.1:5432")
MYSQL_SERVER = os.environ.get("MLFILTER_ORACLE_MYSQL", "mysql+pymysql://root@127.0.0.1:3306")


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


def database_uri(backend: str, name: str) -> str:
    _check_backend(backend)
    return f"{PG_SERVER if backend == 'postgresql' else MYSQL_SERVER}/{name}"


def _admin_engine(backend: str):
    import sqlalchemy as sa

    url = f"{PG_SERVER}/postgres" if backend == "postgresql" else f"{MYSQL_SERVER}/"
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool,
                            connect_args={"connect_timeout": 10})


def create_database(backend: str, name: str) -> str:
    """CREATE DATABASE ``name`` on the PostgreSQL or MariaDB server; returns its URI."""
    import sqlalchemy as sa

    _check_backend(backend)
    engine = _admin_engine(backend)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            else:
                conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    finally:
        engine.dispose()
    return database_uri(backend, name)


def drop_database(backend: str, name: str) -> None:
    """DROP DATABASE ``name`` (if it exists), ending the sessions still connected to it."""
    import sqlalchemy as sa

    _check_backend(backend)
    engine = _admin_engine(backend)
    try:
        with engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                ids = conn.execute(sa.text(
                    "SELECT id FROM information_schema.processlist "
                    "WHERE db = :db AND id <> CONNECTION_ID()"), {"db": name}).scalars().all()
                for i in ids:
                    with contextlib.suppress(Exception):
                        conn.execute(sa.text(f"KILL {int(i)}"))
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        engine.dispose()


class Database:
    """A fresh, uniquely named database on a server backend: created now, dropped by drop()."""

    def __init__(self, backend: str, name: str | None = None):
        _check_backend(backend)
        if backend == "sqlite":
            raise ValueError("sqlite needs no server database")
        self.backend = backend
        self.name = name or f"mlfilter_oracle_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        self.uri = create_database(backend, self.name)
        self.dropped = False

    def drop(self) -> None:
        if not self.dropped:
            drop_database(self.backend, self.name)
            self.dropped = True


# ------------------------------------------------------------------ worker mode (--serve)
def _answer(oracle: Oracle, request: Any) -> dict:
    """One request (already decoded from JSON) -> one JSON-ready answer."""
    if not isinstance(request, dict):
        return {"status": "error", "message": f"a request is a JSON object, not {request!r:.200}"}
    answer: dict[str, Any]
    op = request.get("op")
    if op == "info":
        answer = {"status": "ok", "mlflow_version": oracle.mlflow_version, "uri": oracle.uri,
                  "skipped": oracle.skipped, "build_seconds": oracle.build_seconds,
                  "supports": {api: oracle.supports(api) for api in APIS}}
    elif op == "sleep":  # for the client's tests: a request that hangs
        time.sleep(float(request.get("seconds", 3600)))
        answer = {"status": "ok"}
    elif op == "exit":  # for the client's tests: a worker that dies (no cleanup at all)
        os._exit(int(request.get("code", 70)))
    elif op is not None:
        answer = {"status": "error", "message": f"unknown op {op!r}"}
    elif request.get("api") not in APIS:
        answer = {"status": "error", "message": f"unknown api {request.get('api')!r}"}
    elif "order_by" in request:
        order_by = request["order_by"]
        answer = _jsonable(oracle._verdict(request["api"], None, order_by))
    elif "filter" in request:
        answer = _jsonable(oracle.filter_verdict(request["api"], request["filter"]))
    else:
        answer = {"status": "error", "message": "a request has a 'filter' or an 'order_by'"}
    answer["mlflow_version"] = oracle.mlflow_version
    if "id" in request:
        answer["id"] = request["id"]
    return answer


def serve(backend: str, directory: str | None = None) -> int:
    """Worker loop: build the store, print a ready line, answer stdin lines until EOF.

    Only protocol lines go to stdout (file descriptor 1 is pointed at stderr, so that whatever
    MLflow prints cannot be mistaken for an answer). The database (server backends) and the
    temporary directory are removed on EOF, on SIGTERM/SIGINT/SIGHUP and on errors.
    """
    _check_backend(backend)
    # run as a script: its directory (tests/) is no place to import MLflow's dependencies from
    here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]
    proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="ascii")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj: dict) -> None:
        proto.write(json.dumps(obj) + "\n")  # ASCII: lone surrogates travel as \\udXXX
        proto.flush()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    warnings.simplefilter("ignore")
    _silence()
    # SQLite in memory-backed /dev/shm when there is one: no fsync per commit (3x faster builds)
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    root = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="mlfilter-serve-",
                                                                   dir=shm))
    db: Database | None = None
    oracle: Oracle | None = None
    try:
        try:
            if backend != "sqlite":
                db = Database(backend)
            oracle = Oracle(root, uri=db.uri if db else None)
        except Exception as e:  # noqa: BLE001 - reported to the client, which raises
            import traceback

            send({"ready": False, "backend": backend, "error": f"{type(e).__name__}: {e}",
                  "traceback": traceback.format_exc()[-4000:]})
            return 1
        send({"ready": True, "mlflow_version": oracle.mlflow_version, "backend": backend,
              "database": db.name if db else oracle.uri, "pid": os.getpid(),
              "dir": None if directory else str(root),
              "build_seconds": round(oracle.build_seconds, 3), "skipped": oracle.skipped})
        while True:
            line = sys.stdin.readline()
            if not line:
                return 0  # EOF: the client is gone or done
            if not line.strip():
                continue
            try:
                request = json.loads(line)
            except ValueError as e:
                send({"status": "error", "message": f"not JSON: {e}"})
                continue
            send(_answer(oracle, request))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # let the cleanup finish
        if oracle is not None:
            oracle.close()
        if db is not None:
            try:
                db.drop()
            except Exception as e:  # noqa: BLE001
                print(f"mlflow_oracle: could not drop database {db.name}: {e}", file=sys.stderr)
        if not directory:
            shutil.rmtree(root, ignore_errors=True)


_CACHE: dict[str | None, Oracle] = {}
_CACHE_LOCK = threading.Lock()


def get_oracle(directory: str | Path | None = None) -> Oracle:
    """A process-wide cached Oracle (built in a temp dir when ``directory`` is None)."""
    key = None if directory is None else str(Path(directory).resolve())
    with _CACHE_LOCK:
        if key not in _CACHE:
            if directory is None:
                directory = tempfile.mkdtemp(prefix="mlfilter-oracle-")
                atexit.register(shutil.rmtree, directory, ignore_errors=True)
            _CACHE[key] = Oracle(directory)
        return _CACHE[key]


def _jsonable(x: Any) -> Any:
    if isinstance(x, Verdict):
        return {k: getattr(x, k) for k in x.__dataclass_fields__}
    if isinstance(x, tuple):
        return [_jsonable(i) for i in x]
    if isinstance(x, list):
        return [_jsonable(i) for i in x]
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return repr(x)
    return x


def main(argv: list[str] | None = None) -> int:
    import argparse

    argv = sys.argv[1:] if argv is None else argv
    if "--serve" in argv:
        p = argparse.ArgumentParser(description="Answer JSON search requests on stdin.")
        p.add_argument("--serve", action="store_true", required=True)
        p.add_argument("--backend", choices=BACKENDS, default="sqlite")
        p.add_argument("--dir", default=None, help="artifacts (and SQLite) directory to use")
        a = p.parse_args(argv)
        return serve(a.backend, a.dir)

    p = argparse.ArgumentParser(description="Ask a real MLflow store about a search request.")
    p.add_argument("api", choices=APIS)
    p.add_argument("filter", nargs="?", default=None, help="filter string")
    p.add_argument("--order-by", help="JSON list of order_by entries")
    p.add_argument("--backend", choices=BACKENDS, default="sqlite")
    a = p.parse_args(argv)
    db = None
    try:
        if a.backend == "sqlite":
            o = get_oracle()
        else:
            db = Database(a.backend)
            home = tempfile.mkdtemp(prefix="mlfilter-oracle-")
            atexit.register(shutil.rmtree, home, ignore_errors=True)
            o = Oracle(home, uri=db.uri)
        print(f"# MLflow {o.mlflow_version} store built in {o.build_seconds:.2f}s at {o.uri}",
              file=sys.stderr)
        if a.order_by is not None:
            entries = json.loads(a.order_by)
            print("verdict:", o.order_by_verdict(a.api, entries).short())
            for e in entries:
                print("parse:  ", json.dumps(e), "->", repr(o.parse_order_by(a.api, e)))
        if a.filter is not None or a.order_by is None:
            print("verdict:", o.filter_verdict(a.api, a.filter).short())
            if a.filter is not None:
                parsed = o.parse(a.api, a.filter)
                print("parse:  ", parsed.short() if isinstance(parsed, Verdict) else repr(parsed))
    finally:
        if db is not None:
            o.close()
            db.drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
