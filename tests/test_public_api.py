"""The top-level API is the one docs/api.md lists: every name of `mlfilter.__all__` resolves,
the store helpers are reached from the top without making `import mlfilter` heavier, and the
paths of 0.1 (`mlfilter.explain.explain`, `mlfilter.schema.Schema`) keep working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlfilter

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "mlfilter" / "data"
HEAVY = ("mlflow", "sqlalchemy", "pandas", "numpy", "IPython", "lark")


def test_every_exported_name_resolves():
    for name in mlfilter.__all__:
        assert getattr(mlfilter, name) is not None, name


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sys.modules))"],
                         capture_output=True, text=True, check=True, cwd=REPO).stdout
    return set(out.split())


def test_top_level_store_names_load_nothing_heavy_until_used():
    loaded = _modules_after("import mlfilter\nmlfilter.Schema\nmlfilter.explain\n"
                            "mlfilter.Schema.load('mlfilter/data/demo_schema.json')")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_schema_from_the_top_level_is_the_schema_class():
    from mlfilter.schema import Schema

    assert mlfilter.Schema is Schema
    assert mlfilter.SchemaError is mlfilter.schema.SchemaError
    schema = mlfilter.Schema.load(DEMO / "demo_schema.json")
    assert "demo-classifier" in {e.name for e in schema.experiments.values()}
    with pytest.raises(mlfilter.SchemaError):
        mlfilter.Schema.load(DEMO / "no-such-snapshot.json")


@pytest.mark.mlflow
def test_schema_from_store_and_explain_as_the_issue_names_them():
    pytest.importorskip("sqlalchemy")
    uri = f"sqlite:///{DEMO / 'demo.db'}"
    schema = mlfilter.Schema.from_store(uri, experiments=["demo-classifier"])
    assert "optimizer" in schema.params and [e.name for e in schema.select()] == ["demo-classifier"]
    text = "params.optimizer = 'adam' AND params.batch_size = '128'"
    result = mlfilter.explain(text, store=uri, experiment_ids=["demo-classifier"],
                              view_type="active_only")
    from mlfilter.explain import explain

    assert result == explain(text, uri, ["demo-classifier"], "active_only")
    assert result.emptied_by == "params.batch_size = '128'"
    with pytest.raises(mlfilter.FilterError):
        mlfilter.explain("params.bs = 32", store=uri)


def test_explain_stays_callable_after_its_module_is_imported():
    import importlib

    module = importlib.import_module("mlfilter.explain")
    assert mlfilter.explain is module and callable(mlfilter.explain)
    assert module.explain.__doc__ == mlfilter.explain.__call__.__doc__


def test_errors_are_mlfilter_errors_and_value_errors():
    for name in ("FilterError", "TargetError", "ConfigError", "BuildError"):
        error = getattr(mlfilter, name)
        assert issubclass(error, mlfilter.MlfilterError) and issubclass(error, ValueError), name
    assert issubclass(mlfilter.SchemaError, mlfilter.MlfilterError)
    with pytest.raises(mlfilter.TargetError):
        mlfilter.check("metrics.a > 1", mlflow_version="1.0")
