"""Golden cases: for each input in tests/golden/MFxxx.yaml, exactly the diagnostics mlfilter
reports (codes and spans, in order), the text its safe fixes produce, and what the real MLflow
3.17.2 store does with it. A case marked `xfail` is a known mlfilter bug: its `expect` says what
mlfilter should report, and the test is a strict xfail until the bug is fixed.

Rendered reports are kept in tests/snapshots/MFxxx.txt; `pytest --update-golden` rewrites them
(review the diff), otherwise any difference fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import mlfilter
from golden_cases import (
    APIS,
    CASE_KEYS,
    EXPECT_RE,
    STATUSES,
    diagnostics,
    golden_files,
    load_cases,
    load_file,
    render_snapshot,
    verdict_problems,
)

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
CASES = load_cases()


def _param(case, *, xfail_applies: bool = True, mlflow: bool = False):
    marks = []
    if case.xfail and xfail_applies:
        marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
    if mlflow:
        marks.append(pytest.mark.mlflow)
    return pytest.param(case, id=case.id, marks=marks)


# ---- the files themselves -----------------------------------------------------------------------

@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_file_is_well_formed(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert set(data) == {"code", "cases"}, f"{path.name}: top-level keys are code and cases"
    assert data["code"] == path.stem
    cases = load_file(path)[1]
    assert len(cases) >= 3, f"{path.name}: at least 3 cases"
    for case in cases:
        raw = data["cases"][case.name]
        where = f"{path.name}:{case.name}"
        assert set(raw) <= CASE_KEYS, f"{where}: unknown keys {set(raw) - CASE_KEYS}"
        assert case.api in APIS, where
        assert (case.filter is None) != (case.order_by is None), f"{where}: filter or order_by"
        assert case.filter is None or isinstance(case.filter, (str, bytes)), where
        assert case.order_by is None or isinstance(case.order_by, list), where
        assert "expect" in raw and isinstance(raw["expect"], list), f"{where}: expect is a list"
        for item in case.expect:
            m = EXPECT_RE.match(item)
            assert m, f"{where}: {item!r} is not 'MFxxx start..end'"
            assert int(m.group(2)) <= int(m.group(3)), f"{where}: {item!r}"
        assert case.mlflow is None or case.mlflow in STATUSES, where
        assert case.fixed is None or (isinstance(case.filter, str) and case.fixed != case.filter), where
        assert case.xfail is None or (isinstance(case.xfail, str) and case.xfail.strip()), where
        assert case.schema is None or (isinstance(case.filter, str)
                                       and set(case.schema) <= {"experiments", "view_type"}), where
        assert case.demo_rows is None or case.schema is not None, f"{where}: demo_rows needs schema"


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_golden_file_shows_its_code_and_a_clean_neighbour(path):
    cases = [c for c in load_file(path)[1] if not c.xfail]
    code = path.stem
    assert any(any(e.startswith(code + " ") for e in c.expect) for c in cases), \
        f"{code}: no case expects {code}"
    assert any(not any(e.startswith(code + " ") for e in c.expect) and c.mlflow in (None, "ok")
               and not _expects_error(c) for c in cases), f"{code}: no clean neighbour"


def _expects_error(case) -> bool:
    from mlfilter.rules.registry import BY_CODE

    return any(BY_CODE[e.split()[0]].severity is mlfilter.Severity.ERROR for e in case.expect
               if e.split()[0] in BY_CODE)


def test_every_api_is_covered():
    assert {c.api for c in CASES} == set(APIS)
    assert {c.api for c in CASES if c.is_order_by} == set(APIS)
    assert {c.mlflow for c in CASES if c.mlflow is not None} == set(STATUSES)


def test_case_names_are_unique_per_file():
    for path in golden_files():
        text = path.read_text(encoding="utf-8")
        names = [line.strip()[:-1] for line in text.splitlines()
                 if line.startswith("  ") and not line.startswith("   ") and line.rstrip().endswith(":")]
        assert len(names) == len(set(names)), f"{path.name}: duplicate case names"


# ---- diagnostics --------------------------------------------------------------------------------

@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_expected_diagnostics(case):
    report = case.report()
    assert diagnostics(report) == list(case.expect), f"{case.id}\n{report}"
    for d in report.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(report.source), d
    if case.mlflow is not None:
        # mlfilter's verdict must be MLflow's (whether the store's verdict is right is checked
        # against the oracle in test_mlflow_verdict)
        assert verdict_problems(report, case.mlflow) == [], f"{case.id}\n{report}"


# ---- fixes --------------------------------------------------------------------------------------

FILTER_CASES = [c for c in CASES if isinstance(c.filter, str)]


@pytest.mark.parametrize("case", [_param(c, xfail_applies=False) for c in FILTER_CASES])
def test_safe_fixes(case):
    target = {"mlflow_version": case.mlflow_version, "backend": case.backend}
    got = mlfilter.fix_filter(case.filter, case.api, **target)
    if case.fixed is None:
        # no `fixed` recorded: the safe fixes change nothing, or they leave an error behind
        assert got == case.filter or not mlfilter.check(got, case.api, **target).ok, (
            f"{case.id}: safe fixes give the clean {got!r}; record it as `fixed`")
        return
    assert got == case.fixed
    again = mlfilter.check(got, case.api, **target)
    assert again.ok, f"the fixed filter still has errors:\n{again}"
    assert mlfilter.fix_filter(got, case.api, **target) == got, "fixing again changes the text"


def test_fixed_cases_exist_for_the_issue():
    fixed = {(c.api, c.filter): c.fixed for c in CASES if c.fixed}
    assert fixed[("runs", "params.batch_size = 32")] == "params.batch_size = '32'"
    assert fixed[("runs", "metrics.accuracy > '0.8'")] == "metrics.accuracy > 0.8"


def test_issue_examples():
    """The examples from the issue, with the words the user needs to see."""
    by_input = {(c.api, c.filter): c for c in CASES if isinstance(c.filter, str)}
    assert by_input[("runs", "params.batch_size = 32")].mlflow == "rejected"
    assert by_input[("runs", "params.learning_rate 0.001")].expect == ("MF102 21..26",)
    assert by_input[("runs", "attributes.status = 'COMPLETED'")].mlflow == "ok"
    assert by_input[("runs", "attributes.status = 'COMPLETED'")].expect == ("MF302 20..31",)
    assert by_input[("runs", "metrics.accuracy > '0.8'")].expect == ("MF211 19..24",)
    or_case = by_input[("runs", "metrics.acc > 0.8 OR params.x = 'a'")]
    assert or_case.expect == ("MF202 18..20",)
    (d,) = or_case.report().diagnostics
    assert "one search per alternative" in d.hint and "IN (" in d.hint, d.hint
    rendered = str(mlfilter.check("params.learning_rate 0.001"))
    assert "1 | params.learning_rate 0.001\n  |                      ^^^^^" in rendered, rendered


# ---- the real store -----------------------------------------------------------------------------

@pytest.mark.parametrize("case", [_param(c, xfail_applies=False, mlflow=True)
                                  for c in CASES if c.mlflow is not None])
def test_mlflow_verdict(case):
    """The golden file says what MLflow does; the real store must agree."""
    pytest.importorskip("mlflow")
    if case.in_process:
        from mlflow_oracle import get_oracle

        verdict = case.verdict(get_oracle())
    else:  # another MLflow release or database: a worker process with that release
        from version_oracle import get_version_oracle

        from mlfilter.versions import RELEASES

        verdict = case.verdict(get_version_oracle(RELEASES[case.mlflow_version], case.backend))
    assert verdict.status == case.mlflow, f"{case.id}: MLflow {verdict.short()}"


# ---- the demo store (schema cases) ----------------------------------------------------------------

# MF5xx codes that say the condition matches nothing, and the one that says it matches everything
MATCHES_NOTHING = {"MF501", "MF502", "MF503", "MF504", "MF506", "MF507"}
MATCHES_ALL = {"MF505"}
SCHEMA_CASES = [c for c in CASES if c.schema is not None and c.demo_rows is not None]


def _codes(case) -> set[str]:
    return {e.split()[0] for e in case.expect}


@pytest.mark.parametrize("case", [_param(c, xfail_applies=False) for c in SCHEMA_CASES
                                  if _codes(c) & (MATCHES_NOTHING | MATCHES_ALL)])
def test_schema_warnings_agree_with_demo_rows(case):
    """Read from the golden file alone: a "matches nothing" warning goes with 0 rows."""
    if _codes(case) & MATCHES_NOTHING:
        assert case.demo_rows == 0
    else:
        assert case.demo_rows > 0


@pytest.mark.mlflow
@pytest.mark.parametrize("case", [_param(c, xfail_applies=False) for c in SCHEMA_CASES])
def test_demo_rows(case):
    """MLflow's own search of the demo store returns `demo_rows` runs."""
    pytest.importorskip("mlflow")
    from demo_store import count_runs

    experiments, view_type = case.schema.get("experiments"), case.schema.get("view_type")
    rows = count_runs(case.filter, experiments, view_type)
    assert rows == case.demo_rows
    if {e.split()[0] for e in case.expect} & MATCHES_ALL:
        assert rows == count_runs("", experiments, view_type), "MF505: every run passes"


