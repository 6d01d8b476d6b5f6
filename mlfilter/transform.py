"""Parse tree (mlfilter.lalr.Node) -> AST (mlfilter.ast), one method per grammar alias."""

from __future__ import annotations

from mlfilter import ast
from mlfilter.diagnostics import Span
from mlfilter.lalr import Node
from mlfilter.lexer import Token


class Transformer:
    def __init__(self, text: str):
        self.text = text
        self.stray_ands: list[Span] = []
        self.unjoined: list[tuple[ast.Expr, ast.Expr]] = []

    # ---- filters ----------------------------------------------------------------------------
    def filter(self, node: Node, api: str) -> ast.Filter:
        root = None
        for child in node.children:
            if isinstance(child, Token):  # leading ANDs
                self.stray_ands.append(_span(child))
            else:
                root = self.expr(child)
        return ast.Filter(self.text, root, tuple(sorted(self.stray_ands, key=lambda s: s.start)),
                          api, tuple(self.unjoined))

    def expr(self, node) -> ast.Expr:
        return getattr(self, node.name)(node)

    def and_(self, node: Node) -> ast.Expr:
        items, pending_ands = [], []
        for child in node.children:
            if isinstance(child, Token):
                pending_ands.append(child)
                continue
            # One AND joins two terms; any other AND joins nothing.
            extra = pending_ands[1:] if items else pending_ands
            self.stray_ands.extend(_span(t) for t in extra)
            term = self.expr(child)
            if items and not pending_ands:
                self.unjoined.append((items[-1], term))
            pending_ands = []
            items.append(term)
        self.stray_ands.extend(_span(t) for t in pending_ands)
        if len(items) == 1:
            return items[0]
        return ast.And(tuple(items), Span(items[0].span.start, items[-1].span.end))

    def or_(self, node: Node) -> ast.Or:
        items = []
        for child in node.children:
            if isinstance(child, Token):
                if child.type == "AND":
                    self.stray_ands.append(_span(child))
                continue
            items.append(self.expr(child))
        return ast.Or(tuple(items), _span(node))

    def not_(self, node: Node) -> ast.Not:
        return ast.Not(self.expr(node.children[1]), _span(node))

    def group(self, node: Node) -> ast.Group:
        return ast.Group(self.expr(node.children[1]), _span(node))

    # ---- comparisons ------------------------------------------------------------------------
    def compare(self, node: Node) -> ast.Comparison:
        left, op, right = node.children
        return ast.Comparison(
            self.operand(left), ast.operator(op.text, _span(op)), self.operand(right), _span(node)
        )

    def missing_op(self, node: Node) -> ast.Comparison:
        left, right = node.children
        return ast.Comparison(self.operand(left), None, self.operand(right), _span(node))

    def in_list(self, node: Node) -> ast.Comparison:
        left, rest = self._key(node.children)
        op, right = rest
        return ast.Comparison(left, ast.operator(op.text, _span(op)), self.operand(right), _span(node))

    def not_in_list(self, node: Node) -> ast.Comparison:
        left, (not_, in_, right) = self._key(node.children)
        op = ast.operator(f"{not_.text} {in_.text}", Span(not_.start, in_.end))
        return ast.Comparison(left, op, self.operand(right), _span(node))

    def is_null(self, node: Node) -> ast.Comparison:
        left, (is_, null) = self._key(node.children)
        op = ast.operator(f"{is_.text} {null.text}", Span(is_.start, null.end))
        return ast.Comparison(left, op, None, _span(node))

    is_not_null = is_null

    def _key(self, children: list):
        """The key and the rest; `params.my lr IS NULL` has the two-word key "params.my lr"
        (sqlparse makes the second word an alias, and MLflow reads the whole text)."""
        first, second = children[0], children[1]
        if isinstance(second, Token) and second.type == "NAME":
            start, end = first.start, second.end
            # sqlparse only takes a plain name as the alias: a keyword breaks the key.
            return ast.Name(self.text[start:end], (), Span(start, end), second.keyword), children[2:]
        return self.operand(first), children[1:]

    # ---- operands ---------------------------------------------------------------------------
    def operand(self, item) -> ast.Operand:
        if isinstance(item, Node) and item.name == "arith":
            return ast.Arith(self.text[item.start : item.end], _span(item))
        span = _span(item)
        if item.type == "LIST":
            return ast.ListValue(item.text, _list_items(item), span)
        if item.type == "NAME":
            return ast.Name(item.text, item.parts, span, item.keyword)
        if item.type in ("SQ", "DQ"):
            return ast.String(item.text, span)
        if item.type == "NUMBER":
            return ast.Number(item.text, item.parts[0], span)
        return ast.Null(item.text, span)

    def order_entry(self, node: Node) -> ast.OrderEntry:
        key = self.operand(node.children[0])
        direction = node.children[1].text if len(node.children) > 1 else None
        return ast.OrderEntry(key, direction, _span(node))


def _list_items(token: Token) -> tuple:
    """The list's items as operands (for display and the builder); MLflow itself reads the text."""
    from mlfilter.lexer import tokenize

    items = []
    for t in tokenize(token.text[1:-1]):
        span = Span(token.start + 1 + t.start, token.start + 1 + t.end)
        if t.type in ("SQ", "DQ"):
            items.append(ast.String(t.text, span))
        elif t.type == "NUMBER":
            items.append(ast.Number(t.text, t.parts[0], span))
        elif t.type == "NAME":
            items.append(ast.Name(t.text, t.parts, span, t.keyword))
    return tuple(items)


def _span(item) -> Span:
    return Span(item.start, item.end)
