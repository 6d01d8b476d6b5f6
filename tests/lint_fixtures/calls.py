"""Every way of calling a search API that mlfilter lint finds (golden: calls.expected)."""
import mlflow
import mlflow as mf
from mlflow import MlflowClient, search_runs
from mlflow import search_experiments as find_experiments
from mlflow.tracking import MlflowClient as Client

client = MlflowClient()
mlflow.search_runs(["0"], "params.a = 1")
mf.search_runs(filter_string="params.b = 2")
search_runs(filter_string="params.c = 3")
find_experiments(filter_string="name like 'x%'")
client.search_runs(["0"], "params.d = 4")
Client().search_runs(["0"], "params.e = 5")
mlflow.tracking.MlflowClient().search_runs(["0"], "params.f = 6")
mlflow.search_registered_models(100, "tags.k = 1")
client.search_registered_models("tags.k = 2", 100)
mlflow.search_model_versions(max_results=10, filter_string="run_id = 1")
mlflow.search_logged_models(["0"], "params.lr > 1")
mlflow.search_traces(["0"], "status = 'COMPLETE'")
mlflow.search_experiments(1, 10, "tags.owner = 7")


class Runner:
    def __init__(self):
        self.client = MlflowClient()

    def find(self, tracking):
        self.client.search_runs(["0"], "params.g = 7")
        tracking.search_runs(["0"], "params.h = 8")  # unknown receiver, file imports mlflow


def not_static(filter_string, ids):
    mlflow.search_runs(ids, filter_string)
    mlflow.search_runs(ids, "params.x = '%s'" % filter_string)
    mlflow.search_runs(ids, "params.y = '{}'".format(filter_string))
    mlflow.search_runs(ids, None)
