"""Golden refusals: what the builder will not build, and what it says instead.

Each case is a request the builder must refuse, the exception type, a fragment of the message
that names what is wrong, and one that says what to do. These tests need no MLflow: refusals
happen before anything is sent.
"""

from __future__ import annotations

import pytest

import mlfilter
from mlfilter import BuildError, F

runs = mlfilter.search_runs(["1"])
OR = (F.metric("a") > 1) | (F.param("b") == "x")


def _chained():
    return 0 < F.metric("a") < 1


def _and_keyword():
    return (F.metric("a") > 1) and (F.metric("b") > 1)


def _too_wide():
    expr = None
    for k in "abcdef":  # (a1 | a2) & (b1 | b2) & ... : 64 conjunctions
        pair = (F.param(k) == "1") | (F.tag(k) == "1")
        expr = pair if expr is None else expr & pair
    return runs.where(expr)


# name: (request, exception, what is wrong, what to do)
GOLDEN = {
    "status that no search stores": (
        lambda: runs.where(F.attr("status") == "COMPLETED"), BuildError,
        "no MLflow search stores the status 'COMPLETED' (case matters)",
        "Valid statuses - runs: RUNNING, SCHEDULED, FINISHED, FAILED, KILLED"),
    "metric in search_experiments": (
        lambda: mlfilter.search_experiments().where(F.metric("acc") > 0.9), BuildError,
        "unknown entity `metrics` for search_experiments",
        "valid prefixes: attribute, tag, tags"),
    "IN on a param in search_runs": (
        lambda: runs.where(F.param("lr").isin(["0.1", "0.01"])), BuildError,
        "`IN` is not allowed for `params.lr`", "valid comparators here: !=, =, ILIKE"),
    "IS NULL in search_registered_models (MLflow crashes)": (
        lambda: mlfilter.search_registered_models().where(F.tag("stage").is_null()), BuildError,
        "search_registered_models crashes on `IS NULL` (HTTP 500)", "filter on a value instead"),
    "NOT on a metric": (
        lambda: runs.where(~(F.metric("acc") > 0.9)), BuildError,
        "`NOT metrics.acc > 0.9` also matches entities that have no metric `acc`",
        "write the explicit form `metrics.acc <= 0.9`"),
    "NOT on LIKE": (
        lambda: runs.where(~F.param("opt").like("a%")), BuildError,
        "no exact opposite of `params.opt LIKE 'a%'` (there is no NOT LIKE)",
        "filter the results yourself"),
    "a value with both quotes": (
        lambda: F.param("note") == "it's \"quoted\"", BuildError,
        "cannot express a value holding both quote characters",
        "use .isin([value]) where the key takes a list"),
    "a value ending with a backslash": (
        lambda: F.param("path") == "C:\\", BuildError,
        "cannot express a value ending with a backslash", "match it with LIKE"),
    "a key with every quote character": (
        lambda: F.tag("`\"'"), BuildError, "it holds every quote character", "rename the key"),
    "NaN": (lambda: F.metric("acc") > float("nan"), BuildError,
            "cannot compare with NaN", "drop the condition"),
    "a metric compared with text": (
        lambda: F.metric("acc") > "high", BuildError,
        "F.metric('acc') compares with a number", "not 'high'"),
    "a version number that is not a number": (
        lambda: F.attr("version_number") == "latest", BuildError,
        "compares with a version number", "not 'latest'"),
    "a key compared with a key": (
        lambda: F.metric("a") > F.metric("b"), BuildError,
        "MLflow compares a key with a value", "not with F.metric('b')"),
    "an empty list": (
        lambda: F.attr("run_id").isin([]), BuildError,
        "MLflow rejects an empty list", "skip the search"),
    "view('bogus')": (
        lambda: runs.view("bogus"), BuildError,
        "unknown view type 'bogus'", "use active_only, deleted_only or all"),
    "a view type where the API has none": (
        lambda: mlfilter.search_registered_models().view("all"), BuildError,
        "search_registered_models has no view type", "has no view type"),
    "limit(0)": (lambda: runs.limit(0), BuildError,
                 "limit must be a positive integer", "not 0"),
    "a limit over the REST maximum": (
        lambda: runs.limit(50001).to_rest(), BuildError,
        "takes at most 50000 results per page", "use .limit(50000) or less"),
    "a limit over the traces REST maximum": (
        lambda: mlfilter.search_traces(["1"]).limit(501).to_rest(), BuildError,
        "search_traces takes at most 500 results per page", "follow next_page_token"),
    "to_kwargs() on an OR query": (
        lambda: runs.where(OR).to_kwargs(), BuildError,
        "this query needs 2 searches (MLflow has no OR)", "use .searches()"),
    "to_rest() on an OR query": (
        lambda: runs.where(OR).to_rest(), BuildError,
        "a REST request is one search", "or .run() to execute and merge them"),
    "an expression that expands to too many searches": (
        _too_wide, BuildError, "needs 64 searches, more than 50", "simplify it (IN lists help)"),
    "bool() of an expression": (
        lambda: bool(F.metric("a") > 1), TypeError,
        "a filter expression has no truth value", "combine conditions with &, | and ~"),
    "a chained comparison": (
        _chained, TypeError, "no truth value", "nor chained comparisons like 0 < x < 1"),
    "`and` between expressions": (
        _and_keyword, TypeError, "no truth value", "not `and`, `or`, `not`"),
    "& with something else": (
        lambda: (F.metric("a") > 1) & True, TypeError,
        "`&` combines filter expressions", "not bool"),
    "where() with something else": (
        lambda: runs.where(42), TypeError, "where() takes a filter expression or string",
        "not int"),
    "search_runs without experiments": (
        lambda: mlfilter.search_runs(), BuildError,
        "search_runs needs experiment_ids", "(or experiment_names)"),
    "experiments for an unscoped API": (
        lambda: mlfilter.search_registered_models(["1"]), BuildError,
        "search_registered_models is not scoped by experiment", "not scoped by experiment"),
    "a float where MLflow takes an integer": (
        lambda: mlfilter.search_experiments().where(F.attr("creation_time") > 1.5), BuildError,
        "`creation_time` takes an integer, not `1.5`", "MLflow rejects float literals here"),
    "ordering twice by one field (MLflow crashes)": (
        lambda: runs.order_by(F.metric("a").desc(), F.metric("a")), BuildError,
        "orders by the same field", "keep one entry per field"),
    "an order_by entry of the wrong type": (
        lambda: runs.order_by(42), BuildError,
        "an order_by entry is a term", "not 42"),
    "an order_by key MLflow's shlex mangles": (
        lambda: runs.order_by(F.tag("it's \"x\"").desc()), BuildError,
        "MLflow cannot order by the key", "order the results yourself, or rename the key"),
    "to_rest() with experiment names": (
        lambda: mlfilter.search_runs(experiment_names=["x"]).to_rest(), BuildError,
        "experiment names are resolved to ids when the query runs", "to_rest() needs experiment ids"),
    "a trace key MLflow rewrites": (
        lambda: mlfilter.search_traces(["1"]).where(F.tag("name") == "x"), BuildError,
        "would filter on the tag `mlflow.traceName`", "cannot be searched for"),
    "a trace order key MLflow rewrites": (
        lambda: mlfilter.search_traces(["1"]).order_by(F.tag("run_id")), BuildError,
        "would order by the request_metadata `mlflow.sourceRun`", "cannot be ordered by"),
    "a single quote in search_logged_models": (
        lambda: mlfilter.search_logged_models(["1"]).where(F.param("p") == "it's"), BuildError,
        "search_logged_models keeps double quotes", "this value cannot be written"),
    "a line break in a logged-model key": (
        lambda: mlfilter.search_logged_models(["1"]).where(F.param("a\nb") == "x"), BuildError,
        "cannot express the param key", "reads a key holding a line break"),
    "`=` on a span attribute (never matches)": (
        lambda: mlfilter.search_traces(["1"]).where(F.span_attribute("model") == "gpt"),
        BuildError, "`=` on `span.attributes.model` never matches",
        "use LIKE: `span.attributes.model LIKE '%gpt%'`"),
    "a key MLflow would unquote twice": (
        lambda: runs.where(F.tag("`a`") == "x"), BuildError,
        "MLflow would read", "as the key 'a', not '`a`'"),
    "a logged-model status (never matches in MLflow 3.17.2)": (
        lambda: mlfilter.search_logged_models(["1"]).where(F.attr("status") == "READY"),
        BuildError, "a status filter on logged models never matches", "filter after the search"),
    "an unknown attribute": (
        lambda: runs.where(F.attr("colour") == "red"), BuildError,
        "unknown attribute `colour` for search_runs", "add its prefix, e.g. `metrics.colour`"),
}