def test_schema_cases_cover_every_schema_code():
    from mlfilter.rules.registry import RULES

    codes = {e.split()[0] for c in SCHEMA_CASES for e in c.expect}
    assert {r.code for r in RULES if r.kind == "schema"} <= codes


# ---- snapshots ----------------------------------------------------------------------------------

def _snapshot_cases(code: str):
    return [c for c in CASES if c.code == code and not c.xfail]


@pytest.mark.parametrize("path", golden_files(), ids=lambda p: p.stem)
def test_snapshot(path, request):
    code = path.stem
    text = render_snapshot(_snapshot_cases(code))
    target = SNAPSHOT_DIR / f"{code}.txt"
    if request.config.getoption("--update-golden"):
        SNAPSHOT_DIR.mkdir(exist_ok=True)
        target.write_text(text, encoding="utf-8", errors="surrogatepass", newline="\n")
        return
    assert target.exists(), f"{target} is missing: run pytest --update-golden and review it"
    stored = target.read_text(encoding="utf-8", errors="surrogatepass")
    assert text == stored, f"{target.name} is stale: run pytest --update-golden and review the diff"


def test_no_stale_snapshots():
    codes = {p.stem for p in golden_files()}
    stale = sorted(p.name for p in SNAPSHOT_DIR.glob("*.txt") if p.stem not in codes)
    assert stale == []
