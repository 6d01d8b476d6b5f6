"""`mlflow server --app-name mlfilter` against the plain server, on the same store (issue 13).

Both are real `mlflow server` processes on copies of one SQLite store made by MLflow. The same
raw HTTP requests go to each, over every search route (REST /api and the UI's /ajax-api, GET
query arguments and POST JSON bodies): what the plain server answers with 200 the plugin answers
with the same bytes; what it rejects (400) or crashes on (500) the plugin answers with MLflow's
own 400, its message holding mlfilter's diagnostic with the caret and the hint.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlflow_app_servers import send

pytestmark = pytest.mark.mlflow

ACCEPTED, REJECTED, CRASH = "accepted", "rejected", "crash"


def locations(eid):
    return [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": eid}}]


def cases(logged):
    """(id, method, path after /api or /ajax-api, request, what the plain server does, the code
    mlfilter reports or None). `request` is {"body": ...} or {"query": ...}."""
    vision, nlp = logged.experiments["vision"], logged.experiments["nlp"]
    ids = list(logged.experiments.values())
    runs = "/2.0/mlflow/runs/search"
    exps = "/2.0/mlflow/experiments/search"
    rms = "/2.0/mlflow/registered-models/search"
    mvs = "/2.0/mlflow/model-versions/search"
    lms = "/2.0/mlflow/logged-models/search"
    traces, traces_v2 = "/3.0/mlflow/traces/search", "/2.0/mlflow/traces"

    def run_body(**kw):
        return {"body": {"experiment_ids": ids, **kw}}

    return [
        # search_runs (POST)
        ("runs-ok", "POST", runs, run_body(filter="metrics.accuracy > 0.5",
                                            order_by=["metrics.accuracy DESC"]), ACCEPTED, None),
        ("runs-tag", "POST", runs, run_body(filter="tags.team = 'vision'", max_results=5),
         ACCEPTED, None),
        ("runs-view-all", "POST", runs, run_body(filter="", run_view_type="ALL"), ACCEPTED, None),
        ("runs-camel", "POST", runs, {"body": {"experimentIds": ids, "maxResults": 3,
                                               "runViewType": "DELETED_ONLY"}}, ACCEPTED, None),
        ("runs-unquoted", "POST", runs, run_body(filter="params.batch_size = 32"), REJECTED,
         "MF201"),
        ("runs-or", "POST", runs, run_body(filter="metrics.acc > 0.8 OR params.x = 'a'"),
         REJECTED, "MF202"),
        ("runs-camel-bad", "POST", runs, {"body": {"experimentIds": ids,
                                                   "filter": "params.lr = 0.1"}}, REJECTED,
         "MF201"),
        ("runs-overflow", "POST", runs,
         run_body(filter="attributes.start_time > 99999999999999999999"), CRASH, "MF233"),
        ("runs-order-dup", "POST", runs, run_body(order_by=["start_time", "created DESC"]),
         CRASH, "MF422"),
        ("runs-order-bad", "POST", runs, run_body(order_by=["bogus"]), REJECTED, "MF421"),
        ("runs-page-big", "POST", runs, run_body(max_results=50001), REJECTED, "MF605"),
        ("runs-page-zero", "POST", runs, run_body(max_results=0), REJECTED, "MF605"),
        ("runs-double-encoded", "POST", runs,
         {"raw": json.dumps(json.dumps({"experiment_ids": ids,
                                        "filter": "params.bs = 1"})).encode()},
         REJECTED, "MF201"),
        # MLflow's parse skips a view type it cannot read (and searches active runs)
        ("runs-bad-view", "POST", runs, run_body(run_view_type="all", filter="params.bs = 1"),
         REJECTED, "MF201"),
        ("runs-bad-view-only", "POST", runs, run_body(run_view_type=7), ACCEPTED, None),
        # search_experiments (GET and POST)
        ("exps-ok", "POST", exps, {"body": {"filter": "name LIKE 'store-%'", "max_results": 10,
                                            "order_by": ["name"]}}, ACCEPTED, None),
        ("exps-get-ok", "GET", exps, {"query": {"filter": "tags.team = 'nlp'",
                                                "max_results": "10"}}, ACCEPTED, None),
        ("exps-warning", "POST", exps, {"body": {"max_results": 10, "order_by": ["name", "name"]}},
         ACCEPTED, None),
        ("exps-bad", "POST", exps, {"body": {"filter": "name = 1", "max_results": 10}}, REJECTED,
         "MF201"),
        ("exps-get-bad", "GET", exps, {"query": {"filter": "creation_time > '5'",
                                                 "max_results": "10"}}, REJECTED, "MF211"),
        ("exps-no-page", "POST", exps, {"body": {"filter": "name LIKE 'store-%'"}}, REJECTED,
         "MF605"),
        # search_registered_models and search_model_versions (GET)
        ("rms-ok", "GET", rms, {"query": {"filter": "name = 'nlp-bert'"}}, ACCEPTED, None),
        ("rms-tags", "GET", rms, {"query": {"filter": "tags.owner = 'nlp'",
                                            "order_by": ["name DESC"]}}, ACCEPTED, None),
        ("rms-bad", "GET", rms, {"query": {"filter": "name = 1"}}, REJECTED, "MF201"),
        ("rms-null", "GET", rms, {"query": {"filter": "name IS NULL"}}, CRASH, "MF230"),
        ("rms-order-dup", "GET", rms, {"query": {"order_by": ["name", "name"]}}, CRASH, "MF422"),
        ("rms-page-big", "GET", rms, {"query": {"max_results": "1001"}}, REJECTED, "MF605"),
        ("mvs-ok", "GET", mvs, {"query": {"filter": "name = 'vision-classifier'"}}, ACCEPTED,
         None),
        ("mvs-in", "GET", mvs, {"query": {"filter": "run_id IN ('a','b')"}}, ACCEPTED, None),
        ("mvs-bad", "GET", mvs, {"query": {"filter": "version = x"}}, REJECTED, "MF210"),
        ("mvs-null", "GET", mvs, {"query": {"filter": "name IS NULL"}}, CRASH, "MF230"),
        ("mvs-order-dup", "GET", mvs, {"query": {"order_by": ["name", "name"]}}, CRASH, "MF422"),
        # search_logged_models (POST, order_by as messages)
        ("lms-ok", "POST", lms, {"body": {"experiment_ids": [vision],
                                          "filter": "params.epochs = '10'"}}, ACCEPTED, None),
        ("lms-order", "POST", lms, {"body": {"experiment_ids": [vision], "order_by": [
            {"field_name": "creation_time", "ascending": False}]}}, ACCEPTED, None),
        ("lms-warning", "POST", lms, {"body": {"experiment_ids": [vision],
                                               "filter": "name = cnn"}}, ACCEPTED, None),
        ("lms-unknown", "POST", lms, {"body": {"experiment_ids": [vision],
                                               "filter": "foo = 'x'"}}, CRASH, "MF231"),
        ("lms-order-bad", "POST", lms, {"body": {"experiment_ids": [vision],
                                                 "order_by": [{"field_name": "foo"}]}},
         REJECTED, "MF421"),
        # search_traces: v3 (POST) and the deprecated v2 (GET)
        ("traces-ok", "POST", traces, {"body": {"locations": locations(nlp),
                                                "filter": "tags.env = 'prod'"}}, ACCEPTED, None),
        ("traces-bad", "POST", traces, {"body": {"locations": locations(nlp),
                                                 "filter": "tags.env = prod"}}, REJECTED,
         "MF201"),
        ("traces-crash", "POST", traces, {"body": {
            "locations": locations(nlp),
            "filter": "span.name = 'answer' AND timestamp_ms > '5'"}}, CRASH, "MF237"),
        ("traces-order-dup", "POST", traces, {"body": {
            "locations": locations(nlp), "order_by": ["timestamp_ms", "timestamp_ms"]}}, CRASH,
         "MF422"),
        ("traces-page-big", "POST", traces, {"body": {"locations": locations(nlp),
                                                      "max_results": 501}}, REJECTED, "MF605"),
        ("traces-v2-bad", "GET", traces_v2, {"query": {"experiment_ids": nlp,
                                                       "filter": "tags.env = prod"}}, REJECTED,
         "MF201"),
    ]


@pytest.fixture
def send_both(mlfilter_server, tracking_server):
    """Send one case over `prefix` to the plain server and to the plugin: (plain, plugin)."""
    plugin_url, logged, _ = mlfilter_server
    plain_url, _ = tracking_server
    by_name = {c[0]: c for c in cases(logged)}

    def both(name, prefix):
        _, method, path, request = by_name[name][:4]
        return tuple(send(url, method, prefix + path, **request) for url in (plain_url, plugin_url))
    return both


def _case_ids():
    # ids only (the cases need the store's experiment ids, known once the store is built)
    from stores import Logged

    fake = Logged("", experiments={"vision": "1", "nlp": "2", "tabular": "3"})
    return [c[0] for c in cases(fake)], [c[4:] for c in cases(fake)]


NAMES, EXPECTED = _case_ids()


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
@pytest.mark.parametrize("name,expected", list(zip(NAMES, EXPECTED)), ids=NAMES)
def test_same_answer_as_mlflow_or_its_400(send_both, name, expected, prefix):
    plain, plugin = send_both(name, prefix)
    verdict, code = expected
    # the corpus says what MLflow does: the plain server must agree
    assert (plain.status == 200) == (verdict == ACCEPTED), plain
    if verdict == CRASH:
        assert plain.status >= 500, plain
    if verdict == ACCEPTED:
        assert plugin.status == 200 and not plugin.by_mlfilter, plugin
        if name.startswith("traces"):
            # a trace's tags and metadata are protobuf maps, written in each process's hash order
            assert plugin.json == plain.json
        else:
            assert plugin.body == plain.body  # passed through untouched: the same bytes
        return
    assert plugin.status == 400, plugin
    assert plugin.json["error_code"] == "INVALID_PARAMETER_VALUE"
    assert plugin.by_mlfilter
    assert f"error[{code}]" in plugin.message, plugin.message
    assert re.search(r"\n\d+ \| .*\n +\| +\^+", plugin.message), plugin.message  # the caret
    assert "= help: " in plugin.message
    said = "would fail on this search (HTTP 5" if verdict == CRASH else "rejects this search"
    assert f"(mlfilter: MLflow 3.17.2 on SQLite {said}" in plugin.message


def test_message_is_the_command_lines_rendering(mlfilter_server):
    """The message is exactly what `mlfilter check` prints for the filter, plus MLflow's verdict."""
    import mlfilter

    url, logged, _ = mlfilter_server
    answer = send(url, "POST", "/api/2.0/mlflow/runs/search",
                  {"experiment_ids": [logged.experiments["vision"]],
                   "filter": "params.batch_size = 32"})
    expected = str(mlfilter.check("params.batch_size = 32", mlflow_version="3.17.2"))
    assert answer.message == expected + "\n\n(mlfilter: MLflow 3.17.2 on SQLite rejects this search)"