@pytest.mark.parametrize("name", list(GOLDEN))
def test_refusal_says_what_is_wrong_and_what_to_do(name):
    request, exc_type, wrong, todo = GOLDEN[name]
    with pytest.raises(exc_type) as info:
        request()
    message = str(info.value)
    assert wrong in message, f"{name}: {message}"
    assert todo in message, f"{name}: {message}"


def test_a_refusal_is_a_value_error_and_leaves_the_query_unchanged():
    query = runs.where(F.metric("a") > 1)
    with pytest.raises(ValueError):
        query.where(~(F.metric("b") > 1))
    assert query.filters() == ["metrics.a > 1"]


def test_accepted_neighbours_of_the_refusals():
    """Each refusal is narrow: the nearby correct request is built."""
    assert runs.where(F.attr("status") == "FINISHED").filters() == ["status = 'FINISHED'"]
    assert runs.where(F.metric("acc") <= 0.9).filters() == ["metrics.acc <= 0.9"]
    assert runs.where(~(F.param("lr") == "0.1")).filters() == \
        ["params.lr != '0.1'", "params.lr IS NULL"]
    assert runs.where(F.attr("run_id").isin(["it's \"quoted\"", "C:\\"])).filters() == \
        ["run_id IN ('it\\x27s \"quoted\"', 'C:\\x5c')"]
    assert runs.where(F.param("path") == "C:\\dir").filters() == ["params.path = 'C:\\dir'"]
    assert runs.limit(50000).to_rest()["json"]["max_results"] == 50000
    assert len(runs.where(OR).searches()) == 2
    assert runs.order_by(F.tag("it's").desc(), F.tag('a"b')).orders == \
        ("tags.`it's` DESC", "tags.'a\"b'")
    assert mlfilter.search_traces(["1"]).where(
        F.span_attribute("model").like("%gpt%")).filters() == \
        ["span.attributes.model LIKE '%gpt%'"]
