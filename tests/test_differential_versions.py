"""mlfilter's verdict for another MLflow release or database must equal what that release does on
that database. The same hypothesis strategies as tests/test_differential.py draw filters and
order_by lists; each is labelled by a worker process running the target release against a real
store (tests/version_oracle.py: its own venv, SQLite or a PostgreSQL / MariaDB database created
for the run), and mlfilter is asked with `mlflow_version=` and `backend=`. Labels are cached by
release, backend and oracle source, so a rerun only asks for new inputs.

MLFILTER_VERSION_EXAMPLES sets the examples per API and target (CI runs hundreds: thousands per
release). tests/test_differential.py covers this environment's MLflow (3.17.2) on SQLite.
"""

from __future__ import annotations


import pytest

pytest.importorskip("mlflow")

from hypothesis_settings import examples_settings  # noqa: E402
from hypothesis import given  # noqa: E402

import mlfilter  # noqa: E402
import strategies  # noqa: E402
from mlfilter.versions import line_of  # noqa: E402
from version_oracle import get_version_oracle  # noqa: E402

pytestmark = pytest.mark.mlflow

SETTINGS = examples_settings("MLFILTER_VERSION_EXAMPLES", 150)

# (release, backend): the other releases on SQLite, and the test environment's release on the
# databases the machines provide.
TARGETS = [("2.22.1", "sqlite"), ("3.18.0", "sqlite"), ("3.17.2", "postgresql"),
           ("3.17.2", "mysql")]

# Where the store's data, not the text, decides the verdict, mlfilter warns instead: a LIKE
# pattern ending in a backslash fails on PostgreSQL only when matching a value reaches its end.
DATA_DEPENDENT_CODES = {"MF320"}

STATUS = {"accepted": "ok"}


def _target(release: str, backend: str) -> dict:
    return {"mlflow_version": line_of(release), "backend": backend}


def assert_same_filter_verdict(release: str, backend: str, api: str, text: str) -> None:
    theirs = get_version_oracle(release, backend).filter_verdict(api, text)
    report = mlfilter.check(text, api, **_target(release, backend))
    mine = STATUS.get(report.verdict, report.verdict)
    explain = (f"MLflow {release} on {backend}, {api}: {text!r}\nMLflow: {theirs.short()}\n"
               f"mlfilter ({mine}):\n{report}")
    if (mine == "ok") != (theirs.status == "ok") and \
            any(d.code in DATA_DEPENDENT_CODES for d in report.diagnostics):
        return  # the store's data decides (see DATA_DEPENDENT_CODES)
    assert (mine == "ok") == (theirs.status == "ok"), explain
    assert (mine == "unsupported") == (theirs.status == "unsupported"), explain
    syntax = any(d.code[:3] in ("MF0", "MF1") for d in report.errors)
    if theirs.status == "crash" and not syntax:
        # (When the text does not parse, mlfilter names the syntax error; MLflow may crash first
        # on an earlier clause, an error either way.)
        assert mine == "crash", "should say MLflow fails\n" + explain


def assert_same_order_by_verdict(release: str, backend: str, api: str, order_by: list) -> None:
    theirs = get_version_oracle(release, backend).order_by_verdict(api, order_by)
    report = mlfilter.check_order_by(order_by, api, **_target(release, backend))
    mine = STATUS.get(report.verdict, report.verdict)
    explain = (f"MLflow {release} on {backend}, {api}: {order_by!r}\nMLflow: {theirs.short()}\n"
               f"mlfilter ({mine}):\n{report}")
    assert (mine == "ok") == (theirs.status == "ok"), explain


@pytest.mark.parametrize("api", strategies.APIS)
@pytest.mark.parametrize("release, backend", TARGETS, ids=[f"{r}-{b}" for r, b in TARGETS])
def test_filters(release, backend, api):
    @SETTINGS
    @given(text=strategies.filters(api))
    def run(text):
        assert_same_filter_verdict(release, backend, api, text)

    run()


@pytest.mark.parametrize("api", strategies.APIS)
@pytest.mark.parametrize("release, backend", TARGETS, ids=[f"{r}-{b}" for r, b in TARGETS])
def test_order_by(release, backend, api):
    @SETTINGS
    @given(order_by=strategies.order_bys(api))
    def run(order_by):
        assert_same_order_by_verdict(release, backend, api, order_by)

    run()


