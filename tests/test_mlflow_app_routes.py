"""The plugin's route table is MLflow's: every search route a real tracking server registers is
checked, with its methods, and the table names no route MLflow lacks."""

from __future__ import annotations

import pytest

from mlfilter.mlflow_app.routes import GRAPHQL_FIELDS, ROUTES, graphql_rule, route_table
from mlfilter.mlflow_app.request import message_class

pytestmark = pytest.mark.mlflow

# MLflow's search endpoints that take no mlfilter filter (datasets, issues, prompt jobs...)
NOT_FILTER_SEARCHES = {"_search_issues", "_search_evaluation_datasets_handler",
                       "_search_prompt_optimization_jobs", "_not_implemented",
                       "serve_search_datasets", "_search_datasets_handler"}


def _served_routes():
    from mlflow.server import app

    out = set()
    for rule in app.url_map.iter_rules():
        if "search" in rule.endpoint or rule.endpoint == "_deprecated_search_traces_v2":
            if rule.endpoint not in NOT_FILTER_SEARCHES:
                out |= {(rule.rule, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def test_every_search_route_of_the_server_is_checked():
    assert _served_routes() == set(route_table())


def test_graphql_is_served_at_one_rule_with_get_and_post():
    """MLflow serves /graphql after the static prefix only (no /api or /ajax-api copy): the hook
    checks that rule."""
    from mlflow.server import app

    from mlfilter.mlflow_app.hook import GRAPHQL, SearchHook
    from mlfilter.mlflow_app.verdict import Target

    served = {(rule.rule, m) for rule in app.url_map.iter_rules() if rule.endpoint == "_graphql"
              for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert served == {(graphql_rule(), "GET"), (graphql_rule(), "POST")}
    hook = SearchHook(Target("3.17.2", "3.17", "sqlite", "sqlite"), "enforce", "error", "/ml/")
    assert {k for k, v in hook.routes.items() if v == GRAPHQL} == {
        ("/ml/graphql", "GET"), ("/ml/graphql", "POST")}


def test_the_graphql_search_fields_are_the_schemas_fields_with_a_filter():
    """Every root field of MLflow's GraphQL schema whose input has a filter is checked, under
    each root type that has it (mlflowSearchDatasets takes experiment ids only)."""
    from mlflow.server.graphql.graphql_schema_extensions import schema

    graphql = schema.graphql_schema
    with_filter = set()
    for operation, root in (("query", graphql.query_type), ("mutation", graphql.mutation_type)):
        for name, field in root.fields.items():
            given = field.args.get("input")
            if given is not None and "filter" in given.type.fields:
                with_filter.add((operation, name))
    assert with_filter == {(op, f.field) for f in GRAPHQL_FIELDS for op in f.operations}
    assert "filter" not in graphql.mutation_type.fields["mlflowSearchDatasets"].args[
        "input"].type.fields
    for spec in GRAPHQL_FIELDS:
        fields = message_class(spec).DESCRIPTOR.fields_by_name
        assert {"filter", "max_results", "order_by"} <= set(fields)
        assert (spec.view_field is not None) == ("run_view_type" in fields)


def test_static_prefix_moves_every_route():
    table = route_table("/mlflow/")
    assert all(path.startswith("/mlflow/api/") or path.startswith("/mlflow/ajax-api/")
               for path, _ in table)
    assert len(table) == len(route_table())


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.api}:{r.path}")
def test_each_route_names_its_request_message_and_fields(route):
    fields = message_class(route).DESCRIPTOR.fields_by_name
    assert {"filter", "max_results", "order_by"} <= set(fields)
    if route.view_field:
        assert fields[route.view_field].enum_type.name == "ViewType"
    assert (fields["order_by"].type == fields["order_by"].TYPE_MESSAGE) == route.order_dicts


def test_the_builder_and_the_plugin_agree_on_rest_paths_and_limits():
    """mlfilter's builder sends one route per API (to_rest): the plugin checks that route, with the
    same page-size cap."""
    from mlfilter.builder.query import SPECS

    by_path = {f"/api/{r.version}.0{r.path}": r for r in ROUTES}
    for spec in SPECS.values():
        route = by_path[spec.rest_path]
        assert route.api == spec.api and spec.rest_method in route.methods
        assert route.page.high == spec.rest_max
        assert route.view_field == spec.rest_view


def test_the_lint_path_does_not_import_the_plugin_or_the_guard():
    """`import mlfilter`, check and lint never load the plugin or the guard; naming
    `mlfilter.guard` loads the guard module but not MLflow (only calling it does)."""
    import json
    import os
    import subprocess
    import sys

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = (
        "import contextlib, io, json, sys\n"
        "import mlfilter, mlfilter.cli\n"
        "mlfilter.check('params.bs = 32'); mlfilter.check_order_by(['name', 'name'])\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    mlfilter.cli.main(['lint', {os.path.join(repo, 'tests', 'lint_fixtures')!r}])\n"
        "before = sorted(m for m in sys.modules if m.startswith(('mlfilter.mlflow_app', "
        "'mlfilter.search_guard', 'mlflow')))\n"
        "mlfilter.guard\n"
        "after = sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')\n"
        "print(json.dumps([before, after]))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=repo, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.splitlines()[-1]) == [[], []]
