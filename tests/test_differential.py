"""mlfilter's verdict must equal what a real MLflow 3.17.2 store does with the same request.

Hypothesis draws near-valid and broken filters and order_by lists per API (tests/strategies.py);
each goes to MLflow's real SqlAlchemyStore (tests/mlflow_oracle.py) and to mlfilter. For accepted
filters, `to_mlflow()` must equal MLflow's own parser output, value types included. Every case
that once disagreed is pinned below as an explicit example. MLFILTER_EXAMPLES sets the number of
generated examples per API (CI runs thousands).
"""

from __future__ import annotations

import math

import pytest

pytest.importorskip("mlflow")

from hypothesis_settings import examples_settings  # noqa: E402
from hypothesis import example, given  # noqa: E402

import mlfilter  # noqa: E402
import strategies  # noqa: E402
from mlflow_oracle import get_oracle  # noqa: E402

pytestmark = pytest.mark.mlflow

SETTINGS = examples_settings("MLFILTER_EXAMPLES", 300)


def _norm(parsed):
    """Comparable form of parser output: NaN equals NaN and value types count."""
    out = []
    for d in parsed:
        v = d["value"]
        shown = "nan" if isinstance(v, float) and math.isnan(v) else repr(v)
        out.append((d["type"], d["key"], d["comparator"], shown, type(v).__name__))
    return out


def assert_same_filter_verdict(api: str, text: str) -> None:
    oracle = get_oracle()
    theirs = oracle.filter_verdict(api, text)
    report = mlfilter.check(text, api)
    explain = f"{api}: {text!r}\nMLflow: {theirs.short()}\nmlfilter:\n{report}"
    assert report.ok == theirs.ok, explain
    syntax = any(d.code[:3] in ("MF0", "MF1") for d in report.errors)
    if theirs.status == "crash" and not syntax:
        # (When the text does not even parse, mlfilter names the syntax error; MLflow may crash
        # first on an earlier clause, which is still an error either way.)
        assert any("crash" in d.message for d in report.errors), "should say it crashes\n" + explain
    if theirs.ok:
        expected = oracle.parse(api, text)
        assert isinstance(expected, list), explain
        assert _norm(mlfilter.parse(text, api).to_mlflow()) == _norm(expected), explain


def assert_same_order_by_verdict(api: str, order_by: list) -> None:
    oracle = get_oracle()
    theirs = oracle.order_by_verdict(api, order_by)
    report = mlfilter.check_order_by(order_by, api)
    explain = f"{api}: {order_by!r}\nMLflow: {theirs.short()}\nmlfilter:\n{report}"
    assert report.ok == theirs.ok, explain


# ---- filters: one test per API, each with the cases that once disagreed -------------------------

@SETTINGS
@given(text=strategies.filters("runs"))
@example(text=" ")  # whitespace-only is rejected; "" is no filter
@example(text="metrics.loss > 1 metrics.acc > 2")  # adjacent comparisons: read as AND
@example(text="metrics.loss > 1 params.lr IS NULL")  # the IS NULL key is swallowed
@example(text="tags.a.5 = 'x'")
@example(text="run_id = ('a',)")
def test_runs_filters(text):
    assert_same_filter_verdict("runs", text)


@SETTINGS
@given(text=strategies.filters("experiments"))
@example(text="tag.`select` IS NULL experiment_id IN (\"2\", \"0\")")  # after NULL: no swallow
@example(text="tags.`mlflow.note.content` ILIKE \"ml\" And tag.1abc ILIKE ''")  # `1abc` is a name
@example(text="experiment_id not in ('0')")  # NOT IN is rebuilt upper-case
@example(text="name Like 'exp%'")  # 3.17.2 compares the comparator as written
def test_experiments_filters(text):
    assert_same_filter_verdict("experiments", text)


@SETTINGS
@given(text=strategies.filters("registered_models"))
@example(text='tag.1abc = "v"')
@example(text="attribute.`name` = 'model-a'")  # checked before the quotes are removed
@example(text="tags.k IS NULL")  # 3.17.2 crashes
def test_registered_models_filters(text):
    assert_same_filter_verdict("registered_models", text)


@SETTINGS
@given(text=strategies.filters("model_versions"))
@example(text="version_number = '1'")
@example(text="source_path IS NULL")
def test_model_versions_filters(text):
    assert_same_filter_verdict("model_versions", text)


@SETTINGS
@given(text=strategies.filters("logged_models"))
@example(text="foo = 'x'")
@example(text="creation_time!=NaN")
@example(text="metrics.score > '0.5'")
@example(text="AND params.foo = 0x10")  # a hex literal forms no comparison in sqlparse
def test_logged_models_filters(text):
    assert_same_filter_verdict("logged_models", text)


@SETTINGS
@given(text=strategies.filters("traces"))
@example(text="span.\"type\" like 'CHAIN'")  # span comparators are case-sensitive
@example(text="span.attributes.model IN ('gpt')")  # IN fails on span attributes
@example(text="`issue`.id= 'abc' `issue`.id= 'abc'")
@example(text="timestamp > 1")
@example(text="timestamp > 1.5")
def test_traces_filters(text):
    assert_same_filter_verdict("traces", text)


# ---- order_by ------------------------------------------------------------------------------------

@pytest.mark.parametrize("api", strategies.APIS)
def test_order_by(api):
    @SETTINGS
    @given(order_by=strategies.order_bys(api))
    def run(order_by):
        assert_same_order_by_verdict(api, order_by)

    run()
