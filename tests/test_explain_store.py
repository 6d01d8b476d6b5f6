"""explain counts runs exactly as MLflow's search does, on real stores (SQLite, PostgreSQL,
MariaDB) built by MLflow's own client: for random filters over the logged keys and values (plus
near misses), the runs remaining after the last condition are the runs MlflowClient.search_runs
returns, and each condition's "alone" count is the search with that condition alone."""

from __future__ import annotations

import json
import os

import pytest
import stores
from hypothesis import HealthCheck, given, settings

from mlfilter.explain import Explanation, explain

pytestmark = pytest.mark.mlflow
BACKENDS = ["sqlite", "postgresql", "mariadb"]
SETTINGS = settings(max_examples=int(os.environ.get("MLFILTER_STORE_EXAMPLES", "40")),
                    deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")))


def _explained(uri, clauses, ids, view) -> Explanation:
    with stores.quiet_mlflow():
        return explain(" AND ".join(clauses), uri, ids, view)


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_explain_counts_are_mlflows_counts(store):
    uri, logged = store

    @SETTINGS
    @given(stores.filter_clauses(logged))
    def check(case):
        clauses, ids, view = case
        text = " AND ".join(clauses)
        if not stores.mlflow_accepts(text):
            return  # the strategy aims at accepted filters; the few others are not this test's
        e = _explained(uri, clauses, ids, view)
        assert len(e.rows) == len(clauses), (text, e.rows)
        assert e.total == stores.search_count(uri, ids, "", view)
        assert e.rows[-1].remaining == stores.search_count(uri, ids, text, view), (text, str(e))
        for clause, row in zip(clauses, e.rows):
            assert row.alone == stores.search_count(uri, ids, clause, view), (clause, str(e))
        for i, row in enumerate(e.rows):  # remaining never grows, and is within alone
            assert row.remaining <= row.alone
            assert i == 0 or row.remaining <= e.rows[i - 1].remaining

    check()


@pytest.mark.parametrize("store", ["mariadb"], indirect=True)
def test_mariadb_counts_equal_sqlite_counts(store, sqlite_store):
    """MLflow compares strings with BINARY on MySQL/MariaDB, so case, trailing spaces and LIKE
    behave as on SQLite: the same data gives the same counts (run ids differ, so none here),
    except where MLflow itself differs (_differs_by_database)."""
    uri, logged = store
    sqlite_uri, sqlite_logged = sqlite_store
    assert sorted(logged.experiments.values()) == sorted(sqlite_logged.experiments.values())

    @SETTINGS
    @given(stores.filter_clauses(logged, with_run_ids=False))
    def check(case):
        clauses, ids, view = case
        text = " AND ".join(clauses)
        if not stores.mlflow_accepts(text) or any(_differs_by_database(c, logged)
                                                  for c in clauses):
            return
        mine = _explained(uri, clauses, ids, view)
        theirs = _explained(sqlite_uri, clauses, ids, view)
        assert [(r.alone, r.remaining) for r in mine.rows] == \
            [(r.alone, r.remaining) for r in theirs.rows], (text, str(mine), str(theirs))
        assert stores.search_count(uri, ids, text, view) == \
            stores.search_count(sqlite_uri, ids, text, view), text

    check()


def _differs_by_database(clause: str, logged) -> bool:
    """The two places where MLflow itself answers differently on MariaDB and SQLite: a backslash
    in a LIKE pattern (test_like_backslash_follows_the_database in test_typecheck_store.py), and
    `tags.Team IS NULL` where a key differing only in case was logged (next test)."""
    if "LIKE" in clause and "\\" in clause:
        return True
    if not clause.endswith(("IS NULL", "IS NOT NULL")):
        return False
    key = clause.split(".", 1)[1].rsplit(" IS ", 1)[0].strip("`")
    keys = logged.keys("params") | logged.keys("tags")
    return any(k.lower() == key.lower() and k != key for k in keys)


@pytest.mark.parametrize("store", ["mariadb"], indirect=True)
def test_mariadb_null_tests_ignore_key_case(store, sqlite_store):
    """The one place where MLflow does not compare with BINARY on MySQL/MariaDB: IS NULL and
    IS NOT NULL match the key with `=`, under the database's case-insensitive collation. So
    `tags.TEAM IS NOT NULL` finds every run on MariaDB and none on SQLite; explain follows
    MLflow on each (it runs MLflow's own filter code)."""
    uri, logged = store
    sqlite_uri, _ = sqlite_store
    ids = sorted(logged.experiments.values())
    runs = len(logged.runs_of(ids))
    counts = {}
    for where in (uri, sqlite_uri):
        for clause in ("tags.TEAM IS NOT NULL", "tags.TEAM IS NULL"):
            n = stores.search_count(where, ids, clause)
            assert _explained(where, [clause], ids, 1).rows[0].alone == n
            counts[where, clause] = n
    assert counts == {(uri, "tags.TEAM IS NOT NULL"): runs, (uri, "tags.TEAM IS NULL"): 0,
                      (sqlite_uri, "tags.TEAM IS NOT NULL"): 0,
                      (sqlite_uri, "tags.TEAM IS NULL"): runs}


# ---- fixed cases: the table, the JSON, the emptying condition --------------------------------

def test_explain_names_the_condition_that_empties_the_result(sqlite_store):
    uri, logged = sqlite_store
    vision = logged.experiments["vision"]
    text = "params.optimizer = 'adam' AND params.batch_size = '256' AND metrics.accuracy > 0.5"
    e = _explained(uri, text.split(" AND "), [vision], 1)
    active = logged.runs_of([vision])
    adam = [r for r in active if r.params.get("optimizer") == "adam"]
    assert e.total == len(active)
    assert [(r.alone, r.remaining) for r in e.rows] == [
        (len(adam), len(adam)),
        (0, 0),
        (sum(r.metrics["accuracy"] > 0.5 for r in active), 0),
    ]
    assert e.emptied_by == "params.batch_size = '256'"
    assert "<- empties the result" in str(e).splitlines()[3]


def test_explain_cli_text_and_json(sqlite_store, capfd):
    uri, logged = sqlite_store
    text = "params.optimizer = 'Adam' AND tags.stage = 'prod'"
    proc = stores.run_cli_here(capfd, ["explain", text, "--store", uri, "--experiment",
                                       "store-vision", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    vision = logged.experiments["vision"]
    runs = logged.runs_of([vision])
    adam = [r for r in runs if r.params.get("optimizer") == "Adam"]
    assert data["total"] == len(runs)
    assert data["counts_are_lower_bounds"] is False
    assert [c["alone"] for c in data["clauses"]] == [
        len(adam), sum(r.tags["stage"] == "prod" for r in runs)]
    assert data["clauses"][1]["remaining"] == sum(r.tags["stage"] == "prod" for r in adam)
    table = stores.run_cli_here(capfd, ["explain", text, "--store", uri, "--experiment",
                                        "store-vision"])
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].startswith(f"runs searched: {len(runs)}")
    assert "params.optimizer = 'Adam'" in table.stdout


def test_explain_view_types(sqlite_store):
    uri, logged = sqlite_store
    ids = sorted(logged.experiments.values())
    text = "params.legacy_flag = '1'"
    counts = {view: _explained(uri, [text], ids, view).rows[0].alone for view in (1, 2, 3)}
    deleted = sum(r.params.get("legacy_flag") == "1" for r in logged.runs_of(ids, 2))
    assert deleted > 0
    assert counts == {1: 0, 2: deleted, 3: deleted}


def test_explain_rejects_what_mlflow_rejects(sqlite_store, capfd):
    uri, _ = sqlite_store
    proc = stores.run_cli_here(capfd, ["explain", "params.lr > 0.1", "--store", uri])
    assert proc.returncode == 1
    assert "MF" in proc.stderr and "Traceback" not in proc.stderr
    assert not stores.mlflow_accepts("params.lr > 0.1")


def test_explain_unknown_experiment_is_one_clear_message(sqlite_store, capfd):
    uri, _ = sqlite_store
    proc = stores.run_cli_here(capfd, ["explain", "params.a = 'b'", "--store", uri,
                                       "--experiment", "nope"])
    assert proc.returncode == 2
    assert proc.stderr.strip() == "mlfilter: no experiment with id or name 'nope'"


# ---- the tracking-server path ---------------------------------------------------------------

def test_explain_over_http_agrees_on_empty_or_not(tracking_server, sqlite_store):
    """A server cannot count without fetching runs: explain probes with max_results=1 and says
    "0" or ">=1"; that verdict matches the exact database counts, condition by condition."""
    url, logged = tracking_server
    uri, _ = sqlite_store
    ids = [logged.experiments["vision"], logged.experiments["nlp"]]
    text = ("params.optimizer = 'adam' AND metrics.accuracy > 0.6 AND "
            "tags.stage = 'dev' AND params.lr = '0.5' AND tags.team = 'nlp'")
    remote = _explained(url, text.split(" AND "), ids, 1)
    local = _explained(uri, text.split(" AND "), ids, 1)
    assert remote.at_least and not local.at_least
    assert [(bool(r.alone), bool(r.remaining)) for r in remote.rows] == \
        [(bool(r.alone), bool(r.remaining)) for r in local.rows]
    assert remote.emptied_by == local.emptied_by == "params.lr = '0.5'"
    assert ">=1" in str(remote) and "note: a tracking server cannot count" in str(remote)
