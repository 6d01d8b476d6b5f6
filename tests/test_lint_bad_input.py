"""Bad input of any kind gives a skipped-file diagnostic (MF91x) with a reason, never a
traceback or a hang, and the other files are still linted."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfilter.cli import main
from mlfilter.config import Config
from mlfilter.lint.filelint import lint_file

GOOD_BAD = 'import mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n'  # one MF201


def _lint(tmp_path: Path, capsys, *argv: str) -> tuple[int, list[str], str]:
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        status = main(["lint", *argv])
    finally:
        os.chdir(old)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return status, [line for line in captured.out.splitlines() if not line.startswith("Found")], \
        captured.err


CASES = {
    "syntax error": (b"import mlflow\nmlflow.search_runs(filter_string='x'\n", "py",
                     "bad.py:2:19: MF913 Python syntax error: '(' was never closed"),
    "not UTF-8": (b"# search_runs\nx = '\xff'\n", "py",
                  "bad.py:2:6: MF911 not valid UTF-8: byte 0xff at line 2, byte 6"),
    "binary": (b"search_runs\x00\x01\x02", "py", "bad.py:1:1: MF911 a binary file (it contains NUL bytes)"),
    "UTF-16": ("import mlflow # search_runs".encode("utf-16"), "py",
               "bad.py:1:1: MF911 UTF-16 text is not supported; save the file as UTF-8"),
    "unknown coding": (b"# coding: klingon\nsearch_runs = 1\n", "py",
                       "bad.py:1:1: MF911 unknown encoding 'klingon' in the coding line"),
    "deep nesting": (b"search_runs = " + b"(" * 300 + b")" * 300 + b"\n", "py", "MF913"),
    "invalid JSON": (b'{"cells": [search_runs', "ipynb", "bad.ipynb:1:12: MF914 not a notebook: not "
                     "valid JSON (Expecting value)"),
    "no cells": (b'{"search_runs": 1}', "ipynb",
                 "bad.ipynb:1:1: MF914 not a notebook: no `cells` list (nbformat 4 is supported)"),
    "cells not a list": (b'{"cells": "search_runs"}', "ipynb", "MF914"),
    "top level not an object": (b'["search_runs"]', "ipynb",
                                "bad.ipynb:1:1: MF914 not a notebook: the top level is not a JSON "
                                "object"),
    "deep JSON": (b'{"cells": [], "search_runs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "ipynb",
                  "MF914"),
    "notebook not UTF-8": (b'{"cells": [], "x": "search_runs\xff"}', "ipynb", "MF911"),
}


@pytest.mark.parametrize("content, suffix, expected", CASES.values(), ids=CASES.keys())
def test_bad_file_is_skipped_with_a_reason_and_the_rest_is_linted(tmp_path, capsys, content,
                                                                  suffix, expected):
    (tmp_path / f"bad.{suffix}").write_bytes(content)
    (tmp_path / "good.py").write_text(GOOD_BAD)
    status, lines, _ = _lint(tmp_path, capsys)
    assert status == 1
    assert len(lines) == 2, lines
    assert lines[0] == expected if ":" in expected else expected in lines[0]
    assert lines[1].startswith("good.py:2:46: MF201 ")


def test_strange_cells_do_not_break_a_notebook(tmp_path, capsys):
    nb = {"cells": [
        "not a dict",
        {"cell_type": "code", "source": 42},
        {"cell_type": "code"},
        {"cell_type": "raw", "source": "search_runs"},
        {"cell_type": "code", "source": ["import mlflow\n",
                                         'mlflow.search_runs(filter_string="params.a = 1")']},
    ], "nbformat": 4}
    (tmp_path / "n.ipynb").write_text(json.dumps(nb))
    status, lines, _ = _lint(tmp_path, capsys)
    assert lines == ["n.ipynb:cell 5:2:46: MF201 `params.a` holds strings: the number `1` must "
                     "be quoted"]


def test_missing_paths_fifos_and_devices(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.py")
    status, lines, _ = _lint(tmp_path, capsys, "nope.py", "pipe.py", "/dev/zero", "gone/")
    assert status == 1
    assert lines == ["nope.py:1:1: MF910 no such file or directory",
                     "pipe.py:1:1: MF910 not a regular file",
                     "/dev/zero:1:1: MF910 not a regular file",
                     "gone/:1:1: MF910 no such file or directory"]


def test_files_over_the_size_limit_are_skipped_unread(tmp_path, capsys):
    big = tmp_path / "big.py"
    with open(big, "wb") as f:
        f.truncate(10_000_001)  # sparse: nothing is written, and nothing must be read
    status, lines, _ = _lint(tmp_path, capsys)
    assert lines == ["big.py:1:1: MF912 skipped: 10,000,001 bytes is over the 10,000,000 byte "
                     "limit (max-file-size)"]
    (tmp_path / "small.py").write_text(GOOD_BAD)
    (tmp_path / "pyproject.toml").write_text("[tool.mlfilter]\nmax-file-size = 50\n")
    status, lines, _ = _lint(tmp_path, capsys, "small.py")
    assert lines == ["small.py:1:1: MF912 skipped: 63 bytes is over the 50 byte limit "
                     "(max-file-size)"]


def test_skipped_files_can_be_ignored(tmp_path, capsys):
    (tmp_path / "bad.py").write_bytes(b"search_runs(\n")
    assert _lint(tmp_path, capsys, "--ignore", "MF9")[:2] == (0, [])


def _lint_as_nobody(directory: str) -> tuple[int, list[str]]:
    """`mlfilter lint directory` in a forked child that drops root (root reads every file): the
    kernel really refuses. Everything the lint imports is imported before the fork."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        main(["lint", "--format", "json", directory])  # warm every lazy import
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 3
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                status = main(["lint", directory])
            os.write(write, out.getvalue().encode())
        except BaseException as e:  # report, never return into pytest
            os.write(write, f"child failed: {e!r}".encode())
        finally:
            os._exit(status)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), b"".join(chunks).decode().splitlines()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX permissions")