# Inputs that once disagreed, pinned per target.
PINNED = [
    ("3.18.0", "sqlite", "runs", "parameters.1abc IS NOT NULL AND"),
    ("3.18.0", "sqlite", "experiments", "name like 'exp-%'"),
    ("3.18.0", "sqlite", "experiments", "attributes.name = 'exp-A'"),
    ("3.18.0", "sqlite", "registered_models", "tags.k IS NULL"),
    ("3.18.0", "sqlite", "logged_models", "status = 'ready'"),
    ("3.18.0", "sqlite", "logged_models", "status IN ('READY', 'PENDING')"),
    ("3.18.0", "sqlite", "traces",
     "AND `trace`.`text` LIKE '%hello%' AND `attribute`.timestamp > ''"),
    ("3.17.2", "postgresql", "traces", "timestamp_ms > -9223372026855 AND span.content LIKE ''"),
    ("3.17.2", "mysql", "traces", "timestamp_ms > -9223372026855 AND span.content LIKE ''"),
    ("2.22.1", "sqlite", "runs", "params.lr IS NULL"),
    ("2.22.1", "sqlite", "runs", "run_id IN ('abc',)"),
    ("2.22.1", "sqlite", "runs", "AND run_id IN ('abc', 'abc',)"),
    ("2.22.1", "sqlite", "traces", "AND request_id IN ('OK',\n'OK',)"),
    ("2.22.1", "sqlite", "runs", "run_id IN ( 'a' )"),
    ("2.22.1", "sqlite", "runs", "run_id IN ('a', 'b' , \n)"),
    ("2.22.1", "sqlite", "runs", "metrics.loss = 0 AND dataset.name = 'ds1'"),
    ("2.22.1", "sqlite", "runs", "start_time < 99999999999999999999999"),
    ("2.22.1", "sqlite", "experiments", "creation_time > 0.5"),
    ("2.22.1", "sqlite", "model_versions", "run_id NOT IN ('abc')"),
    ("2.22.1", "sqlite", "traces", "name IN ('root-span')"),
    ("2.22.1", "sqlite", "logged_models", "name = 'x'"),
    ("3.17.2", "postgresql", "model_versions", "run_id != ('a',)"),
    ("3.17.2", "postgresql", "model_versions", "version_number < 2147483648"),
    ("3.17.2", "postgresql", "traces", "timestamp_ms > '0'"),
    ("3.17.2", "postgresql", "traces", "tags.env RLIKE '\\yprod\\y'"),
    ("3.17.2", "mysql", "runs", "run_id != ('a','b')"),
    ("3.17.2", "mysql", "experiments", 'AND experiment_id = ("a")'),
    ("3.17.2", "mysql", "logged_models", "AND name = ()"),
    ("3.17.2", "mysql", "logged_models", "AND tags = 'lm-one'"),
    ("3.18.0", "sqlite", "model_versions", "name < 'model-a' AND name = (NULL)"),
    ("3.17.2", "postgresql", "traces", "AND `span`.TIMESTAMP = (a, b)"),
    ("3.17.2", "postgresql", "model_versions", "version_number == 0 AND `tag`.t IS NULL"),
    ("3.18.0", "sqlite", "logged_models", "name == 1 AND foo = 2"),
    ("3.18.0", "sqlite", "logged_models", "foo = 2 AND name == 1"),
    ("3.18.0", "sqlite", "traces", "span.TIMESTAMP = ('a', 'b') AND feedback. = 'x'"),
    ("3.17.2", "mysql", "logged_models", "name = () AND `metrics`.score = 0"),
    ("3.17.2", "mysql", "logged_models", "name = ('a','b')"),
    ("3.17.2", "mysql", "traces", 'AND `span`.attributes.model IN ("child",)'),
    ("3.17.2", "postgresql", "traces", "span.attributes.model NOT IN ('a')"),
    ("3.17.2", "mysql", "runs", "metrics.acc < 1e400"),
    ("3.17.2", "mysql", "traces", "tags.env RLIKE '('"),
    ("3.17.2", "mysql", "runs", " AND ".join(["metrics.acc > -1"] * 61)),
    ("3.17.2", "mysql", "runs", " AND ".join(["metrics.acc > -1"] * 60)),
]


@pytest.mark.parametrize("release, backend, api, text", PINNED)
def test_pinned(release, backend, api, text):
    assert_same_filter_verdict(release, backend, api, text)


@pytest.mark.parametrize("release, backend, api, order_by", [
    ("2.22.1", "sqlite", "runs", ["metrics. DESCENDING"]),
    ("3.18.0", "sqlite", "runs", ["metrics. foo"]),
    ("3.17.2", "postgresql", "runs", ["metrics.", "metrics. ASC"]),
])
def test_pinned_order_by(release, backend, api, order_by):
    assert_same_order_by_verdict(release, backend, api, order_by)
