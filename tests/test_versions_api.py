"""Choosing the MLflow release and database: spellings, defaults, what a store or server reports,
the compatibility matrix, the hints that name a release change, and the builder's refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mlfilter
from mlfilter.builder.render import BuildError
from mlfilter.compat import compat
from mlfilter.schema import Schema
from mlfilter.versions import (
    RELEASES,
    TargetError,
    backend_from_uri,
    line_for_revision,
    line_of,
    nearest_line,
    resolve_backend,
    resolve_version,
)

ROOT = Path(__file__).resolve().parent.parent


# ---- spellings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("3.17", "3.17"), ("3.17.2", "3.17"), ("v3.18.0", "3.18"), ("mlflow==2.22.1", "2.22"),
    ("3.18.*", "3.18"), (" 2.22 ", "2.22"), ("3.17.0rc1", "3.17"),
])
def test_version_spellings(text, line):
    assert resolve_version(text) == line


@pytest.mark.parametrize("text", ["3.5", "4.0", "latest", "", "3", "3.17.2.1.9x", "2.21.9"])
def test_unknown_versions_name_the_supported_ones(text):
    with pytest.raises(TargetError) as e:
        resolve_version(text)
    assert "2.22, 3.17, 3.18" in str(e.value)


@pytest.mark.parametrize("text, backend", [
    ("sqlite", "sqlite"), ("PostgreSQL", "postgresql"), ("postgres", "postgresql"),
    ("mariadb", "mysql"), ("MySQL", "mysql"), ("mssql", "mssql"),
])
def test_backend_spellings(text, backend):
    assert resolve_backend(text) == backend


def test_unknown_backend_is_an_error():
    with pytest.raises(TargetError):
        resolve_backend("oracle")
    with pytest.raises(TargetError):
        mlfilter.check("metrics.a > 1", "runs", backend="oracle")


@pytest.mark.parametrize("uri, backend", [
    ("sqlite:///mlflow.db", "sqlite"), ("postgresql+psycopg://u:p@h/db", "postgresql"),
    ("mysql+pymysql://root@127.0.0.1/db", "mysql"), ("mssql+pyodbc://x", "mssql"),
    ("http://127.0.0.1:5000", None), ("file:///tmp/mlruns", None), (None, None),
])
def test_backend_from_a_store_uri(uri, backend):
    assert backend_from_uri(uri) == backend


def test_nearest_line_of_an_unsupported_release():
    assert nearest_line("3.10.1") == "3.17"  # the oldest supported release after it
    assert nearest_line("2.9.0") == "2.22"
    assert nearest_line("3.18.0") == "3.18"
    assert nearest_line("4.1.0") == "3.18"


# ---- defaults ----------------------------------------------------------------------------------

def _default_in_subprocess(env_extra: dict) -> str:
    env = {**os.environ, **env_extra}
    out = subprocess.run([sys.executable, "-c", "from mlfilter.versions import default_version;"
                          "print(default_version())"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_default_is_the_installed_mlflow():
    import mlflow

    assert _default_in_subprocess({"MLFILTER_MLFLOW_VERSION": ""}) == line_of(mlflow.__version__)


def test_environment_variable_chooses_the_default():
    assert _default_in_subprocess({"MLFILTER_MLFLOW_VERSION": "3.18"}) == "3.18"
    assert _default_in_subprocess({"MLFILTER_MLFLOW_VERSION": "2.22.1"}) == "2.22"


def test_default_without_mlflow_is_the_newest(tmp_path):
    """An environment without MLflow (sys.path without site-packages) gets the newest line."""
    code = ("import sys; sys.path = [p for p in sys.path if 'site-packages' not in p]; "
            f"sys.path.insert(0, {str(ROOT)!r}); "
            "from mlfilter.versions import default_version, installed_mlflow, NEWEST; "
            "assert installed_mlflow() is None; print(default_version() == NEWEST)")
    out = subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                         env={**os.environ, "MLFILTER_MLFLOW_VERSION": ""}, timeout=60)
    assert out.stdout.strip() == "True", out.stderr


# ---- the release a database's schema was written by ------------------------------------------------

def test_revisions_map_to_release_lines():
    from mlfilter.schema._revisions import HEADS, REVISIONS

    assert line_for_revision(HEADS["2.22.1"]) == "2.22"
    assert line_for_revision(HEADS["3.17.2"]) == "3.17"
    assert line_for_revision(HEADS["3.18.0"]) == "3.18"
    between = REVISIONS[REVISIONS.index(HEADS["2.22.1"]) + 1]
    assert line_for_revision(between) == "3.17"  # written by a 3.x release before 3.17
    assert line_for_revision(REVISIONS[0]) == "2.22"
    assert line_for_revision("not-a-revision") is None


def test_a_database_made_by_mlflow_2_22_is_checked_as_2_22(tmp_path):
    """MLflow 2.22.1 itself (its own venv) creates the database; mlfilter reads its revision."""
    from mlflow_versions import python_for_tests

    python = python_for_tests("2.22.1")
    db = tmp_path / "old.db"
    make = ("import sys; from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore;"
            f"SqlAlchemyStore('sqlite:///{db}', {str((tmp_path / 'a').as_uri())!r})")
    done = subprocess.run([str(python), "-c", make], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    uri = f"sqlite:///{db}"
    schema = Schema.from_store(uri)
    assert schema.mlflow_line == "2.22" and schema.backend == "sqlite"
    report = mlfilter.check("params.lr IS NULL", "runs", schema=uri)
    assert report.target == "2.22.1/sqlite" and report.verdict == "rejected"
    assert "accepted since MLflow 3.11.1" in report.errors[0].hint
    # the caller's choice wins over the store's
    assert mlfilter.check("params.lr IS NULL", "runs", schema=uri, mlflow_version="3.17").ok


def test_a_postgresql_store_gives_postgresql_verdicts(postgres_store):
    uri, _, _ = postgres_store
    report = mlfilter.check("tags.note = 'a\x00b'", "runs", schema=uri)
    assert report.target.endswith("/postgresql")
    assert [d.code for d in report.errors] == ["MF242"]
    assert mlfilter.check("tags.note = 'a\x00b'", "runs").ok  # SQLite stores it


def test_a_tracking_server_reports_its_release(mlflow_server):
    import mlflow

    from mlfilter.schema.server import server_version

    assert server_version(mlflow_server) == mlflow.__version__
    schema = Schema.from_store(mlflow_server)
    assert schema.mlflow_line == line_of(mlflow.__version__)
    out = subprocess.run([sys.executable, "-m", "mlfilter", "check", "name like 'a%'", "--api",
                          "experiments", "--store", mlflow_server], capture_output=True,
                         text=True, timeout=120)
    assert f"MLflow {mlflow.__version__} rejects this filter" in out.stdout, out.stdout + out.stderr


def test_a_server_that_is_down_reports_no_release():
    from mlfilter.schema.server import server_version

    from stores import closed_port

    assert server_version(f"http://127.0.0.1:{closed_port()}") is None


# ---- targets in the checker --------------------------------------------------------------------

@pytest.mark.parametrize("api, text, verdicts", [
    ("experiments", "name like 'exp-%'", ("rejected", "rejected", "accepted")),
    ("experiments", "attributes.name = 'x'", ("rejected", "rejected", "accepted")),
    ("runs", "params.lr IS NULL", ("rejected", "accepted", "accepted")),
    ("registered_models", "tags.k IS NULL", ("rejected", "crash", "rejected")),
    ("registered_models", "name IN ('a')", ("rejected", "accepted", "accepted")),
    ("logged_models", "status = 'ready'", ("unsupported", "accepted", "rejected")),
])
def test_one_filter_three_releases(api, text, verdicts):
    got = tuple(mlfilter.check(text, api, mlflow_version=line).verdict for line in RELEASES)
    assert got == verdicts


def test_report_names_its_target():
    report = mlfilter.check("metrics.a > 1", "runs", mlflow_version="3.18", backend="mysql")
    assert report.target == "3.18.0/mysql"


def test_hints_name_the_change_and_its_first_release():
    report = mlfilter.check("name like 'e%'", "experiments", mlflow_version="3.17")
    assert "accepted since MLflow 3.18.0: lower-case comparators" in report.errors[0].hint
    newer = mlfilter.check("status = 'ready'", "logged_models", mlflow_version="3.18")
    assert "MLflow 3.17.2 accepted it; changed in 3.18.0" in newer.errors[0].hint
    # a change that would also bring other errors is not offered as the explanation
    plain = mlfilter.check("params.x = 32", "runs", mlflow_version="2.22")
    assert "since MLflow" not in (plain.errors[0].hint or "")


def test_parse_raises_for_the_target_only():
    assert mlfilter.parse("name like 'e%'", "experiments", mlflow_version="3.18")
    with pytest.raises(mlfilter.FilterError):
        mlfilter.parse("name like 'e%'", "experiments", mlflow_version="3.17")


# ---- the matrix -----------------------------------------------------------------------------------

def test_compat_matrix_for_a_backend_difference():
    matrix = compat("tags.env RLIKE '^pr'", "traces")
    assert matrix.backends_matter
    assert matrix.cell("3.17", "mssql").verdict == "rejected"
    assert matrix.cell("3.17", "postgresql").verdict == "accepted"
    assert matrix.first_release() == ("3.6.0", [
        "LIKE, ILIKE and RLIKE on trace tags, metadata and string attributes"])
    text = str(matrix)
    assert "SQL Server" in text and "rejected (400, MF240)" in text


def test_compat_matrix_when_nothing_differs():
    matrix = compat("metrics.acc > 0.9", "runs")
    assert not matrix.backends_matter
    assert str(matrix).endswith("accepted by every supported release on every backend")


def test_compat_for_order_by():
    matrix = compat(api="traces", order_by=["end_time DESC"])
    assert [matrix.cell(line).verdict for line in RELEASES] == ["rejected", "crash", "accepted"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mlfilter", *args], capture_output=True,
                          text=True, timeout=60)


def test_cli_compat_text_and_exit_status():
    out = _cli("check", "--compat", "name like 'e%'", "--api", "experiments",
               "--mlflow-version", "3.18")
    assert out.returncode == 0, out.stderr
    assert "first accepted: MLflow 3.18.0" in out.stdout
    out = _cli("check", "--compat", "name like 'e%'", "--api", "experiments",
               "--mlflow-version", "3.17")
    assert out.returncode == 1


def test_cli_compat_json():
    out = _cli("check", "--compat", "--format", "json", "params.lr IS NULL")
    data = json.loads(out.stdout)
    assert data["first_accepted"] == "3.11.1"
    assert {(c["version"], c["backend"]) for c in data["cells"]} == {
        (r, b) for r in RELEASES.values() for b in ("sqlite", "postgresql", "mysql", "mssql")}


def test_cli_target_flags():
    out = _cli("check", "timestamp_ms > '0'", "--api", "traces", "--backend", "postgresql")
    assert out.returncode == 1 and "MF241" in out.stdout
    assert "(traces, PostgreSQL)" in out.stdout
    out = _cli("check", "metrics.a > 1", "--mlflow-version", "9.9")
    assert out.returncode == 2 and "not supported" in out.stderr


# ---- the builder refuses what its target cannot run ---------------------------------------------

def test_builder_refuses_an_api_the_release_lacks():
    with pytest.raises(BuildError, match="does not exist in MLflow 2.22.1"):
        mlfilter.search_logged_models(["1"], mlflow_version="2.22")


def test_builder_refuses_per_target_and_retargets():
    q = mlfilter.search_runs(["1"], mlflow_version="3.17").where("params.lr IS NULL")
    assert q.filters() == ["params.lr IS NULL"]
    with pytest.raises(BuildError, match="MF214.*accepted since MLflow 3.11.1"):
        q.target("2.22")
    assert q.target("3.18").mlflow_version == "3.18"
    with pytest.raises(BuildError, match="MF240"):
        mlfilter.search_traces(["1"], backend="mssql").where("tags.env RLIKE 'x'")
    with pytest.raises(BuildError, match="not supported"):
        mlfilter.search_runs(["1"], mlflow_version="1.0")


def test_builder_order_by_is_checked_for_the_target():
    q = mlfilter.search_traces(["1"], mlflow_version="3.18").order_by("end_time DESC")
    with pytest.raises(BuildError, match="MF424"):
        q.target("3.17")


# ---- lint settings ---------------------------------------------------------------------------------

def _lint_here(tmp_path, settings: str, *flags):
    (tmp_path / "pyproject.toml").write_text(settings, encoding="utf-8")
    (tmp_path / "search.py").write_text(
        'import mlflow\nmlflow.search_experiments(filter_string="name like \'e%\'")\n'
        'mlflow.search_traces(filter_string="timestamp_ms > \'5\'")\n', encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "mlfilter", "lint", "search.py", *flags],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)


def test_lint_reads_the_target_from_its_settings(tmp_path):
    old = _lint_here(tmp_path, '[tool.mlfilter]\nmlflow-version = "3.17"\n')
    assert "MF222" in old.stdout and old.returncode == 1
    new = _lint_here(tmp_path, '[tool.mlfilter]\nmlflow-version = "3.18"\nbackend = "postgresql"\n')
    assert "MF222" not in new.stdout and "MF241" in new.stdout, new.stdout
    flag = _lint_here(tmp_path, '[tool.mlfilter]\nmlflow-version = "3.17"\n',
                      "--mlflow-version", "3.18")
    assert "MF222" not in flag.stdout


def test_lint_refuses_an_unknown_target(tmp_path):
    out = _lint_here(tmp_path, '[tool.mlfilter]\nmlflow-version = "2.0"\n')
    assert out.returncode == 2 and "mlflow-version" in out.stderr and "not supported" in out.stderr
    out = _lint_here(tmp_path, '[tool.mlfilter]\nbackend = "oracle"\n')
    assert out.returncode == 2 and "backend" in out.stderr
