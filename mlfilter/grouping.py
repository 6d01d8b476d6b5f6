"""How sqlparse groups comparisons when no AND separates them: MLflow then reads something
other than the conditions as written. Shared by the checker, to_mlflow and the rules."""

from __future__ import annotations

from mlfilter import ast
from mlfilter.diagnostics import Span

_KEYWORD_OPS = ("IN", "NOT IN", "IS NULL", "IS NOT NULL")


def effective_comparisons(filt: ast.Filter) -> list[ast.Comparison]:
    """The comparisons as MLflow groups them. Without AND between them, sqlparse makes the key of
    an IN or IS NULL condition an alias of the comparison before it, so MLflow reads one
    condition whose key is all that text: `tags.a = 'x' tags.b IS NULL` tests the tag named
    "a = 'x' tags.b"."""
    if not filt.unjoined:
        return filt.comparisons()
    merged: dict[int, ast.Comparison | None] = {}
    for before, term in filt.unjoined:
        if swallows(before, term):
            left = ast.Name(filt.text[before.span.start : term.left.span.end], (),
                            Span(before.span.start, term.left.span.end))
            merged[id(before)] = None
            merged[id(term)] = ast.Comparison(left, term.op, term.right,
                                              Span(before.span.start, term.span.end))
    out = []
    for c in filt.comparisons():
        m = merged.get(id(c), c)
        if m is not None:
            out.append(m)
    return out


def swallows(before, term) -> bool:
    """True when sqlparse merges `before` into the key of `term` (see effective_comparisons)."""
    return (
        isinstance(before, ast.Comparison) and before.op is not None
        and before.op.canonical not in _KEYWORD_OPS
        and isinstance(term, ast.Comparison) and term.op is not None
        and term.op.canonical in _KEYWORD_OPS
        and isinstance(term.left, (ast.Name, ast.String))
    )
