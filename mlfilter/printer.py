"""AST -> canonical filter text: one space between tokens, one AND between conditions, stray
ANDs dropped; keys, comparators and values exactly as written, so MLflow reads the same thing."""

from __future__ import annotations

from mlfilter import ast


def print_node(node, glued: frozenset = frozenset()) -> str:
    """`glued` holds the ids of terms MLflow reads merged with the term before them (no AND
    between them, see mlfilter.grouping): they are printed without AND, to keep that reading."""
    if isinstance(node, ast.Comparison):
        parts = [node.left.text]
        if node.op is not None:
            parts.append(" ".join(node.op.text.split(None, 1)) if node.op.canonical in
                         ("NOT IN", "IS NULL") else node.op.text)
        if node.right is not None:
            parts.append(print_node(node.right))
        return " ".join(parts)
    if isinstance(node, (ast.Name, ast.String, ast.Number, ast.Null, ast.Arith, ast.ListValue)):
        return node.text
    if isinstance(node, ast.And):
        out = print_node(node.items[0], glued)
        for item in node.items[1:]:
            out += (" " if id(item) in glued else " AND ") + print_node(item, glued)
        return out
    if isinstance(node, ast.Or):
        return " OR ".join(print_node(i, glued) for i in node.items)
    if isinstance(node, ast.Not):
        return "NOT " + print_node(node.item, glued)
    if isinstance(node, ast.Group):
        return "(" + print_node(node.item, glued) + ")"
    raise TypeError(f"not a filter node: {node!r}")


def print_filter(f: ast.Filter) -> str:
    from mlfilter.grouping import swallows

    glued = frozenset(id(term) for before, term in f.unjoined if swallows(before, term))
    return "" if f.root is None else print_node(f.root, glued)
