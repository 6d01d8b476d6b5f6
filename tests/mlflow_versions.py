"""Python interpreters with a given MLflow installed, for the multi-version oracle.

``ensure_python(version)`` returns an interpreter whose ``import mlflow`` is that version:

* ``"3.17.2"``: ``sys.executable`` (the test venv pins ``mlflow==3.17.2``);
* any version in :data:`RECIPES`: a venv built on first use under the cache directory
  (``$MLFILTER_VENV_CACHE``, default ``~/.cache/mlfilter/venvs``) and reused afterwards.

A venv is built in a temporary sibling directory, checked (``import mlflow``, its version, and
MLflow's own ``SqlAlchemyStore`` creating its tables in a throw-away SQLite file), renamed into
place, and only then marked complete (``mlfilter-venv.json`` inside it). A file lock serializes
builders, so two pytest-xdist workers never build the same venv twice. The directory name carries
a hash of the recipe (and of the constraints it uses), so a changed recipe builds a new venv.

Packages come only from the configured pip index. The recipes:

* 2.22.1: ``mlflow-skinny==2.22.1`` with ``sqlalchemy<2.1`` (SQLAlchemy 2.1 breaks
  ``import mlflow.store.db.utils`` there), ``alembic``, ``psycopg2-binary`` (SQLAlchemy 2.0's
  driver for ``postgresql://``; MLflow 2.22.1's queries fail under psycopg 3), ``pymysql``, and
  OpenTelemetry below 1.35 (newer releases break 2.22.1's span processor, so no trace would
  end). ``mlflow-skinny`` holds the whole ``mlflow`` package, store and migrations included,
  without pandas/scipy/scikit-learn/pyarrow/flask.
* 3.18.0: its own dependencies are not all on the index (``mlflow-skinny``/``mlflow-tracing``
  3.18.0 are missing), so: ``mlflow-skinny==3.17.2`` and ``mlflow-tracing==3.17.2`` with the
  store's packages, pinned to the versions the test venv has (a constraints file made from it),
  then ``pip install --no-deps mlflow==3.18.0``. The ``mlflow`` wheel holds the whole package,
  so every module MLflow imports is 3.18.0's (``mlflow.__version__`` says so); only 3.17.2's
  dist-info records remain, which makes MLflow warn about mismatched child packages.

A build that fails raises :class:`VenvBuildError` naming the command and the tail of its output;
``python_for_tests(version)`` turns that into a skip when MLFILTER_SKIP_VERSIONS=1. The build log
is ``<cache>/mlflow-<version>-<hash>.build.log``; the marker records the versions installed
(``pip freeze``) and the build time. ``python tests/mlflow_versions.py [VERSION ...]`` builds ahead.
Venvs of older recipes are not removed (delete ``<cache>/mlflow-*`` to reclaim the space).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST_VENV_VERSION = "3.17.2"  # what the test venv itself pins

# version -> list of pip install steps (each a list of pip arguments); "{constraints}" in a step
# is replaced by the path of a constraints file pinning the test venv's packages.
RECIPES: dict[str, list[list[str]]] = {
    "2.22.1": [
        # SQLAlchemy 2.0 reads "postgresql://" as psycopg2 (2.1: psycopg 3); with psycopg 3's
        # server-side parameters MLflow 2.22.1 fails ("operator does not exist: integer =
        # character varying"), so the driver is psycopg2, as its users had it.
        # OpenTelemetry >= 1.35 breaks 2.22.1's span processor (no `_shutdown` attribute: spans
        # never end, traces stay IN_PROGRESS), so it is held to the 1.34 of that time.
        ["mlflow-skinny==2.22.1", "sqlalchemy<2.1", "alembic", "psycopg2-binary", "pymysql",
         "opentelemetry-api<1.35", "opentelemetry-sdk<1.35"],
    ],
    "3.18.0": [
        ["-c", "{constraints}", "mlflow-skinny==3.17.2", "mlflow-tracing==3.17.2", "sqlalchemy",
         "alembic", "psycopg[binary]", "pymysql"],
        ["--no-deps", "mlflow==3.18.0"],
    ],
}

MARKER = "mlfilter-venv.json"
PIP_TIMEOUT = float(os.environ.get("MLFILTER_PIP_TIMEOUT", "900"))

# Checked in the new venv before it is marked complete: the version, and that MLflow's store can
# create its tables (alembic migrations) and search.
_CHECK = r"""
import json, sys, tempfile, warnings
warnings.simplefilter("ignore")
import mlflow
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.entities import ViewType
import sqlalchemy
# the drivers SQLAlchemy picks for the oracle's URIs must import
sqlalchemy.create_engine("postgresql://u@127.0.0.1/x")
sqlalchemy.create_engine("mysql+pymysql://u@127.0.0.1/x")
d = tempfile.mkdtemp()
uri = "sqlite:///" + d + "/check.db"
store = SqlAlchemyStore(uri, "file://" + d + "/artifacts")
RegistryStore(uri)
store.search_runs(["0"], "metrics.loss < 1", ViewType.ALL)
store.engine.dispose()
print(json.dumps({"mlflow": mlflow.__version__, "sqlalchemy": sqlalchemy.__version__,
                  "python": sys.version.split()[0]}))
