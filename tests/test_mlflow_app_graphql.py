"""MLflow's GraphQL endpoint through `mlflow server --app-name mlfilter` (issue 13).

The same raw requests go to the plain server and to the plugin, both real servers on copies of
one store. MLflow answers every GraphQL request it executes with HTTP 200 and
{"data": {...}, "errors": [message, ...]}: a search it rejects or crashes on has null under its
key and MLflow's message (or Python's exception text) in `errors`. The plugin answers the same
shape, with mlfilter's message (caret, hint) for each search it refuses; the other fields of the
request keep their data. What MLflow answers without running a search (a syntax error, an
invalid document, a bad body) reaches MLflow unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from mlflow_app_servers import send

pytestmark = pytest.mark.mlflow

RUNS = ("query {{ mlflowSearchRuns(input: {{experimentIds: {ids}, {args}}}) "
        "{{ runs {{ info {{ runId }} }} nextPageToken }} }}")
RUNS_VAR = ("query Q($i: MlflowSearchRunsInput) { mlflowSearchRuns(input: $i) "
            "{ runs { info { runId } } } }")
MVS = ("query {{ mlflowSearchModelVersions(input: {{{args}}}) "
       "{{ modelVersions {{ name version }} }} }}")
MVS_VAR = ("query Q($i: MlflowSearchModelVersionsInput) { mlflowSearchModelVersions(input: $i) "
           "{ modelVersions { name version } } }")
GOOD, GOOD_MV = "params.batch_size = '32'", "name = 'vision-classifier'"


def quoted(text: str) -> str:
    return json.dumps(text)  # a GraphQL string literal is written as a JSON one


def cases(ids):
    """(id, request body, the search field, the code mlfilter reports or None)."""
    ids_literal = json.dumps(ids)

    def runs(args):
        return {"query": RUNS.format(ids=ids_literal, args=args)}

    def runs_var(**fields):
        return {"query": RUNS_VAR, "variables": {"i": {"experimentIds": ids, **fields}}}

    return [
        ("runs-ok", runs(f"filter: {quoted(GOOD)}"),
         "mlflowSearchRuns", None),
        ("runs-ok-order", runs('orderBy: ["metrics.accuracy DESC"], maxResults: 5'),
         "mlflowSearchRuns", None),
        ("runs-ok-var", runs_var(filter="metrics.accuracy > 0.5"), "mlflowSearchRuns", None),
        ("runs-bad-inline", runs(f"filter: {quoted('params.batch_size = 32')}"),
         "mlflowSearchRuns", "MF201"),
        ("runs-bad-var", runs_var(filter="params.batch_size = 32"), "mlflowSearchRuns", "MF201"),
        ("runs-bad-filter-var", {
            "query": "query Q($f: String) { mlflowSearchRuns(input: {experimentIds: "
                     f"{ids_literal}, filter: $f}}) {{ runs {{ info {{ runId }} }} }} }}",
            "variables": {"f": "metrics.acc > 0.8 OR params.x = 'a'"}},
         "mlflowSearchRuns", "MF202"),
        ("runs-bad-mutation", {"query": "mutation " + runs(
            f"filter: {quoted('params.lr = 0.1')}")["query"].removeprefix("query ")},
         "mlflowSearchRuns", "MF201"),
        ("runs-overflow", runs(f"filter: {quoted('attributes.start_time > 99999999999999999999')}"),
         "mlflowSearchRuns", "MF233"),
        ("runs-order-dup", runs('orderBy: ["start_time", "created DESC"]'), "mlflowSearchRuns",
         "MF422"),
        ("runs-page-zero", runs("maxResults: 0"), "mlflowSearchRuns", "MF605"),
        ("runs-page-big", runs("maxResults: 50001"), "mlflowSearchRuns", "MF605"),
        ("mvs-ok", {"query": MVS.format(args=f"filter: {quoted(GOOD_MV)}")},
         "mlflowSearchModelVersions", None),
        # without the REST handler's caps the store takes these sizes
        ("mvs-ok-page", {"query": MVS.format(args='maxResults: "0"')},
         "mlflowSearchModelVersions", None),
        ("mvs-ok-page-big", {"query": MVS.format(args='maxResults: "200001"')},
         "mlflowSearchModelVersions", None),
        ("mvs-bad", {"query": MVS.format(args=f"filter: {quoted('version = x')}")},
         "mlflowSearchModelVersions", "MF210"),
        ("mvs-null", {"query": MVS_VAR, "variables": {"i": {"filter": "name IS NULL"}}},
         "mlflowSearchModelVersions", "MF230"),
        ("mvs-page-negative", {"query": MVS_VAR, "variables": {"i": {"maxResults": "-1"}}},
         "mlflowSearchModelVersions", "MF605"),
    ]


@pytest.fixture
def servers(mlfilter_server, tracking_server):
    plugin_url, logged, log = mlfilter_server
    plain_url, _ = tracking_server
    return plain_url, plugin_url, list(logged.experiments.values()), log


def both(servers, body=None, method="POST", **kw):
    plain_url, plugin_url = servers[:2]
    return tuple(send(url, method, "/graphql", body, **kw) for url in (plain_url, plugin_url))


def _ids():
    found = cases(["1"])
    return [c[0] for c in found], [c[1:] for c in found]


NAMES, CASES = _ids()


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("name", NAMES)
def test_same_answer_as_mlflow_or_mlfilters_message(servers, name, method):
    """GET carries the same JSON body (MLflow's handler reads the body for both methods)."""
    _, body, field, code = next(c for c in cases(servers[2]) if c[0] == name)
    plain, plugin = both(servers, method=method, raw=json.dumps(body).encode())
    assert plain.status == 200 and plugin.status == 200, (plain, plugin)
    if code is None:
        # the corpus says MLflow runs it: the plain server agrees, the plugin passes it on
        assert plain.json["errors"] is None, plain
        assert plugin.body == plain.body and not plugin.by_mlfilter
        return
    assert plain.json == {"data": {field: None}, "errors": plain.json["errors"]}, plain
    assert len(plain.json["errors"]) == 1  # MLflow rejects or crashes on it
    assert plugin.by_mlfilter
    assert plugin.json["data"] == plain.json["data"]
    [message] = plugin.json["errors"]
    assert message.startswith(f"error[{code}]"), message
    assert re.search(r"\n\d+ \| .*\n +\| +\^+", message), message  # the caret
    assert "= help: " in message
    said = ("would fail on this search (an internal error)" if code in ("MF233", "MF422", "MF230")
            else "rejects this search")
    assert message.endswith(f"(mlfilter: MLflow 3.17.2 on SQLite {said})"), message


def test_message_is_the_command_lines_rendering(servers):
    import mlfilter

    body = cases(servers[2])[3][1]  # runs-bad-inline
    _, plugin = both(servers, body)
    expected = str(mlfilter.check("params.batch_size = 32", mlflow_version="3.17.2"))
    said = "\n\n(mlfilter: MLflow 3.17.2 on SQLite rejects this search)"
    assert plugin.json["errors"] == [expected + said]


def test_several_fields_each_search_is_checked_the_others_keep_their_data(servers):
    """Aliases, two searches and a field that is no search: only the bad search's key is null,
    its error is mlfilter's, and everything else is what MLflow answers."""
    ids = json.dumps(servers[2])
    query = ("query { ok: mlflowSearchRuns(input: {experimentIds: %s, filter: \"params.batch_size"
             " = '32'\"}) { runs { info { runId } } } bad: mlflowSearchRuns(input: {experimentIds:"
             " %s, filter: \"params.batch_size = 32\"}) { runs { info { runId } } } exp: "
             "mlflowGetExperiment(input: {experimentId: %s}) { experiment { name } } }"
             % (ids, ids, json.dumps(servers[2][0])))
    plain, plugin = both(servers, {"query": query})
    assert plain.json["data"]["bad"] is None and plain.json["data"]["ok"]["runs"]
    assert plugin.by_mlfilter and plugin.json["data"] == plain.json["data"]
    [message] = plugin.json["errors"]
    assert message.startswith("error[MF201]")
    # two refused searches: two of mlfilter's errors, in the order MLflow meets the fields
    query = ("query { b: mlflowSearchModelVersions(input: {filter: \"name IS NULL\"}) "
             "{ modelVersions { name } } a: mlflowSearchRuns(input: {experimentIds: %s, "
             "filter: \"params.batch_size = 32\"}) { runs { info { runId } } } }" % ids)
    plain, plugin = both(servers, {"query": query})
    assert plugin.json["data"] == plain.json["data"] == {"a": None, "b": None}
    assert [m.split(":")[0] for m in plugin.json["errors"]] == ["error[MF230]", "error[MF201]"]


def test_fragments_and_operation_names_are_followed(servers):
    ids = json.dumps(servers[2])
    bad = ("query A { ...F } query B { mlflowGetExperiment(input: {experimentId: \"0\"}) "
           "{ experiment { name } } } fragment F on Query { mlflowSearchRuns(input: "
           "{experimentIds: %s, filter: \"params.batch_size = 32\"}) { runs { info { runId } } } }"
           % ids)
    plain, plugin = both(servers, {"query": bad, "operationName": "A"})
    assert plain.json["errors"] and plugin.by_mlfilter
    assert plugin.json["errors"][0].startswith("error[MF201]")
    # operation B runs no search: the request passes as it is
    plain, plugin = both(servers, {"query": bad, "operationName": "B"})
    assert plugin.body == plain.body and not plugin.by_mlfilter


@pytest.mark.parametrize("request_kw", [
    {"body": {"query": "query { mlflowSearchRuns(input: {filter: \"params.a = 1\" "}},  # syntax
    {"body": {"query": "query { mlflowSearchRuns(input: {filter: \"params.a = 1\", bogus: 1}) "
                       "{ runs { info { runId } } } }"}},  # not valid against MLflow's schema
    {"body": {"query": "query { mlflowSearchRuns(input: {filter: $f}) { nextPageToken } }"}},
    {"body": {"query": RUNS_VAR, "variables": {"i": {"filter": "params.a = 1",
                                                       "maxResults": "many"}}}},
    {"body": {"query": RUNS_VAR, "variables": {"i": {"filter": "params.a = 1",
                                                       "runViewType": "ALL"}}}},  # MLflow errs
    {"body": {"query": "query { mlflowSearchRuns { nextPageToken } }"}},  # no input
    {"body": {"variables": {}}},  # no query
    {"body": {"query": "{ mlflowSearchRuns(input: {filter: \"params.a = 1\"}) { nextPageToken } "
                       "}", "operationName": "Nope"}},
    {"raw": b'{"query": "{ mlflowSearchRuns(input: {filter: \\"params.a = 1\\"}) '
            b'{ nextPageToken } }"}', "content_type": "text/plain"},
    {"raw": json.dumps(json.dumps({"query": "{ mlflowSearchRuns(input: {filter: \"params.a = 1\"})"
                                            " { nextPageToken } }"})).encode()},
    {"raw": b"not json"},
    {"method": "GET", "query": {"query": "{ mlflowSearchRuns(input: {filter: \"params.a = 1\"}) "
                                         "{ nextPageToken } }"}},
], ids=["syntax", "invalid", "undefined-variable", "bad-variable", "view-type", "no-input",
        "no-query", "unknown-operation", "text-plain", "double-encoded", "not-json", "get-args"])
def test_what_mlflow_answers_without_a_search_reaches_mlflow_unchanged(servers, request_kw):
    kw = dict(request_kw)
    plain, plugin = both(servers, kw.pop("body", None), **kw)
    assert not plugin.by_mlfilter
    assert (plugin.status, plugin.body) == (plain.status, plain.body)


def test_a_syntax_error_is_logged_and_passed_on(servers):
    log = servers[3]
    plain, plugin = both(servers, {"query": "query { mlflowSearchRuns(input: {filter: "})
    assert plain.status == plugin.status == 500 and not plugin.by_mlfilter
    text = Path(log).read_text(errors="replace")
    assert "POST /graphql not checked: Syntax Error" in text


def test_graphql_is_served_at_the_root_only(servers):
    """MLflow 3.17.2 has no /ajax-api/graphql (the UI posts to <static-prefix>/graphql)."""
    body = {"query": "{ mlflowSearchRuns(input: {filter: \"params.a = 1\"}) { nextPageToken } }"}
    for answer in (send(url, "POST", "/ajax-api/graphql", body) for url in servers[:2]):
        assert answer.status == 404 and not answer.by_mlfilter


def test_warn_mode_passes_graphql_searches_and_logs_them(mlfilter_warn_server, tracking_server):
    url, log = mlfilter_warn_server
    plain_url, _ = tracking_server
    body = {"query": RUNS_VAR, "variables": {"i": {"experimentIds": ["0"],
                                                   "filter": "params.batch_size = 32"}}}
    plain = send(plain_url, "POST", "/graphql", body)
    answer = send(url, "POST", "/graphql", body)
    assert plain.json["errors"] and (answer.status, answer.body) == (plain.status, plain.body)
    text = Path(log).read_text(errors="replace")
    assert "POST /graphql field 'mlflowSearchRuns' (mlflowSearchRuns) passed on (warn mode)" in text
    assert "error[MF201]" in text


def test_refusals_are_logged_with_the_field(servers):
    log = servers[3]
    plain, plugin = both(servers, cases(servers[2])[4][1])  # runs-bad-var
    assert plugin.by_mlfilter
    text = Path(log).read_text(errors="replace")
    assert re.search(r"refused POST /graphql field 'mlflowSearchRuns' \(mlflowSearchRuns\) "
                     r"\([\d.]+ ms\):\nerror\[MF201\]", text), text[-3000:]
