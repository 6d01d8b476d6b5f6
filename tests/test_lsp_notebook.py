"""Notebooks in `mlfilter server` (LSP 3.17 notebook documents, each cell its own text document):
findings land in the cell they are about, as `mlfilter lint` numbers them; cells added, edited
and removed; quick fixes, fix-all and hover in a cell; a notebook open as its JSON text."""

from __future__ import annotations

import json

import pytest
import pytest_asyncio
from lsprotocol import types

from lsp_client import (apply_edits, diagnostics, edits_of, server_info, serving, uri_of,
                        wait_for)
from mlfilter.config import Config
from mlfilter.lint import lint_paths

pytestmark = pytest.mark.asyncio(loop_scope="module")

CELLS = [
    ("markdown", "# Runs\nSearch them."),
    ("code", "%matplotlib inline\nimport mlflow\nFILTER = \"params.bs = 32\"\n"),
    ("code", "!pip list\nruns = mlflow.search_runs(filter_string=FILTER)\n"
             "best = mlflow.search_runs([\"1\"], \"metrics.acc > 0.9 OR metrics.f1 > 0.5\")"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory):
    async with serving(tmp_path_factory.mktemp("notebooks")) as client:
        yield client


def _cell_uri(path, i: int) -> str:
    return f"vscode-notebook-cell:{path}#cell{i}"


def _open(client, path, cells, prefix: str = "c") -> tuple[str, list[str]]:
    uri = uri_of(path)
    cell_uris = [_cell_uri(path, f"{prefix}{i}") for i in range(len(cells))]
    client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
        types.NotebookDocument(uri=uri, notebook_type="jupyter-notebook", version=1, cells=[
            types.NotebookCell(kind=types.NotebookCellKind.Markup if kind == "markdown" else
                               types.NotebookCellKind.Code, document=c)
            for (kind, _), c in zip(cells, cell_uris)]),
        [types.TextDocumentItem(uri=c, language_id="markdown" if kind == "markdown" else "python",
                                version=1, text=text)
         for (kind, text), c in zip(cells, cell_uris)]))
    return uri, cell_uris


def _ipynb(cells) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True),
         **({"outputs": [], "execution_count": None} if kind == "code" else {})}
        for kind, text in cells]}, indent=1)


def _spans(found):
    return sorted((d.code, d.range.start.line, d.range.start.character, d.range.end.line,
                   d.range.end.character) for d in found)


async def test_findings_land_in_their_cells_as_lint_numbers_them(client, tmp_path):
    path = tmp_path / "runs.ipynb"
    path.write_text(_ipynb(CELLS))
    lint = lint_paths([str(path)], Config(root=str(tmp_path))).reported
    assert {r.cell for r in lint} == {2, 3}
    _uri, cells = _open(client, path, CELLS)
    for number, cell_uri in enumerate(cells, start=1):
        got = await wait_for(client, lambda p: p.uri == cell_uri)
        expected = sorted((r.code, r.line - 1, r.col - 1, r.end_line - 1, r.end_col - 1)
                          for r in lint if r.cell == number)
        assert _spans(got.diagnostics) == expected
    [bs] = client.diagnostics[cells[1]]
    line = CELLS[1][1].splitlines()[2]
    assert (bs.code, bs.range.start.line, bs.range.start.character) == (
        "MF201", 2, line.index("32"))  # the constant's literal, under a magic line


async def test_cells_added_edited_and_removed(client, tmp_path):
    path = tmp_path / "edit.ipynb"
    uri, cells = _open(client, path, CELLS)
    await wait_for(client, lambda p: p.uri == cells[2] and p.diagnostics)
    new_cell = _cell_uri(path, "new")
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=2, uri=uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=1, delete_count=0, cells=[
                    types.NotebookCell(kind=types.NotebookCellKind.Code, document=new_cell)]),
                did_open=[types.TextDocumentItem(
                    uri=new_cell, language_id="python", version=1,
                    text='import mlflow\nmlflow.search_experiments(filter_string="name like \'a%\'")\n')]),
            text_content=[types.NotebookDocumentCellContentChanges(
                document=types.VersionedTextDocumentIdentifier(uri=cells[2], version=2),
                changes=[types.TextDocumentContentChangeWholeDocument(
                    text="runs = mlflow.search_runs(filter_string=FILTER)\n")])]))))
    added = await wait_for(client, lambda p: p.uri == new_cell)
    assert [d.code for d in added.diagnostics] == ["MF222"]
    edited = await wait_for(client, lambda p: p.uri == cells[2] and p.version == 2)
    assert not edited.diagnostics  # the OR is gone; FILTER's problem stays in its own cell
    assert [d.code for d in client.diagnostics[cells[1]]] == ["MF201"]
    mark = len(client.published)
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=3, uri=uri),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=1, delete_count=1),
                did_close=[types.TextDocumentIdentifier(uri=new_cell)])))))
    cleared = await wait_for(client, lambda p: p.uri == new_cell, since=mark)
    assert not cleared.diagnostics
    info = await server_info(client)
    assert new_cell not in info["documents"] and cells[2] in info["documents"]


