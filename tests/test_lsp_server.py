"""`mlfilter server` driven end to end by a real LSP client (pytest-lsp) over stdio: diagnostics
like `mlfilter lint`'s at the exact range, quick fixes and fix-all applied and re-checked, hover,
key completion from a schema snapshot, noqa, debouncing, and a lint path that stays light."""

from __future__ import annotations

import json
import os
import pprint
import subprocess
import sys

import pytest
import pytest_asyncio
from lsprotocol import types

import mlfilter
from lsp_client import (apply_edits, diagnostics, edits_of, open_python, replace_all,
                        server_info, serving)
from mlfilter.schema import ExperimentInfo, KeyInfo, Schema

pytestmark = pytest.mark.asyncio(loop_scope="module")

KEYS = {"metrics": ["acc", "val/loss", 'q"k'], "params": ["optimizer", "batch size"],
        "tags": ["mlflow.runName"]}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("workspace")
    schema = Schema(source="test", experiments={"1": ExperimentInfo("1", "exp", **{
        entity: {k: KeyInfo(entities=3, active=3) for k in keys}
        for entity, keys in KEYS.items()})})
    schema.dump(root / "schema.json")
    (root / "pyproject.toml").write_text('[tool.mlfilter]\nschema = "schema.json"\n')
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root):
    async with serving(root) as client:
        yield client


def _hover(client, uri, line, character):
    return client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(line, character)))


def _actions(client, uri, rng, only=None):
    return client.text_document_code_action_async(types.CodeActionParams(
        types.TextDocumentIdentifier(uri), rng, types.CodeActionContext(diagnostics=[], only=only)))


def _complete(client, uri, line, character):
    return client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), types.Position(line, character)))


BAD = 'import mlflow\n\nruns = mlflow.search_runs(["1"], "params.batch_size = 32")\n'


async def test_diagnostic_at_the_range_of_the_value_with_code_and_link(client, root):
    uri = open_python(client, root / "bad.py", BAD)
    [d] = await diagnostics(client, uri, 1)
    line = BAD.splitlines()[2]
    assert (d.range.start.line, d.range.start.character) == (2, line.index("32"))
    assert (d.range.end.line, d.range.end.character) == (2, line.index("32") + 2)
    assert d.code == "MF201" and d.source == "mlfilter"
    assert d.severity == types.DiagnosticSeverity.Error
    assert d.message.startswith("`params.batch_size` holds strings")
    assert "help: quote it: '32'" in d.message
    anchor = d.code_description.href.split("#")[1]
    assert anchor == "mf201-unquoted-value"
    with open(os.path.join(os.path.dirname(__file__), "..", "docs", "rules.md"),
              encoding="utf-8") as f:
        assert "## MF201 `unquoted-value`" in f.read()  # the section the link's anchor names


async def test_same_findings_as_mlfilter_lint(client, root):
    text = ('import mlflow\nfrom mlflow import MlflowClient\nclient = MlflowClient()\n'
            'a = mlflow.search_runs(["1"], "params.bs = 32 OR metrics.acc > 0.8")\n'
            'b = client.search_experiments(filter_string="name like \'prod-%\'", '
            'max_results=100_000)\n'
            'c = mlflow.search_runs(["1"], "status = \'COMPLETED\'", order_by="metrics.acc")\n')
    path = root / "same.py"
    path.write_text(text)
    lint = subprocess.run([sys.executable, "-m", "mlfilter", "lint", "--format", "json",
                           str(path)], capture_output=True, text=True, cwd=root)
    expected = sorted((d["code"], d["line"] - 1, d["column"] - 1, d["end_line"] - 1,
                       d["end_column"] - 1, d["severity"])
                      for d in json.loads(lint.stdout)["diagnostics"])
    assert len(expected) >= 5
    uri = open_python(client, path, text)
    got = await diagnostics(client, uri, 1)
    names = {1: "error", 2: "warning", 3: "info"}
    assert sorted((d.code, d.range.start.line, d.range.start.character, d.range.end.line,
                   d.range.end.character, names[d.severity]) for d in got) == expected


async def test_columns_count_utf16_units(client, root):
    text = 'import mlflow\nx = "\U0001F600é"; mlflow.search_runs(["1"], "params.bs = 32")\n'
    uri = open_python(client, root / "emoji.py", text)
    [d] = await diagnostics(client, uri, 1)
    prefix = text.splitlines()[1].split("32")[0]
    assert d.range.start.character == len(prefix.encode("utf-16-le")) // 2 == len(prefix) + 1


