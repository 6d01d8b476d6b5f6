"""The fuzz campaign: no input makes an entry point raise anything but mlfilter's own errors, and
every fix reaches its fixed point and is safe.

Inputs come from tests/fuzz_strategies.py (the grammar and the per-API tables, mutated, and
text of every Unicode category), and from the fixed giants below (1 MB and 50 MB, 10,000-deep
parentheses, 100,000 ANDs). Each entry point is driven in process, as its users call it:
check (for every release and database), parse().to_mlflow(), the print -> parse round-trip,
fix_filter, check_order_by, the builder's from_string, `mlfilter check` (text, json, stdin),
`mlfilter lint` (a .py file and a notebook, with --fix), `%mlfilter` in a real IPython shell,
and explain and `check --store` against the demo store. Safe fixes are sent to the real MLflow
store whenever mlfilter says the fixed filter is accepted.

Size: the default profile runs in CI, derandomized; `MLFILTER_FUZZ=long` runs about 50 times
the examples (docs/robustness.md). Time is not asserted here: bench/bench_linear.py measures it.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlfilter
from fuzz_strategies import (ANY_TEXT, fuzz_filters, fuzz_order_bys, fuzz_settings,
                             mutated)
from golden_cases import APIS

REPO = Path(__file__).resolve().parent.parent
DEMO_DB = REPO / "mlfilter" / "data" / "demo.db"
RELEASES = ("2.22", "3.17", "3.18")
BACKENDS = ("sqlite", "postgresql", "mysql", "mssql")


def filters_for_any_api():
    return st.sampled_from(APIS).flatmap(lambda api: st.tuples(st.just(api), fuzz_filters(api)))


def _sane(report, source=None) -> mlfilter.Report:
    assert isinstance(report, mlfilter.Report)
    if source is not None and isinstance(source, str):
        assert report.source == source
    for d in report.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(report.source), d
        assert d.code and d.message and d.severity
        assert len(d.message) < 1000 and (d.hint is None or len(d.hint) < 1000), d
        if d.fix is not None:
            for e in d.fix.edits:
                assert 0 <= e.span.start <= e.span.end <= len(report.source), d
    json.dumps(report.to_dict())
    rendered = str(report)
    assert all(len(line) < 400 for line in rendered.splitlines()), "a caret line is too long"
    return report


# ---- the library ----------------------------------------------------------------------------

@fuzz_settings(400)
@given(case=filters_for_any_api(), release=st.sampled_from(RELEASES),
       backend=st.sampled_from(BACKENDS))
def test_check_and_parse_raise_only_mlfilter_errors(case, release, backend):
    api, text = case
    report = _sane(mlfilter.check(text, api, mlflow_version=release, backend=backend), text)
    report.verdict  # noqa: B018 - computing it must not raise
    try:
        parsed = mlfilter.parse(text, api, mlflow_version=release, backend=backend)
    except mlfilter.FilterError as e:
        assert not report.ok and e.diagnostics
        return
    assert report.ok
    # print -> parse: the canonical text is accepted and MLflow reads it the same way (repr:
    # a NaN value equals itself only there)
    again = mlfilter.parse(str(parsed), api, mlflow_version=release, backend=backend)
    assert repr(parsed.to_mlflow()) == repr(again.to_mlflow())


@fuzz_settings(250)
@given(case=filters_for_any_api())
def test_parse_tree_and_to_mlflow_raise_only_mlfilter_errors(case):
    from mlfilter.checker import parse_tree

    api, text = case
    try:
        tree = parse_tree(text, api)
        tree.to_mlflow()
    except mlfilter.MlfilterError:
        pass


@fuzz_settings(300)
@given(case=filters_for_any_api(), unsafe=st.booleans())
def test_fixes_reach_their_fixed_point_in_one_call(case, unsafe):
    api, text = case
    try:
        fixed = mlfilter.fix_filter(text, api, unsafe=unsafe)
    except mlfilter.FilterError as e:  # bytes that are not UTF-8
        assert isinstance(text, bytes) and e.diagnostics[0].code == "MF001"
        return
    assert isinstance(fixed, str)
    assert mlfilter.fix_filter(fixed, api, unsafe=unsafe) == fixed
    _sane(mlfilter.check(fixed, api), fixed if isinstance(text, str) else None)


@fuzz_settings(300)
@given(data=st.data(), api=st.sampled_from(APIS))
def test_check_order_by_raises_only_mlfilter_errors(data, api):
    order_by = data.draw(fuzz_order_bys(api))
    _sane(mlfilter.check_order_by(order_by, api))


@fuzz_settings(300)
@given(case=filters_for_any_api())
def test_builder_from_string_raises_only_mlfilter_errors(case):
    api, text = case
    try:
        expr = mlfilter.from_string(text, api)
        str(expr)
    except mlfilter.MlfilterError:
        pass


# ---- the command ----------------------------------------------------------------------------

def run_cli(argv, stdin: bytes | None = None) -> tuple[int, str, str]:
    """`mlfilter ...` in process: its exit status, stdout and stderr."""
    from mlfilter import cli

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
    finally:
        sys.stdin = saved
    assert "Traceback" not in err.getvalue(), err.getvalue()
    assert "internal error" not in err.getvalue(), err.getvalue()
    assert status in (0, 1, 2), (status, err.getvalue())
    return status, out.getvalue(), err.getvalue()


def _as_text(text) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


@fuzz_settings(200)
@given(case=filters_for_any_api(), fmt=st.sampled_from(["text", "json"]),
       via_stdin=st.booleans())
def test_cli_check_exits_0_1_2_without_a_traceback(case, fmt, via_stdin):
    api, text = case
    if via_stdin:
        data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
        status, out, _ = run_cli(["check", "-", "--api", api, "--format", fmt], stdin=data)
    else:
        status, out, _ = run_cli(["check", "--api", api, "--format", fmt, "--", _as_text(text)])
    if fmt == "json":
        assert json.loads(out)["ok"] == (status == 0)


# ---- lint, with --fix -----------------------------------------------------------------------

def _python_source(api: str, text: str) -> str:
    call = {"runs": "mlflow.search_runs", "experiments": "mlflow.search_experiments",
            "registered_models": "client.search_registered_models",
            "model_versions": "client.search_model_versions",
            "logged_models": "mlflow.search_logged_models",
            "traces": "mlflow.search_traces"}[api]
    return (f"import mlflow\nclient = mlflow.MlflowClient()\n"
            f"x = {call}(filter_string={text!r})\n"
            f"y = {call}(filter_string=f'{{x}} AND ' {text!r})  # noqa: MF901\n")


def _notebook(source: str) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
         "source": source.splitlines(keepends=True)},
        {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": None,
         "source": ["%mlfilter " + source.splitlines()[2][:40]]}]})


@fuzz_settings(150)
@given(case=filters_for_any_api(), notebook=st.booleans())
def test_lint_and_fix_of_files_never_break(case, notebook, tmp_path_factory):
    api, text = case
    folder = tmp_path_factory.mktemp("lint")
    source = _python_source(api, _as_text(text))
    path = folder / ("f.ipynb" if notebook else "f.py")
    path.write_text(_notebook(source) if notebook else source, encoding="utf-8",
                    errors="surrogatepass")
    status, out, _ = run_cli(["lint", "--format", "json", str(path)])
    json.loads(out)
    run_cli(["lint", "--fix", str(path)])
    once = path.read_bytes()
    if notebook:
        json.loads(once)  # still a notebook
    else:
        compile(once, str(path), "exec")  # still Python
    run_cli(["lint", "--fix", str(path)])
    assert path.read_bytes() == once, "a second --fix changed the file"


# ---- %mlfilter in a real IPython shell --------------------------------------------------------

@pytest.fixture(scope="module")
def shell():
    pytest.importorskip("IPython")
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "mlfilter")
    yield ip
    ip.run_line_magic("unload_ext", "mlfilter")


@fuzz_settings(150)
@given(case=filters_for_any_api(), cell=st.booleans())
def test_magic_gives_a_report_or_a_usage_error(shell, case, cell):
    from IPython.core.error import UsageError

    api, text = case
    text = _as_text(text)
    if cell or any(ch in text for ch in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"):
        result = shell.run_cell(f"%%mlfilter --api {api}\n{text}", store_history=False)
    else:
        result = shell.run_cell(f"%mlfilter --api {api} -- {text}", store_history=False)
    error = result.error_before_exec or result.error_in_exec
    assert error is None or isinstance(error, UsageError), repr(error)


# ---- the demo store: explain and check --store -------------------------------------------------

@pytest.fixture(scope="module")
def demo_schema():
    pytest.importorskip("sqlalchemy")
    from mlfilter.schema import Schema

    return Schema.from_store(f"sqlite:///{DEMO_DB}")


@fuzz_settings(120)
@given(text=st.one_of(fuzz_filters("runs"), mutated(st.just(
    "params.optimizer = 'adam' AND metrics.accuracy > 0.9 AND tags.team LIKE 'a%'"))))
def test_explain_and_typecheck_against_the_demo_store(demo_schema, text):
    from mlfilter.explain import explain

    _sane(mlfilter.check(text, "runs", schema=demo_schema), text)
    try:
        result = explain(_as_text(text), f"sqlite:///{DEMO_DB}")
    except mlfilter.MlfilterError:
        return
    str(result)
    json.dumps(result.to_dict())


def test_cli_store_check_and_explain_on_hostile_input():
    store = f"sqlite:///{DEMO_DB}"
    for text in ("params.optimizer = 'Adam'", "metrics.accuracy > " + "9" * 5000,
                 "params.x = '\x00'", "(" * 200 + "metrics.a > 1" + ")" * 200, "\ud800",
                 "tags.`" + "k" * 100_000 + "` = 'x'"):
        run_cli(["check", "--store", store, "--", text])
        run_cli(["explain", "--store", store, "--", text])


# ---- the real MLflow store: safe fixes are safe ----------------------------------------------

@pytest.mark.mlflow
@fuzz_settings(300)
@given(case=filters_for_any_api())
def test_safely_fixed_filter_is_accepted_by_mlflow_when_mlfilter_says_so(case):
    pytest.importorskip("mlflow")
    from golden_cases import verdict_problems
    from mlflow_oracle import get_oracle

    api, text = case
    if not isinstance(text, str):
        return
    fixed = mlfilter.fix_filter(text, api, mlflow_version="3.17", backend="sqlite")
    report = mlfilter.check(fixed, api, mlflow_version="3.17", backend="sqlite")
    if not report.ok or fixed == text:
        return
    verdict = get_oracle().filter_verdict(api, fixed)
    assert verdict_problems(report, verdict.status) == [], f"{fixed!r}: {verdict.short()}"


# ---- shlex, as MLflow reads order_by --------------------------------------------------------

@fuzz_settings(1000)
@given(text=st.text(st.sampled_from("ab '\"\\\t\n`.x"), max_size=20) | ANY_TEXT)
def test_linear_shell_split_is_shlex_split(text):
    import shlex

    from mlfilter import shellwords

    def outcome(split):
        try:
            return split(text)
        except ValueError as e:
            return ("error", str(e))

    assert outcome(shellwords.split) == outcome(shlex.split)


# ---- the giants -------------------------------------------------------------------------------

MB = 1 << 20
GIANTS = {
    "1mb_chain": lambda: " AND ".join(["metrics.a > 1"] * (MB // 18)),
    "1mb_string": lambda: "params.x = '" + "a\\" * (MB // 2) + "'",
    "50mb_string": lambda: "params.x = '" + "a" * (50 * MB) + "'",
    "50mb_garbage": lambda: "#$%^&*,. ;" * (5 * MB),
    "50mb_number": lambda: "attributes.start_time > " + "7" * (50 * MB),
    "parentheses_10000": lambda: "(" * 10_000 + "metrics.a > 1" + ")" * 10_000,
    "parentheses_100_fixable": lambda: "(" * 100 + "metrics.a > 1" + ")" * 100,
    "ands_100000": lambda: "metrics.a > 1 " + "AND " * 100_000,
    "and_chain_100000": lambda: " AND ".join(["metrics.a > 1"] * 100_000),
}


@pytest.mark.parametrize("name", list(GIANTS))
def test_giants_through_the_library(name):
    text = GIANTS[name]()
    # both parser families, and the traces API's rewrites; 50 MB through one (about 10 s each)
    apis = ("runs",) if len(text) > 2 * MB else ("runs", "logged_models", "traces")
    for api in apis:
        report = _sane(mlfilter.check(text, api), text)
        assert report.diagnostics or report.ok
    if len(text) < 2 * MB:
        fixed = mlfilter.fix_filter(text)
        assert mlfilter.fix_filter(fixed) == fixed
        try:
            mlfilter.from_string(text)
        except mlfilter.MlfilterError:
            pass
    _sane(mlfilter.check_order_by([text[:MB], text[-1000:]]))


def test_the_issues_reproductions():
    """Issue 12: a 4,301-digit integer, and 6 and 100 levels of parentheses."""
    big = "attributes.start_time > " + "1" * 4301
    report = mlfilter.check(big)
    assert [d.code for d in report.diagnostics] == ["MF236"] and report.verdict == "crash"
    with pytest.raises(mlfilter.FilterError):
        mlfilter.parse(big)
    assert mlfilter.fix_filter(big) == big
    status, out, _ = run_cli(["check", "--format", "json", big])
    assert status == 1 and json.loads(out)["diagnostics"][0]["code"] == "MF236"
    quoted = mlfilter.check("version_number = '" + "1" * 5000 + "'", "model_versions")
    assert "5,000 digits" in quoted.diagnostics[0].message
    for depth in (6, 100):
        assert mlfilter.fix_filter("(" * depth + "metrics.a > 1" + ")" * depth) == "metrics.a > 1"


@pytest.mark.parametrize("name", ["50mb_string", "ands_100000", "parentheses_10000"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_giants_through_the_command_on_stdin(name, fmt):
    data = GIANTS[name]().encode()
    proc = subprocess.run([sys.executable, "-m", "mlfilter", "check", "-", "--format", fmt],
                          input=data, capture_output=True, timeout=600, cwd=REPO)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and proc.returncode in (0, 1), err
    if fmt == "json":
        json.loads(proc.stdout)
    else:
        assert max(len(line) for line in proc.stdout.splitlines()) < 400
