"""`mlflow server --app-name mlfilter-basic-auth`: MLflow's basic-auth with mlfilter's check after
it, on a real server with authentication on."""

from __future__ import annotations

import pytest

import stores
from mlflow_app_servers import ADMIN, PASSWORD, send

pytestmark = pytest.mark.mlflow

SEARCH = "/api/2.0/mlflow/runs/search"


@pytest.fixture(scope="module")
def auth_server(mlfilter_auth_server):
    """The server, an experiment with one run (made by the admin) and a READ-only user made
    through basic-auth's own client, found under the plugin's app name."""
    from mlflow import MlflowClient
    from mlflow.server import get_app_client

    url, log = mlfilter_auth_server
    with stores.quiet_mlflow(), stores._env(MLFLOW_TRACKING_USERNAME=ADMIN,
                                            MLFLOW_TRACKING_PASSWORD=PASSWORD):
        client = MlflowClient(tracking_uri=url)
        name = "auth-" + stores.fresh_name()
        eid = client.create_experiment(name)
        run = client.create_run(eid)
        client.log_param(run.info.run_id, "batch_size", "32")
        users = get_app_client("mlfilter-basic-auth", tracking_uri=url)
        reader = stores.fresh_name("reader")
        users.create_user(reader, "reader-Pass-word-1")
    return url, eid, (reader, "reader-Pass-word-1")


def test_no_credentials_is_refused_by_basic_auth_first(auth_server):
    url, eid, _ = auth_server
    answer = send(url, "POST", SEARCH, {"experiment_ids": [eid], "filter": "params.bs = 32"})
    assert answer.status == 401 and not answer.by_mlfilter


@pytest.mark.parametrize("who", ["admin", "reader"])
def test_signed_in_users_get_mlfilters_answer(auth_server, who):
    url, eid, reader = auth_server
    auth = (ADMIN, PASSWORD) if who == "admin" else reader
    bad = send(url, "POST", SEARCH, {"experiment_ids": [eid], "filter": "params.batch_size = 32"},
               auth=auth)
    assert bad.status == 400 and bad.by_mlfilter
    assert bad.json["error_code"] == "INVALID_PARAMETER_VALUE" and "error[MF201]" in bad.message
    good = send(url, "POST", SEARCH, {"experiment_ids": [eid],
                                      "filter": "params.batch_size = '32'"}, auth=auth)
    assert good.status == 200 and len(good.json["runs"]) == 1


def test_a_wrong_password_is_still_basic_auths_answer(auth_server):
    url, eid, (reader, _) = auth_server
    answer = send(url, "POST", SEARCH, {"experiment_ids": [eid], "filter": "params.bs = 1"},
                  auth=(reader, "wrong"))
    assert answer.status == 401


def test_mlflow_client_with_credentials(auth_server):
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    url, eid, (reader, password) = auth_server
    with stores.quiet_mlflow(), stores._env(MLFLOW_TRACKING_USERNAME=reader,
                                            MLFLOW_TRACKING_PASSWORD=password,
                                            MLFLOW_HTTP_REQUEST_MAX_RETRIES="0"):
        client = MlflowClient(tracking_uri=url)
        with pytest.raises(MlflowException) as info:
            client.search_runs([eid], "metrics.loss < 1 OR params.batch_size = '32'")
        assert "error[MF202]" in info.value.message
        assert len(client.search_runs([eid], "params.batch_size = '32'")) == 1


def test_graphql_searches_are_checked_after_basic_auth(auth_server):
    """/graphql: basic-auth's 401 without credentials; a signed-in user's bad search gets
    mlfilter's message in MLflow's GraphQL answer, and a good one runs under basic-auth's GraphQL
    middleware as without mlfilter."""
    url, eid, reader = auth_server
    query = ("query Q($f: String) { mlflowSearchRuns(input: {experimentIds: [\"%s\"], "
             "filter: $f}) { runs { data { params { key value } } } } }" % eid)
    bad = {"query": query, "variables": {"f": "params.batch_size = 32"}}
    answer = send(url, "POST", "/graphql", bad)
    assert answer.status == 401 and not answer.by_mlfilter
    for auth in ((ADMIN, PASSWORD), reader):
        answer = send(url, "POST", "/graphql", bad, auth=auth)
        assert answer.status == 200 and answer.by_mlfilter
        assert answer.json["data"] == {"mlflowSearchRuns": None}
        assert answer.json["errors"][0].startswith("error[MF201]")
        good = send(url, "POST", "/graphql", {"query": query,
                                              "variables": {"f": "params.batch_size = '32'"}},
                    auth=auth)
        assert good.status == 200 and not good.by_mlfilter and good.json["errors"] is None
        [run] = good.json["data"]["mlflowSearchRuns"]["runs"]
        assert {"key": "batch_size", "value": "32"} in run["data"]["params"]
