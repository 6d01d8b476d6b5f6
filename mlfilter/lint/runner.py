"""Lint one file: read it (or say why not: MF91x), scan, check, apply noqa and select/ignore,
and with --fix rewrite the string literals in place, atomically.

Lint flow: path -> bytes -> cheap text test (no `search_runs`, `search_traces`... or `mlfilter`:
done, nothing parsed) ->
text -> ast (per notebook: cells joined) -> scan_py -> evaluate -> noqa -> Reported records.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from dataclasses import dataclass, field

from mlfilter.fixes import MAX_ROUNDS
from mlfilter.lint.evaluate import Evaluator, Finding
from mlfilter.lint.literals import LiteralError, read_literal, signature
from mlfilter.lint.sourcemap import SourceText
from mlfilter.rules.registry import BY_CODE, severity

_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
MAX_FIX_ROUNDS = MAX_ROUNDS  # the same safety net as fix_filter


@dataclass(slots=True)
class Reported:
    """One finding as the user sees it."""

    path: str
    code: str
    severity: str
    message: str
    hint: str | None
    line: int  # 1-based; inside the cell for notebooks
    col: int  # 1-based, in characters
    end_line: int
    end_col: int
    cell: int | None = None  # 1-based position among the notebook's cells
    file_pos: tuple[int, int, int, int] | None = None  # line/col/end in the file itself
    fix: dict | None = None
    note: str | None = None


@dataclass
class FileResult:
    path: str
    reported: list[Reported] = field(default_factory=list)
    parsed: bool = False  # the cheap text test let it through
    new_text: bytes | None = None  # --fix: the fixed file
    fixed: int = 0  # fixes applied
    original: bytes | None = None


class _Skip(Exception):
    def __init__(self, code: str, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.code, self.message, self.line, self.col = code, message, line, col


def _decode(data: bytes, notebook: bool) -> tuple[str, str]:
    """(text, encoding); raises _Skip (MF911) for bytes that are not text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Skip("MF911", "UTF-16 text is not supported; save the file as UTF-8")
    if b"\0" in data:
        raise _Skip("MF911", "a binary file (it contains NUL bytes)")
    encoding = "utf-8"
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif not notebook:
        for line in data.split(b"\n", 2)[:2]:
            m = _CODING.match(line)
            if m:
                import codecs

                try:
                    encoding = codecs.lookup(m.group(1).decode("ascii")).name
                except (LookupError, UnicodeDecodeError):
                    raise _Skip("MF911", f"unknown encoding {m.group(1).decode('ascii', 'replace')!r} "
                                "in the coding line") from None
                break
            if not line.strip().startswith(b"#"):
                break
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1  # in bytes: no text to count
        raise _Skip("MF911", f"not valid {encoding.upper()}: byte 0x{data[e.start]:02x} at line "
                    f"{line}, byte {col}", line, col) from None


def _parse(text: str) -> ast.Module:
    try:
        with warnings.catch_warnings():  # `"\d"`: the user's linters say that, not this one
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except SyntaxError as e:
        raise _Skip("MF913", f"Python syntax error: {e.msg}", e.lineno or 1, e.offset or 1) \
            from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise _Skip("MF913", f"cannot be parsed as Python ({type(e).__name__})") from None


@dataclass(slots=True)
class Parsed:
    """A Python text parsed and scanned for search calls: what scan_text and the editor's
    search_arguments share, so one parse serves both."""

    tree: ast.Module
    targets: list
    finder: object
    default_api: str


def parse_text(text: str, default_api: str = "runs", tree: ast.Module | None = None,
               pieces: dict | None = None) -> Parsed:
    """Parse and find the search calls; raises _Skip (MF913) for text that does not parse.
    `tree` and `pieces` come from an incremental parse (incremental.py), when there is one."""
    from mlfilter.lint.scan_py import find_targets

    tree = tree if tree is not None else _parse(text)
    targets, finder = find_targets(tree, default_api, pieces)
    return Parsed(tree, targets, finder, default_api)


def scan_text(text: str, tree: ast.Module | None = None, default_api: str = "runs",
              schema=None, target: dict | None = None,
              parsed: Parsed | None = None) -> tuple[list[Finding], SourceText]:
    """Findings of a Python text (before noqa and select/ignore)."""
    src = SourceText(text)
    if parsed is None or parsed.default_api != default_api:
        parsed = parse_text(text, default_api, tree)
    return Evaluator(src, parsed.finder, schema, target).run(parsed.targets), src