async def test_quick_fix_fix_all_and_hover_in_a_cell(client, tmp_path):
    path = tmp_path / "fix.ipynb"
    cells_text = [("code", "import mlflow\nA = mlflow.search_runs([\"1\"], \"params.a = 1\")\n"),
                  ("code", "B = mlflow.search_runs([\"1\"], \"params.b = 2 AND params.c == 'x'\")\n")]
    _uri, cells = _open(client, path, cells_text)
    got = await wait_for(client, lambda p: p.uri == cells[1] and p.diagnostics)
    assert sorted(d.code for d in got.diagnostics) == ["MF201", "MF205"]
    d = next(d for d in got.diagnostics if d.code == "MF201")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(cells[1]), d.range,
        types.CodeActionContext(diagnostics=[d], only=[types.CodeActionKind.QuickFix])))
    [quick] = [a for a in actions if a.diagnostics[0].code == "MF201"]
    assert apply_edits(cells_text[1][1], edits_of(quick, cells[1])) == \
        "B = mlflow.search_runs([\"1\"], \"params.b = '2' AND params.c == 'x'\")\n"
    [fix_all] = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(cells[1]), d.range,
        types.CodeActionContext(diagnostics=[], only=["source.fixAll.mlfilter"])))
    assert edits_of(fix_all, cells[0]) == []  # the other cell's fixes are its own
    fixed = apply_edits(cells_text[1][1], edits_of(fix_all, cells[1]))
    assert fixed == "B = mlflow.search_runs([\"1\"], \"params.b = '2' AND params.c = 'x'\")\n"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=cells[1], version=2),
        [types.TextDocumentContentChangeWholeDocument(text=fixed)]))
    assert not (await wait_for(client, lambda p: p.uri == cells[1] and p.version == 2)).diagnostics
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(cells[1]), types.Position(0, fixed.index("params.b") + 2)))
    assert "'key': 'b'" in hover.contents.value and "'value': '2'" in hover.contents.value


async def test_a_cell_that_does_not_parse_leaves_the_others_checked(client, tmp_path):
    path = tmp_path / "broken.ipynb"
    cells_text = [("code", "def broken(:\n"),
                  ("code", "import mlflow\nmlflow.search_runs([\"1\"], \"params.a = 1\")\n")]
    _uri, cells = _open(client, path, cells_text, prefix="b")
    broken = await wait_for(client, lambda p: p.uri == cells[0])
    assert [d.code for d in broken.diagnostics] == ["MF913"]
    fine = await wait_for(client, lambda p: p.uri == cells[1])
    assert [d.code for d in fine.diagnostics] == ["MF201"]


async def test_a_notebook_open_as_json_text(client, tmp_path):
    path = tmp_path / "raw.ipynb"
    text = _ipynb(CELLS)
    path.write_text(text)
    lint = lint_paths([str(path)], Config(root=str(tmp_path))).reported
    uri = uri_of(path)
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="json", version=1, text=text)))
    found = await diagnostics(client, uri, 1)
    assert _spans(found) == sorted((r.code, r.file_pos[0] - 1, r.file_pos[1] - 1,
                                    r.file_pos[2] - 1, r.file_pos[3] - 1) for r in lint)
    [fix_all] = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), found[0].range,
        types.CodeActionContext(diagnostics=[], only=["source.fixAll.mlfilter"])))
    fixed = json.loads(apply_edits(text, edits_of(fix_all, uri)))
    assert "FILTER = \"params.bs = '32'\"\n" in fixed["cells"][1]["source"]


async def test_key_completion_in_a_cell(client, tmp_path):
    from mlfilter.schema import ExperimentInfo, KeyInfo, Schema

    Schema(source="test", experiments={"1": ExperimentInfo("1", "exp", metrics={
        "val/loss": KeyInfo(entities=2, active=2)})}).dump(tmp_path / "schema.json")
    (tmp_path / "pyproject.toml").write_text('[tool.mlfilter]\nschema = "schema.json"\n')
    cells_text = [("markdown", "# keys"), ("code", "%time\nimport mlflow\n"),
                  ("code", 'x = 1\nruns = mlflow.search_runs(["1"], "metrics.v")\n')]
    _uri, cells = _open(client, tmp_path / "keys.ipynb", cells_text, prefix="k")
    await wait_for(client, lambda p: p.uri == cells[2])
    line = cells_text[2][1].splitlines()[1]
    done = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(cells[2]), types.Position(1, line.index('v")') + 1)))
    [item] = done.items
    assert item.label == "metrics.`val/loss`"
    assert item.text_edit.range.start == types.Position(1, line.index("metrics."))
