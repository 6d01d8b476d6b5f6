"""order_by, view types and max_results (golden: args.expected)."""
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from mlflow.entities import ViewType as VT

ORDER = ["metrics.acc DESC", "metrics.acc"]
client = MlflowClient()

mlflow.search_runs(["0"], order_by=["metrics.acc DESC", "params.lr", "start_time", "created"])
mlflow.search_runs(["0"], order_by=ORDER)
mlflow.search_runs(["0"], order_by="metrics.acc DESC")
mlflow.search_experiments(order_by=["name", "name DESC", "tags.x"])
mlflow.search_logged_models(["0"], order_by=[{"field_name": "params.p"}, {"field_name": "name"}])
mlflow.search_logged_models(["0"], order_by=["name"])
mlflow.search_runs(["0"], order_by=[f"metrics.{m} DESC", "metrics.loss NULLS LAST"])
mlflow.search_runs(["0"], "", ViewType.ACTIVE_ONLY)
mlflow.search_runs(["0"], "", ViewType.DELETED)
mlflow.search_runs(["0"], run_view_type=VT.ALL)
mlflow.search_runs(["0"], run_view_type=mlflow.entities.ViewType.EVERYTHING)
mlflow.search_runs(["0"], run_view_type="ALL")
mlflow.search_runs(["0"], run_view_type=4)
mlflow.search_runs(["0"], run_view_type=3)
mlflow.search_experiments(view_type=ViewType.from_string("ALL"))
mlflow.search_experiments(view_type=ViewType.from_string("all"))
mlflow.search_runs(["0"], max_results=100_000)
mlflow.search_runs(["0"], max_results=0)
client.search_runs(["0"], max_results=100_000)
client.search_runs(["0"], max_results=-1)
client.search_registered_models(max_results=1001)
client.search_registered_models(max_results=0)
client.search_model_versions(max_results=200_000)
client.search_model_versions(max_results=200_001)
client.search_logged_models(["0"], max_results=0)
client.search_logged_models(["0"], max_results=-5)
client.search_traces(["0"], max_results=50_001)
client.search_experiments(max_results=50_000)
