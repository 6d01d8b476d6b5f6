"""The filter AST: small frozen records (mlfilter.records) with exact source spans.

Nodes hold what was written (keys and values keep their quotes) so that the checker can apply
each API's reading of them, and so that printing gives back a filter MLflow reads the same way.
Rules are functions over these nodes; nodes have no behaviour beyond small properties.
"""

from __future__ import annotations

from mlfilter.diagnostics import Span
from mlfilter.records import record


@record
class Name:
    """An identifier as written: `metrics.loss`, ``tags.`my key` ``, `"status"`, `run_id`."""

    text: str
    parts: tuple[str, ...]
    span: Span
    keyword: bool = False  # sqlparse reads part of it as an SQL keyword

    @property
    def prefix(self) -> str | None:
        return self.text.split(".", 1)[0] if "." in self.text else None


@record
class String:
    text: str  # with its quotes
    span: Span

    @property
    def quote(self) -> str:
        return self.text[0]

    @property
    def inner(self) -> str:
        """What MLflow keeps: the first and last characters dropped, nothing unescaped."""
        return self.text[1:-1]


@record
class Number:
    text: str
    kind: str  # "INT", "FLOAT" or "HEX" (sqlparse's number classes)
    span: Span


@record
class Null:
    text: str
    span: Span


@record
class ListValue:
    text: str  # the whole parenthesised text, which MLflow hands to ast.literal_eval
    items: tuple[Operand, ...]
    span: Span


@record
class Arith:
    """`a-b`, `x || y`: text sqlparse groups into one operand (an "Operation")."""

    text: str
    span: Span


Operand = Name | String | Number | Null | ListValue | Arith


@record
class Operator:
    text: str  # as written: "=", "like", "NOT IN", "IS NOT NULL"
    span: Span
    canonical: str = ""  # upper case, single spaces: "LIKE", "NOT IN" (see `operator`)


def operator(text: str, span: Span) -> Operator:
    return Operator(text, span, " ".join(text.upper().split()))


@record
class Comparison:
    """`left op right`; `right` is None for IS [NOT] NULL and `op` is None when it is missing."""

    left: Operand
    op: Operator | None
    right: Operand | None
    span: Span


@record
class And:
    items: tuple[Expr, ...]
    span: Span


@record
class Or:
    items: tuple[Expr, ...]
    span: Span


@record
class Not:
    item: Expr
    span: Span


@record
class Group:
    item: Expr
    span: Span


Expr = Comparison | And | Or | Not | Group


@record
class Filter:
    """A whole filter string. `stray_ands` are the spans of ANDs that join nothing."""


    text: str
    root: Expr | None
    stray_ands: tuple[Span, ...]
    api: str = "runs"
    unjoined: tuple[tuple[Expr, Expr], ...] = ()  # (term, next term) with no AND between

    def __str__(self) -> str:
        from mlfilter.printer import print_filter

        return print_filter(self)

    def comparisons(self) -> list[Comparison]:
        return list(iter_comparisons(self.root))

    def to_mlflow(self) -> list[dict]:
        """The list of dicts MLflow's own parser returns for this filter and API."""
        from mlfilter.to_mlflow import to_mlflow

        return to_mlflow(self)

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import filter_html

        return filter_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty, filter_text

        pretty(filter_text(self), p, cycle)


@record
class OrderEntry:
    key: Operand
    direction: str | None
    span: Span


def iter_comparisons(node):
    """Comparisons in source order, walking without recursion (input may nest deeply)."""
    stack = [node] if node is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, Comparison):
            yield n
        elif isinstance(n, (And, Or)):
            stack.extend(reversed(n.items))
        elif isinstance(n, (Not, Group)):
            stack.append(n.item)
