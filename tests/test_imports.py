"""The lint path imports only the standard library: no MLflow, no SQLAlchemy, no pandas or numpy,
and no Lark either (the LALR table is generated ahead of time into mlfilter/_parser_table.py).

Each test runs in a fresh interpreter (sys.executable), so nothing this test session imported
counts. No timings are asserted: that is bench/bench_cold_start.py's job, and it only prints.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

import pytest

HEAVY = ("mlflow", "sqlalchemy", "pandas", "numpy", "lark")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Exercises every public entry point, on good and bad input alike (the error paths import more:
# syntax error classification, did-you-mean suggestions, fixes, rendering), then prints which
# top-level packages from HEAVY ended up in sys.modules.
SCRIPT = r"""
import contextlib, io, json, sys

import mlfilter
import mlfilter.cli
from mlfilter.apis import APIS

FILTERS = (
    "",
    "metrics.acc > 0.9 AND params.lr = '0.01'",
    "params.batch_size = 32",
    "metrics.acc > '0.8' OR params.optimizer = 'adam'",
    "metric.loss < 0.5 AND start_time > 1700000000",
    "tags.mlflow.runName LIKE 'baseline' AND attributes.status = 'COMPLETED'",
    "name like 'prod-%'",
    "tags.stage IS NULL",
    "span.attributes.model = 'gpt-4o'",
    "metrics.score > '0.5' AND name = \"classifier\"",
    "params.learning_rate 0.001",
    "((metrics.a > 1",
    "metrics.acc > 0.9 AND AND params.x = 'y'",
    b"metrics.acc > 0.9",
    b"\xff",
    "   ",
)
ORDER_BY = (
    ["metrics.acc DESC", "metrics.acc"],
    ["attributes.start_time ASC", "params.lr"],
    "name",
    ["timestamp DESC", "nope.x sideways"],
    [{"field_name": "metrics.acc", "ascending": False}, {"field_name": "name"}],
    None,
)

for api in APIS:
    for f in FILTERS:
        report = mlfilter.check(f, api)
        str(report)
        report.to_dict()
        mlfilter.apply_fixes(report.source, report.diagnostics)
    for ob in ORDER_BY:
        str(mlfilter.check_order_by(ob, api))
    mlfilter.fix_filter("params.batch_size = 32 AND metric.acc > 1", api)

filt = mlfilter.parse("metrics.acc > 0.9 AND params.lr = '0.01'", "runs")
assert isinstance(filt.to_mlflow(), list)
str(filt)
filt.comparisons()
try:
    mlfilter.parse("params.batch_size = 32", "runs")
except mlfilter.FilterError:
    pass
else:
    raise AssertionError("parse() accepted a filter MLflow rejects")

out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
    codes = [
        mlfilter.cli.main(["check", "metrics.a > 1"]),
        mlfilter.cli.main(["check", "params.batch_size = 32", "--order-by", "metrics.a",
                           "--order-by", "metrics.a DESC", "--color", "always"]),
        mlfilter.cli.main(["check", "name like 'x%'", "--api", "experiments", "--format", "json"]),
        # type checks against a schema snapshot stay on the light path too (the demo command
        # also explains against a database, which needs the store extra: not the lint path)
        mlfilter.cli.main(["check", "--schema", SNAPSHOT, "--experiment", "demo-classifier",
                           "params.optimizer = 'Adam'"]),
        mlfilter.cli.main(["rules"]),
        mlfilter.cli.main(["version"]),
    ]
assert codes[0] == 0 and codes[1] == 1 and codes[3] == 0, codes
assert out.getvalue(), "the CLI printed nothing"

HEAVY = __HEAVY__
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""


def _env() -> dict:
    """The child imports the mlfilter next to these tests, installed or not."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    return env


def test_lint_path_imports_no_heavy_module():
    script = SCRIPT.replace("__HEAVY__", repr(HEAVY)).replace("SNAPSHOT", repr(SNAPSHOT))
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              cwd=cwd, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == [], f"the lint path imported {loaded}"


SNAPSHOT = os.path.join(REPO, "mlfilter", "data", "demo_schema.json")


@pytest.mark.parametrize("argv", [
    ["check", "metrics.a > 1"],
    ["check", "params.batch_size = 32", "--order-by", "metrics.a DESC", "--format", "json"],
    ["check", "--schema", SNAPSHOT, "params.optimizer = 'Adam'"],
    ["lint", os.path.join(REPO, "tests", "lint_fixtures")],
])
def test_cli_import_log_has_no_heavy_module(argv):
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlfilter", *argv],
                              capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    imported = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", proc.stderr, re.M)
    assert "mlfilter.checker" in imported, "no import log: was -X importtime honoured?"
    heavy = sorted({m for m in imported if m.split(".")[0] in HEAVY})
    assert heavy == [], f"`python -m mlfilter {' '.join(argv)}` imported {heavy}"
