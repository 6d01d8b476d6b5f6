"""The multi-version oracle (tests/version_oracle.py, tests/mlflow_versions.py and the --serve mode
of tests/mlflow_oracle.py) against real MLflow 2.22.1, 3.17.2 and 3.18.0 stores on SQLite,
PostgreSQL and MariaDB.

Every fact below is what those MLflow versions really do with the oracle's fixture data. A venv
that cannot be built fails these tests (MLFILTER_SKIP_VERSIONS=1: they skip); a database server
that does not answer on 127.0.0.1 skips its backend, as in the store tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import pytest

import mlflow_versions
from mlflow_oracle import APIS, _admin_engine
from version_oracle import (
    VERSIONS,
    OracleWorkerError,
    VersionOracle,
    VersionVerdict,
    close_many,
    get_version_oracle,
)

pytestmark = pytest.mark.mlflow

BACKENDS = ("sqlite", "postgresql", "mysql")


_python = mlflow_versions.python_for_tests


def _server_or_skip(backend: str) -> None:
    if backend == "sqlite":
        return
    import sqlalchemy as sa

    try:
        engine = _admin_engine(backend)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as e:  # noqa: BLE001 - no server here
        pytest.skip(f"no {backend} server at 127.0.0.1: {str(e).splitlines()[0]}")


def _databases(backend: str) -> set[str]:
    import sqlalchemy as sa

    sql = ("SELECT datname FROM pg_database" if backend == "postgresql"
           else "SELECT schema_name FROM information_schema.schemata")
    engine = _admin_engine(backend)
    with engine.connect() as conn:
        names = set(conn.execute(sa.text(sql)).scalars())
    engine.dispose()
    return names


@pytest.fixture(scope="module")
def oracles():
    """get(version, backend): an uncached VersionOracle (a real worker answers every request)."""
    made: dict[tuple[str, str], VersionOracle] = {}

    def get(version: str, backend: str) -> VersionOracle:
        if (version, backend) not in made:
            _python(version)
            _server_or_skip(backend)
            made[version, backend] = VersionOracle(version, backend, cache=False)
        return made[version, backend]

    yield get
    close_many(made.values())


# (api, filter, {version: (status, http, message fragment)}); "*" stands for every version
FACTS = [
    ("runs", "params.lr IS NULL", {
        "2.22.1": ("rejected", 400, "Invalid clause(s)"),
        "3.17.2": ("ok", 200, None),
        "3.18.0": ("ok", 200, None)}),
    ("experiments", "name like 'exp-%'", {
        "2.22.1": ("rejected", 400, "Invalid comparator 'like'"),
        "3.17.2": ("rejected", 400, "Invalid comparator 'like'"),
        "3.18.0": ("ok", 200, None)}),
    ("registered_models", "name IN ('a')", {
        "2.22.1": ("rejected", 400, "Only the 'run_id' attribute supports comparison with a list"),
        "3.17.2": ("ok", 200, None),
        "3.18.0": ("ok", 200, None)}),
    ("logged_models", "name = 'lm-one'", {
        "2.22.1": ("unsupported", None, "has no search for logged_models"),
        "3.17.2": ("ok", 200, None),
        "3.18.0": ("ok", 200, None)}),
    ("traces", "feedback.quality > 0.5", {
        "2.22.1": ("rejected", 400, "Invalid entity type 'feedback'"),
        "3.17.2": ("ok", 200, None),
        "3.18.0": ("ok", 200, None)}),
    ("runs", "params.batch_size = 32", {"*": ("rejected", 400, "Expected a quoted string value")}),
    ("runs", "metrics.loss < 1 OR params.lr = '0.01'", {"*": ("rejected", 400, "'OR'")}),
]

# every fixture entity is there, on every backend (view type ALL: deleted ones count)
COUNTS = {"runs": 5, "experiments": 4, "registered_models": 2, "model_versions": 3,
          "logged_models": 3, "traces": 2}

PAIRS = [(v, b) for v in VERSIONS for b in BACKENDS]


@pytest.mark.parametrize("version,backend", PAIRS, ids=[f"{v}-{b}" for v, b in PAIRS])
def test_known_facts(oracles, version, backend):
    o = oracles(version, backend)
    requests = [{"api": api, "filter": text} for api, text, _ in FACTS]
    requests += [{"api": api, "filter": None} for api in APIS]
    requests += [{"api": "runs", "filter": "metrics.loss < 1"},
                 {"api": "runs", "order_by": ["metrics.loss DESC NULLS LAST"]},
                 {"api": "experiments", "order_by": ["name", "name DESC"]}]
    got = o.labels(requests)
    assert o.info["mlflow_version"] == version and o.info["backend"] == backend
    assert all(isinstance(v, VersionVerdict) and v.mlflow_version == version
               and v.backend == backend and not v.cached for v in got)
    for (api, text, expected), v in zip(FACTS, got):
        status, http, fragment = expected.get(version) or expected["*"]
        assert (v.status, v.http) == (status, http), (api, text, v)
        if fragment:
            assert fragment in v.message, (api, text, v)
        if status == "ok":
            assert isinstance(v.n, int) and v.message is None
    counts = dict(zip(APIS, got[len(FACTS):len(FACTS) + len(APIS)]))
    for api, v in counts.items():
        if api == "logged_models" and version == "2.22.1":
            assert v.status == "unsupported"
        else:
            assert (v.status, v.n) == ("ok", COUNTS[api]), (api, v)
    loss, nulls_last, name_twice = got[-3:]
    assert loss.status == "ok"
    assert nulls_last.status == "rejected" and "Could not be parsed" in nulls_last.message
    assert name_twice.status == "ok"
    if backend != "sqlite":
        # the same fixture answers the same on a server as on SQLite
        here = oracles(version, "sqlite").labels(requests)
        assert [(v.status, v.n) for v in got] == [(v.status, v.n) for v in here]


def test_versions_differ_where_known(oracles):
    # the three workers really run three MLflows; and a NaN metric (run "Beta") matches
    # `metrics.loss < 1` in 2.22.1, not in 3.x
    seen = {v: oracles(v, "sqlite").info["mlflow_version"] for v in VERSIONS}
    assert seen == {v: v for v in VERSIONS}
    loss = {v: oracles(v, "sqlite").filter_verdict("runs", "metrics.loss < 1").n
            for v in VERSIONS}
    assert loss == {"2.22.1": 3, "3.17.2": 2, "3.18.0": 2}


def test_in_process_oracle_agrees_with_worker(oracles):
    from mlflow_oracle import get_oracle

    o = oracles("3.17.2", "sqlite")
    requests = [{"api": api, "filter": text} for api, text, _ in FACTS]
    requests += [{"api": "traces", "order_by": ["timestamp", "timestamp_ms"]},
                 {"api": "logged_models", "order_by": [{"field_name": "metrics.score"}]}]
    inproc = get_oracle()
    for r, v in zip(requests, o.labels(requests)):
        mine = (inproc.filter_verdict(r["api"], r["filter"]) if "filter" in r
                else inproc.order_by_verdict(r["api"], r["order_by"]))
        assert (v.status, v.http, _sets_sorted(v.message), v.exc_type, v.n, v.error_code) == (
            mine.status, mine.http, _sets_sorted(mine.message), mine.exc_type, mine.n,
            mine.error_code), r


def _sets_sorted(message):
    """MLflow's messages show Python sets, whose order depends on the process's hash seed."""
    if message is None:
        return None
    return re.sub(r"\{([^{}]*)\}",
                  lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def test_worker_messages_are_reproducible(oracles):
    # workers run with a fixed hash seed: a set in a message reads the same in every run
    text = "name like 'exp-%'"
    first = oracles("3.17.2", "sqlite").filter_verdict("experiments", text).message
    with VersionOracle("3.17.2", "sqlite", cache=False) as other:
        assert other.filter_verdict("experiments", text).message == first


def test_timeout_kills_and_restarts_the_worker():
    _python("3.17.2")
    with VersionOracle("3.17.2", "sqlite", timeout=3, cache=False) as o:
        t0 = time.monotonic()
        a, hung, b = o.ask_raw([{"api": "runs", "filter": "metrics.loss < 1"},
                                {"op": "sleep", "seconds": 600},
                                {"api": "runs", "filter": "params.lr = '0.01'"}])
        assert time.monotonic() - t0 < 120
        assert (a.status, a.n) == ("ok", 2)
        assert hung.status == "timeout" and "3 s" in hung.message
        assert (b.status, b.n) == ("ok", 1)
        assert o.starts == 2  # the hung worker was replaced
        # a worker that dies mid-batch: that request says so, the next worker answers the rest
        directory = o.info["dir"]
        died, c = o.ask_raw([{"op": "exit"}, {"api": "experiments", "filter": "name = 'exp-A'"}])
        assert died.status == "died" and "code 70" in died.message
        assert (c.status, c.n) == ("ok", 1)
        assert o.starts == 3
        assert not os.path.exists(directory)  # removed for the worker that could not
        directory = o.info["dir"]
    assert not os.path.exists(directory)  # removed by the worker itself


def test_repeated_failures_raise():
    _python("3.17.2")
    with VersionOracle("3.17.2", "sqlite", timeout=30, cache=False) as o:
        o.max_failures = 2
        with pytest.raises(OracleWorkerError, match="2 workers in a row"):
            o.ask_raw([{"op": "exit"}, {"op": "exit", "code": 71}, {"op": "exit", "code": 72}])
        assert o.starts == 2


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_databases_are_dropped(backend):
    _python("3.17.2")
    _server_or_skip(backend)
    # closed normally (stdin EOF): the worker drops its database
    o = VersionOracle("3.17.2", backend, cache=False)
    name = o.info["database"]
    assert name in _databases(backend)
    o.close()
    assert name not in _databases(backend)
    if backend == "postgresql":  # (MariaDB builds are slow: SIGTERM is tested on one server)
        # SIGTERM: the worker drops it
        o = VersionOracle("3.17.2", backend, cache=False)
        name = o.info["database"]
        proc = o._worker.proc
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        assert name not in _databases(backend)
        o.close()
    # dead without any cleanup (os._exit): the client drops it
    o = VersionOracle("3.17.2", backend, cache=False)
    name = o.info["database"]
    (died,) = o.ask_raw([{"op": "exit"}])
    assert died.status == "died"
    assert name not in _databases(backend)
    o.close()


def test_label_cache(tmp_path):
    _python("3.17.2")
    requests = [{"api": "runs", "filter": "metrics.loss < 1"},
                {"api": "runs", "filter": "params.lr > '0.01'"},
                {"api": "runs", "filter": "metrics.loss < 1"},  # twice: asked once
                {"api": "logged_models", "order_by": [{"field_name": "name"}]}]
    with VersionOracle("3.17.2", "sqlite", cache=tmp_path) as o:
        first = o.labels(requests)
        assert o.asked == 3 and o.starts == 1
        assert [v.status for v in first] == ["ok", "rejected", "ok", "ok"]
    (path,) = tmp_path.rglob("*.jsonl")
    assert path.parent.name == "3.17.2" and path.name.startswith("sqlite-")
    assert len(path.read_text().splitlines()) == 3
    with VersionOracle("3.17.2", "sqlite", cache=tmp_path) as again:
        second = again.labels(requests)
        assert again.starts == 0 and again.asked == 0  # no worker at all
        assert all(v.cached for v in second)
        assert second == first  # (`cached` does not take part in ==)
        # a new request: one worker, one question
        (extra,) = again.labels([{"api": "experiments", "filter": "name = 'exp-B'"}])
        assert (extra.status, extra.n, extra.cached) == ("ok", 1, False)
        assert again.starts == 1 and again.asked == 1
    with pytest.raises(ValueError):
        o.labels([{"api": "runs"}])
    with pytest.raises(ValueError):
        o.labels([{"api": "nope", "filter": "x"}])


def test_get_version_oracle_reuses_one_worker():
    _python("3.17.2")
    o = get_version_oracle("3.17.2", "sqlite")
    pid = o.info["pid"]
    assert get_version_oracle("3.17.2", "sqlite") is o
    assert get_version_oracle("3.17.2", "sqlite").info["pid"] == pid and o.starts == 1
    assert get_version_oracle("3.17.2", "mysql") is not o  # (started lazily: not here)


def test_ensure_python_reuses_complete_venvs():
    import sys

    assert mlflow_versions.ensure_python("3.17.2") == mlflow_versions.Path(sys.executable)
    for version in ("2.22.1", "3.18.0"):
        py = _python(version)
        assert py.exists() and mlflow_versions.is_complete(version)
        t0 = time.monotonic()
        assert mlflow_versions.ensure_python(version) == py
        assert time.monotonic() - t0 < 5  # no rebuild
        info = mlflow_versions.venv_info(version)
        assert info["check"]["mlflow"] == version
    assert mlflow_versions.venv_info("2.22.1")["check"]["sqlalchemy"].startswith("2.0.")


def test_failed_builds_name_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFILTER_VENV_CACHE", str(tmp_path))
    with pytest.raises(mlflow_versions.VenvBuildError, match="no recipe for MLflow '9.9.9'"):
        mlflow_versions.ensure_python("9.9.9")
    monkeypatch.setitem(mlflow_versions.RECIPES, "0.0.404",
                        [["--no-deps", "mlflow==0.0.404"]])
    with pytest.raises(mlflow_versions.VenvBuildError) as e:
        mlflow_versions.ensure_python("0.0.404")
    message = str(e.value)
    assert "pip install --no-input --no-deps mlflow==0.0.404" in message
    assert "failed (exit 1)" in message and "mlflow==0.0.404" in message.split("tail:")[1]
    # nothing half-built is left under a final name, and the build log stays
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == []
    assert any(p.name.endswith(".build.log") for p in tmp_path.iterdir())


def test_serve_protocol_directly():
    """The worker mode by hand: ready line, answers with ids, errors for bad lines, EOF exit."""
    import subprocess
    import sys

    from version_oracle import ORACLE_SCRIPT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    lines = [json.dumps({"api": "runs", "filter": "metrics.loss < 1", "id": "a"}),
             "not json", json.dumps({"api": "nope", "filter": "x"}),
             json.dumps({"api": "traces", "order_by": ["TIMESTAMP"], "id": 7}),
             json.dumps({"api": "runs", "filter": "tags.x = '\ud800'"})]
    p = subprocess.run([sys.executable, str(ORACLE_SCRIPT), "--serve", "--backend",
                        "sqlite"], input="\n".join(lines) + "\n", capture_output=True,
                       text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    out = [json.loads(x) for x in p.stdout.splitlines()]
    assert out[0]["ready"] is True and out[0]["mlflow_version"] == "3.17.2"
    assert out[1] == {"status": "ok", "http": 200, "message": None, "exc_type": None, "n": 2,
                      "error_code": None, "mlflow_version": "3.17.2", "id": "a"}
    assert out[2]["status"] == "error" and "not JSON" in out[2]["message"]
    assert out[3]["status"] == "error" and "unknown api" in out[3]["message"]
    assert out[4]["status"] == "rejected" and out[4]["id"] == 7
    # a lone surrogate travels as \ud800 and gets the in-process oracle's answer
    from mlflow_oracle import get_oracle

    mine = get_oracle().filter_verdict("runs", "tags.x = '\ud800'")
    assert out[5]["status"] == mine.status and out[5]["message"] == mine.message
    assert len(out) == 6
