"""Code actions: each fix of a finding as a quick fix, titled with how safe it is, and every safe
fix at once as `source.fixAll.mlfilter` (the rounds `mlfilter lint --fix` makes)."""

from __future__ import annotations

from lsprotocol import types

from mlfilter.lsp.diagnostics import fix_edits, to_diagnostic, whole_text_edit

FIX_ALL = "source.fixAll.mlfilter"
KINDS = [types.CodeActionKind.QuickFix, FIX_ALL]


def _wanted(kind: str, only) -> bool:
    """LSP's `only`: a kind is wanted when it is, or is under, one of the kinds asked for."""
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


def _overlaps(rng: types.Range, line0: int, end_line0: int) -> bool:
    return line0 <= rng.end.line and end_line0 >= rng.start.line


def _title(fix: dict, code: str) -> str:
    title = fix["title"]
    title = title[:1].upper() + title[1:]
    return f"{title} ({code}, {fix['applicability']} fix)"


def _edit(uri: str, version, edits, document_changes: bool) -> types.WorkspaceEdit:
    if document_changes:
        return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
            types.OptionalVersionedTextDocumentIdentifier(uri, version), edits)])
    return types.WorkspaceEdit(changes={uri: edits})


def code_actions(analysis, uri: str, rng: types.Range, only, lines, version, encoding: str,
                 document_changes: bool) -> list[types.CodeAction]:
    """The actions for the part `uri` of an analysis, for the range the editor asks about."""
    part = analysis.parts.get(uri)
    if part is None:
        return []
    out = []
    if _wanted(types.CodeActionKind.QuickFix, only):
        for r in part.reported:
            if r.fix is None or not r.fix["edits"] or not _overlaps(rng, r.line - 1,
                                                                      r.end_line - 1):
                continue
            safe = r.fix["applicability"] == "safe"
            out.append(types.CodeAction(
                title=_title(r.fix, r.code),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[to_diagnostic(r, lines, encoding)],
                is_preferred=safe,
                edit=_edit(uri, version, fix_edits(r, lines, encoding), document_changes)))
    if only and _wanted(FIX_ALL, only) or not only and any(
            r.fix and r.fix["applicability"] == "safe" for r in part.reported):
        action = fix_all(analysis, uri, version, encoding, document_changes)
        if action is not None:
            out.append(action)
    return out


def fix_all(analysis, uri: str, version, encoding: str,
            document_changes: bool) -> types.CodeAction | None:
    """Every safe fix of the part `uri` at once (for a notebook cell: that cell's share of the
    notebook's fixes), or None when there is nothing to fix."""
    from mlfilter.lsp.analysis import fixed_texts

    new = fixed_texts(analysis).get(uri)
    part = analysis.parts.get(uri)
    if new is None or part is None:
        return None
    edit = whole_text_edit(part.text, new, encoding)
    return types.CodeAction(title="Fix all safe mlfilter problems", kind=FIX_ALL,
                            edit=_edit(uri, version, [edit], document_changes))
