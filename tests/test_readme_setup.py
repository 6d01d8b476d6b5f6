"""The README's set-up is exactly two commands, and both are true: the first, run in a fresh venv
that gets nothing but mlfilter and its `store` extra, installs mlfilter and `mlfilter demo` runs,
store part included, with no MLflow server; the second is what .ci/run runs.

The fresh venv is built once per pyproject.toml (and Python) under the venv cache
($MLFILTER_VENV_CACHE, default ~/.cache/mlfilter/venvs), by the README's own command; later runs
install only mlfilter's current code into it, without its dependencies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import doc_blocks  # noqa: E402

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


def set_up_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Set up\n", 1)[1].split("\n## ", 1)[0]
    return [b.body.strip() for b in doc_blocks.blocks(section)]


def test_there_are_two_set_up_commands_and_ci_runs_the_second():
    install, run_tests = set_up_commands()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "Python 3.10 or newer" in (ROOT / "README.md").read_text()
    assert project["requires-python"] == ">=3.10"
    assert install == "pip install '.[store]' && mlfilter demo"
    assert project["scripts"]["mlfilter"] == "mlfilter.cli:main"
    # .ci/run installs what the README installs, and then runs the README's test command
    assert run_tests == "pip install -e '.[test]' && python -m pytest -n 2"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "python -m pip install --quiet -e '.[test]'" in ci
    assert ci[-1] == run_tests.split(" && ")[1]


def _source_copy(into: Path) -> Path:
    """What `pip install .` builds from, outside the checkout (the build writes into it)."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, into / name)
    for name in ("mlfilter", "grammar"):
        shutil.copytree(ROOT / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
    return into


def _pip(python: Path, args: list[str], cwd: Path) -> None:
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"pip install {shlex.join(args)}:\n{done.stdout}{done.stderr}"


@pytest.fixture(scope="session")
def fresh_store_venv(tmp_path_factory) -> Path:
    """A venv with mlfilter[store] only, the README's way; mlfilter's code of this checkout."""
    import mlflow_versions

    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + sys.version.encode())
    home = mlflow_versions.cache_dir() / f"readme-store-{key.hexdigest()[:12]}"
    home.parent.mkdir(parents=True, exist_ok=True)
    source = _source_copy(tmp_path_factory.mktemp("mlfilter-source"))
    install = shlex.split(set_up_commands()[0].split(" && ")[0])[2:]  # pip install ARGS
    with open(f"{home}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        python = home / "bin" / "python"
        if not (home / "complete").exists():  # never built, or a build that stopped halfway
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
            _pip(python, install, source)
            (home / "complete").write_text(" ".join(install) + "\n")
        else:
            _pip(python, ["--force-reinstall", "--no-deps", "."], source)
    return home


def test_the_first_command_installs_mlfilter_and_its_demo_runs(fresh_store_venv, tmp_path):
    mlfilter = fresh_store_venv / "bin" / "mlfilter"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "MLFILTER_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{mlfilter.parent}{os.pathsep}{env.get('PATH', '')}", NO_COLOR="1")
    done = subprocess.run(shlex.split(set_up_commands()[0].split(" && ")[1]), cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error[MF201]" in done.stdout and "warning[MF502]" in done.stdout
    assert "runs searched: 40" in done.stdout and "<- empties the result" in done.stdout
    assert os.listdir(tmp_path) == []
    # the venv holds what the store extra brings, not the test venv's extras
    freeze = subprocess.run([str(fresh_store_venv / "bin" / "python"), "-m", "pip", "freeze"],
                            capture_output=True, text=True).stdout.lower()
    assert "mlflow-skinny==" in freeze and "ipython" not in freeze and "\nmlflow==" not in freeze
