"""`mlfilter demo` in a fresh environment: its store sections run, print what MLflow confirms,
and leave the shipped demo store untouched."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import stores

from mlfilter import demo
from mlfilter.schema import Schema

pytestmark = pytest.mark.mlflow
DATA = Path(demo.__file__).parent / "data"


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory):
    """`python -m mlfilter demo` with an empty environment (no MLFLOW_* variables, a new HOME,
    an empty working directory)."""
    home = tmp_path_factory.mktemp("fresh")
    before = {p.name: stores.file_digest(p) for p in DATA.iterdir() if p.is_file()}
    env = {"PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8"}
    proc = subprocess.run([sys.executable, "-m", "mlfilter", "demo", "--color", "never"],
                          cwd=home, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    after = {p.name: stores.file_digest(p) for p in DATA.iterdir() if p.is_file()}
    return proc, before, after, home


def test_demo_exits_0_without_errors(demo_output):
    proc, _, _, home = demo_output
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file())
    # nothing written where it ran (no mlruns/, no .db); importing MLflow (explain reads the
    # store with MLflow's filter code) makes MLflow write its telemetry id under ~/.config
    assert written in ([], [".config/mlflow/telemetry.json"])


def test_demo_prints_the_type_check_section(demo_output):
    out = demo_output[0].stdout
    section = out[out.index("# Type checks against the demo tracking store"):]
    for text in demo.STORE_EXAMPLES:
        assert f"--experiment demo-classifier \"{text}\"" in section or text in section
    for code in ("MF502", "MF504", "MF501", "MF506"):
        assert f"warning[{code}]" in section
    assert "did you mean 'adam'?" in section


def test_demo_explain_section_matches_mlflow(demo_output):
    out = demo_output[0].stdout
    section = out[out.index("$ mlfilter explain"):]
    lines = section.splitlines()
    uri = f"sqlite:///{DATA / 'demo.db'}"
    ids = [Schema.from_store(uri).select(["demo-classifier"])[0].experiment_id]
    clauses = demo.EXPLAIN_EXAMPLE.split(" AND ")
    total = int(re.match(r"runs searched: (\d+)", lines[1]).group(1))
    assert total == stores.search_count(uri, ids, "")
    for i, clause in enumerate(clauses):
        row = lines[3 + i]
        assert row.startswith(clause)
        alone, remaining = map(int, row[len(clause):].split()[:2])
        assert alone == stores.search_count(uri, ids, clause)
        assert remaining == stores.search_count(uri, ids, " AND ".join(clauses[: i + 1]))
    assert "<- empties the result" in section


def test_demo_leaves_its_store_and_snapshot_unchanged(demo_output):
    _, before, after, _ = demo_output
    assert {"demo.db", "demo_schema.json"} <= set(before)
    assert after == before


def test_demo_snapshot_is_the_demo_store_schema():
    """The shipped snapshot was dumped from the shipped store (tools/make_demo_store.py)."""
    snapshot = Schema.load(DATA / "demo_schema.json")
    fresh = Schema.from_store(f"sqlite:///{DATA / 'demo.db'}")
    fresh.source = snapshot.source
    assert fresh == snapshot


@pytest.mark.parametrize("text, meant", [
    ("params.accuracy > '0.5'", "metrics.accuracy > 0.5"),
    ("metrics.optimizer = 'adam'", "params.optimizer = 'adam'"),
])
def test_an_error_on_a_key_of_another_entity_says_which_was_meant(text, meant):
    """Read from the demo store itself (not its snapshot), the unsafe fix is the right entity's
    comparison, and MLflow's store accepts it."""
    import mlfilter

    store = f"sqlite:///{Path(demo.__file__).parent / 'data' / 'demo.db'}"
    report = mlfilter.check(text, schema=store, experiment_ids=["demo-classifier"])
    error = report.errors[0]
    assert error.hint.startswith(f"did you mean `{meant}`?"), error.hint
    assert mlfilter.apply_fixes(text, [error], unsafe=True) == meant
    assert mlfilter.apply_fixes(text, [error]) == text  # a guess: never applied by --fix
    assert mlfilter.check(meant, schema=store, experiment_ids=["demo-classifier"]).ok
