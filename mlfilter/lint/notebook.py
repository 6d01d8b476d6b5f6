"""Jupyter notebooks: code cells as one Python text, positions back to (cell, line, column) and to
the .ipynb file itself, and fixes written into the JSON text in place.

Lint flow: .ipynb bytes -> `Notebook.load` (json) -> code cells, IPython magics (`%`, `%%`) and
shell lines (`!`) blanked out -> one text, cells in order (so a constant from cell 1 is known in
cell 3) -> the same scan as a .py file -> offsets mapped back with `locate`.

Fixes edit the JSON string of the cell's source line where it stands, escaped as JSON, and
nothing else: whatever indentation or key order the file has is kept. The edited file must load
back to exactly the expected cell sources, or nothing is written.
"""

from __future__ import annotations

import bisect
import json
import re
from json.decoder import scanstring

# Cell magics whose body is Python (the rest, %%bash, %%sql..., are skipped).
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})
_ASSIGNED_MAGIC = re.compile(r"[ \t]*[\w.]+[ \t]*=[ \t]*[%!]")


class NotebookError(ValueError):
    """Not an nbformat notebook (the message says why, and where if it can)."""

    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.line, self.col = line, col


def _blank_line(line: str, start: int) -> str:
    """`line` with everything from `start` to its end (newline kept) replaced by an expression
    statement of the same length, so offsets elsewhere do not move."""
    body = line.rstrip("\r\n")
    newline = line[len(body):]
    width = len(body) - start
    return body[:start] + ("0" + " " * (width - 1) if width > 0 else "") + newline


def python_of_cell(source: str) -> str | None:
    """The cell as Python: magics and shell lines blanked out; None for a non-Python cell."""
    lines = source.splitlines(keepends=True)
    if not lines:
        return source
    first = lines[0].lstrip()
    out = []
    start = 0
    if first.startswith("%%"):
        name = first[2:].split(None, 1)[0] if first[2:].strip() else ""
        if name not in PYTHON_CELL_MAGICS:
            return None
        out.append(" " * len(lines[0].rstrip("\r\n")) + lines[0][len(lines[0].rstrip("\r\n")):])
        start = 1
    for line in lines[start:]:
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if stripped[:1] in ("%", "!"):
            out.append(_blank_line(line, indent))
            continue
        m = _ASSIGNED_MAGIC.match(line)
        if m is not None:
            out.append(_blank_line(line, m.end() - 1))
            continue
        out.append(line)
    return "".join(out)


class Notebook:
    def __init__(self, raw: str, data: dict):
        self.raw = raw
        self.data = data
        cells = data.get("cells")
        self.cells = cells
        self.sources: list[str] = []  # every cell's source, as one string
        for cell in cells:
            src = cell.get("source", "") if isinstance(cell, dict) else ""
            self.sources.append("".join(src) if isinstance(src, list) else
                                src if isinstance(src, str) else "")
        self.code_cells = [i for i, c in enumerate(cells) if isinstance(c, dict) and
                           c.get("cell_type") == "code"]
        self.text = ""
        self.cell_starts: list[int] = []  # offset of each code cell in `text`
        self.cell_index: list[int] = []  # code cell -> index in `cells`
        self.skipped_cells: list[int] = []  # non-Python cells (%%bash...)
        self._json_positions = None

    @classmethod
    def load(cls, raw: str) -> Notebook:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise NotebookError(f"not valid JSON ({e.msg})", e.lineno, e.colno) from None
        except ValueError as e:
            raise NotebookError(f"not valid JSON ({e})") from None
        except RecursionError:
            raise NotebookError("JSON nested too deeply") from None
        if not isinstance(data, dict):
            raise NotebookError("the top level is not a JSON object")
        if not isinstance(data.get("cells"), list):
            raise NotebookError("no `cells` list (nbformat 4 is supported)")
        nb = cls(raw, data)
        nb._join()
        return nb

    @classmethod
    def from_cells(cls, cells) -> Notebook:
        """A notebook from (cell type, source) pairs, such as an editor's open cells; there is no
        .ipynb text behind it, so `json_offset` and `apply_edits` do not apply."""
        nb = cls("", {"cells": [{"cell_type": kind, "source": source} for kind, source in cells]})
        nb._join()
        return nb

    def _join(self) -> None:
        parts, pos = [], 0
        for index in self.code_cells:
            python = python_of_cell(self.sources[index])
            if python is None:
                self.skipped_cells.append(index)
                continue
            if not python.endswith("\n"):
                python += "\n"
            self.cell_starts.append(pos)
            self.cell_index.append(index)
            parts.append(python)
            pos += len(python)
        self.text = "".join(parts)

    def cell_range(self, k: int) -> tuple[int, int]:
        start = self.cell_starts[k]
        end = self.cell_starts[k + 1] if k + 1 < len(self.cell_starts) else len(self.text)
        return start, end

    def locate(self, offset: int) -> tuple[int, int]:
        """Offset in `text` -> (code cell number k, offset inside that cell's source)."""
        k = max(0, bisect.bisect_right(self.cell_starts, offset) - 1)
        return k, offset - self.cell_starts[k]

    # ---- positions in the .ipynb file ------------------------------------------------------

    def json_offset(self, cell: int, offset: int) -> int | None:
        """Offset in the .ipynb text of character `offset` of cell `cell`'s source."""
        strings = self._positions().get(cell)
        if not strings:
            return None
        for n, (raw_start, value) in enumerate(strings):
            if offset < len(value) or (offset == len(value) and n == len(strings) - 1):
                return _raw_offset(self.raw, raw_start, offset)
            offset -= len(value)
        return None

    def _positions(self) -> dict[int, list[tuple[int, str]]]:
        if self._json_positions is None:
            try:
                self._json_positions = _source_strings(self.raw)
            except (ValueError, IndexError, AttributeError, RecursionError):
                self._json_positions = {}
        return self._json_positions

    def apply_edits(self, edits: list[tuple[int, int, int, str]]) -> str | None:
        """New .ipynb text with (cell, start, end, replacement source) edits made in place in the
        JSON strings, or None if an edit cannot be placed exactly."""
        expected = list(self.sources)
        raw_edits = []
        ascii_only = self.raw.isascii()
        for cell, start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
            a, b = self.json_offset(cell, start), self.json_offset(cell, end)
            if a is None or b is None or "\n" in expected[cell][start:end]:
                return None
            raw_edits.append((a, b, json.dumps(text, ensure_ascii=ascii_only)[1:-1]))
            expected[cell] = expected[cell][:start] + text + expected[cell][end:]
        out = self.raw
        for a, b, text in sorted(raw_edits, reverse=True):
            out = out[:a] + text + out[b:]
        try:
            data = json.loads(out)
        except ValueError:
            return None
        got = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else
               c.get("source", "") for c in data["cells"]]
        return out if got == expected else None


