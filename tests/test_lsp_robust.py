"""`mlfilter server` keeps answering whatever it is sent: Python that does not parse, a 50 MB
document, nesting too deep for Python's parser, NUL characters and lone surrogates, changes to
documents it never saw, positions past the end, requests with invalid parameters, a notebook
change for an unknown notebook."""

from __future__ import annotations

import pytest
import pytest_asyncio
from lsprotocol import types

from lsp_client import (diagnostics, eventually, open_python, replace_all, send_raw, server_info,
                        serving, uri_of)

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD = 'import mlflow\nmlflow.search_runs(["1"], "params.batch_size = 32")\n'


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory):
    async with serving(tmp_path_factory.mktemp("robust")) as client:
        yield client


async def _still_answers(client, root, name: str) -> None:
    """The server lints a new document right and answers a request."""
    uri = open_python(client, root / f"{name}.py", BAD)
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "MF201" and d.range.start.line == 1
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(1, BAD.splitlines()[1].index("32"))))
    assert "MF201" in hover.contents.value
    assert (await server_info(client))["pid"]


async def test_a_syntax_error_is_reported_then_cleared(client, tmp_path):
    text = 'import mlflow\nmlflow.search_runs(["1"], "params.a = 1"\nx = (\n'
    uri = open_python(client, tmp_path / "syntax.py", text)
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "MF913" and "syntax error" in d.message
    replace_all(client, uri, BAD, 2)
    assert [d.code for d in await diagnostics(client, uri, 2)] == ["MF201"]
    await _still_answers(client, tmp_path, "after_syntax")


async def test_a_50_mb_document(client, tmp_path):
    line = 'x = mlflow.search_runs(["1"], "params.batch_size = 32")  # padding padding\n'
    text = "import mlflow\n" + line * (50_000_000 // len(line))
    uri = open_python(client, tmp_path / "huge.py", text)
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "MF912" and "byte limit (max-file-size)" in d.message
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(1, 0), types.Position(1, 1)), text="y")]))
    [d] = await diagnostics(client, uri, 2)
    assert d.code == "MF912"
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri)))
    await _still_answers(client, tmp_path, "after_huge")


@pytest.mark.parametrize("name, text, codes", [
    ("deep", "import mlflow\nx = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
     'mlflow.search_runs(["1"], "params.a = 1")\n', ["MF913"]),
    ("nul", 'import mlflow\nmlflow.search_runs(["1"], "params.a = \'\\x00\'")\n\x00', ["MF913"]),
    ("surrogate", 'import mlflow\nmlflow.search_runs(["1"], "params.a = \'\ud800\'")\n', None),
    ("garbage", "search_runs" + "\x7f\u2028\x0c{[(" * 2000, ["MF913"]),
])
async def test_hostile_text(client, tmp_path, name, text, codes):
    uri = open_python(client, tmp_path / f"{name}.py", text)
    found = await diagnostics(client, uri, 1)
    if codes is not None:
        assert [d.code for d in found] == codes
    await _still_answers(client, tmp_path, f"after_{name}")


async def test_changes_and_requests_that_make_no_sense(client, tmp_path):
    never = uri_of(tmp_path / "never_opened.py")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=never, version=2),
        [types.TextDocumentContentChangeWholeDocument(text=BAD)]))
    uri = open_python(client, tmp_path / "ranges.py", BAD)
    await diagnostics(client, uri, 1)
    far = types.Position(10_000, 10_000)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(range=types.Range(far, types.Position(0, 0)),
                                                text="")]))
    assert not await diagnostics(client, uri, 2)  # everything deleted, in reversed order
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(never), far))
    assert hover is None
    done = await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), far))
    assert not done or not done.items
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(never), types.Range(far, far),
        types.CodeActionContext(diagnostics=[])))
    assert not actions
    client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
        types.VersionedNotebookDocumentIdentifier(version=2, uri=uri_of(tmp_path / "no.ipynb")),
        types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
            structure=types.NotebookDocumentCellChangeStructure(
                array=types.NotebookCellArrayChange(start=99, delete_count=5))))))
    send_raw(client, {"jsonrpc": "2.0", "id": 9001, "method": types.TEXT_DOCUMENT_HOVER,
                      "params": {"textDocument": {"uri": uri}}})  # no position
    send_raw(client, {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_OPEN,
                      "params": {"textDocument": 42}})
    send_raw(client, {"jsonrpc": "2.0", "id": 9002, "method": "mlfilter/noSuchMethod"})
    send_raw(client, b"{not json at all")
    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"mlfilter": {"store": "bogus://nowhere", "debounce": "soon"}}))
    await _still_answers(client, tmp_path, "after_nonsense")
    assert any("`debounce` must be a number" in m.message for m in client.messages)
    await eventually(lambda: any("cannot read the store bogus://" in m.message
                                 for m in client.messages))