def test_unreadable_file_and_directory():
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="mlfilter-perm-")
    try:
        base = Path(directory)
        (base / "secret.py").write_text(GOOD_BAD)
        (base / "locked").mkdir()
        (base / "locked" / "x.py").write_text(GOOD_BAD)
        (base / "good.py").write_text(GOOD_BAD)
        os.chmod(base / "secret.py", 0)
        os.chmod(base / "locked", 0)
        os.chmod(base, 0o755)
        if os.geteuid() == 0:
            status, lines = _lint_as_nobody(directory)
        else:
            import contextlib
            import io

            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = main(["lint", directory])
            lines = out.getvalue().splitlines()
    finally:
        os.chmod(Path(directory) / "locked", 0o755)
        shutil.rmtree(directory)
    assert not any("Traceback" in line or "child failed" in line for line in lines), lines
    assert lines[:3] == [
        f"{directory}/good.py:2:46: MF201 `params.a` holds strings: the number `1` must be quoted",
        f"{directory}/locked:1:1: MF910 cannot list the directory (permission denied?)",
        f"{directory}/secret.py:1:1: MF910 cannot read it: Permission denied",
    ]
    assert status == 1


def test_a_path_through_a_file_is_unreadable(tmp_path, capsys):
    (tmp_path / "a.py").write_text(GOOD_BAD)
    status, lines, _ = _lint(tmp_path, capsys, "a.py/b.py")
    assert lines == ["a.py/b.py:1:1: MF910 cannot read it: Not a directory"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([".py", ".ipynb"]))
def test_any_bytes_give_findings_never_an_exception(tmp_path_factory, junk, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(b"search_runs mlfilter " + junk)
    result = lint_file(str(path), path.name, Config())
    for r in result.reported:
        assert r.line >= 1 and r.col >= 1


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)) |
               st.sampled_from(list("'\"\\{}()=<>%!#\n")), max_size=60),
       st.sampled_from(["", "f", "r", "rf", "b"]), st.sampled_from(['"', "'", '"""']))
def test_any_filter_literal_is_linted_without_exception(tmp_path_factory, value, prefix, quote):
    """Whatever the literal holds (if it is valid Python), linting and fixing end normally and
    every position is inside the file."""
    source = f"import mlflow\nmlflow.search_runs(filter_string={prefix}{quote}{value}{quote})\n"
    path = tmp_path_factory.mktemp("fuzz") / "f.py"
    try:
        compile(source, "f.py", "exec")
        path.write_text(source, encoding="utf-8")
    except (SyntaxError, ValueError, UnicodeEncodeError):
        return
    result = lint_file(str(path), "f.py", Config(), fix=True)
    lines = re.split(r"\r\n|\r|\n", source)  # Python's line breaks, not str.splitlines()'s
    for r in result.reported:
        assert 1 <= r.line <= len(lines) + 1
        assert 1 <= r.col <= len(lines[r.line - 1]) + 1 if r.line <= len(lines) else True
    if result.new_text is not None:
        compile(result.new_text, "f.py", "exec")  # the fix keeps valid Python