def _filter(findings, text: str, src: SourceText, config):
    """Apply noqa and select/ignore; add MF901/MF902."""
    from mlfilter.lint import noqa

    by_line, problems, file_noqa = noqa.scan(text, BY_CODE)
    if file_noqa.skip_file:
        return []
    kept = []
    for f in findings:
        if not config.enabled(f.code) or any(f.code.startswith(c) for c in file_noqa.codes):
            continue
        lines = {src.line_col(f.start)[0]}
        if f.last_line_offset is not None:
            lines.add(src.line_col(max(f.last_line_offset - 1, 0))[0])
        hit = False
        for line in lines:
            for n in by_line.get(line, ()):
                hit = noqa.suppresses(n, f.code) or hit
        if not hit:
            kept.append(f)
    for p in problems + noqa.unused(by_line, config.enabled):
        if config.enabled(p.code):
            kept.append(Finding(p.code, severity(p.code), p.message, p.hint, p.start, p.end))
    kept.sort(key=lambda f: (f.start, f.code))
    return kept


def lint_source(text: str, config=None) -> list[Finding]:
    """Findings of Python source text, noqa applied (for docs, tests and the REPL)."""
    from mlfilter.config import Config

    config = config or Config()
    findings, src = scan_text(text, default_api=config.api, schema=config.load_schema(),
                              target=config.mlflow_target)
    return _filter(findings, text, src, config)


# ---- fixes --------------------------------------------------------------------------------

def _choose_fixes(findings) -> list[Finding]:
    chosen, taken = [], []
    for f in sorted(findings, key=lambda f: f.start):
        fix = f.fix
        if fix is None or fix.applicability != "safe" or not fix.edits:
            continue
        spans = [(a, b) for a, b, _ in fix.edits]
        if any(a < tb and ta < b or a == b == ta for a, b in spans for ta, tb in taken):
            continue
        chosen.append(f)
        taken.extend(spans)
    return chosen


def _verify(text: str, fixes: list[Finding]) -> list[Finding]:
    """Keep the fixes whose literal reads back as the fixed value once edited."""
    by_literal: dict[int, list[Finding]] = {}
    for f in fixes:
        by_literal.setdefault(id(f.fix.literal), []).append(f)
    good = []
    for group in by_literal.values():
        lit = group[0].fix.literal
        edits = sorted((e for f in group for e in f.fix.edits), reverse=True)
        region = text[lit.start : lit.end]
        for a, b, new in edits:
            region = region[: a - lit.start] + new + region[b - lit.start :]
        chars = list(lit.chars)
        value_edits = sorted((e for f in group for e in f.fix.value_edits), reverse=True)
        for first, last, new in value_edits:
            chars[first:last] = list(new)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                node = ast.parse("(" + region + "\n)", mode="eval").body
            new_src = "(" + region + "\n)"
            got = read_literal(new_src, 1, len(new_src) - 2, node)
        except (SyntaxError, ValueError, LiteralError, RecursionError):
            continue
        if signature(got.chars) == signature(chars):
            good.extend(group)
    return good


def fix_round(text: str, config) -> tuple[list[tuple[int, int, str]], int]:
    """The source edits of one round of safe fixes (verified; none if the file would break),
    and how many fixes they make."""
    findings, src = scan_text(text, default_api=config.api, schema=config.load_schema(),
                              target=config.mlflow_target)
    findings = _filter(findings, text, src, config)
    fixes = _verify(text, _choose_fixes(findings))
    edits = sorted((e for f in fixes for e in f.fix.edits), reverse=True)
    if not edits:
        return [], 0
    try:
        _parse(apply_edits(text, edits))
    except _Skip:
        return [], 0
    return edits, len(fixes)


def apply_edits(text: str, edits) -> str:
    for a, b, replacement in sorted(edits, reverse=True):
        text = text[:a] + replacement + text[b:]
    return text


def fix_text(text: str, config) -> tuple[str, int]:
    """Apply safe fixes until none is left (or MAX_FIX_ROUNDS); returns (text, fixes applied)."""
    applied = 0
    for _ in range(MAX_FIX_ROUNDS):
        edits, count = fix_round(text, config)
        if not edits:
            break
        text = apply_edits(text, edits)
        applied += count
    return text, applied


def write_atomic(path: str, data: bytes) -> None:
    """Write via a temporary file in the same directory and os.replace, keeping the mode."""
    import tempfile

    directory = os.path.dirname(os.path.abspath(path))
    mode = os.stat(path).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".",
                               suffix=".mlfilter-tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
