"""The string arguments of the search calls in a Python text, with where each value character
stands in the source: for editors (hover shows how MLflow reads a filter, completion offers keys
at the cursor). The same scan and the same literal reading as the linter's.

Lint flow: text -> ast -> scan_py.find_targets -> Evaluator.literal -> Argument records.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mlfilter.lint.literals import Literal, Piece


@dataclass(slots=True)
class Argument:
    kind: str  # "filter" or "order_by" (one entry of the list)
    api: str
    call: str  # as written, for messages: "mlflow.search_runs"
    literal: Literal

    @property
    def start(self) -> int:
        return self.literal.start

    @property
    def end(self) -> int:
        return self.literal.end

    @property
    def value(self) -> str | None:
        """The string MLflow receives, or None when it is not fully known (an f-string
        placeholder, a bytes literal)."""
        lit = self.literal
        if lit.is_bytes or lit.has_placeholders:
            return None
        return "".join(lit.chars)

    def piece_at(self, offset: int) -> Piece | None:
        """The literal piece whose body holds the source offset (its quotes excluded)."""
        for piece in self.literal.pieces:
            if piece.body_start <= offset <= piece.body_end:
                return piece
        return None

    def typed_before(self, offset: int) -> str | None:
        """The value characters before a source offset inside the literal, back to the last
        placeholder; None when the offset is not inside a piece's body."""
        if self.literal.is_bytes or self.piece_at(offset) is None:
            return None
        typed: list = []
        for char, end in zip(self.literal.chars, self.literal.ends):
            if end > offset:
                break
            if char is None:
                typed.clear()
            else:
                typed.append(char)
        return "".join(typed)


def search_arguments(text: str, parsed=None, default_api: str = "runs") -> list[Argument]:
    """The filter and order_by string arguments of every search call in `text` whose value the
    source shows (literals, constants, f-strings), in source order; none when the text does not
    parse. `parsed` is runner.parse_text's result for this text, when the caller has it."""
    from mlfilter.lint.evaluate import Evaluator
    from mlfilter.lint.runner import _Skip, parse_text
    from mlfilter.lint.sourcemap import SourceText

    if parsed is None:
        try:
            parsed = parse_text(text, default_api)
        except _Skip:
            return []
    evaluator = Evaluator(SourceText(text), parsed.finder)
    targets = parsed.targets
    out = []
    for target in targets:
        if target.kind == "filter":
            nodes = [target.node]
        elif target.kind == "order_by" and isinstance(target.node, (ast.List, ast.Tuple)):
            nodes = target.node.elts
        else:
            continue
        for node in nodes:
            if not hasattr(node, "lineno"):
                continue
            lit = evaluator.literal(node)
            if lit is not None:
                out.append(Argument(target.kind, target.api, target.call, lit))
    out.sort(key=lambda a: a.start)
    return out
