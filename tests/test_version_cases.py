"""Golden cases across MLflow releases and databases: each probe in tests/compat/cases_*.yaml was
run on real stores (tests/compat/probe_*.py); mlfilter's verdict for that release and database
must be the one recorded. The probes are regenerated from MLflow itself, never edited by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import mlfilter
from mlfilter.compat import verdict_of
from mlfilter.versions import line_of

COMPAT = Path(__file__).resolve().parent / "compat"
STATUS = {"accepted": "ok"}


def _load(name: str) -> list[dict]:
    path = COMPAT / name
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []


def _cases():
    """(id, api, filter or None, order_by or None, release line, backend, expected status)."""
    out = []
    for i, probe in enumerate(_load("cases_2_22.yaml")):
        if probe.get("kind"):
            continue  # max_results, view types, REST and parser output: not a verdict on text
        for version, status in probe["verdicts"].items():
            out.append((f"2_22-{i}-{version}", probe, line_of(version), "sqlite", status))
    for i, probe in enumerate(_load("cases_backends.yaml")):
        if probe.get("kind"):
            continue
        for backend, status in probe["verdicts"].items():
            out.append((f"backend-{i}-{backend}", probe, "3.17", backend, status))
    return out


def _text(probe: dict, value):
    """Placeholders for ids of the probe store ({run:NAME}) stand for some id: any will do."""
    import re

    ids = {"run": "0123456789abcdef0123456789abcdef", "exp": "1"}
    if isinstance(value, str):
        return re.sub(r"\{(run|exp):[^}]*\}", lambda m: ids[m.group(1)], value)
    return value


CASES = _cases()

# Where mlfilter knowingly differs from a recorded verdict, and why.
_DATA_DEPENDENT_ESCAPE = (
    "PostgreSQL checks a LIKE pattern's final escape only when matching a value reaches it, so "
    "the verdict depends on the values stored; mlfilter warns (MF320) rather than predict it")
KNOWN = {
    ("runs", "tags.path LIKE 'C:\\'", "postgresql"): _DATA_DEPENDENT_ESCAPE,
    ("runs", "tags.path LIKE '%\\'", "postgresql"): _DATA_DEPENDENT_ESCAPE,
}


def _param(case):
    _, probe, line, backend, _ = case
    reason = KNOWN.get((probe["api"], probe.get("filter"), backend))
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(case, id=case[0], marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_verdict_matches_the_recorded_store(case):
    _, probe, line, backend, status = case
    target = {"mlflow_version": line, "backend": backend}
    if "order_by" in probe:
        report = mlfilter.check_order_by(_text(probe, probe["order_by"]), probe["api"], **target)
    else:
        report = mlfilter.check(_text(probe, probe.get("filter")), probe["api"], **target)
    verdict = verdict_of(report.diagnostics)[0]
    assert STATUS.get(verdict, verdict) == status, (
        f"{probe['api']} {probe.get('filter', probe.get('order_by'))!r} on MLflow {line}/"
        f"{backend}: MLflow {status}, mlfilter {verdict} (topic {probe.get('topic')})\n{report}")


def test_there_are_cases():
    assert len(CASES) > 300


# ---- the first release of each change ------------------------------------------------------------

def _first_releases():
    return [pytest.param(e, id=e["id"]) for e in _load("first_releases.yaml")]


@pytest.mark.parametrize("entry", _first_releases())
def test_first_release_is_the_one_found_by_running_the_releases(entry):
    """tests/compat/first_releases.yaml says which release first behaved the new way; the change
    in mlfilter/changes.py that explains the difference must name that release (and the hint
    for an older target must say it)."""
    from mlfilter.changes import CHANGES
    from mlfilter.compat import compat

    verdicts = ("ok", "rejected", "crash", "unsupported")
    if entry["old"] not in verdicts or entry["new"] not in verdicts:
        pytest.skip("a parser-output probe (value types), not a verdict")
    matrix = compat(entry["filter"], entry["api"])
    if entry["new"] == "ok":
        first, _ = matrix.first_release()
        assert first == entry["first"], matrix
    else:
        found = [c for c in CHANGES if entry["api"] in c.apis and c.since == entry["first"]]
        assert found, f"no change of {entry['api']} since {entry['first']}\n{matrix}"
    changes = [c for c in CHANGES if entry["api"] in c.apis and c.since == entry["first"]]
    assert any(c.last_before == entry["last_old"] for c in changes), (
        f"no change records {entry['last_old']} as the last release before {entry['first']}")
