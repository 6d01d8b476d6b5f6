"""The notebook helper in a real IPython kernel (ipykernel), as Jupyter runs it.

One kernel serves the whole module. Notebooks built here are executed on it with nbclient, and
the tests read the outputs a front end would render; completion is asked of the kernel with
jupyter_client's `complete(code, cursor_pos)`, as JupyterLab asks on TAB.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from test_notebook_display import HOSTILE, VALUE, Page, hostile_schema

DATA = Path(__file__).resolve().parent.parent / "mlfilter" / "data"
DEMO_DB, DEMO_SCHEMA = DATA / "demo.db", DATA / "demo_schema.json"  # the packaged demo store


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("kernel")
    # MLflow installs a test-only tripwire when it sees PYTEST_CURRENT_TEST; a notebook never has
    # it. Telemetry stays off in tests.
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(workdir), env=env)
    kc = km.blocking_client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        hostile_schema().dump(workdir / "hostile.json")
        shutil.copy(DEMO_DB, workdir / "demo.db")
        yield km, kc, workdir
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kernel, *sources: str) -> list[list[dict]]:
    """Execute the cells as a notebook on the module's kernel; each cell's outputs."""
    km, _kc, workdir = kernel
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    NotebookClient(nb, km=km, timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    nbformat.validate(nb)
    return [cell.outputs for cell in nb.cells]


def result(outputs: list[dict]) -> dict:
    """The data of a cell's only rich output (its Out[] or a display)."""
    rich = [o for o in outputs if o["output_type"] in ("execute_result", "display_data")]
    errors = [o for o in outputs if o["output_type"] == "error" or o.get("name") == "stderr"]
    assert len(rich) == 1 and not errors, outputs
    return rich[0]["data"]


def stderr(outputs: list[dict]) -> str:
    return "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")


def complete(kernel, code: str, cursor_pos: int | None = None) -> tuple[list[str], str]:
    """(matches, the text they replace), as the kernel answers a TAB at cursor_pos."""
    _km, kc, _workdir = kernel
    reply = kc.complete(code, len(code) if cursor_pos is None else cursor_pos, reply=True,
                        timeout=30)["content"]
    assert reply["status"] == "ok"
    return reply["matches"], code[reply["cursor_start"]:reply["cursor_end"]]


@pytest.fixture(scope="module")
def loaded(kernel):
    outputs = run(kernel, "%load_ext mlfilter", "import mlfilter\nfrom mlfilter import F")
    assert outputs == [[], []]
    return kernel


# ---- %mlfilter ----------------------------------------------------------------------------------