def test_warnings_pass_and_are_logged(mlfilter_server, send_both):
    """A warning (MF3xx, MF4xx) never blocks; the server's log names it."""
    _, _, log = mlfilter_server
    plain, plugin = send_both("lms-warning", "/api")
    assert plugin.status == 200
    text = Path(log).read_text(errors="replace")
    assert "warning[MF313]" in text and "passed on" in text


def test_mlflow_client_gets_the_diagnostic(mlfilter_server):
    """MLflow's own Python client, pointed at the plugin server: the exception MLflow raises
    carries mlfilter's message, for each search API."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    import stores

    url, logged, _ = mlfilter_server
    client = MlflowClient(tracking_uri=url)
    nlp = logged.experiments["nlp"]
    calls = {
        "MF201": lambda: client.search_runs([nlp], "params.batch_size = 32"),
        "MF211": lambda: client.search_experiments(filter_string="creation_time > '5'"),
        "MF230": lambda: client.search_registered_models("name IS NULL"),
        "MF210": lambda: client.search_model_versions("version = x"),
        "MF231": lambda: client.search_logged_models([nlp], filter_string="foo = 'x'"),
        "MF202": lambda: client.search_traces(locations=[nlp], filter_string="tags.a = 'b' OR "
                                              "tags.c = 'd'"),
    }
    with stores.quiet_mlflow(), stores._env(MLFLOW_HTTP_REQUEST_MAX_RETRIES="0"):
        for code, call in calls.items():
            with pytest.raises(MlflowException) as info:
                call()
            assert info.value.error_code == "INVALID_PARAMETER_VALUE"
            assert f"error[{code}]" in info.value.message and "^" in info.value.message
        runs = client.search_runs([nlp], "params.batch_size = '32'", max_results=5)
    assert all(r.data.params.get("batch_size") == "32" for r in runs)


def test_a_failure_inside_mlfilter_passes_the_request_on(mlfilter_server, tracking_server):
    """JSON nested deeper than Python's recursion limit makes reading the request raise inside
    mlfilter: the request goes to MLflow, which answers as the plain server does, and the
    server's log says what failed."""
    url, _, log = mlfilter_server
    plain_url, _ = tracking_server
    raw = b'{"filter": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    plain = send(plain_url, "POST", "/api/2.0/mlflow/runs/search", raw=raw)
    plugin = send(url, "POST", "/api/2.0/mlflow/runs/search", raw=raw)
    assert not plugin.by_mlfilter
    assert (plugin.status, plugin.body) == (plain.status, plain.body)
    text = Path(log).read_text(errors="replace")
    assert "internal error while checking POST /api/2.0/mlflow/runs/search" in text
    assert "RecursionError" in text
    # and the server goes on checking
    again = send(url, "POST", "/api/2.0/mlflow/runs/search", {"filter": "params.bs = 1"})
    assert again.by_mlfilter


def test_other_routes_are_untouched(mlfilter_server, tracking_server):
    url, logged, _ = mlfilter_server
    plain_url, _ = tracking_server
    eid = logged.experiments["vision"]
    for method, path, body in (("GET", "/api/2.0/mlflow/experiments/get", None),
                               ("GET", "/version", None), ("GET", "/api/2.0/mlflow/runs/search",
                                                           None)):
        query = {"experiment_id": eid} if "experiments/get" in path else None
        a, b = (send(u, method, path, body, query=query) for u in (plain_url, url))
        assert (a.status, a.body) == (b.status, b.body)
