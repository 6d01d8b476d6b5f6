"""Offsets in a source text: ast positions (line, UTF-8 byte column) to character offsets, and
character offsets to 1-based (line, column) for reports. Lines end at \\n, \\r\\n or \\r, as
Python's tokenizer has it; columns count characters."""

from __future__ import annotations

import re

_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceText:
    def __init__(self, text: str):
        self.text = text
        self.line_starts = [0]
        self.line_starts.extend(m.end() for m in _NEWLINE.finditer(text))

    def offset(self, lineno: int, col_bytes: int) -> int:
        """Character offset of an ast position (1-based line, 0-based UTF-8 byte column)."""
        start = self.line_starts[lineno - 1]
        prefix = self.text[start : start + col_bytes]
        if prefix.isascii():
            return start + col_bytes
        end = self.line_starts[lineno] if lineno < len(self.line_starts) else len(self.text)
        line = self.text[start:end]
        return start + len(line.encode("utf-8", "surrogatepass")[:col_bytes].decode(
            "utf-8", "ignore"))

    def node_range(self, node) -> tuple[int, int]:
        return (self.offset(node.lineno, node.col_offset),
                self.offset(node.end_lineno, node.end_col_offset))

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1, offset - self.line_starts[lo] + 1

    def line_text(self, line: int) -> str:
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")
