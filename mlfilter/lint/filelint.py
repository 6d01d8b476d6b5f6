"""One file through the lint flow: .py or .ipynb, read, checked, reported, and fixed on request.
Any problem with the file itself becomes an MF91x finding; nothing here raises for bad input."""

from __future__ import annotations

import os
import re
import stat

from mlfilter.lint.runner import (MAX_FIX_ROUNDS, FileResult, Reported, _decode, _filter, _parse,
                                  _Skip, apply_edits, fix_round, scan_text)
from mlfilter.lint.sourcemap import SourceText
from mlfilter.rules.registry import severity

# The cheap test: a file with none of these has no call to check and is never parsed.
_CALL_WORDS = re.compile(rb"search_(?:runs|experiments|registered_models|model_versions|"
                         rb"logged_models|traces)|mlfilter")
_CALL_WORDS_TEXT = re.compile(_CALL_WORDS.pattern.decode("ascii"))


def might_have_calls(text: str) -> bool:
    """The cheap test on text: False when no search call can be in it (nothing to parse)."""
    return _CALL_WORDS_TEXT.search(text) is not None


def too_large(size: int, config) -> str | None:
    """The MF912 message for a file of `size` bytes over the size limit, else None."""
    if size <= config.max_file_size:
        return None
    return f"skipped: {size:,} bytes is over the {config.max_file_size:,} byte limit (max-file-size)"


def _skip(result: FileResult, config, code: str, message: str, line: int = 1, col: int = 1,
          cell: int | None = None) -> FileResult:
    if config.enabled(code):
        result.reported.append(Reported(result.path, code, severity(code).value, message, None,
                                        line, col, line, col, cell,
                                        file_pos=(line, col, line, col) if cell is None else None))
    return result


