"""The plugin's modes (MLFILTER_APP_MODE, MLFILTER_APP_FAIL_ON), on a real server under gunicorn
(where MLflow serves the Flask app itself) and on a Flask app of the test's own that stands for
the rest of MLflow: its search route says "reached MLflow" when the hook lets the request on."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mlfilter.mlflow_app.hook import SearchHook, _setting
from mlfilter.mlflow_app.verdict import Target
from mlflow_app_servers import send

pytestmark = pytest.mark.mlflow

TARGET = Target("3.17.2", "3.17", "sqlite", "sqlite")


def flask_app(mode="enforce", fail_on="error", static_prefix=""):
    from flask import Flask

    app = Flask("stand-in")
    for path in ("/api/2.0/mlflow/runs/search", "/ajax-api/2.0/mlflow/runs/search"):
        app.add_url_rule(static_prefix + path, path, lambda: "reached MLflow", methods=["POST"])
    app.before_request(SearchHook(TARGET, mode, fail_on, static_prefix))
    return app.test_client()


def post(client, body, path="/api/2.0/mlflow/runs/search"):
    r = client.post(path, json=body)
    return r.status_code, r.get_data(as_text=True)


BAD = {"experiment_ids": ["0"], "filter": "params.bs = 32"}
SUSPICIOUS = {"experiment_ids": ["0"], "filter": "attributes.status = 'COMPLETED'"}


def test_enforce_refuses_errors_and_passes_warnings():
    client = flask_app()
    status, body = post(client, BAD)
    assert status == 400 and json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
    assert post(client, SUSPICIOUS) == (200, "reached MLflow")


def test_fail_on_warning_refuses_warnings_too():
    status, body = post(flask_app(fail_on="warning"), SUSPICIOUS)
    assert status == 400
    message = json.loads(body)["message"]
    assert message.startswith("warning[MF3") and "warnings are blocking on this server" in message


@pytest.mark.parametrize("mode", ["warn", "off"])
def test_warn_and_off_let_everything_through(mode, caplog):
    with caplog.at_level(logging.INFO, logger="mlfilter.mlflow_app"):
        assert post(flask_app(mode), BAD) == (200, "reached MLflow")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ("error[MF201]" in logged) == (mode == "warn")


def test_static_prefix():
    client = flask_app(static_prefix="/tracking")
    assert post(client, BAD, "/tracking/ajax-api/2.0/mlflow/runs/search")[0] == 400


def test_bodies_that_are_not_a_search_go_to_mlflow():
    client = flask_app()
    for raw in (b"not json", b"[1, 2]", b'"not an object"', b"", b'{"filter": 5}',
                b'{"max_results": 1, "maxResults": 2, "filter": "params.a = 1"}'):
        r = client.post("/api/2.0/mlflow/runs/search", data=raw,
                        content_type="application/json")
        assert (r.status_code, r.get_data(as_text=True)) == (200, "reached MLflow"), raw


@pytest.mark.parametrize("value,expected", [("", "enforce"), ("WARN", "warn"), (" off ", "off"),
                                            ("block", "warn")])
def test_mode_setting(monkeypatch, value, expected):
    monkeypatch.setenv("MLFILTER_APP_MODE", value)
    assert _setting("MLFILTER_APP_MODE", ("enforce", "warn", "off"), "enforce", "warn") == expected


def test_warn_mode_server_under_gunicorn(mlfilter_warn_server, tracking_server):
    """In warn mode a bad search gets MLflow's own answer; the log holds mlfilter's."""
    url, log = mlfilter_warn_server
    plain_url, _ = tracking_server
    body = {"experiment_ids": ["0"], "filter": "params.batch_size = 32"}
    plain = send(plain_url, "POST", "/api/2.0/mlflow/runs/search", body)
    answer = send(url, "POST", "/api/2.0/mlflow/runs/search", body)
    assert plain.status == 400 and (answer.status, answer.body) == (plain.status, plain.body)
    text = Path(log).read_text(errors="replace")
    assert "gunicorn" in text.lower()
    assert "passed on (warn mode)" in text and "error[MF201]" in text


def test_huge_filters_are_checked_and_not_remembered():
    """A filter past sqlparse's token limit is MF006 (MLflow rejects it); it is not kept in the
    cache of recent filters, which holds short ones."""
    client = flask_app()
    huge = " AND ".join(f"params.p{i} = 'v'" for i in range(3000))
    status, body = post(client, {"experiment_ids": ["0"], "filter": huge})
    assert status == 400 and "error[MF006]" in json.loads(body)["message"]
    from mlfilter.mlflow_app.request import SearchRequest
    from mlfilter.mlflow_app.routes import ROUTES
    from mlfilter.mlflow_app.verdict import Checker

    checker = Checker(TARGET)
    for text in (huge, "params.bs = 32", "params.bs = 32"):
        checker.verdict(SearchRequest(ROUTES[0], text, [], None, None, 10, True))
    assert [k[2] for k in checker._cache] == ["params.bs = 32"]
