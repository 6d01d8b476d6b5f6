import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

BASELINE = "params.model = 'cnn' AND metrics.acc > 0.8"
client = MlflowClient()


def best_runs(batch_size, threshold):
    a = mlflow.search_runs(["1"], "params.batch_size = 32")
    b = mlflow.search_runs(filter_string=BASELINE + " OR params.lr = '0.1'")
    c = client.search_runs(["1"], f"params.batch_size = {batch_size} AND metrics.acc > {threshold}",
                           ViewType.DELETED, max_results=100_000, order_by="metrics.acc DESC")
    d = mlflow.search_experiments(filter_string="name like 'prod-%'")  # noqa: MF222
    return a, b, c, d
