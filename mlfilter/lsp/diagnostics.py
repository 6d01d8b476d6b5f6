"""Lint results as LSP diagnostics and edits: the same code, severity, range, message and hint as
`mlfilter lint`, with a link to the rule's section of the rule reference."""

from __future__ import annotations

from lsprotocol import types

from mlfilter.lsp.documents import Lines

SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}
SOURCE = "mlfilter"


def lsp_range(lines: Lines, line: int, col: int, end_line: int, end_col: int,
              encoding: str) -> types.Range:
    """The LSP range of mlfilter's 1-based (line, column)s."""
    start = lines.position_of(line, col, encoding)
    end = lines.position_of(end_line, end_col, encoding)
    if end < start:
        end = start
    return types.Range(types.Position(*start), types.Position(*end))


def to_diagnostic(r, lines: Lines, encoding: str) -> types.Diagnostic:
    """One lint finding (lint.runner.Reported) as an LSP diagnostic."""
    from mlfilter.docs import rule_url

    message = r.message if not r.hint else f"{r.message}\nhelp: {r.hint}"
    if r.note:
        message += f"\nnote: {r.note}"
    return types.Diagnostic(
        range=lsp_range(lines, r.line, r.col, r.end_line, r.end_col, encoding),
        message=message,
        severity=SEVERITY.get(r.severity, types.DiagnosticSeverity.Warning),
        code=r.code,
        code_description=types.CodeDescription(href=rule_url(r.code)),
        source=SOURCE,
    )


def fix_edits(r, lines: Lines, encoding: str) -> list[types.TextEdit]:
    """The text edits of a finding's fix."""
    return [types.TextEdit(lsp_range(lines, e["line"], e["column"], e["end_line"],
                                     e["end_column"], encoding), e["replacement"])
            for e in r.fix["edits"]]


def whole_text_edit(old: str, new: str, encoding: str) -> types.TextEdit:
    """One edit turning `old` into `new`: the changed middle only, so the editor keeps the
    cursor and folds outside it."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    lines = Lines(old)
    a, b = lines.position(start, encoding), lines.position(end_old, encoding)
    return types.TextEdit(types.Range(types.Position(*a), types.Position(*b)),
                          new[start:end_new])