async def test_an_edit_rechecks_the_document(client, root):
    uri = open_python(client, root / "edit.py", BAD)
    assert len(await diagnostics(client, uri, 1)) == 1
    line = BAD.splitlines()[2]
    start = line.index("32")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(2, start), types.Position(2, start + 2)),
            text="'32' OR params.x = 'y'")]))
    [d] = await diagnostics(client, uri, 2)
    assert d.code == "MF202" and d.range.start.character == line.index("32") + 5


async def test_quick_fixes_safe_and_unsafe_are_applied_and_rechecked(client, root):
    text = ('import mlflow\nmlflow.search_runs(["1"], "metrics.acc > \'0.9\'")\n'
            'mlflow.search_runs(["1"], "atributes.status = \'FINISHED\'")\n')
    uri = open_python(client, root / "quick.py", text)
    found = await diagnostics(client, uri, 1)
    assert [d.code for d in found] == ["MF211", "MF209"]
    version = 1
    for d, applicability in zip(found, ("safe", "unsafe")):
        actions = await _actions(client, uri, d.range, only=[types.CodeActionKind.QuickFix])
        [action] = [a for a in actions if a.diagnostics and a.diagnostics[0].code == d.code]
        assert action.kind == types.CodeActionKind.QuickFix
        assert f"{applicability} fix" in action.title
        assert action.is_preferred is (applicability == "safe")
        text = apply_edits(text, edits_of(action, uri))
        version += 1
        replace_all(client, uri, text, version)
        left = await diagnostics(client, uri, version)
        assert d.code not in [x.code for x in left]
    assert "metrics.acc > 0.9" in text and "attributes.status" in text
    assert not left


async def test_fix_all_applies_every_safe_fix_like_lint_fix(client, root):
    from mlfilter.config import Config
    from mlfilter.lint.runner import fix_text

    text = ('import mlflow\n'
            'a = mlflow.search_runs(["1"], "metrics.acc > \'1\' AND metrics.acc == 2")\n'
            'b = mlflow.search_experiments(filter_string="name like \'x%\'")\n'
            'c = mlflow.search_runs(["1"], "atributes.status = \'FINISHED\'")\n')
    uri = open_python(client, root / "fixall.py", text)
    assert sorted(d.code for d in await diagnostics(client, uri, 1)) == [
        "MF205", "MF209", "MF211", "MF222"]
    actions = await _actions(client, uri, types.Range(types.Position(0, 0), types.Position(0, 0)),
                             only=["source.fixAll.mlfilter"])
    [action] = actions
    assert action.kind == "source.fixAll.mlfilter"
    fixed = apply_edits(text, edits_of(action, uri))
    assert fixed == fix_text(text, Config())[0]
    replace_all(client, uri, fixed, 2)
    left = [d.code for d in await diagnostics(client, uri, 2)]
    assert "MF209" in left  # unsafe: left for the user
    assert not {"MF205", "MF211", "MF222"} & set(left)


async def test_noqa_is_respected(client, root):
    text = ('import mlflow\nmlflow.search_runs(["1"], "params.bs = 32")  # noqa: MF201\n'
            'mlflow.search_runs(["1"], "params.bs = 32")  # noqa: MF3\n')
    uri = open_python(client, root / "noqa.py", text)
    found = await diagnostics(client, uri, 1)
    assert sorted((d.code, d.range.start.line) for d in found) == [("MF201", 2), ("MF902", 2)]


async def test_hover_shows_the_rule_and_how_mlflow_reads_the_filter(client, root):
    good = "metrics.acc > 0.9 AND params.optimizer = 'adam'"
    text = f'import mlflow\nmlflow.search_runs(["1"], "{good}")\n' + BAD.split("\n", 2)[2]
    uri = open_python(client, root / "hover.py", text)
    await diagnostics(client, uri, 1)
    line = text.splitlines()[1]
    h = await _hover(client, uri, 1, line.index("metrics") + 3)
    assert pprint.pformat(mlfilter.parse(good).to_mlflow(), width=72, sort_dicts=False) \
        in h.contents.value
    assert "'type': 'metric'" in h.contents.value
    assert (h.range.start.character, h.range.end.character) == (line.index('"metrics'),
                                                                line.rindex('"') + 1)
    bad_line = text.splitlines()[2]
    h = await _hover(client, uri, 2, bad_line.index("32") + 1)
    assert "**MF201** `unquoted-value`" in h.contents.value
    assert "#mf201-unquoted-value" in h.contents.value
    assert "MLflow rejects this filter" in h.contents.value
    assert await _hover(client, uri, 0, 3) is None  # `import`: nothing to say


