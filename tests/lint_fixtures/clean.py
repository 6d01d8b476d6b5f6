"""Search calls MLflow accepts: nothing to report (golden: clean.expected is empty)."""
import mlflow
from mlflow.entities import ViewType

runs = mlflow.search_runs(
    experiment_ids=["0"],
    filter_string="metrics.acc > 0.9 AND params.optimizer = 'adam'",
    run_view_type=ViewType.ALL,
    max_results=10,
    order_by=["metrics.acc DESC", "start_time"],
)
