"""Golden tests of `mlfilter lint`: each source file or notebook in tests/lint_fixtures/ has a
`.expected` file with the diagnostics the command prints for it, as `path:line:col: CODE` (notebooks:
`path:cell N:line:col: CODE`). The messages are the checker's and are left out.

To rewrite the expected files after a deliberate change, run
`MLFILTER_UPDATE_GOLDEN=1 python -m pytest tests/test_lint_golden.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mlfilter.cli import main

FIXTURES = Path(__file__).parent / "lint_fixtures"
SOURCES = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".py", ".ipynb"))
LINE = re.compile(r"^(?P<where>.+?:(?:cell \d+:)?\d+:\d+): (?P<code>MF\d{3}) (?P<message>.+)$")


def _lint(capsys, *argv: str) -> tuple[int, list[str]]:
    old = os.getcwd()
    os.chdir(FIXTURES)
    try:
        status = main(["lint", "--fail-on", "error", *argv])
    finally:
        os.chdir(old)
    out = capsys.readouterr().out.splitlines()
    return status, out


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_golden(source: Path, capsys):
    status, out = _lint(capsys, source.name)
    got = []
    for line in out:
        if line.startswith("Found "):
            continue
        m = LINE.match(line)
        assert m, f"not a diagnostic line: {line!r}"
        assert m.group("message").strip(), line
        got.append(f"{m.group('where')}: {m.group('code')}")
    expected_file = source.with_suffix(".expected")
    if os.environ.get("MLFILTER_UPDATE_GOLDEN"):
        expected_file.write_text("".join(g + "\n" for g in got))
    expected = expected_file.read_text().splitlines()
    assert got == expected
    # the exit status follows the severities: errors fail with --fail-on error
    from mlfilter.rules.registry import BY_CODE

    errors = [g for g in got if BY_CODE[g.rsplit(" ", 1)[1]].severity.value == "error"]
    assert status == (1 if errors else 0)


def test_every_fixture_has_expectations_and_all_lint_codes_are_covered():
    from mlfilter.rules.registry import RULES

    codes = set()
    for source in SOURCES:
        expected = source.with_suffix(".expected")
        assert expected.exists(), f"{source.name} has no .expected file"
        codes |= {line.rsplit(" ", 1)[1] for line in expected.read_text().splitlines()}
    lint_codes = {r.code for r in RULES if r.kind == "lint"}
    # MF910-MF912 need a file system state (missing, unreadable, huge): test_lint_bad_input.py
    assert lint_codes - codes == {"MF910", "MF911", "MF912"}


def test_clean_file_passes_and_unparsed_file_is_not_parsed(capsys):
    assert _lint(capsys, "clean.py", "nosearch.py") == (0, [])


def test_files_that_only_mention_search_are_not_parsed(tmp_path, capsys):
    """The cheap text test: without `search_<api>` or `mlfilter` a file is read, never parsed
    (this one would be a syntax error)."""
    (tmp_path / "research.py").write_text("def binary_search(xs: list) -> int:\n    research(\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert main(["lint"]) == 0
    finally:
        os.chdir(old)
    assert capsys.readouterr().out == ""


FILE_LEVEL = {"MF910", "MF911", "MF912", "MF914"}  # about a file, not its source: no example


def _lint_rules():
    from mlfilter.rules.registry import RULES

    return [r for r in RULES if r.kind == "lint"]


@pytest.mark.parametrize("rule", _lint_rules(), ids=lambda r: r.code)
def test_registry_examples_of_lint_codes(rule):
    """The `bad` Python example of each MF6xx/MF9xx code shows its code; the `good` one is clean."""
    from mlfilter.lint import lint_example

    assert rule.code[2] in "69" and rule.bad and rule.good and rule.bad != rule.good
    bad, good = lint_example(rule.bad), lint_example(rule.good)
    if rule.code in FILE_LEVEL:
        assert bad == "" and good == ""
        return
    assert f": {rule.code} " in bad, bad
    assert good == "", good