def _raw_offset(raw: str, start: int, index: int) -> int:
    """Offset in `raw` of character `index` of the JSON string whose content starts at `start`."""
    pos = start
    for _ in range(index):
        if raw[pos] == "\\":
            if raw[pos + 1] == "u":
                code = int(raw[pos + 2 : pos + 6], 16)
                pos += 12 if 0xD800 <= code < 0xDC00 and raw.startswith("\\u", pos + 6) else 6
            else:
                pos += 2
        else:
            pos += 1
    return pos


_WS = re.compile(r"[ \t\r\n]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null|NaN|-?Infinity")


def _source_strings(raw: str) -> dict[int, list[tuple[int, str]]]:
    """Cell index -> (offset after the opening quote, value) of each string of its `source`.
    The notebook already loaded with json, so this walk only finds positions."""
    out: dict[int, list[tuple[int, str]]] = {}

    def ws(i: int) -> int:
        return _WS.match(raw, i).end()

    def skip(i: int) -> int:
        i = ws(i)
        c = raw[i]
        if c == '"':
            return scanstring(raw, i + 1)[1]
        if c in "[{":
            close = "]" if c == "[" else "}"
            i = ws(i + 1)
            if raw[i] == close:
                return i + 1
            while True:
                if c == "{":
                    i = ws(scanstring(raw, ws(i) + 1)[1])  # key
                    i += 1  # colon
                i = ws(skip(i))
                if raw[i] == close:
                    return i + 1
                i += 1  # comma
        return _SCALAR.match(raw, i).end()

    def members(i: int):
        """(key, value offset) of the object at i, and the offset after it."""
        i = ws(i) + 1
        i = ws(i)
        if raw[i] == "}":
            return
        while True:
            key, i = scanstring(raw, ws(i) + 1)
            i = ws(i) + 1
            value_at = ws(i)
            yield key, value_at
            i = ws(skip(value_at))
            if raw[i] == "}":
                return
            i += 1

    for key, at in members(0):
        if key != "cells":
            continue
        i = ws(at + 1)
        cell = 0
        if raw[i] == "]":
            break
        while True:
            if raw[i] == "{":
                for ckey, cat in members(i):
                    if ckey != "source":
                        continue
                    if raw[cat] == '"':
                        value, _ = scanstring(raw, cat + 1)
                        out[cell] = [(cat + 1, value)]
                    elif raw[cat] == "[":
                        strings = []
                        j = ws(cat + 1)
                        while raw[j] != "]":
                            value, end = scanstring(raw, j + 1)
                            strings.append((j + 1, value))
                            j = ws(end)
                            if raw[j] == ",":
                                j = ws(j + 1)
                        out[cell] = strings
            i = ws(skip(i))
            cell += 1
            if raw[i] == "]":
                break
            i = ws(i + 1)
    return out
