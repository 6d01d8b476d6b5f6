"""The incremental parse (mlfilter/lint/incremental.py) is `ast.parse` by another road: after
any sequence of edits, the same tree with the same positions, the same syntax errors, and the
same walk for the linter's scan. Edits are drawn to break things: quotes, brackets, indentation,
line continuations, decorators, `;`, and every kind of line break."""

from __future__ import annotations

import ast
import glob
import os

from hypothesis import example, given
from hypothesis import strategies as st

from hypothesis_settings import examples_settings
from mlfilter.lint.incremental import IncrementalParser
from mlfilter.lint.runner import _Skip
from mlfilter.lint.scan_py import _Nodes

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = sorted(glob.glob(os.path.join(HERE, "..", "mlfilter", "lint", "*.py")))[:6] + sorted(
    glob.glob(os.path.join(HERE, "lint_fixtures", "*.py")))[:6]
TEXTS = [open(p, encoding="utf-8").read() for p in SOURCES] + [
    "import mlflow\n\n@dec\ndef f():\n    return mlflow.search_runs(['1'], 'params.a = 1')\n"
    "x = 1; y = 2\nif x:\n    pass\nelse:\n    pass\n"]
SNIPPETS = ["", "\n", "x", " ", "    ", "(", ")", '"', "'", '"""', "#", "@dec\n", "\\\n",
            "if x:\n    pass\n", "\r\n", "\r", "def g():\n", "else:\n", ";z=3", "\t", "]",
            'mlflow.search_runs(["1"], "params.a = 1")\n', "class C:\n    y = 1\n", "é"]


def _outcome(tree_or_error):
    if isinstance(tree_or_error, Exception):
        return type(tree_or_error).__name__
    return ast.dump(tree_or_error, include_attributes=True)


def _full(text: str):
    from mlfilter.lint.runner import _parse

    try:
        return _parse(text)
    except _Skip as e:
        return e


def _walk(nodes: _Nodes):
    return ([ast.dump(c, include_attributes=True) for c in nodes.calls],
            [ast.dump(a, include_attributes=True) for a in nodes.assigns],
            [ast.dump(i, include_attributes=True) for i in nodes.imports], nodes.bindings)


EDIT = st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(SNIPPETS))


@examples_settings("MLFILTER_INCREMENTAL_EXAMPLES", 150)
@given(st.sampled_from(range(len(TEXTS))), st.lists(EDIT, min_size=1, max_size=6))
@example(len(TEXTS) - 1, [(0.3, 0, "\n"), (0.3, 1, "")])
@example(len(TEXTS) - 1, [(0.45, 0, '"""'), (0.8, 0, '"""')])
def test_the_same_tree_as_a_full_parse_after_any_edits(index, edits):
    text = TEXTS[index]
    parser = IncrementalParser()
    parsed = [text]
    for at, deleted, snippet in edits:
        pos = int(at * len(text))
        text = text[:pos] + snippet + text[pos + deleted :]
        parsed.append(text)
    for version in parsed:
        try:
            tree, pieces = parser.parse(version)
        except _Skip as e:
            got = e
        else:
            got = tree
            assert _walk(_Nodes(tree, pieces)) == _walk(_Nodes(ast.parse(version)))
        assert _outcome(got) == _outcome(_full(version))


def test_an_edit_inside_one_statement_reuses_the_others():
    text = TEXTS[-1] * 20
    parser = IncrementalParser()
    tree, _ = parser.parse(text)
    kept = tree.body[-1]
    pos = text.index("params.a = 1") + len("params.a = ")
    edited = text[:pos] + "2" + text[pos + 1 :]
    tree, pieces = parser.parse(edited)
    assert parser.reused and tree.body[-1] is kept and id(kept) in pieces
    assert _outcome(tree) == _outcome(ast.parse(edited))
    line = kept.lineno
    at = edited.index("x = 1; y = 2")
    added = edited[:at] + "# a comment\n\n" + edited[at:]  # lines added: the rest moves down
    tree, _ = parser.parse(added)
    assert parser.reused and tree.body[-1] is kept and kept.lineno == line + 2
    assert _outcome(tree) == _outcome(ast.parse(added))
