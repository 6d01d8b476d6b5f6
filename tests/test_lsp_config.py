"""Settings in `mlfilter server`: [tool.mlfilter] of the nearest pyproject.toml, re-read when it
changes (watched files, or its didSave), bad settings shown to the user, `exclude`, a schema
snapshot re-read, and a tracking store named by the editor (the only time SQLAlchemy loads)."""

from __future__ import annotations

import asyncio
import os
import shutil

import pytest
import pytest_asyncio
from lsprotocol import types

import mlfilter
from lsp_client import (after, diagnostics, eventually, open_python, server_info, serving,
                        uri_of)
from mlfilter.schema import ExperimentInfo, KeyInfo, Schema

pytestmark = pytest.mark.asyncio(loop_scope="module")

BAD = 'import mlflow\nmlflow.search_runs(["1"], "params.batch_size = 32")\n'
DEMO_DB = os.path.join(os.path.dirname(mlfilter.__file__), "data", "demo.db")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("settings")
    (root / "pyproject.toml").write_text("[tool.mlfilter]\n")
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root):
    async with serving(root) as client:
        yield client


def _watched(client, path, kind=types.FileChangeType.Changed):
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        [types.FileEvent(uri=uri_of(path), type=kind)]))


async def test_the_server_asks_to_watch_pyproject_files(client):
    [registration] = await eventually(lambda: [
        r for r in client.registrations if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES])
    assert registration.register_options == {"watchers": [{"globPattern": "**/pyproject.toml"}]}


async def test_pyproject_is_read_again_when_it_changes(client, root):
    uri = open_python(client, root / "reload.py", BAD)
    assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF201"]
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[tool.mlfilter]\nignore = ["MF201"]\n')
    waiting = after(client, uri)
    _watched(client, pyproject)
    assert not (await waiting).diagnostics
    pyproject.write_text("[tool.mlfilter]\n")
    waiting = after(client, uri)
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri_of(pyproject))))
    assert [d.code for d in (await waiting).diagnostics] == ["MF201"]


async def test_a_bad_setting_is_shown_and_the_defaults_are_used(client, root):
    folder = root / "bad"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.mlfilter]\nselct = ["MF2"]\n')
    uri = open_python(client, folder / "x.py", BAD)
    assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF201"]
    [message] = [m for m in client.messages if "selct" in m.message]
    assert message.type == types.MessageType.Error
    assert "did you mean `select`?" in message.message


async def test_each_document_takes_its_nearest_settings_and_exclude(client, root):
    sub = root / "sub"
    (sub / "legacy").mkdir(parents=True)
    (sub / "pyproject.toml").write_text(
        '[tool.mlfilter]\nselect = ["MF3"]\nexclude = ["legacy/"]\n')
    text = BAD + 'mlflow.search_runs(["1"], "status = \'COMPLETED\'")\n'
    uri = open_python(client, sub / "x.py", text)
    assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF302"]
    uri = open_python(client, sub / "legacy" / "old.py", text)
    assert not await diagnostics(client, uri, 1)
    uri = open_python(client, root / "top.py", text)
    assert sorted(d.code for d in await diagnostics(client, uri, 1)) == ["MF201", "MF302"]


async def test_a_schema_snapshot_is_read_again_when_it_changes(client, root):
    folder = root / "typed"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.mlfilter]\nschema = "schema.json"\n')

    def dump(keys):
        Schema(source="test", experiments={"1": ExperimentInfo("1", "exp", metrics={
            k: KeyInfo(entities=1, active=1) for k in keys})}).dump(folder / "schema.json")

    dump(["acc"])
    uri = open_python(client, folder / "x.py",
                      'import mlflow\nmlflow.search_runs(["1"], "metrics.loss > 1")\n')
    assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF501"]
    dump(["acc", "loss"])
    waiting = after(client, uri)
    _watched(client, folder / "schema.json")
    assert not (await waiting).diagnostics


async def test_a_store_named_by_the_editor(tmp_path):
    store = tmp_path / "mlflow.db"
    shutil.copy(DEMO_DB, store)
    async with serving(tmp_path, {"store": f"sqlite:///{store}"}) as client:
        for _ in range(300):
            info = await server_info(client)
            if info["store"]["read"] or info["store"]["error"]:
                break
            await asyncio.sleep(0.1)  # the store is read in the background
        assert info["store"] == {"read": True, "error": None}
        assert "sqlalchemy" in info["heavy_modules"]  # read through SQLAlchemy, as asked
        text = 'import mlflow\nmlflow.search_runs(["1"], "params.optimizr = \'adam\'")\n'
        uri = open_python(client, tmp_path / "x.py", text)
        [d] = await diagnostics(client, uri, 1)
        assert d.code == "MF501" and "optimizer" in d.message  # did you mean, from the store
        text = 'import mlflow\nmlflow.search_runs(["1"], "params.opt")\n'
        uri = open_python(client, tmp_path / "y.py", text)
        await diagnostics(client, uri, 1)
        done = await client.text_document_completion_async(types.CompletionParams(
            types.TextDocumentIdentifier(uri), types.Position(1, text.splitlines()[1].index('")'))))
        assert [i.label for i in done.items] == ["params.optimizer"]


async def test_a_store_that_cannot_be_read_is_reported_and_linting_goes_on(tmp_path):
    async with serving(tmp_path, {"store": f"sqlite:///{tmp_path / 'missing.db'}"}) as client:
        uri = open_python(client, tmp_path / "x.py", BAD)
        assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF201"]
        await eventually(lambda: any("cannot read the store" in m.message
                                     for m in client.messages))
        info = await server_info(client)
        assert info["store"]["read"] is False and "no SQLite database" in info["store"]["error"]
