"""docs/builder.md cannot drift: its ```python blocks run, in order, in one namespace, against a
fresh SQLite store named by MLFLOW_TRACKING_URI (each block asserts what the page claims)."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("mlflow")
pytestmark = pytest.mark.mlflow

DOC = Path(__file__).resolve().parent.parent / "docs" / "builder.md"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number, code) of each ```python block."""
    return [(text[: m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(r"^```python\n(.*?)^```$", text, re.S | re.M)]


def test_docs_have_runnable_examples():
    text = DOC.read_text()
    assert text.startswith("# Building searches")
    assert len(python_blocks(text)) >= 10


def test_docs_examples_run(tmp_path, monkeypatch):
    import mlflow
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service import utils

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # MLflow's read-only tripwire
    for name in ("MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(utils, "_tracking_uri", None)  # other tests may have set one
    monkeypatch.setattr(fluent, "_active_experiment_id", None)
    namespace: dict = {"__name__": "builder_docs"}
    out = io.StringIO()
    for line, code in python_blocks(DOC.read_text()):
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(code, f"{DOC}:{line}", "exec"), namespace)  # noqa: S102
            except Exception as e:  # noqa: BLE001 - report the block
                raise AssertionError(f"docs/builder.md block at line {line} failed: {e!r}") from e
    assert mlflow.get_tracking_uri().startswith("sqlite:///" + str(tmp_path))
    printed = out.getvalue().splitlines()
    assert len(printed) == 6 and all(": " in p for p in printed), printed
