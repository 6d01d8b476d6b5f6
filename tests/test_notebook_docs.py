"""docs/notebook_example.ipynb runs top to bottom in a real kernel, on a SQLite store it creates
with MLflow's client, and shows what docs/notebook.md says it shows.

The notebook is committed with its outputs, for readers; this test also checks that they are the
outputs it gives today (temporary paths aside). After a deliberate change, refresh them with
`MLFILTER_UPDATE_NOTEBOOK=1 python -m pytest tests/test_notebook_docs.py`.
"""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from test_notebook_display import Page

pytestmark = pytest.mark.mlflow
NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebook_example.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    committed = nbformat.read(NOTEBOOK, as_version=4)
    nb = copy.deepcopy(committed)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    workdir = tmp_path_factory.mktemp("docs-notebook")
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(workdir)}}).execute(env=env)
    if os.environ.get("MLFILTER_UPDATE_NOTEBOOK"):
        nbformat.write(nb, NOTEBOOK)
        committed = nb
    return nb, committed


def tagged(nb, tag: str) -> dict:
    [cell] = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    rich = [o for o in cell.outputs if o["output_type"] in ("execute_result", "display_data")]
    assert len(rich) == 1, cell.outputs
    return rich[0]["data"]


def test_it_runs_without_errors_or_warnings(executed):
    nb, _ = executed
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            bad = [o for o in cell.outputs
                   if o["output_type"] == "error" or o.get("name") == "stderr"]
            assert not bad, (cell.source, bad)


def test_it_shows_reports_with_the_mistake_highlighted(executed):
    nb, _ = executed
    page = Page(tagged(nb, "report")["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["32"] and "error[MF201]" in page.visible
    page = Page(tagged(nb, "cell")["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["'0.9'"] and "filter:2:26" in page.visible
    page = Page(tagged(nb, "store")["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["'Adam'"]
    assert "warning[MF502]" in page.visible and "did you mean 'adam'?" in page.visible


def test_it_shows_the_schema_terms_the_query_and_the_explanation(executed):
    nb, _ = executed
    page = Page(tagged(nb, "schema")["text/html"])
    assert "run params (3 keys)" in page.visible and "val/loss" in page.visible
    assert "'adam''sgd'" in page.visible  # the sample values
    assert tagged(nb, "predicate")["text/plain"] == (
        "metrics.accuracy > 0.9 AND metrics.`val/loss` < 0.3")
    assert "2 searches" in Page(tagged(nb, "query")["text/html"]).visible
    page = Page(tagged(nb, "explain")["text/html"])
    [emptied] = page.by_class["mlfilter-empties"]
    assert emptied.startswith("params.batch_size = '128'00")


def test_it_cleans_up_the_store_it_made(executed):
    nb, _ = executed
    first = nb.cells[1].outputs[0]["text"]
    workdir = re.search(r"sqlite:///(\S+)/mlflow\.db", first).group(1)
    assert not os.path.exists(workdir)


def _plain(nb) -> list[list[str]]:
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        texts = [o.get("text") or o.get("data", {}).get("text/plain", "") for o in cell.outputs]
        out.append([re.sub(r"mlfilter-notebook-[\w-]+", "TMP", t) for t in texts])
    return out


def test_the_committed_outputs_are_the_ones_it_gives(executed):
    nb, committed = executed
    assert _plain(committed) == _plain(nb)
