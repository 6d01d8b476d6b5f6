"""`mlfilter.guard()`: the real MLflow client and fluent API, in this process, refuse a search
MLflow would reject, before sending it; `mlfilter.guard(False)` undoes it.

Against a real SQLite store made by MLflow, and against a recording tracking server (a real HTTP
server of the test's own that keeps every request it gets), which shows that a refused search
never leaves the process while an accepted one does.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import mlfilter
import stores

pytestmark = pytest.mark.mlflow


@pytest.fixture(autouse=True)
def guard_off_after():
    yield
    mlfilter.guard(False)


class Recorder:
    """A tracking server that answers /version with `release` and every search with an empty
    result, and records (method, path, body) of each request."""

    def __init__(self, release: str):
        self.requests: list[tuple[str, str, dict]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append((self.command, self.path.split("?")[0],
                                          json.loads(body) if body else {}))
                data = release.encode() if self.path == "/version" else b"{}"
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def searches(self):
        return [r for r in self.requests if r[1] != "/version"]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder(request):
    server = Recorder(getattr(request, "param", "3.17.2"))
    yield server
    server.close()


def _client(uri):
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_refused_before_the_request_is_sent(recorder):
    client = _client(recorder.url)
    mlfilter.guard()
    with stores.quiet_mlflow(), pytest.raises(mlfilter.FilterError) as info:
        client.search_runs(["1"], "params.batch_size = 32")
    assert recorder.searches() == []  # only GET /version was asked, once
    text = str(info.value)
    assert text.startswith("MlflowClient.search_runs: MLflow would not run this search")
    assert "error[MF201]" in text and "  |                     ^^" in text
    assert "= help: quote it: '32'" in text
    assert info.value.diagnostics[0].code == "MF201"
    with stores.quiet_mlflow():
        client.search_runs(["1"], "params.batch_size = '32'")
    assert [(m, p, b["filter"]) for m, p, b in recorder.searches()] == [
        ("POST", "/api/2.0/mlflow/runs/search", "params.batch_size = '32'")]


def test_guard_false_sends_it_again(recorder):
    client = _client(recorder.url)
    assert mlfilter.guard() is False and mlfilter.guard() is True
    assert mlfilter.guard(False) is True
    with stores.quiet_mlflow():
        client.search_runs(["1"], "params.batch_size = 32")
    assert len(recorder.searches()) == 1


@pytest.mark.parametrize("recorder,refused", [("2.22.1", True), ("3.17.2", False)],
                         indirect=["recorder"])
def test_the_servers_release_decides(recorder, refused):
    """IS NULL on params is rejected by MLflow 2.22 and accepted since 3.11 (docs/versions.md):
    the guard asks the server which release it runs."""
    client = _client(recorder.url)
    mlfilter.guard()
    with stores.quiet_mlflow():
        if refused:
            with pytest.raises(mlfilter.FilterError, match="MF214"):
                client.search_runs(["1"], "params.lr IS NULL")
        else:
            client.search_runs(["1"], "params.lr IS NULL")
    assert len(recorder.searches()) == (0 if refused else 1)
    assert [r[1] for r in recorder.requests].count("/version") == 1


@pytest.fixture
def store_uri(sqlite_store):
    return sqlite_store


CLIENT_CALLS = {
    "runs": lambda c, e: c.search_runs(e, "params.batch_size = 32"),
    "experiments": lambda c, e: c.search_experiments(filter_string="name = 1"),
    "registered_models": lambda c, e: c.search_registered_models("name IS NULL"),
    "model_versions": lambda c, e: c.search_model_versions("version = x"),
    "logged_models": lambda c, e: c.search_logged_models(e, filter_string="foo = 'x'"),
    "traces": lambda c, e: c.search_traces(locations=e, filter_string="tags.env = prod"),
}


@pytest.mark.parametrize("api", list(CLIENT_CALLS))
def test_every_client_search_on_a_real_store(store_uri, api):
    """Guarded, a bad search raises FilterError; unguarded, MLflow's store raises its own error
    (or crashes) on the same call: the guard refused what MLflow refuses."""
    from mlflow.exceptions import MlflowException

    uri, logged = store_uri
    client = _client(uri)
    ids = list(logged.experiments.values())
    mlfilter.guard()
    with stores.quiet_mlflow(), pytest.raises(mlfilter.FilterError):
        CLIENT_CALLS[api](client, ids)
    mlfilter.guard(False)
    with stores.quiet_mlflow(), pytest.raises((MlflowException, Exception)) as info:
        CLIENT_CALLS[api](client, ids)
    assert not isinstance(info.value, mlfilter.FilterError)


def test_accepted_searches_return_what_mlflow_returns(store_uri):
    uri, logged = store_uri
    client = _client(uri)
    ids = list(logged.experiments.values())
    query = dict(filter_string="params.optimizer = 'adam'", order_by=["metrics.accuracy DESC"])
    with stores.quiet_mlflow():
        plain = [r.info.run_id for r in client.search_runs(ids, **query)]
        mlfilter.guard()
        guarded = [r.info.run_id for r in client.search_runs(ids, **query)]
    assert plain and guarded == plain


def test_fluent_functions_and_order_by(store_uri):
    import mlflow

    uri, logged = store_uri
    ids = list(logged.experiments.values())
    mlfilter.guard()
    with stores.quiet_mlflow(), stores._env(MLFLOW_TRACKING_URI=uri):
        with pytest.raises(mlfilter.FilterError, match=r"^mlflow\.search_runs: ") as info:
            mlflow.search_runs(ids, "metrics.acc > 0.8 OR params.x = 'a'")
        assert "MF202" in str(info.value)
        with pytest.raises(mlfilter.FilterError, match="MF422"):
            mlflow.search_runs(ids, order_by=["start_time", "created DESC"])
        from mlflow.tracking import fluent

        assert mlflow.search_runs is fluent.search_runs  # one guarded function, two names
        original = mlfilter.search_guard._originals[fluent, "search_runs"]
        assert len(mlflow.search_runs(ids, "params.optimizer = 'adam'")) > 0
    mlfilter.guard(False)
    assert mlflow.search_runs is fluent.search_runs is original


def test_a_file_store_is_searched_unchecked(tmp_path):
    from mlflow.exceptions import MlflowException

    mlfilter.guard()
    with stores.quiet_mlflow(), stores._env(MLFLOW_ALLOW_FILE_STORE="true"), \
            pytest.raises(Exception) as info:
        _client(tmp_path.as_uri()).search_runs(["0"], "params.batch_size = 32")
    assert not isinstance(info.value, mlfilter.FilterError)
    assert isinstance(info.value, MlflowException)


def test_load_ext_turns_it_on_and_off():
    """In a real IPython shell: `%load_ext mlfilter`, then `%mlfilter guard [on|off]`."""
    from IPython.core.interactiveshell import InteractiveShell

    # the process's one shell: other tests in this worker (the fuzz campaign's %mlfilter) may
    # have made it already, and IPython allows one shell class per process
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mlfilter")
    ip.run_line_magic("mlfilter", "guard")
    assert mlfilter.guard_is_on()
    ip.run_line_magic("mlfilter", "guard off")
    assert not mlfilter.guard_is_on()
    ip.run_line_magic("mlfilter", "guard on")
    assert mlfilter.guard_is_on()
