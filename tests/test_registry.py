"""The rule registry is the one table of codes: every code is documented by golden cases, its own
`bad` example shows it, its `good` example is clean, the code's range says what it is, and the
generated files (docs, parser table, sqlparse word list) are up to date.

Codes of kind "lint" (MF6xx, MF9xx: findings of `mlfilter lint` in Python files, whose examples
are Python source or a description of a file) are outside the filter golden format and are only
checked here for their range and uniqueness.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mlfilter
from mlfilter.docs import example_target
from golden_cases import APIS, DEMO_SCHEMA, golden_files
from mlfilter.rules.registry import BY_CODE, RETIRED, RULES

REPO = Path(__file__).resolve().parent.parent
E, W, I = mlfilter.Severity.ERROR, mlfilter.Severity.WARNING, mlfilter.Severity.INFO

# Registry examples that do not show their own code (mlfilter bugs): none known.
BAD_EXAMPLE_BUGS: dict[str, str] = {}


CHECKED_KINDS = ("filter", "order_by", "schema", "value")
CHECKED = [r for r in RULES if r.kind in CHECKED_KINDS]


def _report(rule, text: str, good: bool = False):
    if rule.kind == "value":  # the examples are Python literals (MF001: not a string)
        import ast

        return mlfilter.check(ast.literal_eval(text), rule.api)
    if rule.kind == "schema":  # against the demo store's snapshot; the good one in its main experiment
        experiment = "demo-classifier" if good else rule.experiment
        return mlfilter.check(text, rule.api, schema=str(DEMO_SCHEMA), experiment_ids=[experiment])
    if rule.kind == "order_by":
        entries = [json.loads(e) if e.startswith("{") else e for e in text.split("\n")]
        return mlfilter.check_order_by(entries, rule.api, **_target(rule, good))
    return mlfilter.check(text, rule.api, **_target(rule, good))


def _target(rule, good: bool) -> dict:
    return example_target(rule, good)


def _rule_param(rule, bugs=None):
    marks = []
    if bugs and rule.code in bugs:
        marks.append(pytest.mark.xfail(strict=True, reason=bugs[rule.code]))
    return pytest.param(rule, id=rule.code, marks=marks)


def test_every_code_has_a_golden_file():
    assert {p.stem for p in golden_files()} == {r.code for r in CHECKED}
    assert {r.kind for r in RULES} <= set(CHECKED_KINDS) | {"lint"}


def test_codes_are_unique():
    codes = [r.code for r in RULES]
    assert len(codes) == len(set(codes))
    names = [r.name for r in RULES]
    assert len(names) == len(set(names))
    assert not set(RETIRED) & set(codes), "a retired code is never reused"


@pytest.mark.parametrize("rule", [_rule_param(r, BAD_EXAMPLE_BUGS) for r in CHECKED])
def test_bad_example_shows_its_code(rule):
    report = _report(rule, rule.bad)
    assert rule.code in [d.code for d in report.diagnostics], f"{rule.code}:\n{report}"
    if rule.severity is E:
        assert not report.ok


@pytest.mark.parametrize("rule", [_rule_param(r) for r in CHECKED])
def test_good_example_is_clean(rule):
    report = _report(rule, rule.good, good=True)
    assert report.ok, f"{rule.code}:\n{report}"
    assert rule.code not in [d.code for d in report.diagnostics], f"{rule.code}:\n{report}"


RANGE_BUGS: dict[str, str] = {}  # codes outside the range their severity belongs to: none


@pytest.mark.parametrize("rule", [_rule_param(r, RANGE_BUGS) for r in RULES])
def test_code_range_matches_severity_and_kind(rule):
    assert re.fullmatch(r"MF\d{3}", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name), rule.name
    assert rule.api in APIS
    group = rule.code[2]
    if group in "012":
        assert rule.severity is E, "MF0xx, MF1xx and MF2xx are errors"
    elif group in "35":
        assert rule.severity in (W, I), "MF3xx and MF5xx: MLflow accepts the filter"
    elif group not in "469":
        pytest.fail(f"{rule.code}: no such range")
    kind = {"4": "order_by", "5": "schema", "6": "lint", "9": "lint"}.get(group, "filter")
    # (MF001's examples are Python values, not filter text: it checks what check() is given)
    assert rule.kind == kind or (kind, rule.kind) == ("filter", "value"), \
        f"{rule.code} is in the range of kind {kind!r}"
    if rule.code.startswith("MF23"):
        assert re.search(r"HTTP 5\d\d", rule.summary), "MF23x: MLflow crashes (HTTP 5xx)"
    assert rule.summary and rule.why and rule.bad
    assert rule.bad != rule.good or rule.kind == "schema"  # schema examples may differ by experiment


GENERATED = [
    pytest.param("gen_docs.py", id="gen_docs"),
    pytest.param("gen_parser.py", id="gen_parser"),
    pytest.param("gen_sqlparse_words.py", id="gen_sqlparse_words"),
    pytest.param("gen_revisions.py", id="gen_revisions"),
]


@pytest.mark.parametrize("tool", GENERATED)
def test_generated_files_are_current(tool):
    proc = subprocess.run([sys.executable, f"tools/{tool}", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"tools/{tool} --check: exit {proc.returncode}\n{proc.stderr}"
