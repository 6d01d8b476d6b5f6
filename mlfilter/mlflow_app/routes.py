"""The search routes of MLflow's tracking server, and what each request carries: data only.

Read from MLflow 3.17.2's mlflow/server/handlers.py (`get_endpoints`, `_search_runs`,
`_search_experiments`, `_search_registered_models`, `_search_model_versions`,
`_search_logged_models`, `_search_traces_v3`, `_deprecated_search_traces_v2`). Every route is served
under `/api/<v>.0` (clients) and `/ajax-api/<v>.0` (the UI), after the server's --static-prefix.
tests/test_mlflow_app_routes.py compares this table with the routes a real server registers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSize:
    """How a route treats `max_results` (after protobuf has read it, so defaults applied)."""

    low: int | None  # smallest value the search runs with
    high: int | None  # largest value the handler accepts
    below: str  # what a value below `low` does: "rejected" (400) or "empty" (no results)


@dataclass(frozen=True)
class Route:
    api: str  # mlfilter's API name
    path: str  # after /api/<v>.0 or /ajax-api/<v>.0
    version: int
    methods: tuple[str, ...]
    message: str  # the protobuf request message: "<module in mlflow.protos>:<class>"
    page: PageSize
    view_field: str | None = None  # the request field holding the view type
    order_dicts: bool = False  # order_by entries are messages (logged models)


# Page sizes, checked against a real 3.17.2 server (tests/test_mlflow_app.py): the handlers cap
# max_results (`_assert_less_than_or_equal`, the same caps in 2.22.1 and 3.18.0), the SQL store
# rejects values below 1 for runs, experiments, model versions and traces, and returns an empty
# page for registered models. Logged models take any value.
ROUTES = (
    Route("runs", "/mlflow/runs/search", 2, ("POST",), "service_pb2:SearchRuns",
          PageSize(1, 50_000, "rejected"), view_field="run_view_type"),
    Route("experiments", "/mlflow/experiments/search", 2, ("GET", "POST"),
          "service_pb2:SearchExperiments", PageSize(1, 50_000, "rejected"),
          view_field="view_type"),
    Route("registered_models", "/mlflow/registered-models/search", 2, ("GET",),
          "model_registry_pb2:SearchRegisteredModels", PageSize(1, 1_000, "empty")),
    Route("model_versions", "/mlflow/model-versions/search", 2, ("GET",),
          "model_registry_pb2:SearchModelVersions", PageSize(1, 200_000, "rejected")),
    Route("logged_models", "/mlflow/logged-models/search", 2, ("POST",),
          "service_pb2:SearchLoggedModels", PageSize(None, None, "empty"), order_dicts=True),
    Route("traces", "/mlflow/traces/search", 3, ("POST",), "service_pb2:SearchTracesV3",
          PageSize(1, 500, "rejected")),
    # The deprecated trace search of MLflow 2 (GET /api/2.0/mlflow/traces), still served.
    Route("traces", "/mlflow/traces", 2, ("GET",), "service_pb2:SearchTraces",
          PageSize(1, 500, "rejected")),
)

PREFIXES = ("/api", "/ajax-api")


def route_paths(route: Route, static_prefix: str = "") -> list[str]:
    """The URL rules a server registers for a route: REST and UI, after the static prefix."""
    prefix = static_prefix.rstrip("/")
    return [f"{prefix}{p}/{route.version}.0{route.path}" for p in PREFIXES]


def route_table(static_prefix: str = "") -> dict[tuple[str, str], Route]:
    """(URL rule, HTTP method) -> Route, for matching a request Flask has already routed."""
    return {(path, method): route for route in ROUTES for path in route_paths(route, static_prefix)
            for method in route.methods}


# ---- GraphQL ------------------------------------------------------------------------------------
# MLflow 3.17.2 serves GraphQL at <static-prefix>/graphql only (GET and POST; the UI posts there
# too, not under /ajax-api). Two root fields of its schema (mlflow/server/graphql/) take a filter:
# their resolvers fill the REST request message from the field's `input` and call the REST
# handler's *_impl, which skips the handler's own page-size caps: what is left is the store's
# (checked against a real server, tests/test_mlflow_app_graphql.py). mlflowSearchDatasets takes
# experiment ids only.
GRAPHQL_PATH = "/graphql"


@dataclass(frozen=True)
class GraphQLField:
    api: str
    field: str  # the root field's name in the schema
    operations: tuple[str, ...]  # the root types that have it: "query", "mutation"
    message: str
    page: PageSize
    view_field: str | None = None
    order_dicts: bool = False


GRAPHQL_FIELDS = (
    GraphQLField("runs", "mlflowSearchRuns", ("query", "mutation"), "service_pb2:SearchRuns",
                 PageSize(1, 50_000, "rejected"), view_field="run_view_type"),
    # the SQL store takes 0 (and any size) for model versions, and rejects negative ones
    GraphQLField("model_versions", "mlflowSearchModelVersions", ("query",),
                 "model_registry_pb2:SearchModelVersions", PageSize(0, None, "rejected")),
)


def graphql_rule(static_prefix: str = "") -> str:
    return static_prefix.rstrip("/") + GRAPHQL_PATH
