"""Rules on the shape of the filter: OR, NOT and parentheses (MF202-MF204) and ANDs that join
nothing (MF301). MLflow reads only a flat list of conditions joined with AND."""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.diagnostics import Applicability, Edit, Fix, Span
from mlfilter.grouping import swallows
from mlfilter.rules.base import Sink

_OR_HINT = ("MLflow's search has no OR: run one search per alternative and merge the results; "
            "for alternatives of one key, use `key IN ('a', 'b')` where the key takes lists")


def check_structure(f: ast.Filter, emit: Sink) -> None:
    stack = [f.root] if f.root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Or):
            for left, right in zip(node.items, node.items[1:]):
                emit("MF202", _keyword_between(f.text, left, right, "or"), "OR is not supported by MLflow",
                     _OR_HINT)
            stack.extend(node.items)
        elif isinstance(node, ast.And):
            stack.extend(node.items)
        elif isinstance(node, ast.Not):
            _not(f.text, node, emit)
            stack.append(node.item)
        elif isinstance(node, ast.Group):
            _group(f.text, node, emit)
            stack.append(node.item)
    for before, term in f.unjoined:
        _unjoined(before, term, emit)
    for span in f.stray_ands:
        emit("MF301", span, "this AND joins nothing (MLflow ignores it)",
             "remove it, or add the condition that was meant to follow",
             Fix("remove the stray AND", (Edit(_with_space(f.text, span), ""),)))


def _unjoined(before: ast.Expr, term: ast.Expr, emit: Sink) -> None:
    """sqlparse groups each `key op value` by itself, so MLflow reads two such comparisons side by
    side as if joined by AND. The key of an IN or IS NULL condition is instead merged into what
    comes before it (see checker.effective_comparisons), unless that ends with NULL."""
    at = Span(term.span.start, term.span.start)
    fix = Fix("insert AND", (Edit(at, "AND "),))
    if _operator_comparison(term) or (_null_test(before) and isinstance(term, ast.Comparison)):
        emit("MF314", Span(term.span.start, term.left.span.end),
             "no AND before this condition (MLflow joins the two with AND anyway)",
             "write the AND: other tools and readers expect it", fix)
    elif swallows(before, term):
        emit("MF315", Span(before.span.start, term.left.span.end),
             "without AND, MLflow reads all this as the key of the next condition",
             "insert AND before the second condition", fix)
    else:
        emit("MF105", Span(term.span.start, term.left.span.end if isinstance(term, ast.Comparison)
                           else term.span.end),
             "two conditions must be joined with AND", "insert AND before this condition", fix)


def _operator_comparison(node) -> bool:
    return isinstance(node, ast.Comparison) and node.op is not None and \
        node.op.canonical not in ("IN", "NOT IN", "IS NULL", "IS NOT NULL")


def _null_test(node) -> bool:
    return isinstance(node, ast.Comparison) and node.op is not None and \
        node.op.canonical in ("IS NULL", "IS NOT NULL")


def _keyword_between(text: str, left, right, word: str) -> Span:
    gap = text[left.span.end : right.span.start]
    m = re.search(rf"\b{word}\b", gap, re.IGNORECASE)
    if m is None:
        return Span(left.span.end, right.span.start)
    return Span(left.span.end + m.start(), left.span.end + m.end())


_NEGATE = {"=": "!=", "!=": "=", "IN": "NOT IN", "NOT IN": "IN", "IS NULL": "IS NOT NULL",
           "IS NOT NULL": "IS NULL", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}


def _not(text: str, node: ast.Not, emit: Sink) -> None:
    span = Span(node.span.start, node.span.start + 3)
    inner = node.item.item if isinstance(node.item, ast.Group) else node.item
    fix = None
    hint = "MLflow has no NOT; use the opposite comparator (`!=`, `NOT IN`, `IS NULL`)"
    if isinstance(inner, ast.Comparison) and inner.op is not None and inner.op.canonical in _NEGATE:
        neg = _NEGATE[inner.op.canonical]
        right = f" {inner.right.text}" if inner.right is not None else ""
        rewritten = f"{inner.left.text} {neg}{right}"
        hint = (f"write `{rewritten}`; note that, unlike NOT, it does not match entities that "
                "lack the key")
        fix = Fix("use the opposite comparator", (Edit(node.span, rewritten),), Applicability.UNSAFE)
    emit("MF203", span, "NOT is not supported by MLflow", hint, fix)


def _group(text: str, node: ast.Group, emit: Sink) -> None:
    has_or = any(isinstance(n, ast.Or) for n in _walk(node.item))
    fix = None
    if not has_or:
        # every pair of parentheses inside goes too, so that one round of fixes reaches the
        # fixed point at any depth (an inner group's own fix overlaps this one and is skipped)
        groups = [n for n in _walk(node) if isinstance(n, ast.Group)]
        fix = Fix("remove the parentheses", (Edit(node.span, _unwrapped(text, node, groups)),))
    emit("MF204", Span(node.span.start, node.span.start + 1),
         "parentheses are not supported by MLflow",
         "remove them: conditions joined with AND need no grouping" if fix else _OR_HINT, fix)


def _unwrapped(text: str, node: ast.Group, groups) -> str:
    """The text of `node` without the parentheses (and the spaces inside them) of `groups`; a
    space where the words on both sides would otherwise touch."""
    cuts = sorted([(g.span.start, g.item.span.start) for g in groups] +
                  [(g.item.span.end, g.span.end) for g in groups])
    pieces, pos = [], node.span.start
    for start, end in cuts:
        pieces.append(text[pos:start])
        pieces.append("\0")  # a cut, resolved below
        pos = max(pos, end)
    pieces.append(text[pos:node.span.end])
    before = text[node.span.start - 1] if node.span.start > 0 else " "
    after = text[node.span.end] if node.span.end < len(text) else " "
    joined = before + "".join(pieces) + after
    parts = joined.split("\0")
    out = parts[0]
    for part in parts[1:]:
        if out and part and _wordy(out[-1]) and _wordy(part[0]):
            out += " "
        out += part
    return out[1:-1]


def _wordy(ch: str) -> bool:
    return ch.isalnum() or ch in "_.`'\"-+"


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.And, ast.Or)):
            stack.extend(n.items)
        elif isinstance(n, (ast.Not, ast.Group)):
            stack.append(n.item)


def _with_space(text: str, span: Span) -> Span:
    """The AND plus the whitespace on one side, so removing it leaves clean text."""
    end = span.end
    while end < len(text) and text[end].isspace():
        end += 1
    if end < len(text):
        return Span(span.start, end)
    start = span.start
    while start > 0 and text[start - 1].isspace():
        start -= 1
    return Span(start, span.end)