def test_the_magic_shows_the_report_with_the_mistake_highlighted(loaded):
    [out] = run(loaded, "%mlfilter params.batch_size = 32")
    data = result(out)
    page = Page(data["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["32"]
    assert "error[MF201]" in page.visible and "help: quote it: '32'" in page.visible
    # the terminal rendering, caret and all, is the text/plain alternative
    assert data["text/plain"].splitlines()[:6] == [
        "error[MF201]: `params.batch_size` holds strings: the number `32` must be quoted",
        " --> filter:1:21", "  |", "1 | params.batch_size = 32", "  |                     ^^",
        "  = help: quote it: '32'"]


def test_the_magic_returns_the_report(loaded):
    [_, out] = run(loaded, "r = %mlfilter --api experiments name = 'x' OR name = 'y'",
                   "(type(r).__name__, r.ok, r.api, [d.code for d in r.errors])")
    assert result(out)["text/plain"] == "('Report', False, 'experiments', ['MF202'])"


def test_the_filter_is_taken_verbatim_no_variable_expansion(loaded):
    [_, out] = run(loaded, "foo = 'EXPANDED'",
                   """%mlfilter tags.a = '{foo}' AND tags.b = '$foo' AND tags.c = '#1' AND x""")
    page = Page(result(out)["text/html"])
    assert "tags.a = '{foo}' AND tags.b = '$foo' AND tags.c = '#1' AND x" in page.visible
    assert "EXPANDED" not in page.visible


def test_a_cell_holds_a_filter_over_several_lines(loaded):
    [out] = run(loaded, "%%mlfilter --api runs\nparams.optimizer = 'adam'\n"
                        "  AND metrics.accuracy > '0.9'\n")
    page = Page(result(out)["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["'0.9'"]
    assert "filter:2:26" in page.visible


def test_schema_snapshot_checks_what_was_logged(loaded):
    [out] = run(loaded, f"%mlfilter --schema {DEMO_SCHEMA} --experiment demo-classifier "
                        "params.optimizer = 'Adam'")
    page = Page(result(out)["text/html"])
    assert page.by_class["mlfilter-highlight"] == ["'Adam'"]
    assert "warning[MF502]" in page.visible and "did you mean 'adam'?" in page.visible


def test_option_values_may_name_notebook_variables(loaded):
    [_, out] = run(loaded, f"snapshot = {str(DEMO_SCHEMA)!r}",
                   "%mlfilter --schema $snapshot params.optimizer = 'Adam'")
    assert "warning[MF502]" in Page(result(out)["text/html"]).visible


@pytest.mark.parametrize("line, message", [
    ("%mlfilter explain params.a = 'b'", "%mlfilter explain counts the runs each condition "
                                         "keeps, so it needs --store URI"),
    ("%mlfilter --api nope params.a = 'b'", "unknown API 'nope': expected one of runs"),
    ("%mlfilter --schema missing.json params.a = 'b'", "cannot read the schema snapshot "
                                                       "missing.json"),
    ("%mlfilter --experiment x params.a = 'b'", "--experiment needs --store or --schema"),
    ("%mlfilter --store $nowhere params.a = 'b'", "$nowhere: the notebook has no variable "
                                                  "'nowhere'"),
    ("%%mlfilter params.a = 'b'\nparams.c = 'd'", "%%mlfilter takes options on its first line"),
])
def test_mistakes_in_using_the_magic_are_one_line_usage_errors(loaded, line, message):
    [out] = run(loaded, line)
    assert stderr(out).startswith("UsageError: " + message), out
    assert not [o for o in out if o["output_type"] == "error"]  # no traceback


def test_the_bare_magic_prints_its_usage(loaded):
    [out] = run(loaded, "%mlfilter")
    assert out[0]["text"].startswith("%mlfilter [--api API] [--store URI | --schema FILE]")


@pytest.mark.mlflow
def test_store_checks_and_explain_run_against_a_real_database(loaded):
    store = "sqlite:///demo.db"  # a copy of the demo store, in the kernel's directory
    [checked, explained, rejected] = run(
        loaded,
        f"%mlfilter --store {store} --experiment demo-classifier params.optimizer = 'Adam'",
        f"%mlfilter explain --store {store} --experiment demo-classifier params.optimizer = "
        "'adam' AND params.batch_size = '128' AND metrics.accuracy > 0.9",
        f"%mlfilter explain --store {store} params.batch_size = 128")
    assert "warning[MF502]" in Page(result(checked)["text/html"]).visible
    data = result(explained)
    page = Page(data["text/html"])
    [emptied] = page.by_class["mlfilter-empties"]
    assert emptied.startswith("params.batch_size = '128'00")
    assert "params.batch_size = '128'        0          0  <- empties the result" in \
        data["text/plain"]
    # a filter MLflow rejects is not counted: its diagnostics are shown instead
    assert Page(result(rejected)["text/html"]).by_class["mlfilter-highlight"] == ["128"]


# ---- rich display of everything else ------------------------------------------------------------

def test_builder_objects_schemas_and_explanations_display_as_html(loaded):
    outs = run(loaded,
               "F.metric('val/loss')",
               f"(F.metric('acc') > 0.9) | (F.param('opt') == {VALUE!r})",
               "mlfilter.search_runs(experiment_ids=['1']).where((F.metric('acc') > 0.9)"
               " | (F.param('opt') == 'adam'))",
               "mlfilter.parse(\"metrics.acc > 0.9 AND params.opt = 'adam'\")",
               "from mlfilter.schema import Schema\nSchema.load('hostile.json')",
               "from mlfilter.explain import Explanation, ExplainRow\n"
               "Explanation('f', (ExplainRow(\"params.a = 'b'\", 0, 0),), 3, 'db')")
    term, predicate, query, filt, schema, explanation = [result(o) for o in outs]
    assert Page(term["text/html"]).by_class["mlfilter-key"] == ["metrics.`val/loss`"]
    assert term["text/plain"] == "F.metric('val/loss')"
    page = Page(predicate["text/html"])
    assert "script" not in page.tags and VALUE in page.visible
    assert "several searches" in page.visible
    assert "2 searches" in Page(query["text/html"]).visible
    assert Page(filt["text/html"]).by_class["mlfilter-key"] == ["metrics.acc", "params.opt"]
    page = Page(schema["text/html"])
    assert "script" not in page.tags and HOSTILE in page.visible and "val/loss" in page.visible
    assert schema["text/plain"].startswith(f"schema of sqlite:///{HOSTILE}.db: 2 experiments")
    assert Page(explanation["text/html"]).by_class["mlfilter-empties"][0].startswith(
        "params.a = 'b'")


def test_schema_keys_are_terms_and_a_missing_one_says_what_was_logged(loaded):
    [_, term, predicate, missing] = run(
        loaded, "from mlfilter.schema import Schema\nschema = Schema.load('hostile.json')",
        "schema.metrics.accuracy", "schema.metrics['val/loss'] < 0.3", "schema.metrics.acc")
    assert result(term)["text/plain"] == "F.metric('accuracy')"
    assert result(predicate)["text/plain"] == "metrics.`val/loss` < 0.3"
    [error] = missing
    assert error["ename"] == "AttributeError"
    assert error["evalue"].startswith("no metric 'acc' was logged in ")
    assert error["evalue"].endswith("did you mean 'accuracy'?")


# ---- completion ---------------------------------------------------------------------------------

@pytest.fixture
def schema_in_use(loaded):
    outs = run(loaded, "from mlfilter.schema import Schema\nschema = Schema.load('hostile.json')\n"
                       "mlfilter.use_schema(schema);")
    assert outs == [[]]
    yield loaded
    run(loaded, "mlfilter.use_schema(None);")


def test_term_calls_complete_keys_of_the_active_schema(schema_in_use):
    assert complete(schema_in_use, 'F.metric("') == (["accuracy", "f1", "val/loss"], "")
    assert complete(schema_in_use, 'q = F.metric("val') == (["val/loss"], "val")
    assert complete(schema_in_use, "F.param('op") == (["optimizer"], "op")
    assert complete(schema_in_use, 'F.tag("mlf') == (["mlflow.runName"], "mlf")
    # in the middle of a line, the cursor decides
    code = 'F.metric("ac") > 0.5'
    assert complete(schema_in_use, code, code.index('")') ) == (["accuracy"], "ac")


def test_schema_attributes_and_items_complete_their_keys(schema_in_use):
    assert complete(schema_in_use, "schema.metrics.") == (["accuracy", "f1"], "")
    assert complete(schema_in_use, "schema.metrics.ac") == (["accuracy"], "ac")
    assert complete(schema_in_use, 'schema.metrics["val') == (["val/loss"], "val")
    assert complete(schema_in_use, "schema.tags['") == (["mlflow.runName"], "")


def test_magic_lines_and_cells_complete_keys_as_filters_write_them(schema_in_use):
    assert complete(schema_in_use, "%mlfilter params.opt") == (["params.optimizer"],
                                                               "params.opt")
    assert complete(schema_in_use, "%mlfilter metrics.accuracy > 0.5 AND metrics.val") == (
        ["metrics.`val/loss`"], "metrics.val")
    assert complete(schema_in_use, "%%mlfilter\nparams.optimizer = 'adam'\nAND metrics.a") == (
        ["metrics.accuracy"], "metrics.a")


def test_unloading_removes_the_magic_and_the_completer_and_reloading_restores_them(schema_in_use):
    [unloaded, gone, reloaded, back] = run(
        schema_in_use, "%unload_ext mlfilter", "%mlfilter params.a = 'b'", "%load_ext mlfilter",
        "%mlfilter params.a = 'b'")
    assert unloaded == [] and reloaded == []
    assert "Line magic function `%mlfilter` not found" in stderr(gone)
    assert "MLflow accepts this filter" in result(back)["text/plain"]
    assert complete(schema_in_use, 'F.metric("ac') == (["accuracy"], "ac")
    [count] = run(schema_in_use, "[getattr(m, 'matcher_identifier', None) for m in "
                                 "get_ipython().Completer.custom_matchers].count('mlfilter.keys')")
    assert result(count)["text/plain"] == "1"


def test_without_an_active_schema_term_calls_offer_no_keys(loaded):
    run(loaded, "mlfilter.use_schema(None);")
    matches, _ = complete(loaded, 'F.metric("ac')
    assert "accuracy" not in matches
