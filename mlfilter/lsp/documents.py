"""The documents open in the editor: text documents (a .py file, a notebook's cell) and notebooks
(their cells, in order), kept up to date from didOpen/didChange/didClose.

Positions follow LSP: lines end at \\n, \\r\\n or \\r, as for Python's tokenizer, and a column
counts UTF-16 code units unless the client chose UTF-8 or UTF-32. pygls keeps documents too, but
it splits lines wherever `str.splitlines` does (a form feed, U+2028...), so a position after
such a character would be off. The server keeps its own copies, and pygls's are never filled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NEWLINE = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    """The length of `text` in the client's position units."""
    if text.isascii() or encoding == "utf-32":
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for c in text if ord(c) > 0xFFFF)


def _chars_for_units(line: str, count: int, encoding: str) -> int:
    """How many characters of `line` the first `count` units cover (a split character counts)."""
    if line.isascii() or encoding == "utf-32":
        return min(count, len(line))
    seen = 0
    for i, c in enumerate(line):
        if seen >= count:
            return i
        code = ord(c)
        if encoding == "utf-8":
            seen += 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        else:
            seen += 2 if code > 0xFFFF else 1
    return len(line)


class Lines:
    """Line starts of a text, and conversions between offsets and LSP positions."""

    __slots__ = ("text", "starts")

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        self.starts.extend(m.end() for m in _NEWLINE.finditer(text))

    def line(self, number: int) -> str:
        """Line `number` (0-based) without its line break."""
        start = self.starts[number]
        end = self.starts[number + 1] if number + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def offset(self, line: int, character: int, encoding: str) -> int:
        """The offset of an LSP position; a position past a line's end is its end, past the
        last line the end of the text."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        return self.starts[line] + _chars_for_units(self.line(line), max(character, 0), encoding)

    def position(self, offset: int, encoding: str) -> tuple[int, int]:
        """The LSP (line, character) of an offset."""
        import bisect

        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return line, units(self.text[self.starts[line] : offset], encoding)

    def position_of(self, line: int, column: int, encoding: str) -> tuple[int, int]:
        """The LSP position of a 1-based line and 1-based character column (mlfilter's)."""
        line = max(0, min(line - 1, len(self.starts) - 1))
        text = self.line(line)
        return line, units(text[: max(column - 1, 0)], encoding)


@dataclass
class TextDocument:
    uri: str
    text: str
    version: int | None = None
    language_id: str = ""
    notebook: str | None = None  # the notebook's URI, for a cell
    _lines: Lines | None = field(default=None, repr=False)

    @property
    def lines(self) -> Lines:
        if self._lines is None or self._lines.text is not self.text:
            self._lines = Lines(self.text)
        return self._lines

    def apply(self, changes, version: int | None, encoding: str) -> None:
        """Apply didChange content changes in order: a range and its new text, or a whole text."""
        for change in changes:
            rng = getattr(change, "range", None)
            if rng is None:
                self.text = change.text
                continue
            lines = self.lines
            start = lines.offset(rng.start.line, rng.start.character, encoding)
            end = lines.offset(rng.end.line, rng.end.character, encoding)
            if end < start:
                start, end = end, start
            self.text = self.text[:start] + change.text + self.text[end:]
        self.version = version


@dataclass
class Notebook:
    uri: str
    version: int | None
    cells: list[tuple[int, str]]  # (NotebookCellKind: 1 markup, 2 code), the cell's URI


class Documents:
    """Every open text document and notebook, by URI."""

    def __init__(self) -> None:
        self.texts: dict[str, TextDocument] = {}
        self.notebooks: dict[str, Notebook] = {}

    def open_text(self, item, notebook: str | None = None) -> TextDocument:
        doc = TextDocument(item.uri, item.text, item.version, item.language_id or "", notebook)
        self.texts[item.uri] = doc
        return doc

    def close_text(self, uri: str) -> None:
        self.texts.pop(uri, None)

    def open_notebook(self, params) -> Notebook:
        nb = params.notebook_document
        notebook = Notebook(nb.uri, nb.version, [(int(c.kind), c.document) for c in nb.cells])
        self.notebooks[nb.uri] = notebook
        for item in params.cell_text_documents:
            self.open_text(item, nb.uri)
        return notebook

    def change_notebook(self, params, encoding: str) -> Notebook | None:
        notebook = self.notebooks.get(params.notebook_document.uri)
        if notebook is None:
            return None
        notebook.version = params.notebook_document.version
        cells = params.change.cells
        if cells is None:
            return notebook
        if cells.structure is not None:
            array = cells.structure.array
            new = [(int(c.kind), c.document) for c in array.cells or ()]
            notebook.cells[array.start : array.start + array.delete_count] = new
            for item in cells.structure.did_open or ():
                self.open_text(item, notebook.uri)
            for ident in cells.structure.did_close or ():
                self.close_text(ident.uri)
        kinds = {c.document: int(c.kind) for c in cells.data or ()}
        if kinds:
            notebook.cells = [(kinds.get(uri, kind), uri) for kind, uri in notebook.cells]
        for content in cells.text_content or ():
            doc = self.texts.get(content.document.uri)
            if doc is not None:
                doc.apply(content.changes, content.document.version, encoding)
        return notebook

    def close_notebook(self, uri: str) -> Notebook | None:
        notebook = self.notebooks.pop(uri, None)
        for _kind, cell in notebook.cells if notebook else ():
            self.close_text(cell)
        return notebook