"""


class VenvBuildError(RuntimeError):
    """A venv for an MLflow version could not be built (the message names the command)."""


def cache_dir() -> Path:
    """Where venvs (and the version oracle's label cache) live."""
    env = os.environ.get("MLFILTER_VENV_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "mlfilter" / "venvs"


def skip_versions() -> bool:
    """MLFILTER_SKIP_VERSIONS=1: tests skip (instead of failing) when a venv cannot be built."""
    return os.environ.get("MLFILTER_SKIP_VERSIONS", "") not in ("", "0")


def _test_venv_constraints() -> str:
    """`name==version` lines of the test venv's distributions (MLflow's own and mlfilter left out)."""
    import importlib.metadata as md

    pins = {}
    for dist in md.distributions():
        name = (dist.metadata["Name"] or "").strip()
        key = name.lower().replace("_", "-")
        if not name or key.startswith("mlflow") or key == "mlfilter":
            continue
        pins[key] = f"{key}=={dist.version}"
    return "".join(line + "\n" for _, line in sorted(pins.items()))


def _recipe(version: str) -> tuple[list[list[str]], str]:
    """(steps, constraints text) for `version`; raises VenvBuildError for an unknown one."""
    if version not in RECIPES:
        raise VenvBuildError(
            f"no recipe for MLflow {version!r} (known: {TEST_VENV_VERSION} (the test venv), "
            f"{', '.join(RECIPES)})")
    steps = RECIPES[version]
    uses = any("{constraints}" in arg for step in steps for arg in step)
    return steps, _test_venv_constraints() if uses else ""


def venv_dir(version: str) -> Path:
    """The venv directory for `version` (named after a hash of its recipe)."""
    steps, constraints = _recipe(version)
    h = hashlib.sha256(json.dumps(
        [steps, constraints, sys.version_info[:2], _CHECK]).encode()).hexdigest()[:12]
    return cache_dir() / f"mlflow-{version}-{h}"


def _python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def is_complete(version: str) -> bool:
    venv = venv_dir(version)
    return (venv / MARKER).is_file() and _python_of(venv).exists()


def venv_info(version: str) -> dict | None:
    """What the marker of a complete venv says (versions, build time, pip freeze), or None."""
    if version == TEST_VENV_VERSION:
        return {"python": sys.executable, "mlflow": TEST_VENV_VERSION, "test_venv": True}
    try:
        return json.loads((venv_dir(version) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(cmd: list[str], log, env: dict[str, str], timeout: float = PIP_TIMEOUT) -> str:
    shown = " ".join(cmd)
    log.write(f"$ {shown}\n")
    log.flush()
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        log.write(out)
        raise VenvBuildError(f"`{shown}` timed out after {timeout:.0f} s; output tail:\n"
                             f"{_tail(out)}") from None
    except OSError as e:
        raise VenvBuildError(f"`{shown}` could not start: {e}") from None
    log.write(p.stdout)
    log.write(f"# exit {p.returncode} after {time.monotonic() - t0:.1f} s\n")
    log.flush()
    if p.returncode != 0:
        raise VenvBuildError(f"`{shown}` failed (exit {p.returncode}); output tail:\n"
                             f"{_tail(p.stdout)}")
    return p.stdout


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_TARGET", "PIP_PREFIX", "PYTEST_",
                                "MLFLOW_"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@contextlib.contextmanager
def _file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _build(version: str, final: Path) -> None:
    steps, constraints = _recipe(version)
    root = final.parent
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{final.name}-", dir=root))
    log_path = root / f"{final.name}.build.log"
    env = _clean_env()
    try:
        with open(log_path, "w") as log:
            venv = tmp / "venv"
            _run([sys.executable, "-m", "venv", str(venv)], log, env, timeout=300)
            py = str(_python_of(venv))
            cfile = tmp / "constraints.txt"
            cfile.write_text(constraints)
            for step in steps:
                args = [a.replace("{constraints}", str(cfile)) for a in step]
                _run([py, "-m", "pip", "install", "--no-input", *args], log, env)
            freeze = _run([py, "-m", "pip", "freeze", "--all"], log, env, timeout=120)
            # the venv's python is a symlink to the base interpreter: the venv can be renamed
            if final.exists():
                shutil.rmtree(final)
            venv.rename(final)
            check = _run([str(_python_of(final)), "-I", "-c", _CHECK], log, env, timeout=300)
            try:
                found = json.loads(check.strip().splitlines()[-1])
            except (ValueError, IndexError):
                raise VenvBuildError(f"the check of {final} printed no result:\n{_tail(check)}")
            if found.get("mlflow") != version:
                raise VenvBuildError(
                    f"{final}: `import mlflow` gives {found.get('mlflow')!r}, not {version!r}")
            info = {
                "version": version,
                "python": str(_python_of(final)),
                "check": found,
                "steps": steps,
                "build_seconds": round(time.monotonic() - t0, 1),
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "freeze": freeze.split(),
            }
            (final / MARKER).write_text(json.dumps(info, indent=1))
            log.write(f"# complete in {info['build_seconds']} s\n")
    except BaseException:
        # leave no half-built venv under the final name
        if final.exists() and not (final / MARKER).exists():
            shutil.rmtree(final, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_python(version: str) -> Path:
    """An interpreter with MLflow `version` installed (built on first use, then reused)."""
    if version == TEST_VENV_VERSION:
        return Path(sys.executable)
    final = venv_dir(version)
    if is_complete(version):
        return _python_of(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    with _file_lock(final.parent / f"{final.name}.lock"):
        if not is_complete(version):  # another process may have built it meanwhile
            _build(version, final)
    return _python_of(final)


def python_for_tests(version: str) -> Path:
    """ensure_python() for a test: a build failure fails it, or skips it when
    MLFILTER_SKIP_VERSIONS=1."""
    try:
        return ensure_python(version)
    except VenvBuildError as e:
        if skip_versions():
            import pytest

            pytest.skip(f"MLFILTER_SKIP_VERSIONS=1 and: {e}")
        raise


def main(argv: list[str] | None = None) -> int:
    """`python tests/mlflow_versions.py [VERSION ...]`: build (or find) the venvs; print paths."""
    versions = (argv if argv is not None else sys.argv[1:]) or [TEST_VENV_VERSION, *RECIPES]
    for v in versions:
        t0 = time.monotonic()
        py = ensure_python(v)
        info = venv_info(v) or {}
        print(f"{v}: {py} ({time.monotonic() - t0:.1f} s now; "
              f"built in {info.get('build_seconds', '-')} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
