"""Canonical printing (tests/golden/canonical.txt): `str(mlfilter.parse(input, api))` is the line's
canonical form, printing is stable (printing the parse of the printed text gives it back), the
canonical form parses to the same `to_mlflow()`, and MLflow itself reads the canonical form exactly
as it reads the input (same parser output, value types included).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import mlfilter
from golden_cases import APIS

CANONICAL = Path(__file__).resolve().parent / "golden" / "canonical.txt"
SEP = "  =>  "

# (api, input) -> the mlfilter bug that makes its printing differ from the canonical line
KNOWN_BUGS: dict = {}  # (api, filter) -> reason, for lines the printer gets wrong: none known


def _lines():
    out, api = [], None
    for number, line in enumerate(CANONICAL.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            api = line[1:-1]
            assert api in APIS, f"line {number}: unknown API {api!r}"
            continue
        assert SEP in line and api is not None, f"line {number}: expected `input{SEP}canonical`"
        text, canonical = line.rsplit(SEP, 1)
        out.append((number, api, text, canonical))
    return out


LINES = _lines()


def _params(buggy_fails: bool, mlflow: bool = False):
    params = []
    for number, api, text, canonical in LINES:
        marks = [pytest.mark.mlflow] if mlflow else []
        bug = KNOWN_BUGS.get((api, text))
        if bug and buggy_fails:
            marks.append(pytest.mark.xfail(strict=True, reason=bug))
        params.append(pytest.param(api, text, canonical, id=f"{number}-{api}", marks=marks))
    return params


def _norm(parsed):
    """Comparable parser output: NaN equals NaN and the value's type counts."""
    out = []
    for d in parsed:
        v = d["value"]
        shown = "nan" if isinstance(v, float) and math.isnan(v) else repr(v)
        out.append((d["type"], d["key"], d["comparator"], shown, type(v).__name__))
    return out


def test_the_file_covers_every_api_and_quoting_style():
    assert len(LINES) >= 40
    assert {api for _, api, _, _ in LINES} == set(APIS)
    texts = " ".join(text for _, _, text, _ in LINES)
    for style in ("'", '"', "`", "''", " and ", "  ", "IN (", "not  ", "is not null"):
        assert style in texts, f"no input with {style!r}"
    assert set(KNOWN_BUGS) <= {(api, text) for _, api, text, _ in LINES}


def test_canonical_forms_are_canonical():
    for number, api, text, canonical in LINES:
        assert canonical == " ".join(canonical.split()), f"line {number}: one space between tokens"
        assert not canonical.upper().startswith("AND ") and not canonical.upper().endswith(" AND")


@pytest.mark.parametrize("api, text, canonical", _params(buggy_fails=True))
def test_canonical_form(api, text, canonical):
    assert str(mlfilter.parse(text, api)) == canonical


@pytest.mark.parametrize("api, text, canonical", _params(buggy_fails=False))
def test_printing_is_stable(api, text, canonical):
    printed = str(mlfilter.parse(text, api))
    assert str(mlfilter.parse(printed, api)) == printed
    assert mlfilter.check(printed, api).ok


@pytest.mark.parametrize("api, text, canonical", _params(buggy_fails=True))
def test_printed_filter_parses_to_the_same_mlflow_conditions(api, text, canonical):
    printed = str(mlfilter.parse(text, api))
    assert _norm(mlfilter.parse(printed, api).to_mlflow()) == _norm(mlfilter.parse(text, api).to_mlflow())


@pytest.mark.parametrize("api, text, canonical", _params(buggy_fails=False, mlflow=True))
def test_mlflow_reads_the_canonical_line_as_the_input(api, text, canonical):
    """The golden file itself: MLflow accepts both and parses them to the same conditions."""
    pytest.importorskip("mlflow")
    from mlflow_oracle import get_oracle

    oracle = get_oracle()
    assert oracle.filter_verdict(api, text).ok and oracle.filter_verdict(api, canonical).ok
    theirs, canonical_theirs = oracle.parse(api, text), oracle.parse(api, canonical)
    assert isinstance(theirs, list) and isinstance(canonical_theirs, list)
    assert _norm(canonical_theirs) == _norm(theirs)
    assert _norm(mlfilter.parse(text, api).to_mlflow()) == _norm(theirs)


@pytest.mark.parametrize("api, text, canonical", _params(buggy_fails=True, mlflow=True))
def test_mlflow_reads_mlfilters_printing_as_the_input(api, text, canonical):
    pytest.importorskip("mlflow")
    from mlflow_oracle import get_oracle

    oracle = get_oracle()
    printed = str(mlfilter.parse(text, api))
    assert _norm(oracle.parse(api, printed)) == _norm(oracle.parse(api, text))
