"""`[tool.mlfilter] schema = ...`: lint type-checks literal filters against a schema snapshot."""

import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SNAPSHOT = os.path.join(REPO, "mlfilter", "data", "demo_schema.json")

SOURCE = '''import mlflow
mlflow.search_runs(filter_string="params.optimizer = 'Adam'")
m = "x"
mlflow.search_runs(filter_string=f"params.optimizer = '{m}'")
mlflow.search_runs(filter_string="params.optimizer = 'adam'")
'''


def _lint(tmp_path, setting):
    (tmp_path / "pyproject.toml").write_text(f"[tool.mlfilter]\nschema = {setting!r}\n".replace("'", '"'))
    shutil.copyfile(SNAPSHOT, tmp_path / "schema.json")
    (tmp_path / "a.py").write_text(SOURCE)
    return subprocess.run([sys.executable, "-m", "mlfilter", "lint", "a.py"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_value_never_logged_is_reported_at_its_position(tmp_path):
    proc = _lint(tmp_path, "schema.json")
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "MF5" in line]
    # only the literal filter: the f-string's placeholder is not compared with the store,
    # and the logged value 'adam' is fine
    assert len(lines) == 1 and lines[0].startswith("a.py:2:54: MF502"), proc.stdout


def test_a_snapshot_that_cannot_be_read_is_a_usage_error(tmp_path):
    proc = _lint(tmp_path, "missing.json")
    assert proc.returncode == 2
    assert "missing.json" in proc.stderr and "Traceback" not in proc.stderr
