"""The language server's parts that need no client: LSP positions over the lines Python and LSP
agree on, incremental edits, the editor's settings, and `mlfilter server` without the extra."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsprotocol import types

from hypothesis_settings import examples_settings
from mlfilter.lsp.documents import Lines, TextDocument, units
from mlfilter.lsp.settings import EditorSettings

ENCODINGS = ("utf-16", "utf-8", "utf-32")
TEXT = st.lists(st.sampled_from(["a", "é", "\U0001F600", "\n", "\r\n", "\r", "\x0c", "\u2028",
                                 " ", '"']), max_size=40).map("".join)


def test_lines_end_where_python_ends_them():
    # A form feed and U+2028 are no line breaks for Python's tokenizer or for LSP.
    text = "a\x0cb\u2028c\r\nd\re\nf"
    lines = Lines(text)
    assert [lines.line(i) for i in range(len(lines.starts))] == ["a\x0cb\u2028c", "d", "e", "f"]
    assert lines.position(text.index("f"), "utf-16") == (3, 0)


def test_columns_in_each_encoding():
    lines = Lines("x = '\U0001F600é' + y\n")
    offset = lines.text.index("y")
    assert lines.position(offset, "utf-16") == (0, 12)
    assert lines.position(offset, "utf-8") == (0, 15)
    assert lines.position(offset, "utf-32") == (0, 11)
    for encoding in ENCODINGS:
        assert lines.offset(*lines.position(offset, encoding), encoding) == offset
    assert lines.offset(0, 999, "utf-16") == len("x = '\U0001F600é' + y")  # past the end
    assert lines.offset(7, 0, "utf-16") == len(lines.text)


@examples_settings("MLFILTER_LSP_EXAMPLES", 300)
@given(TEXT, st.data())
def test_offsets_and_positions_round_trip(text, data):
    lines = Lines(text)
    offset = data.draw(st.integers(0, len(text)))
    if text[offset - 1 : offset + 1] == "\r\n":
        offset -= 1  # inside a line break: no position stands there
    for encoding in ENCODINGS:
        line, character = lines.position(offset, encoding)
        assert lines.offset(line, character, encoding) == offset
        assert character == units(text[lines.starts[line] : offset], encoding)


@examples_settings("MLFILTER_LSP_EXAMPLES", 300)
@given(TEXT, TEXT, st.data())
def test_incremental_changes_splice_the_text(text, new, data):
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    if text[a - 1 : a + 1] == "\r\n" or text[b - 1 : b + 1] == "\r\n":
        return
    doc = TextDocument("file:///x.py", text)
    lines = doc.lines
    start, end = lines.position(a, "utf-16"), lines.position(b, "utf-16")
    doc.apply([types.TextDocumentContentChangePartial(
        range=types.Range(types.Position(*start), types.Position(*end)), text=new)], 2, "utf-16")
    assert doc.text == text[:a] + new + text[b:]
    assert doc.version == 2


@pytest.mark.parametrize("options, expected, problems", [
    (None, EditorSettings(), 0),
    ({"mlfilter": {"store": "sqlite:///m.db", "experiments": "1", "debounce": 10}},
     EditorSettings("sqlite:///m.db", ("1",), 10), 0),
    ({"store": 3, "experiments": [{}], "debounce": -1}, EditorSettings(), 3),
])
def test_editor_settings(options, expected, problems):
    got, found = EditorSettings.from_options(options)
    assert got == expected
    assert len(found) == problems


def test_server_without_the_lsp_extra_says_how_to_get_it():
    code = ("import sys; sys.modules['pygls'] = None\n"
            "from mlfilter.cli import main\nsys.exit(main(['server']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2
    assert "pip install 'mlfilter[lsp]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_handler_that_raises_answers_its_default():
    from mlfilter.lsp.server import MlfilterServer, guarded

    server = MlfilterServer()

    @guarded(server, default=["default"])
    def broken(params):
        return params["missing"]

    assert broken({}) == ["default"]  # logged (to the editor when there is one), not raised


def _blocks(language: str) -> list[str]:
    import os
    import re

    path = os.path.join(os.path.dirname(__file__), "..", "docs", "editors.md")
    with open(path, encoding="utf-8") as f:
        return re.findall(rf"```{language}\n(.*?)```", f.read(), re.S)


def test_the_editor_set_ups_in_the_docs_parse_and_run_the_server():
    import json

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    [vscode] = [json.loads(b) for b in _blocks("json")]
    assert vscode["glspc.server.commandArguments"] == ["server"]
    options, problems = EditorSettings.from_options(vscode["glspc.server.initializationOptions"])
    assert not problems and options.store and options.debounce_ms == 50
    assert "source.fixAll.mlfilter" in vscode["editor.codeActionsOnSave"]
    [helix] = [tomllib.loads(b) for b in _blocks("toml")]
    server = helix["language-server"]["mlfilter"]
    assert [server["command"], *server["args"]] == ["mlfilter", "server"]
    assert not EditorSettings.from_options(server["config"])[1]
    assert "mlfilter" in helix["language"][0]["language-servers"]
    lua = _blocks("lua")
    assert len(lua) == 2 and all('{ "mlfilter", "server" }' in b for b in lua)
