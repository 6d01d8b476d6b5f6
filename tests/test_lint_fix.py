"""`mlfilter lint --fix` and `--diff`: safe fixes go into the string literal and nowhere else.

For each file: fix, re-lint (no safe fix left), fix again (no change), and compare the rest of
the file token by token (only string literal tokens may differ; whitespace, comments, line
endings and encoding stay byte for byte).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import tokenize
from pathlib import Path

import pytest

from mlfilter.cli import main

FIXTURES = Path(__file__).parent / "lint_fixtures"
STRINGY = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1),
           getattr(tokenize, "FSTRING_START", -1), getattr(tokenize, "FSTRING_END", -1)}


def _lint_json(path: Path, *extra: str) -> dict:
    out = io.StringIO()
    import contextlib

    with contextlib.redirect_stdout(out):
        main(["lint", "--format", "json", *extra, str(path)])
    return json.loads(out.getvalue())


def _run(*argv: str) -> int:
    import contextlib

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(["lint", *argv])


def _tokens(text: str):
    """(type, string, gap before it) of each token: gaps hold whitespace and line endings."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out, pos = [], 0
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        start = starts[tok.start[0] - 1] + tok.start[1]
        end = starts[tok.end[0] - 1] + tok.end[1]
        out.append((tok.type, tok.string, text[pos:start]))
        pos = max(pos, end)
    return out


def assert_only_literals_changed(old: str, new: str) -> None:
    a, b = _tokens(old), _tokens(new)
    assert len(a) == len(b)
    for (ta, sa, ga), (tb, sb, gb) in zip(a, b):
        assert ta == tb and ga == gb
        if ta not in STRINGY:
            assert sa == sb


def _safe_fixes(report: dict) -> list[dict]:
    return [d for d in report["diagnostics"] if d["fix"] and d["fix"]["applicability"] == "safe"]


@pytest.mark.parametrize("name", ["calls.py", "positions.py", "fstrings.py", "noqa_cases.py",
                                  "builder.py"])
def test_fix_rewrites_only_literals_and_converges(tmp_path, name):
    path = tmp_path / name
    shutil.copy(FIXTURES / name, path)
    before = path.read_bytes()
    fixable = _safe_fixes(_lint_json(path))
    assert fixable, "the fixture should have something to fix"
    _run("--fix", str(path))
    after = path.read_bytes()
    assert after != before
    assert_only_literals_changed(before.decode(), after.decode())
    report = _lint_json(path)
    assert _safe_fixes(report) == []
    fixed_codes = {d["code"] for d in fixable}
    still = [d for d in report["diagnostics"] if d["code"] in fixed_codes and
             (d["line"], d["column"]) in {(f["line"], f["column"]) for f in fixable}]
    assert still == []
    _run("--fix", str(path))
    assert path.read_bytes() == after, "a second --fix changed the file"


def _fix_source(tmp_path, source: bytes, name: str = "t.py") -> bytes:
    path = tmp_path / name
    path.write_bytes(source)
    _run("--fix", str(path))
    return path.read_bytes()


@pytest.mark.parametrize("source, fixed", [
    (b"import mlflow\nmlflow.search_runs(filter_string='params.a = 1')\n",
     b"import mlflow\nmlflow.search_runs(filter_string='params.a = \\'1\\'')\n"),
    (b"import mlflow\nmlflow.search_runs(filter_string='''params.a = 1''')\n",
     b"import mlflow\nmlflow.search_runs(filter_string='''params.a = \\'1\\'''')\n"),
    (b'import mlflow\nmlflow.search_runs(filter_string=r"params.p = \'C:\\tmp\' AND params.c = 1")\n',
     b'import mlflow\nmlflow.search_runs(filter_string=r"params.p = \'C:\\tmp\' AND params.c = \'1\'")\n'),
    (b'import mlflow\nmlflow.search_runs(filter_string=f"params.a = \'{{x}}\' AND params.b = 2")\n',
     b'import mlflow\nmlflow.search_runs(filter_string=f"params.a = \'{{x}}\' AND params.b = \'2\'")\n'),
    # a raw literal cannot hold the backslash of the backtick fix: left alone, the next is fixed
    (b'import mlflow\nmlflow.search_runs(filter_string=r"params.a\\b = \'x\'")\n',
     b'import mlflow\nmlflow.search_runs(filter_string=r"params.a\\b = \'x\'")\n'),
    # a fix next to an escape keeps the escape as written
    (b'import mlflow\nmlflow.search_runs(filter_string="params.\\x61 = 1")\n',
     b'import mlflow\nmlflow.search_runs(filter_string="params.\\x61 = \'1\'")\n'),
    # CRLF line endings stay
    (b'import mlflow\r\nmlflow.search_runs(filter_string=(\r\n    "params.a = 1 "\r\n'
     b'    "AND params.b = 2"))\r\n',
     b'import mlflow\r\nmlflow.search_runs(filter_string=(\r\n    "params.a = \'1\' "\r\n'
     b'    "AND params.b = \'2\'"))\r\n'),
    # the declared encoding stays (the e-acute is one byte in Latin-1)
    ("# -*- coding: latin-1 -*-\nimport mlflow\nmlflow.search_runs(filter_string=\"params.caf\u00e9 = 1\")\n"
     .encode("latin-1"),
     "# -*- coding: latin-1 -*-\nimport mlflow\nmlflow.search_runs(filter_string=\"params.caf\u00e9 = '1'\")\n"
     .encode("latin-1")),
    # and so does a UTF-8 byte order mark
    (b'\xef\xbb\xbfimport mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n',
     b'\xef\xbb\xbfimport mlflow\nmlflow.search_runs(filter_string="params.a = \'1\'")\n'),
], ids=["single-quoted", "triple-quoted-at-the-end", "raw", "f-string-braces", "raw-refused",
        "escape",
        "crlf-concatenated", "latin-1", "bom"])
