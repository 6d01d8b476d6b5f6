"""Lint results as text (`path:line:col: CODE message`), JSON, GitHub workflow annotations and
SARIF 2.1.0. Pure functions of a LintRun."""

from __future__ import annotations

import json

from mlfilter._target import MLFLOW_TARGET

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_GITHUB = {"error": "error", "warning": "warning", "info": "notice"}


def _where(r) -> str:
    if r.cell is not None:
        return f"{r.path}:cell {r.cell}:{r.line}:{r.col}"
    return f"{r.path}:{r.line}:{r.col}"


def render_text(run, fix_requested: bool = False) -> str:
    lines = [f"{_where(r)}: {r.code} {r.message}" for r in run.reported]
    fixable = sum(1 for r in run.reported if r.fix and r.fix["applicability"] == "safe")
    if run.reported:
        n_files = len({r.path for r in run.reported})
        summary = (f"Found {len(run.reported)} problem{'s' * (len(run.reported) != 1)} in "
                   f"{n_files} file{'s' * (n_files != 1)}")
        if fixable and not fix_requested:
            summary += f" ({fixable} fixable with `mlfilter lint --fix`)"
        lines.append(summary + ".")
    if run.fixed:
        lines.append(f"Fixed {run.fixed} problem{'s' * (run.fixed != 1)}.")
    return "\n".join(lines)


def as_dict(r) -> dict:
    return {
        "path": r.path,
        "cell": r.cell,
        "line": r.line,
        "column": r.col,
        "end_line": r.end_line,
        "end_column": r.end_col,
        "code": r.code,
        "severity": r.severity,
        "message": r.message,
        "hint": r.hint,
        "fix": r.fix,
        "note": r.note,
    }


def render_json(run, failed: bool) -> str:
    return json.dumps({
        "ok": not failed,
        "files_checked": run.checked,
        "fixed": run.fixed,
        "diagnostics": [as_dict(r) for r in run.reported],
    }, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(run) -> str:
    """`::error file=...,line=...,col=...::message` lines (GitHub Actions workflow commands).
    For notebooks, line and column point into the .ipynb file; the message names the cell."""
    out = []
    for r in run.reported:
        pos = r.file_pos or (1, 1, 1, 1)
        message = r.message if r.cell is None else f"cell {r.cell}, line {r.line}: {r.message}"
        if r.hint:
            message += f" (help: {r.hint})"
        props = (f"file={_escape_property(r.path)},line={pos[0]},col={pos[1]},"
                 f"endLine={pos[2]},endColumn={pos[3]},title={_escape_property('mlfilter ' + r.code)}")
        out.append(f"::{_GITHUB[r.severity]} {props}::{_escape_data(message)}")
    return "\n".join(out)


def _uri(path: str) -> str:
    from urllib.parse import quote

    return quote(path.replace("\\", "/").removeprefix("./"), safe="/")


def render_sarif(run) -> str:
    from mlfilter import __version__
    from mlfilter.rules.registry import BY_CODE

    codes = sorted({r.code for r in run.reported})
    index = {code: i for i, code in enumerate(codes)}
    rules = []
    for code in codes:
        rule = BY_CODE[code]
        rules.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": rule.why},
            "defaultConfiguration": {"level": _LEVEL[rule.severity.value]},
            "properties": {"tags": ["mlflow", "search-filter"]},
        })
    results = []
    for r in run.reported:
        pos = r.file_pos or (1, 1, 1, 1)
        region = {"startLine": pos[0], "startColumn": pos[1], "endLine": pos[2],
                  "endColumn": max(pos[3], pos[1] if pos[2] == pos[0] else 1)}
        text = r.message + (f" (help: {r.hint})" if r.hint else "")
        result = {
            "ruleId": r.code,
            "ruleIndex": index[r.code],
            "level": _LEVEL[r.severity],
            "message": {"text": text if r.cell is None else
                        f"cell {r.cell}, line {r.line}: {text}"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": _uri(r.path)},
                "region": region,
            }}],
        }
        if r.cell is not None:
            result["properties"] = {"cell": r.cell, "cellLine": r.line, "cellColumn": r.col}
        if r.fix is not None and r.cell is None:
            result["fixes"] = [{
                "description": {"text": f"{r.fix['title']} ({r.fix['applicability']})"},
                "artifactChanges": [{
                    "artifactLocation": {"uri": _uri(r.path)},
                    "replacements": [{
                        "deletedRegion": {"startLine": e["line"], "startColumn": e["column"],
                                          "endLine": e["end_line"], "endColumn": e["end_column"]},
                        "insertedContent": {"text": e["replacement"]},
                    } for e in r.fix["edits"]],
                }],
            }]
        results.append(result)
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlfilter",
                "version": __version__,
                "rules": rules,
                "properties": {"mlflowTarget": MLFLOW_TARGET},
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2, ensure_ascii=False)
