"""Quick checks of the MLflow oracle itself (tests/mlflow_oracle.py) and of tests/strategies.py.

Every fact here is MLflow 3.17.2 behaviour on the oracle's real SQLite store.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings

import strategies
from mlflow_oracle import APIS, Verdict, get_oracle

pytestmark = pytest.mark.mlflow


@pytest.fixture(scope="module")
def oracle():
    return get_oracle()


# (api, filter, status, http, message fragment, exc_type or None)
FILTER_FACTS = [
    ("runs", "params.batch_size = 32", "rejected", 400, "Expected a quoted string value for parameter", None),
    ("runs", "metrics.loss < 1 AND", "ok", 200, None, None),
    ("runs", "metrics.loss < 1 OR params.lr = '0.01'", "rejected", 400, "Invalid clause(s) in filter string: 'OR'", None),
    ("runs", "params.lr IS  NOT  NULL", "rejected", 400, "Invalid clause(s)", None),
    ("runs", "params.lr > '0.01'", "rejected", 400, "Invalid comparator '>'", None),
    ("runs", "start_time < 99999999999999999999999", "crash", 500, "Python int too large", "MlflowException"),
    ("experiments", "name like 'x'", "rejected", 400, "Invalid comparator 'like'", None),
    ("experiments", "attributes.name = 'exp-A'", "rejected", 400, "Invalid entity type 'attributes'", None),
    ("experiments", "creation_time > 0.5", "rejected", 400, "Invalid value for numeric attribute", None),
    ("registered_models", "tags.k IS NULL", "crash", 500, "not enough values to unpack", "ValueError"),
    ("registered_models", "name > 'a'", "rejected", 400, "Invalid comparator for attribute: >", None),
    ("model_versions", "name IS NULL", "crash", 500, "not enough values to unpack", "ValueError"),
    ("model_versions", "version = 1", "rejected", 400, "Invalid clause(s) in filter string", None),
    ("logged_models", "foo = 'x'", "crash", 500, "has no attribute 'foo'", "MlflowException"),
    ("logged_models", "metrics.score > 'x'", "crash", 500, "could not convert string to float", None),
    ("logged_models", "status = 'READY'", "ok", 200, None, None),
    ("logged_models", "metric.score > 0.5", "rejected", 400, "Invalid entity type: 'metric'", None),
    ("traces", "timestamp > 0", "ok", 200, None, None),
    ("traces", "timestamp > 0.5", "rejected", 400, "Invalid clause(s)", None),
    ("traces", "name IN ('a', 'b')", "rejected", 400, "Invalid comparator 'IN'", None),
    ("traces", "tags.env RLIKE '^pr'", "ok", 200, None, None),
    # found by the probing campaign (tests/oracle_findings.md)
    ("runs", "run_id IN (a, b)", "crash", 500, "malformed node or string", "MlflowException"),
    ("runs", "run_id = ('a',)", "rejected", 400, "Error binding parameter", None),
    ("experiments", "experiment_id not in ('0')", "ok", 200, None, None),
    ("experiments", "experiment_id in ('0')", "rejected", 400, "Invalid comparator for experiment_id: in", None),
    ("registered_models", "attribute.`name` = 'model-a'", "rejected", 400, "Invalid attribute key '`name`'", None),
    ("logged_models", "'name' = 'lm-one'", "crash", 500, "has no attribute", "MlflowException"),
    ("traces", "span.name like 'child'", "rejected", 400, "span.name comparator 'like'", None),
]


@pytest.mark.parametrize("api,text,status,http,fragment,exc_type", FILTER_FACTS)
def test_filter_facts(oracle, api, text, status, http, fragment, exc_type):
    v = oracle.filter_verdict(api, text)
    assert isinstance(v, Verdict)
    assert (v.status, v.http) == (status, http), v
    if fragment:
        assert fragment in v.message
    if exc_type:
        assert v.exc_type == exc_type
    if status == "ok":
        assert v.message is None and v.exc_type is None and isinstance(v.n, int)
    else:
        assert v.n is None


def test_result_counts_on_fixture(oracle):
    # view type ALL: deleted runs/experiments count
    assert oracle.filter_verdict("runs", None).n == 5
    assert oracle.filter_verdict("runs", "").n == 5
    assert oracle.filter_verdict("experiments", None).n == 4  # Default + 3
    assert oracle.filter_verdict("registered_models", None).n == 2
    assert oracle.filter_verdict("model_versions", None).n == 3
    assert oracle.filter_verdict("logged_models", None).n == 3
    assert oracle.filter_verdict("traces", None).n == 2
    # real SQL with real data
    assert oracle.filter_verdict("runs", "params.quote = \"it's\"").n == 1
    assert oracle.filter_verdict("runs", "params.quote = 'it''s'").n == 0
    assert oracle.filter_verdict("runs", "metrics.loss != 0.5").n >= 1  # NaN run matches !=
    assert oracle.filter_verdict("runs", "dataset.context = 'training'").n == 1
    assert oracle.filter_verdict("logged_models", "metrics.score > 0.5").n == 1
    assert oracle.filter_verdict("traces", "span.name = 'child'").n == 1
    assert oracle.filter_verdict("traces", "run_id IS NULL").n == 1
    assert oracle.filter_verdict("traces", "feedback.quality > 0.5").n == 1


ORDER_FACTS = [
    ("runs", ["metrics.loss", "metrics.loss DESC"], "crash", "duplicate fields"),
    ("runs", ["start_time", "created"], "crash", "duplicate fields"),
    ("runs", ["metrics.loss DESC NULLS LAST"], "rejected", "Could not be parsed"),
    ("runs", ["metrics.`my loss` desc"], "ok", None),
    ("experiments", ["name", "name DESC"], "ok", None),
    ("experiments", ["tags.team"], "rejected", "Invalid order_by entity: tag"),
    ("registered_models", ["timestamp", "last_updated_timestamp"], "crash", "duplicate fields"),
    ("registered_models", ["creation_timestamp DESC"], "rejected", "Invalid order by key"),
    ("model_versions", ["version_number DESC"], "ok", None),
    ("logged_models", ["name"], "crash", "'str' object has no attribute 'get'"),
    ("logged_models", [{"field_name": "params.p"}], "rejected", "Only metrics are supported"),
    ("logged_models", [{"field_name": "metrics.score", "ascending": False}], "ok", None),
    ("traces", ["timestamp", "timestamp_ms"], "crash", "duplicate fields"),
    ("traces", ["TIMESTAMP"], "rejected", "Could not be parsed"),
    # found by the probing campaign (tests/oracle_findings.md)
    ("traces", ["end_time"], "crash", "has no attribute 'end_time_ms'"),
    ("registered_models", ["`name`"], "rejected", "Invalid order by key '`name`'"),
    ("registered_models", ["`name` DESC"], "ok", None),
    ("runs", [" start_time"], "rejected", "Could not be parsed"),
]


@pytest.mark.parametrize("api,order_by,status,fragment", ORDER_FACTS)
def test_order_by_facts(oracle, api, order_by, status, fragment):
    v = oracle.order_by_verdict(api, order_by)
    assert v.status == status, v
    if fragment:
        assert fragment in v.message


def test_parse_outputs(oracle):
    assert oracle.parse("runs", "metrics.loss < 1e-1 AND params.lr = '0.01' and tags.`mlflow.runName` LIKE 'a%'") == [
        {"type": "metric", "key": "loss", "comparator": "<", "value": "1e-1"},
        {"type": "parameter", "key": "lr", "comparator": "=", "value": "0.01"},
        {"type": "tag", "key": "mlflow.runName", "comparator": "LIKE", "value": "a%"},
    ]
    assert oracle.parse("runs", "start_time > 5 AND run_id in ('a')") == [
        {"type": "attribute", "key": "start_time", "comparator": ">", "value": 5},
        {"type": "attribute", "key": "run_id", "comparator": "in", "value": ("a",)},
    ]
    assert oracle.parse("registered_models", "name like 'm%'") == [
        {"type": "attribute", "key": "name", "comparator": "LIKE", "value": "m%"}
    ]
    assert oracle.parse("logged_models", "name = \"dq\" AND params.p = 1 AND creation_time > 0") == [
        {"type": "attributes", "key": "name", "comparator": "=", "value": '"dq"'},
        {"type": "params", "key": "p", "comparator": "=", "value": "1"},
        {"type": "attributes", "key": "creation_timestamp_ms", "comparator": ">", "value": 0.0},
    ]
    assert oracle.parse("traces", "name = 'x'") == [
        {"type": "tag", "key": "mlflow.traceName", "comparator": "=", "value": "x"}
    ]
    # store-time rejections pass the parser
    assert isinstance(oracle.parse("runs", "params.lr > '0.01'"), list)
    assert isinstance(oracle.parse("logged_models", "foo = 'x'"), list)
    # parser-time rejections and raw parser exceptions come back as Verdicts
    v = oracle.parse("runs", "a OR b")
    assert isinstance(v, Verdict) and v.status == "rejected" and v.http == 400
    v = oracle.parse("registered_models", "tags.k IS NULL")
    assert isinstance(v, Verdict) and v.status == "crash" and v.exc_type == "ValueError"
    v = oracle.parse("logged_models", "metrics.score > 'x'")
    assert isinstance(v, Verdict) and v.status == "crash" and v.exc_type == "ValueError"


def test_parse_order_by_outputs(oracle):
    assert oracle.parse_order_by("runs", "metrics.`my loss` DESC") == ("metric", "my loss", False)
    assert oracle.parse_order_by("runs", "created") == ("attribute", "created", True)
    assert oracle.parse_order_by("experiments", "name asc") == ("attribute", "name", True)
    assert oracle.parse_order_by("registered_models", "timestamp DESC") == ("timestamp", False)
    assert oracle.parse_order_by("model_versions", "version_number DESC") == ("attribute", "version_number", False)
    assert oracle.parse_order_by("traces", "name DESC") == ("tag", "mlflow.traceName", False)
    assert oracle.parse_order_by("logged_models", {"field_name": "name"}) == ("name", True, None, None)
    v = oracle.parse_order_by("runs", "metrics.loss DESC NULLS LAST")
    assert isinstance(v, Verdict) and v.status == "rejected"
    v = oracle.parse_order_by("logged_models", "name")
    assert isinstance(v, Verdict) and v.status == "crash" and v.exc_type == "AttributeError"


def test_never_raises(oracle):
    weird = [123, b"x", "\x00", "'" * 5000, "(" * 300, ["a"], "metrics.loss < 1" * 50]
    for api in APIS:
        for w in weird:
            assert isinstance(oracle.filter_verdict(api, w), Verdict)
            assert isinstance(oracle.parse(api, w), (list, Verdict))
            assert isinstance(oracle.parse_order_by(api, w), (tuple, Verdict))
        assert isinstance(oracle.order_by_verdict(api, [None, 5, {}]), Verdict)
    with pytest.raises(ValueError):
        oracle.filter_verdict("nope", "x")


def test_pytest_env_is_restored(oracle):
    before = os.environ.get("PYTEST_CURRENT_TEST")
    oracle.filter_verdict("runs", "metrics.loss < 1")
    assert os.environ.get("PYTEST_CURRENT_TEST") == before


def _collect(strategy, n):
    out = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(x):
        out.append(x)

    run()
    return out


@pytest.mark.parametrize("api", APIS)
def test_filter_strategy_mixes_accepted_and_rejected(oracle, api):
    statuses = {}
    for text in _collect(strategies.filters(api), 200):
        assert isinstance(text, str)
        v = oracle.filter_verdict(api, text)
        statuses[v.status] = statuses.get(v.status, 0) + 1
    assert statuses.get("ok", 0) >= 20, statuses
    assert statuses.get("rejected", 0) >= 20, statuses


@pytest.mark.parametrize("api", APIS)
def test_order_by_strategy_mixes_accepted_and_rejected(oracle, api):
    statuses = {}
    for ob in _collect(strategies.order_bys(api), 200):
        assert isinstance(ob, list)
        v = oracle.order_by_verdict(api, ob)
        statuses[v.status] = statuses.get(v.status, 0) + 1
    assert statuses.get("ok", 0) >= 10, statuses
    assert statuses.get("rejected", 0) + statuses.get("crash", 0) >= 10, statuses