def _labels(result):
    return {item.label: item for item in result.items}


async def test_completion_of_keys_in_a_filter_string_from_the_snapshot(client, root):
    text = 'import mlflow\nmlflow.search_runs(["1"], "metrics.acc > 1 AND metrics.")\n'
    uri = open_python(client, root / "complete.py", text)
    await diagnostics(client, uri, 1)
    line = text.splitlines()[1]
    cursor = line.rindex("metrics.") + len("metrics.")
    items = _labels(await _complete(client, uri, 1, cursor))
    assert set(items) == {"metrics.acc", "metrics.`val/loss`", 'metrics.`q"k`'}
    item = items["metrics.`val/loss`"]
    assert item.text_edit.range.start.character == line.rindex("metrics.")
    assert item.text_edit.range.end.character == cursor
    assert items['metrics.`q"k`'].text_edit.new_text == 'metrics.`q\\"k`'  # escaped for "..."
    done = apply_edits(text, [item.text_edit])
    assert 'metrics.acc > 1 AND metrics.`val/loss`")' in done
    replace_all(client, uri, done.replace('")', ' < 1")'), 2)
    assert not await diagnostics(client, uri, 2)  # the completed key is a known key


async def test_completion_narrows_on_what_is_typed_and_in_builder_terms(client, root):
    text = ('from mlfilter import F\nimport mlflow\n'
            'mlflow.search_runs(["1"], "params.`batch size` = \'1\' AND params.b")\n'
            'term = F.metric("va")\n')
    uri = open_python(client, root / "narrow.py", text)
    await diagnostics(client, uri, 1)
    line = text.splitlines()[2]
    items = _labels(await _complete(client, uri, 2, line.rindex('")')))
    assert set(items) == {"params.`batch size`"}
    term = text.splitlines()[3]
    items = _labels(await _complete(client, uri, 3, term.index('va")') + 2))
    assert set(items) == {"val/loss"}
    assert items["val/loss"].text_edit.range.start.character == term.index("va")


async def test_completion_while_the_string_is_still_open(client, root):
    text = 'import mlflow\nmlflow.search_runs(["1"], "tags.mlf\n'
    uri = open_python(client, root / "open.py", text)
    assert [d.code for d in await diagnostics(client, uri, 1)] == ["MF913"]
    items = _labels(await _complete(client, uri, 1, len(text.splitlines()[1])))
    assert set(items) == {"tags.mlflow.runName"}
    items = await _complete(client, uri, 0, 6)  # in `import mlflow`: nothing
    assert not items.items


async def test_a_burst_of_edits_is_linted_once_it_settles(client, root):
    uri = open_python(client, root / "burst.py", BAD)
    await diagnostics(client, uri, 1)
    before = len(client.published)
    text = BAD
    for version in range(2, 32):
        text += "#"
        replace_all(client, uri, text, version)
    assert len(await diagnostics(client, uri, 31)) == 1
    ours = [p for p in client.published[before:] if p.uri == uri]
    assert len(ours) < 10  # 30 edits sent at once: linted a few times, not 30
    assert ours[-1].version == 31


async def test_the_lint_path_stays_light(client, root):
    text = 'import mlflow\nmlflow.search_runs(["1"], "metrics.acc > 1 AND metrics.")\n'
    uri = open_python(client, root / "light.py", text)
    assert await diagnostics(client, uri, 1)
    line = text.splitlines()[1]
    assert (await _hover(client, uri, 1, line.index("acc"))).contents.value
    assert (await _complete(client, uri, 1, line.rindex('")'))).items
    await _actions(client, uri, types.Range(types.Position(1, 0), types.Position(1, 0)))
    info = await server_info(client)
    assert uri in info["documents"]
    assert info["heavy_modules"] == []  # linted with a snapshot, hovered, completed
    assert info["store"] is None
