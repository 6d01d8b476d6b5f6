"""What the linter knows about the search entry points of MLflow 3.17.2: their names, their
positional parameters, and the `max_results` each one takes. Data only; scan_py.py reads it.

Signatures are copied from MLflow 3.17.2:
- fluent: mlflow/tracking/fluent.py (search_runs, search_experiments, search_logged_models),
  mlflow/tracking/_model_registry/fluent.py (search_registered_models, search_model_versions),
  mlflow/tracing/fluent.py (search_traces);
- client: mlflow/tracking/client.py (MlflowClient.search_*).
"""

from __future__ import annotations

# method or function name -> mlfilter API name
SEARCH_FUNCTIONS = {
    "search_runs": "runs",
    "search_experiments": "experiments",
    "search_registered_models": "registered_models",
    "search_model_versions": "model_versions",
    "search_logged_models": "logged_models",
    "search_traces": "traces",
}

FLUENT_PARAMS = {
    "runs": ("experiment_ids", "filter_string", "run_view_type", "max_results", "order_by",
             "output_format", "search_all_experiments", "experiment_names"),
    "experiments": ("view_type", "max_results", "filter_string", "order_by"),
    "registered_models": ("max_results", "filter_string", "order_by"),
    "model_versions": ("max_results", "filter_string", "order_by"),
    "logged_models": ("experiment_ids", "filter_string", "datasets", "max_results", "order_by",
                      "output_format"),
    "traces": ("experiment_ids", "filter_string", "max_results", "order_by", "extract_fields",
               "run_id", "return_type", "model_id", "sql_warehouse_id", "include_spans",
               "locations", "flush"),
}

CLIENT_PARAMS = {
    "runs": ("experiment_ids", "filter_string", "run_view_type", "max_results", "order_by",
             "page_token"),
    "experiments": ("view_type", "max_results", "filter_string", "order_by", "page_token"),
    "registered_models": ("filter_string", "max_results", "order_by", "page_token"),
    "model_versions": ("filter_string", "max_results", "order_by", "page_token"),
    "logged_models": ("experiment_ids", "filter_string", "datasets", "max_results", "order_by",
                      "page_token"),
    "traces": ("experiment_ids", "filter_string", "max_results", "order_by", "page_token",
               "run_id", "include_spans", "model_id", "locations", "flush"),
}

# Arguments the linter checks, by parameter name -> what it is.
CHECKED = {
    "filter_string": "filter",
    "filter": "filter",
    "order_by": "order_by",
    "run_view_type": "view_type",
    "view_type": "view_type",
    "max_results": "max_results",
}

# mlfilter's own string-taking functions: name -> (what, positional parameters).
MLFILTER_FUNCTIONS = {
    "check": ("filter", ("filter_string", "api")),
    "parse": ("filter", ("filter_string", "api")),
    "fix_filter": ("filter", ("filter_string", "api")),
    "check_order_by": ("order_by", ("order_by", "api")),
    "from_string": ("filter", ("filter_string", "api")),
}
BUILDER_METHODS = {"where": "filter", "order_by": "order_by"}

VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}  # mlflow/entities/view_type.py
VIEW_TYPE_STRINGS = ("active_only", "deleted_only", "all")  # ViewType.from_string

# max_results, by API, for the fluent functions and for MlflowClient (the store's limits):
# (lowest value MLflow accepts or None, highest or None, what a value below `low` does).
# Sources: the fluent functions page through results with get_results_from_paginated_fn
# (mlflow/utils/__init__.py), so they take any size and return nothing for 0 or less; the client
# hands the value to the store (SqlAlchemyStore.search_*), whose limits are in mlfilter/apis.py
# and ../shared/mlflow-search-reference.md sections 1.6-6.
FLUENT_MAX_RESULTS = {api: (1, None, "empty") for api in FLUENT_PARAMS}
CLIENT_MAX_RESULTS = {
    "runs": (1, 50_000, "rejected"),
    "experiments": (1, 50_000, "rejected"),
    "registered_models": (1, 1_000, "empty"),  # 0 and negatives: an empty page
    "model_versions": (1, 200_000, "rejected"),
    "logged_models": (0, None, "empty"),  # 0 means the default page size; negatives: empty
    "traces": (1, 50_000, "empty"),  # MlflowClient.search_traces loops while len < max_results
}
