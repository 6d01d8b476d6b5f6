"""`mlfilter lint` (and the pre-commit hook, which runs it) imports no heavy package: not MLflow,
SQLAlchemy, pandas, numpy or Lark. Each case runs in a fresh interpreter with `-X importtime`, on
fixtures that exercise every path: findings, fixes, notebooks, broken files, every format."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("mlflow", "sqlalchemy", "pandas", "numpy", "lark")
REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "lint_fixtures"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("lint-imports")
    for path in FIXTURES.iterdir():
        if path.suffix in (".py", ".ipynb"):
            shutil.copy(path, root / path.name)
    (root / "pyproject.toml").write_text('[tool.mlfilter]\nignore = ["MF304"]\n')
    return root


@pytest.mark.parametrize("argv", [
    ["lint"],
    ["lint", "--format", "json"],
    ["lint", "--format", "github"],
    ["lint", "--format", "sarif"],
    ["lint", "--diff"],
    ["lint", "--fix"],
    ["lint", "--select", "MF2", "--exclude", "calls.py", "notebook.ipynb", "args.py"],
], ids=lambda a: " ".join(a[1:]) or "text")
def test_lint_imports_no_heavy_module(tree, argv):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "mlfilter", *argv],
                          cwd=tree, capture_output=True, text=True, env=_env(), timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    imported = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*(\S+)\s*$", proc.stderr, re.M)
    assert "mlfilter.lint.scan_py" in imported, "no import log, or nothing was scanned"
    heavy = sorted({m for m in imported if m.split(".")[0] in HEAVY})
    assert heavy == [], f"`mlfilter {' '.join(argv)}` imported {heavy}"
    assert "Traceback" not in proc.stderr


def test_in_process_lint_api_imports_no_heavy_module(tree):
    script = f"""
import sys, json
from mlfilter.config import load
from mlfilter.lint import lint_paths, lint_source
from mlfilter.lint import output
run = lint_paths([{str(tree)!r}], load(start={str(tree)!r}), fix=True)
output.render_text(run); output.render_json(run, True); output.render_github(run)
output.render_sarif(run)
lint_source("import mlflow\\nmlflow.search_runs(filter_string='params.a = 1')\\n")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})))
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=tree, capture_output=True,
                          text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"
