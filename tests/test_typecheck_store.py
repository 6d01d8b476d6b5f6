"""MF5xx type checks against real stores, judged by MLflow's own search on the same store.

A warning says "this condition matches nothing in these experiments": whenever check(...,
schema=...) reports MF501, MF502, MF503, MF504 or MF507 on a condition (and MF506 under the
active-only view), MlflowClient.search_runs with that condition alone returns no run. MF505 says
"every run with the metric passes": the search returns exactly the runs that logged the metric.
"""

from __future__ import annotations

import os

import pytest
import stores
from hypothesis import HealthCheck, example, given, settings

import mlfilter
from mlfilter.schema import Schema

pytestmark = pytest.mark.mlflow
BACKENDS = ["sqlite", "postgresql", "mariadb"]
EMPTY = {"MF501", "MF502", "MF503", "MF504", "MF507"}
SETTINGS = settings(max_examples=int(os.environ.get("MLFILTER_STORE_EXAMPLES", "40")),
                    deadline=None, database=None, suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")))
_SCHEMAS: dict[str, Schema] = {}


def schema_of(uri: str) -> Schema:
    if uri not in _SCHEMAS:
        _SCHEMAS[uri] = Schema.from_store(uri)
    return _SCHEMAS[uri]


def findings(clauses, ids, view, schema):
    """(clause index, code) of every MF5xx finding, located by its span."""
    text = " AND ".join(clauses)
    report = mlfilter.check(text, "runs", schema=schema, experiment_ids=ids, view_type=view)
    assert report.ok, (text, report.diagnostics)
    starts, offset = [], 0
    for clause in clauses:
        starts.append(offset)
        offset += len(clause) + len(" AND ")
    out = []
    for d in report.diagnostics:
        if d.code.startswith("MF5"):
            index = max(i for i, s in enumerate(starts) if s <= d.span.start)
            out.append((index, d.code))
    return out


def assert_mlflow_agrees(uri, logged, schema, clauses, ids, view):
    for index, code in findings(clauses, ids, view, schema):
        clause = clauses[index]
        n = stores.search_count(uri, ids, clause, view)
        if code in EMPTY or (code == "MF506" and view == 1):
            assert n == 0, f"{code} on {clause!r}, but MLflow returns {n} runs (ids {ids}, view {view})"
        if code == "MF505":
            key = clause.split(".", 1)[1].split(" ", 1)[0].strip("`")
            having = [r for r in logged.runs_of(ids, view) if key in r.metrics]
            assert n == len(having), f"MF505 on {clause!r}: MLflow returns {n} of {len(having)}"


# Conditions that must be flagged on every backend (each code exercised at least once), in the
# vision experiment, or in tabular for run names (vision has more names than a schema samples).
KNOWN = [
    ("params.optimizer = 'Adam '", "MF502"),  # a trailing space: never logged
    ("params.lr = '0.0100'", "MF502"),  # numeric spelling: values are strings
    ("params.momentum = '0.9'", "MF501"),
    ("params.accuracy = '0.9'", "MF501"),  # a metric, searched as a param
    ("params.optimizer LIKE 'Ad%M'", "MF503"),  # LIKE is case-sensitive
    ("metrics.accuracy > 0.99", "MF504"),
    ("metrics.accuracy >= 0", "MF505"),
    ("params.legacy_flag = '1'", "MF506"),  # only deleted runs have it
    ("attributes.run_name = 'BASELINE'", "MF507"),
    ("attributes.`run name` = 'lightgbm-3 '", "MF507"),
]


def _experiment(logged, code):
    return logged.experiments["tabular" if code == "MF507" else "vision"]


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_findings_are_confirmed_by_mlflow_search(store):
    uri, logged = store
    schema = schema_of(uri)

    @SETTINGS
    @given(stores.filter_clauses(logged))
    def check(case):
        clauses, ids, view = case
        if not stores.mlflow_accepts(" AND ".join(clauses)):
            return
        assert_mlflow_agrees(uri, logged, schema, clauses, ids, view)

    for clause, code in KNOWN:
        check = example(case=([clause], [_experiment(logged, code)], 1))(check)
    check()


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
@pytest.mark.parametrize("clause,code", KNOWN)
def test_known_findings(store, clause, code):
    uri, logged = store
    experiment = _experiment(logged, code)
    assert (0, code) in findings([clause], [experiment], 1, schema_of(uri))
    expected = (0 if code != "MF505" else
                sum("accuracy" in r.metrics for r in logged.runs_of([experiment])))
    assert stores.search_count(uri, [experiment], clause) == expected


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
@pytest.mark.parametrize("clause", [
    "params.optimizer = 'Adam'", "params.optimizer = 'ADAM'", "params.lr = '1e-3'",
    "params.lr = '0.0010'", "params.batch_size = '032'", "tags.team = 'Vision'",
    "params.optimizer LIKE 'A%'", "params.optimizer ILIKE 'adam'", "metrics.accuracy > 0.9",
    "attributes.run_name = 'Baseline'", "tags.stage = 'Prod'", "params.note = '50% off'",
    "params.note = \"it's\"", "params.note LIKE 'a_b'", "metrics.loss != 0.5",
])
def test_values_logged_in_another_spelling_are_not_flagged(store, clause):
    """Case and numeric-spelling variants that were logged are values like any other: no
    warning, and MLflow finds them (on MariaDB too, where the database's collation ignores
    case and trailing spaces, but MLflow compares with BINARY)."""
    uri, logged = store
    vision = logged.experiments["vision"]
    assert findings([clause], [vision], 1, schema_of(uri)) == []
    assert stores.search_count(uri, [vision], clause) > 0


def test_did_you_mean_a_logged_spelling(sqlite_store):
    uri, _ = sqlite_store
    report = mlfilter.check("params.optimizer = 'adam ' AND params.lr = '0.010'", "runs",
                            schema=schema_of(uri), experiment_ids=["store-vision"])
    first, second = report.diagnostics
    assert (first.code, second.code) == ("MF502", "MF502")
    assert first.fix.edits[0].replacement == "'adam'"
    assert second.hint.startswith("did you mean '0.01'?")
    assert "store-vision" in first.message


def test_key_of_another_entity_is_named(sqlite_store):
    uri, _ = sqlite_store
    report = mlfilter.check("params.accuracy = '0.9'", "runs", schema=schema_of(uri))
    (d,) = report.diagnostics
    assert d.code == "MF501"
    assert "a metric `accuracy` exists" in d.hint
    assert d.fix.edits[0].replacement == "metrics.accuracy"


def test_experiments_narrow_the_check(sqlite_store):
    """A key logged in one experiment only is unknown in the others."""
    uri, logged = sqlite_store
    schema = schema_of(uri)
    clause = "params.tokenizer = 'bpe'"
    assert findings([clause], [logged.experiments["nlp"]], 1, schema) == []
    assert findings([clause], [logged.experiments["vision"]], 1, schema) == [(0, "MF501")]
    assert stores.search_count(uri, [logged.experiments["vision"]], clause) == 0


def test_view_type_all_sees_deleted_runs(sqlite_store):
    uri, logged = sqlite_store
    vision = logged.experiments["vision"]
    assert findings(["params.legacy_flag = '1'"], [vision], 3, schema_of(uri)) == []
    assert stores.search_count(uri, [vision], "params.legacy_flag = '1'", 3) > 0


def test_unknown_experiment_is_reported(sqlite_store):
    uri, _ = sqlite_store
    report = mlfilter.check("params.optimizer = 'adam'", "runs", schema=schema_of(uri),
                            experiment_ids=["no-such-experiment"])
    assert [d.code for d in report.diagnostics] == ["MF508"]


def test_other_apis_know_their_keys(sqlite_store):
    uri, _ = sqlite_store
    schema = schema_of(uri)
    cases = [("registered_models", "tags.owner = 'vision'", []),
             ("registered_models", "tags.Owner = 'vision'", ["MF501"]),
             ("model_versions", "tags.validated = 'true'", []),
             ("model_versions", "tags.lang = 'en' AND tags.language = 'en'", ["MF501"]),
             ("logged_models", "params.epochs = '10'", []),
             ("logged_models", "params.epoch = '10'", ["MF501"]),
             ("traces", "tags.env = 'prod'", []),
             ("traces", "tags.environment = 'prod'", ["MF501"])]
    for api, text, codes in cases:
        report = mlfilter.check(text, api, schema=schema)
        assert [d.code for d in report.diagnostics] == codes, (api, text, report.diagnostics)


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_null_tests_of_keys_never_logged(store):
    uri, logged = store
    schema = schema_of(uri)
    vision = logged.experiments["vision"]
    runs = len(logged.runs_of([vision]))
    # IS NULL of a key no run has matches every run: nothing to warn about
    assert findings(["tags.never_logged IS NULL"], [vision], 1, schema) == []
    assert stores.search_count(uri, [vision], "tags.never_logged IS NULL") == runs
    assert findings(["tags.never_logged IS NOT NULL"], [vision], 1, schema) == [(0, "MF501")]
    assert stores.search_count(uri, [vision], "tags.never_logged IS NOT NULL") == 0
    # a key that differs only in case: MLflow's IS [NOT] NULL compares keys with `=`, exact on
    # SQLite and PostgreSQL, case-insensitive under MariaDB's collation
    n = stores.search_count(uri, [vision], "tags.TEAM IS NOT NULL")
    found = findings(["tags.TEAM IS NOT NULL"], [vision], 1, schema)
    if uri.startswith("mysql"):
        assert (n, found) == (runs, [])
    else:
        assert (n, found) == (0, [(0, "MF501")])


def test_snapshot_of_unknown_origin_does_not_judge_key_case(sqlite_store):
    """A schema whose source is not a SQLite or PostgreSQL URI may come from MySQL, where
    `tags.TEAM IS NOT NULL` finds `team`: no MF501 there; exact keys are still checked."""
    uri, _ = sqlite_store
    schema = Schema.from_dict({**schema_of(uri).to_dict(), "source": "team snapshot"})
    assert findings(["tags.TEAM IS NOT NULL"], None, 1, schema) == []
    assert findings(["tags.nothing_like_it IS NOT NULL"], None, 1, schema) == [(0, "MF501")]


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
@pytest.mark.parametrize("pattern", [r"50\% off", r"a\_b", r"C:\\temp", r"50\%%"])
def test_like_backslash_follows_the_database(store, pattern):
    """MLflow emits no ESCAPE clause: on PostgreSQL and MariaDB a backslash escapes (these
    patterns find the logged '50% off', 'a_b', 'C:\\temp'), on SQLite it is a plain character
    (they find nothing). MF503 says "matches nothing" exactly where MLflow finds nothing."""
    uri, logged = store
    clause = f"params.note LIKE '{pattern}'"
    ids = sorted(logged.experiments.values())
    n = stores.search_count(uri, ids, clause, 3)
    flagged = (0, "MF503") in findings([clause], ids, 3, schema_of(uri))
    assert (n == 0) == uri.startswith("sqlite")
    assert flagged == (n == 0)


def test_like_backslash_with_a_schema_of_unknown_origin(sqlite_store):
    """Without the database's name, MF503 needs a pattern that matches nothing either way."""
    uri, _ = sqlite_store
    schema = Schema.from_dict({**schema_of(uri).to_dict(), "source": "team snapshot"})
    assert findings([r"params.note LIKE '50\% off'"], None, 3, schema) == []
    assert findings([r"params.note LIKE '60\% off'"], None, 3, schema) == [(0, "MF503")]
