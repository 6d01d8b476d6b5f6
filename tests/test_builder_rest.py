"""`.to_rest()` requests, sent to a real `mlflow server` (tests/conftest.py: mlflow_server).

Entities of every kind are created through MlflowClient against the server, so each search runs
real SQL. Every request the builder describes must get HTTP 200 and, for the hand-written
queries, return exactly the entity it describes; generated queries (hostile values included)
must all get 200.
"""

from __future__ import annotations

import contextlib
import os

import pytest

pytest.importorskip("mlflow")
requests = pytest.importorskip("requests")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mlfilter  # noqa: E402
from mlfilter import BuildError, F  # noqa: E402
from test_builder_properties import build, conjunctions, order_lists, order_terms  # noqa: E402

pytestmark = pytest.mark.mlflow

EXAMPLES = max(5, int(os.environ.get("MLFILTER_EXAMPLES", "100")) // 3)
APIS = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")


@contextlib.contextmanager
def _env(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update({k: v for k, v in values.items() if v is not None})
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def server(mlflow_server):
    """The server's URL and the ids of what was created through it."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag

    from mlflow.tracking._tracking_service import utils

    client = MlflowClient(mlflow_server)
    saved_uri = utils._tracking_uri  # None unless set: restored as it was
    with _env(PYTEST_CURRENT_TEST=None, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false",
              MLFLOW_TRACKING_URI=None, MLFLOW_EXPERIMENT_ID=None, MLFLOW_EXPERIMENT_NAME=None):
        exp = client.create_experiment("rest-A", tags={"team": "ml"})
        client.create_experiment("rest-B")
        run = client.create_run(exp, run_name="first", tags={"team": "ml"}).info.run_id
        client.log_batch(run, metrics=[Metric("acc", 0.9, 0, 0)],
                         params=[Param("lr", "0.1"), Param("quote", "it's' AND x")],
                         tags=[RunTag("note", "50% off")])
        other = client.create_run(exp, run_name="second").info.run_id
        client.log_batch(other, metrics=[Metric("acc", 0.1, 0, 0)], params=[Param("lr", "0.2")])
        client.delete_run(other)
        client.create_registered_model("model-a", tags={"k": "v"})
        client.create_registered_model("model-b")
        client.create_model_version("model-a", source="s3://bucket/m", run_id=run,
                                    tags={"t": "x"})
        logged = client.create_logged_model(exp, name="lm-one", model_type="agent",
                                            tags={"k": "v"}, params={"p": "1"}).model_id
        client.create_logged_model(exp, name="lm-two")
        mlflow.set_tracking_uri(mlflow_server)
        try:
            with _span_in(exp) as span:
                span.set_inputs({"q": "hello"})
            trace = mlflow.get_last_active_trace_id()
            with contextlib.suppress(Exception):
                mlflow.flush_trace_async_logging()
            client.set_trace_tag(trace, "env", "prod")
        finally:
            utils._tracking_uri = saved_uri
    yield {"url": mlflow_server, "experiment": exp, "run": run, "logged_model": logged,
           "trace": trace}


@contextlib.contextmanager
def _span_in(experiment_id):
    """A root span logged to this experiment (the active experiment is restored after)."""
    import mlflow
    from mlflow.tracking import fluent

    saved = fluent._active_experiment_id
    mlflow.set_experiment(experiment_id=experiment_id)
    try:
        with mlflow.start_span(name="root") as span:
            yield span
    finally:
        fluent._active_experiment_id = saved


def send(server, request: dict):
    url = server["url"] + request["path"]
    if request["method"] == "GET":
        return requests.get(url, params=request["params"], timeout=30)
    return requests.post(url, json=request["json"], timeout=30)


IDS = {
    "runs": lambda body: [r["info"]["run_id"] for r in body.get("runs", [])],
    "experiments": lambda body: [e["name"] for e in body.get("experiments", [])],
    "registered_models": lambda body: [m["name"] for m in body.get("registered_models", [])],
    "model_versions": lambda body: [(m["name"], m["version"])
                                    for m in body.get("model_versions", [])],
    "logged_models": lambda body: [m["info"]["model_id"] for m in body.get("models", [])],
    "traces": lambda body: [t.get("trace_id") or t.get("trace_info", {}).get("trace_id")
                            for t in body.get("traces", [])],
}


def queries(s):
    exp = [s["experiment"]]
    return {
        "runs": (mlfilter.search_runs(exp).where(
            (F.param("lr") == "0.1") & (F.metric("acc") > 0.5) & F.tag("note").like("50%")
            & (F.param("quote") == "it's' AND x") & F.attr("run_id").isin([s["run"], "x' OR 1"]))
            .order_by(F.metric("acc").desc(), F.attr("start_time")).view("all").limit(10),
            [s["run"]]),
        "experiments": (mlfilter.search_experiments().where(
            (F.attr("name") == "rest-A") & (F.tag("team") == "ml"))
            .order_by(F.attr("name").desc()).view("active_only"), ["rest-A"]),
        "registered_models": (mlfilter.search_registered_models().where(
            F.attr("name").isin(["model-a", "it's \"x\""]) & (F.tag("k") == "v"))
            .order_by(F.attr("name").desc()).limit(5), ["model-a"]),
        "model_versions": (mlfilter.search_model_versions().where(
            (F.attr("name") == "model-a") & (F.attr("version_number") >= 1)
            & (F.tag("t") == "x") & (F.attr("run_id") == s["run"]))
            .order_by(F.attr("version_number").desc()).limit(3), [("model-a", "1")]),
        "logged_models": (mlfilter.search_logged_models(exp).where(
            (F.attr("name") == "lm-one") & (F.param("p") == "1") & (F.tag("k").isin(["v"])))
            .order_by(F.attr("creation_time").desc()).limit(5), [s["logged_model"]]),
        "traces": (mlfilter.search_traces(exp).where(
            (F.tag("env") == "prod") & (F.attr("status") == "OK") & (F.attr("timestamp_ms") > 0))
            .order_by(F.attr("timestamp_ms").desc()).limit(10), [s["trace"]]),
    }


@pytest.mark.parametrize("api", APIS)
def test_rest_request_finds_the_entity(server, api):
    query, expected = queries(server)[api]
    request = query.to_rest()
    response = send(server, request)
    assert response.status_code == 200, f"{request}\n{response.status_code} {response.text}"
    assert IDS[api](response.json()) == expected, f"{request}\n{response.text}"


def test_rest_paths_and_methods_match_mlflow():
    """The body's shape per API (what the server answered 200 to above)."""
    shapes = {api: (q.to_rest()["method"], q.to_rest()["path"]) for api, (q, _) in
              queries({"experiment": "1", "run": "r", "logged_model": "m", "trace": "t"}).items()}
    assert shapes == {
        "runs": ("POST", "/api/2.0/mlflow/runs/search"),
        "experiments": ("POST", "/api/2.0/mlflow/experiments/search"),
        "registered_models": ("GET", "/api/2.0/mlflow/registered-models/search"),
        "model_versions": ("GET", "/api/2.0/mlflow/model-versions/search"),
        "logged_models": ("POST", "/api/2.0/mlflow/logged-models/search"),
        "traces": ("POST", "/api/3.0/mlflow/traces/search"),
    }
    traces = mlfilter.search_traces(["7"]).to_rest()["json"]
    assert traces["locations"] == [{"type": "MLFLOW_EXPERIMENT",
                                    "mlflow_experiment": {"experiment_id": "7"}}]


@pytest.mark.parametrize("api", APIS)
@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck), derandomize=bool(os.environ.get("CI")))
@given(data=st.data())
def test_generated_rest_requests_get_200(server, api, data):
    tree = data.draw(conjunctions(api), label="tree")
    entries = data.draw(order_lists(api), label="order_by")
    limit = data.draw(st.one_of(st.none(), st.integers(1, 500)), label="limit")
    factory = getattr(mlfilter, f"search_{api}")
    query = factory([server["experiment"]]) if api in ("runs", "logged_models", "traces") \
        else factory()
    try:
        query = query.where(build(tree)).order_by(*order_terms(entries))
        if limit is not None:
            query = query.limit(limit)
    except BuildError:
        return  # refusals are checked in test_builder_properties
    request = query.to_rest()
    response = send(server, request)
    assert response.status_code == 200, f"{request}\n{response.status_code} {response.text}"
