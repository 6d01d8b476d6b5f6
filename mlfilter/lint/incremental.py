"""Parse successive versions of one Python text, as an editor sends them, re-parsing only the
top-level statements an edit touched. The tree it returns is the tree `ast.parse` gives for the
new text, positions included (the tests compare `ast.dump(..., include_attributes=True)`).

The text is cut into chunks: each starts on the first line of a top-level statement (its
decorators included) and runs to the next one, with statements that share a line in one chunk.
After an edit, the chunks it touches and one on each side are parsed again, alone: the text
before them is unchanged complete statements and the text after them starts a statement at
column 0, so the tokenizer is in the same state at both ends as in a full parse. When that region
does not parse by itself (a string or bracket opened, an indented first line) or does not end
at a line start, the whole text is parsed. Statements after the region keep their nodes, moved
by the number of lines the edit added or removed; each statement's walk (scan_py.StatementNodes)
is kept too, for the linter's scan.
"""

from __future__ import annotations

import ast
import warnings

from mlfilter.lint.scan_py import StatementNodes, statement_nodes
from mlfilter.lint.sourcemap import SourceText


class _Chunk:
    __slots__ = ("start", "end", "first_line", "stmts", "pieces")  # first_line: that of `start`

    def __init__(self, start: int, end: int, first_line: int, stmts: list, pieces: list):
        self.start, self.end, self.first_line = start, end, first_line
        self.stmts, self.pieces = stmts, pieces


def _first_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", None)
    return min([stmt.lineno, *(d.lineno for d in decorators)]) if decorators else stmt.lineno


def _chunks(body: list, src: SourceText, base: int, start: int, end: int,
            line_base: int) -> list[_Chunk]:
    """Chunks of `body` (parsed from text whose offset 0 is `base` in the whole text and whose
    line 1 is line `line_base`), covering [start, end) of the whole text."""
    groups: list[list] = []
    last_line = 0
    for stmt in body:
        if groups and _first_line(stmt) <= last_line:
            groups[-1].append(stmt)
        else:
            groups.append([stmt])
        last_line = max(last_line, stmt.end_lineno or stmt.lineno)
    chunks = []
    for k, stmts in enumerate(groups):
        line = _first_line(stmts[0])
        chunk_start = start if k == 0 else base + src.line_starts[line - 1]
        chunks.append(_Chunk(chunk_start, end, line_base if k == 0 else line + line_base - 1,
                             stmts, [statement_nodes(s) for s in stmts]))
        if k:
            chunks[k - 1].end = chunk_start
    if not chunks:
        chunks.append(_Chunk(start, end, line_base, [], []))
    return chunks


def _common_prefix(a: str, b: str) -> int:
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:  # a[:lo] == b[:lo]; compare halves in C, not characters in Python
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(a: str, b: str, limit: int) -> int:
    lo, hi = 0, limit
    la, lb = len(a), len(b)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[la - mid : la - lo] == b[lb - mid : lb - lo]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _parse(text: str) -> ast.Module:
    with warnings.catch_warnings():  # `"\d"`: the user's linters say that, not this one
        warnings.simplefilter("ignore")
        return ast.parse(text)


def _shift(pieces: list[StatementNodes], lines: int) -> None:
    for piece in pieces:
        for node in piece.nodes:
            if "lineno" in node._attributes:
                node.lineno += lines
                if getattr(node, "end_lineno", None) is not None:
                    node.end_lineno += lines


class IncrementalParser:
    """The parse of one document, kept between its versions."""

    def __init__(self) -> None:
        self.text: str | None = None
        self.chunks: list[_Chunk] = []
        self.tree: ast.Module | None = None
        self.reused = False  # whether the last parse re-used statements (for tests)

    def parse(self, text: str) -> tuple[ast.Module, dict]:
        """The tree of `text` and the walk of each top-level statement (id -> StatementNodes).
        Raises what the lint layer's own parse raises (runner._Skip, MF913) when it does not
        parse."""
        if self.text is not None and text == self.text:
            self.reused = True
            return self.tree, self._pieces()
        if self.text is not None:
            try:
                if self._reparse(text):
                    self.reused = True
                    return self.tree, self._pieces()
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass
        self.reused = False
        self.text, self.chunks, self.tree = None, [], None
        from mlfilter.lint.runner import _parse as parse_or_skip

        tree = parse_or_skip(text)  # raises _Skip: the state stays empty
        self.chunks = _chunks(tree.body, SourceText(text), 0, 0, len(text), 1)
        self.text, self.tree = text, tree
        return tree, self._pieces()

    def _pieces(self) -> dict:
        return {id(s): p for c in self.chunks for s, p in zip(c.stmts, c.pieces)}

    def _reparse(self, new: str) -> bool:
        old, chunks = self.text, self.chunks
        prefix = _common_prefix(old, new)
        suffix = _common_suffix(old, new, min(len(old), len(new)) - prefix)
        old_end = len(old) - suffix
        first = next((k for k, c in enumerate(chunks) if c.end > prefix), len(chunks) - 1)
        last = max((k for k, c in enumerate(chunks) if c.start <= old_end), default=0)
        first, last = max(0, min(first, last) - 1), min(len(chunks) - 1, last + 1)
        start = chunks[first].start
        delta = len(new) - len(old)
        end = chunks[last].end + delta
        if start > prefix or end < len(new) - suffix:
            return False
        if start and new[start - 1] == "\r" and new[start : start + 1] == "\n":
            return False  # "\r" + "\n" made one line break of two
        if end < len(new) and (new[end - 1] not in "\r\n" or (
                new[end - 1] == "\r" and new[end] == "\n")):
            return False  # the region no longer ends at a line start
        region = new[start:end]
        tree = _parse(region)
        line_base = chunks[first].first_line
        fresh = _chunks(tree.body, SourceText(region), start, start, end, line_base)
        _shift([p for c in fresh for p in c.pieces], line_base - 1)
        old_lines = _line_breaks(old, chunks[first].start, chunks[last].end)
        moved = _line_breaks(region, 0, len(region)) - old_lines
        for chunk in chunks[last + 1 :]:
            chunk.start += delta
            chunk.end += delta
            if moved:
                chunk.first_line += moved
        if moved:
            _shift([p for c in chunks[last + 1 :] for p in c.pieces], moved)
        self.chunks = chunks[:first] + fresh + chunks[last + 1 :]
        self.text = new
        self.tree = ast.Module(body=[s for c in self.chunks for s in c.stmts], type_ignores=[])
        return True


def _line_breaks(text: str, start: int, end: int) -> int:
    """Line breaks in text[start:end], counted as Python's tokenizer counts them."""
    part = text[start:end]
    return part.count("\n") + part.count("\r") - part.count("\r\n")