def test_fix_is_written_for_the_literal_kind(tmp_path, source, fixed):
    assert _fix_source(tmp_path, source) == fixed


@pytest.mark.parametrize("source", [
    # a raw literal cannot hold the quote the fix needs
    b"import mlflow\nmlflow.search_runs(filter_string=r'params.a = 1')\n",
    # a bytes literal is not rewritten
    b"import mlflow\nmlflow.search_runs(filter_string=b'params.a = 1')\n",
    # a fix spanning two concatenated literals
    b"import mlflow\nmlflow.search_runs(filter_string='params.a = 1' '2')\n",
], ids=["raw-single-quote", "bytes", "across-pieces"])
def test_fix_that_cannot_be_written_is_skipped_with_a_note(tmp_path, source):
    path = tmp_path / "t.py"
    path.write_bytes(source)
    report = _lint_json(path)
    [d] = [d for d in report["diagnostics"] if d["code"] == "MF201"]
    assert d["fix"] is None and d["note"].startswith("no fix in the source")
    assert _fix_source(tmp_path, source) == source


def test_fix_inside_a_placeholder_is_refused():
    """A fix whose edit touches an f-string placeholder has no source form."""
    import ast

    from mlfilter.diagnostics import Edit, Fix, Span
    from mlfilter.lint.evaluate import _map_fix, _Rendered
    from mlfilter.lint.literals import read_literal

    text = 'f"params.a = {x} AND params.b = 2"'
    node = ast.parse(text, mode="eval").body
    lit = read_literal(text, 0, len(text), node)
    rendered = _Rendered(lit, 0, ["value"])
    assert rendered.text == "params.a = 0 AND params.b = 2"
    on_placeholder = Fix("quote", (Edit(Span(11, 12), "'0'"),))
    assert _map_fix(on_placeholder, [rendered], [0]) == (
        None, "no fix in the source: it would change an f-string placeholder")
    fix, note = _map_fix(Fix("quote", (Edit(Span(28, 29), "'2'"),)), [rendered], [0])
    assert note is None and fix.edits == ((text.index("2"), text.index("2") + 1, "'2'"),)


def test_diff_shows_the_fixes_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "t.py"
    path.write_text('import mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n')
    before = path.read_bytes()
    assert main(["lint", "--diff", str(path)]) == 1
    out = capsys.readouterr().out
    assert path.read_bytes() == before
    assert f"--- a/{path}" in out and f"+++ b/{path}" in out
    assert '-mlflow.search_runs(filter_string="params.a = 1")' in out
    assert "+mlflow.search_runs(filter_string=\"params.a = '1'\")" in out
    assert main(["lint", "--fix", str(path)]) == 0
    capsys.readouterr()
    assert main(["lint", "--diff", str(path)]) == 0
    assert capsys.readouterr().out == ""


def test_fix_is_atomic_and_keeps_the_mode(tmp_path):
    path = tmp_path / "t.py"
    path.write_text('import mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n')
    os.chmod(path, 0o640)
    inode = os.stat(path).st_ino
    _run("--fix", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.stat(path).st_ino != inode, "written in place instead of replaced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.py"], "a temporary file was left"


def test_notebook_fix_keeps_the_json_formatting(tmp_path):
    path = tmp_path / "notebook.ipynb"
    shutil.copy(FIXTURES / "notebook.ipynb", path)
    before = path.read_text(encoding="utf-8")
    assert _run("--fix", str(path)) == 1  # MF601 and the syntax error remain
    after = path.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines())
    assert changed == [
        ('    "FILTER = \\"params.lr = 0.01\\"\\n",', '    "FILTER = \\"params.lr = \'0.01\'\\"\\n",'),
        ('    "mlflow.search_runs([\\"0\\"], \\"params.\u00e9 = 1 AND metrics.acc > 0.9\\")"',
         '    "mlflow.search_runs([\\"0\\"], \\"params.\u00e9 = \'1\' AND metrics.acc > 0.9\\")"'),
    ]
    old, new = json.loads(before), json.loads(after)
    for cell_old, cell_new in zip(old["cells"], new["cells"]):
        assert {k: v for k, v in cell_old.items() if k != "source"} == \
            {k: v for k, v in cell_new.items() if k != "source"}
    _run("--fix", str(path))
    assert path.read_text(encoding="utf-8") == after


def test_fixed_count_and_remaining_findings_are_reported(tmp_path, capsys):
    path = tmp_path / "t.py"
    path.write_text('import mlflow\nmlflow.search_runs(filter_string="params.a = 1 OR params.b = 2")\n')
    assert main(["lint", "--fix", str(path)]) == 1
    out = capsys.readouterr().out
    assert "MF202" in out and "Fixed 2 problems." in out
