"""The pre-commit hook, run by the real `pre-commit` tool: in a new git repository whose
.pre-commit-config.yaml points at this checkout (at its current commit), `git commit` fails with
a bad search filter staged and succeeds with a good one.

pre-commit builds the hook's own virtualenv by pip-installing this repository, so the test needs
pip to reach a package index; when it cannot, the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BAD = 'import mlflow\n\nruns = mlflow.search_runs(filter_string="params.batch_size = 32")\n'
GOOD = "import mlflow\n\nruns = mlflow.search_runs(filter_string=\"params.batch_size = '32'\")\n"


def _pre_commit() -> list[str]:
    exe = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or \
        shutil.which("pre-commit")
    if exe is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    return [exe]


def _git(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if rev.returncode != 0:
        pytest.skip("this checkout is not a git repository (pre-commit clones the hook's repo)")
    listed = subprocess.run(["git", "cat-file", "-e", f"{rev.stdout.strip()}:.pre-commit-hooks.yaml"],
                            cwd=REPO, capture_output=True)
    if listed.returncode != 0:
        pytest.skip(".pre-commit-hooks.yaml is not committed yet")
    root = tmp_path_factory.mktemp("precommit")
    home = root / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", PRE_COMMIT_HOME=str(root / "cache"),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    work = root / "work"
    work.mkdir()
    _git("init", "-q", cwd=work, env=env)
    (work / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {rev.stdout.strip()}\n    hooks:\n"
        "      - id: mlfilter\n")
    _git("add", ".pre-commit-config.yaml", cwd=work, env=env)
    install = subprocess.run([*_pre_commit(), "install-hooks"], cwd=work, env=env,
                             capture_output=True, text=True, timeout=900)
    if install.returncode != 0:
        text = install.stdout + install.stderr
        log = root / "cache" / "pre-commit.log"
        if log.exists():
            text += log.read_text(errors="replace")
        if any(s in text for s in ("Could not find a version", "No matching distribution",
                                   "Failed to establish a new connection", "Network is unreachable",
                                   "Temporary failure in name resolution", "ProxyError")):
            pytest.skip(f"pre-commit could not pip-install the hook (no package index?): "
                        f"{text[-500:]}")
        pytest.fail(f"pre-commit install-hooks failed:\n{text[-3000:]}")
    hooks = subprocess.run([*_pre_commit(), "install"], cwd=work, env=env, capture_output=True,
                           text=True, timeout=120)
    assert hooks.returncode == 0, hooks.stderr
    return work, env


def _commit(work: Path, env: dict, name: str, content: str) -> subprocess.CompletedProcess:
    (work / name).write_text(content)
    _git("add", name, cwd=work, env=env)
    return _git("commit", "-q", "-m", f"add {name}", cwd=work, env=env)


def test_a_bad_filter_fails_the_commit_and_a_good_one_passes(project):
    work, env = project
    failed = _commit(work, env, "train.py", BAD)
    assert failed.returncode != 0
    output = failed.stdout + failed.stderr
    assert "mlfilter (MLflow search filters)" in output and "Failed" in output
    assert "train.py:3:62: MF201 `params.batch_size` holds strings: the number `32` must be " \
           "quoted" in output
    passed = _commit(work, env, "train.py", GOOD)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    log = _git("log", "--oneline", cwd=work, env=env).stdout
    assert "add train.py" in log


def test_notebooks_are_checked_too(project):
    work, env = project
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                           "outputs": [], "source": BAD.splitlines(keepends=True)}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    failed = _commit(work, env, "explore.ipynb", json.dumps(notebook, indent=1) + "\n")
    assert failed.returncode != 0
    assert "explore.ipynb:cell 1:3:62: MF201" in failed.stdout + failed.stderr
    _git("reset", "-q", cwd=work, env=env)
    (work / "explore.ipynb").unlink()


def test_files_without_search_calls_pass(project):
    work, env = project
    passed = _commit(work, env, "util.py", "def add(a, b):\n    return a + b\n")
    assert passed.returncode == 0, passed.stdout + passed.stderr