def _read(path: str, config) -> bytes:
    """The file's bytes. Opened without blocking and checked with fstat before reading, so a
    FIFO or a device is refused instead of waited on."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise _Skip("MF910", "no such file or directory") from None
    except IsADirectoryError:
        raise _Skip("MF910", "cannot list the directory (permission denied?)") from None
    except OSError as e:
        if os.path.isdir(path):
            raise _Skip("MF910", "cannot list the directory (permission denied?)") from None
        raise _Skip("MF910", f"cannot read it: {e.strerror or e}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise _Skip("MF910", "cannot list the directory (permission denied?)")
        if not stat.S_ISREG(st.st_mode):
            raise _Skip("MF910", "not a regular file")
        if too_large(st.st_size, config):
            raise _Skip("MF912", too_large(st.st_size, config))
        chunks = []
        size = 0
        while size <= config.max_file_size:
            want = max(st.st_size + 1 - size, 65536)
            chunk = os.read(fd, want)
            chunks.append(chunk)
            size += len(chunk)
            if len(chunk) < want:  # a short read of a regular file: its end
                break
        if size > config.max_file_size:  # it grew while we read it
            raise _Skip("MF912", f"skipped: over the {config.max_file_size:,} byte limit "
                        "(max-file-size)")
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except OSError as e:
        raise _Skip("MF910", f"cannot read it: {e.strerror or e}") from None
    finally:
        os.close(fd)


def lint_file(path: str, shown: str, config, fix: bool = False) -> FileResult:
    result = _lint_file(path, shown, config, fix)
    result.reported.sort(key=lambda r: (r.cell or 0, r.line, r.col, r.code))
    return result


def _lint_file(path: str, shown: str, config, fix: bool) -> FileResult:
    result = FileResult(shown)
    try:
        data = _read(path, config)
    except _Skip as s:
        return _skip(result, config, s.code, s.message, s.line, s.col)
    if not _CALL_WORDS.search(data) and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return result  # the cheap test: no search call can be in here, nothing is parsed
    result.parsed = True
    result.original = data
    notebook = path.endswith(".ipynb")
    try:
        text, encoding = _decode(data, notebook)
        if notebook:
            return _lint_notebook(result, text, encoding, config, fix)
        return _lint_python(result, text, encoding, config, fix)
    except _Skip as s:
        return _skip(result, config, s.code, s.message, s.line, s.col)


def lint_text(text: str, shown: str, config, parsed=None) -> FileResult:
    """Lint Python source given as text (no file); `parsed` is runner.parse_text's result for
    this text, when the caller already has it."""
    result = FileResult(shown)
    try:
        _lint_python(result, text, "utf-8", config, False, parsed)
    except _Skip as s:
        _skip(result, config, s.code, s.message, s.line, s.col)
    return result


def _report(result: FileResult, findings, src: SourceText, cell=None, to_file=None) -> None:
    for f in findings:
        line, col = src.line_col(f.start)
        end_line, end_col = src.line_col(max(f.end, f.start))
        fix = None
        if f.fix is not None:
            edits = []
            for a, b, text in f.fix.edits:
                l1, c1 = src.line_col(a)
                l2, c2 = src.line_col(b)
                edits.append({"line": l1, "column": c1, "end_line": l2, "end_column": c2,
                              "replacement": text})
            fix = {"title": f.fix.title, "applicability": f.fix.applicability, "edits": edits}
        file_pos = (line, col, end_line, end_col) if to_file is None else to_file(f.start, f.end)
        result.reported.append(Reported(result.path, f.code, f.severity.value, f.message, f.hint,
                                        line, col, end_line, end_col, cell, file_pos, fix,
                                        f.note))


def _lint_python(result, text, encoding, config, fix, parsed=None):
    tree = parsed.tree if parsed is not None else _parse(text)
    if fix:
        new_text, applied = text, 0
        for _ in range(MAX_FIX_ROUNDS):
            edits, count = fix_round(new_text, config)
            if not edits:
                break
            new_text, applied = apply_edits(new_text, edits), applied + count
        if applied:
            result.fixed = applied
            result.new_text = new_text.encode(encoding)
            text, tree, parsed = new_text, _parse(new_text), None
    findings, src = scan_text(text, tree, config.api, config.load_schema(), config.mlflow_target,
                              parsed)
    _report(result, _filter(findings, text, src, config), src)
    return result


def _lint_notebook(result, text, encoding, config, fix):
    """The code cells are joined into one text (so a constant from cell 1 is known in cell 3);
    a cell that does not parse is reported (MF913) and blanked out of it."""
    from mlfilter.lint.notebook import Notebook, NotebookError

    try:
        nb = Notebook.load(text)
    except NotebookError as e:
        raise _Skip("MF914", f"not a notebook: {e}", e.line, e.col) from None
    if fix:
        nb, applied = _fix_notebook(nb, config, _apply_in_json)
        if applied:
            result.fixed = applied
            result.new_text = nb.raw.encode(encoding)
    return _report_notebook(result, nb, config)


def lint_notebook_text(text: str, shown: str, config) -> FileResult:
    """Lint a notebook given as its .ipynb (JSON) text."""
    result = FileResult(shown)
    try:
        _lint_notebook(result, text, "utf-8", config, False)
    except _Skip as s:
        _skip(result, config, s.code, s.message, s.line, s.col)
    result.reported.sort(key=lambda r: (r.cell or 0, r.line, r.col, r.code))
    return result


def lint_cells(cells, shown: str, config) -> FileResult:
    """Lint a notebook given as (cell type, source) pairs, such as the cells open in an editor.
    Positions are in the cells (`cell` counts every cell from 1, markdown included)."""
    from mlfilter.lint.notebook import Notebook

    result = _report_notebook(FileResult(shown), Notebook.from_cells(cells), config)
    result.reported.sort(key=lambda r: (r.cell or 0, r.line, r.col, r.code))
    return result


def fix_cells(cells, config) -> tuple[list[str], int]:
    """The sources of all cells with the safe fixes applied (as `--fix` does), and how many."""
    from mlfilter.lint.notebook import Notebook

    nb, applied = _fix_notebook(Notebook.from_cells(cells), config, _apply_in_cells)
    return list(nb.sources), applied


def _apply_in_json(nb, cell_edits):
    from mlfilter.lint.notebook import Notebook

    raw = nb.apply_edits(cell_edits)
    return Notebook.load(raw) if raw is not None else None


def _apply_in_cells(nb, cell_edits):
    from mlfilter.lint.notebook import Notebook

    sources = list(nb.sources)
    for cell, a, b, new in sorted(cell_edits, key=lambda e: (e[0], e[1]), reverse=True):
        sources[cell] = sources[cell][:a] + new + sources[cell][b:]
    kinds = [c.get("cell_type") if isinstance(c, dict) else None for c in nb.cells]
    return Notebook.from_cells(list(zip(kinds, sources)))


def _fix_notebook(nb, config, apply):
    """Rounds of safe fixes over the joined cells; `apply(nb, cell edits)` makes the fixed
    notebook (or None when the edits cannot be placed)."""
    applied = 0
    for _ in range(MAX_FIX_ROUNDS):
        joined, _bad = _joined(nb)
        edits, count = fix_round(joined, config) if joined is not None else ([], 0)
        cell_edits = []
        for a, b, new in edits:
            k, ca = nb.locate(a)
            if nb.locate(b)[0] != k:
                break
            cell_edits.append((nb.cell_index[k], ca, b - nb.cell_starts[k], new))
        else:
            fixed = apply(nb, cell_edits) if cell_edits else None
            if fixed is not None:
                nb, applied = fixed, applied + count
                continue
        break
    return nb, applied


def _report_notebook(result, nb, config):
    joined, bad = _joined(nb)
    raw_src = SourceText(nb.raw)
    for k, skip in bad:
        _cell_skip(result, nb, k, skip, config, raw_src)
    if joined is None:
        return result
    findings, _ = scan_text(joined, default_api=config.api, schema=config.load_schema(),
                            target=config.mlflow_target)
    findings = _filter(findings, joined, SourceText(joined), config)
    by_cell: dict[int, list] = {}
    for f in findings:
        k, _ = nb.locate(f.start)
        by_cell.setdefault(k, []).append(f)
    for k in sorted(by_cell):
        base = nb.cell_starts[k]
        index = nb.cell_index[k]
        cell_text = nb.text[base : nb.cell_range(k)[1]]
        local = []
        for f in by_cell[k]:
            f.start -= base
            f.end = min(f.end - base, len(cell_text))
            if f.fix is not None:
                f.fix.edits = tuple((a - base, b - base, t) for a, b, t in f.fix.edits)
            local.append(f)
        _report(result, local, SourceText(cell_text), cell=index + 1,
                to_file=_to_file(nb, index, raw_src))
    return result


def _to_file(nb, index, raw_src):
    def to_file(a, b):
        ja, jb = nb.json_offset(index, a), nb.json_offset(index, b)
        if ja is None or jb is None:
            return None
        return (*raw_src.line_col(ja), *raw_src.line_col(jb))

    return to_file


def _joined(nb):
    """The notebook's Python with cells that do not parse blanked (same offsets), the cells that
    did not parse with why; the text is None if even so it does not parse."""
    bad = []
    pieces = []
    for k in range(len(nb.cell_index)):
        start, end = nb.cell_range(k)
        cell_text = nb.text[start:end]
        try:
            _parse(cell_text)
            pieces.append(cell_text)
        except _Skip as skip:
            bad.append((k, skip))
            pieces.append("".join(c if c in "\r\n" else " " for c in cell_text))
    joined = "".join(pieces)
    try:
        _parse(joined)
    except _Skip:
        return None, bad
    return joined, bad


def _cell_skip(result, nb, k, skip, config, raw_src) -> None:
    index = nb.cell_index[k]
    start, end = nb.cell_range(k)
    src = SourceText(nb.text[start:end])
    _skip(result, config, skip.code, skip.message, skip.line, skip.col, cell=index + 1)
    if result.reported and result.reported[-1].cell == index + 1:
        line = min(skip.line, len(src.line_starts))
        offset = src.line_starts[line - 1] + max(skip.col - 1, 0)
        result.reported[-1].file_pos = _to_file(nb, index, raw_src)(offset, offset)


def fix_notebook_text(text: str, config) -> tuple[str, int]:
    """An .ipynb's JSON text with the safe fixes applied in place (as `--fix` writes it)."""
    from mlfilter.lint.notebook import Notebook, NotebookError

    try:
        nb = Notebook.load(text)
    except NotebookError:
        return text, 0
    nb, applied = _fix_notebook(nb, config, _apply_in_json)
    return nb.raw, applied
