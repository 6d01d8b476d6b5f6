"""Check the arguments scan_py found and map each diagnostic back into the source file.

Lint flow: Target -> static value (Literal: str constant, implicit concatenation, module-level
constant, f-string) -> mlfilter.check / check_order_by -> diagnostics remapped to file offsets,
with fixes rewritten for the literal they land in.

F-strings: a placeholder's content is unknown, so the filter is checked several times with a
different stand-in for each placeholder each time, chosen by where the placeholder stands (inside
quotes, glued to a name, or on its own as a value). A diagnostic counts only if every run reports
it at the same place: then it does not depend on what the placeholder holds. Warnings that touch
a placeholder are dropped (they are about the value). A placeholder standing unquoted where a
string is needed gives MF601.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from mlfilter.diagnostics import Applicability, Severity
from mlfilter.lint.calls import (CLIENT_MAX_RESULTS, FLUENT_MAX_RESULTS, VIEW_TYPE_STRINGS,
                                 VIEW_TYPES)
from mlfilter.lint.literals import Literal, LiteralError, encode_for_piece, read_literal
from mlfilter.lint.memo import memoized
from mlfilter.lint.scan_py import Target, dotted
from mlfilter.lint.sourcemap import SourceText
from mlfilter.rules.registry import severity

# Stand-ins by context, one per run. Run 0's are the ones messages show; runs 0 and 1 put bare
# words where a value goes, which is how MF601 is found.
STAND_INS = {
    "quoted": ("\N{HORIZONTAL ELLIPSIS}", "1", "x/1%", "x"),  # inside '...', "..." or `...`
    "name": ("x", "metrics", "params", "tags"),  # glued to a name: metrics.{m}, {prefix}.acc
    "condition": ("tags.x = 'x'",) * 4,  # a whole condition: {base} AND ...
    "repr": ("'x'", "0", "'x'", "0"),  # {v!r}: a quoted string, or a number
    "value": ("0", "x", "'x'", "'x'"),  # after a comparator: params.bs = {bs}
    "other": ("0", "x", "'x'", "="),  # anything else: a comparator, part of a list...
}
RUNS = 4
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


@dataclass(slots=True)
class SourceFix:
    title: str
    applicability: str  # "safe" or "unsafe"
    edits: tuple[tuple[int, int, str], ...]  # file offsets and replacement source text
    literal: Literal | None = None
    value_edits: tuple[tuple[int, int, str], ...] = ()  # element ranges of `literal`, new text


@dataclass(slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    hint: str | None
    start: int  # offsets into the scanned text (a file, or a notebook cell)
    end: int
    fix: SourceFix | None = None
    note: str | None = None
    last_line_offset: int | None = None  # end of the literal: a noqa may also sit on that line


@dataclass(slots=True)
class _Opaque:
    """An order_by entry that is not a string (a dict for logged models): one span for all."""

    value: object
    start: int
    end: int


class _Rendered:
    """One entry written out for one run: its text and, per character, the literal element."""

    __slots__ = ("text", "owner", "entry", "standin_ranges")

    def __init__(self, entry, run: int, contexts: list[str]):
        self.entry = entry
        self.standin_ranges: list[tuple[int, int, int]] = []  # (start, end, element index)
        if isinstance(entry, _Opaque):
            self.text, self.owner = None, []
            return
        if entry.is_bytes:  # ASCII maps one to one; other bytes map to the whole literal
            value = bytes(entry.chars)
            self.text = value.decode("latin-1") if value.isascii() else ""
            self.owner = list(range(len(self.text)))
            return
        chars, owner = [], []
        ph = 0
        for i, c in enumerate(entry.chars):
            if c is None:
                stand_in = STAND_INS[contexts[ph]][run]
                ph += 1
                self.standin_ranges.append((len(chars), len(chars) + len(stand_in), i))
                chars.extend(stand_in)
                owner.extend([i] * len(stand_in))
            else:
                chars.append(c)
                owner.append(i)
        self.text = "".join(chars)
        self.owner = owner


_COMPARATOR_BEFORE = re.compile(r"(?:[=<>]|\s(?:LIKE|ILIKE|RLIKE))\s*\Z", re.IGNORECASE)
_AND_BEFORE = re.compile(r"(?:^|\sAND)\s*\Z", re.IGNORECASE)  # MLflow has no parentheses
_AND_AFTER = re.compile(r"\s*(?:\Z|AND\s)", re.IGNORECASE)


def _static_around(chars: list, i: int) -> tuple[str, str]:
    before, j = [], i - 1
    while j >= 0 and chars[j] is not None:
        before.append(chars[j])
        j -= 1
    after, j = [], i + 1
    while j < len(chars) and chars[j] is not None:
        after.append(chars[j])
        j += 1
    return "".join(reversed(before)), "".join(after)


def _contexts(lit: Literal) -> list[str]:
    """Where each placeholder stands in the filter: see STAND_INS."""
    out: list[str] = []
    if lit.is_bytes:  # a bytes literal has no placeholders
        return out
    state = None
    chars = lit.chars
    for i, c in enumerate(chars):
        if c is None:
            if state is not None:
                out.append("quoted")
            else:
                before = chars[i - 1] if i > 0 else None
                after = chars[i + 1] if i + 1 < len(chars) else None
                glued = (before is not None and before in _NAME_CHARS) or (
                    after is not None and after in _NAME_CHARS)
                text_before, text_after = _static_around(chars, i)
                conversion = lit.conversions[len(out)] if len(out) < len(lit.conversions) else ""
                if glued:
                    out.append("name")
                elif conversion in ("r", "a"):
                    out.append("repr")
                elif (i == 0 or chars[i - 1] is not None) and (
                        i + 1 == len(chars) or chars[i + 1] is not None) and \
                        _AND_BEFORE.search(" " + text_before) and _AND_AFTER.match(text_after + " "):
                    out.append("condition")
                elif _COMPARATOR_BEFORE.search(text_before):
                    out.append("value")
                else:
                    out.append("other")
        elif state is None and c in "'\"`":
            state = c
        elif c == state:
            state = None
    return out


class Evaluator:
    """Checks the targets of one scanned text (a .py file, or a notebook's cells)."""

    def __init__(self, src: SourceText, finder, schema=None, target: dict | None = None):
        self.src = src
        self.finder = finder
        self.schema = schema  # type-check plain literal filters against it (MF5xx)
        self.target = target or {}  # the MLflow release and database checked for
        self.findings: list[Finding] = []

    # ---- values ---------------------------------------------------------------------------

    def literal(self, node: ast.AST) -> Literal | None:
        """The static string value of `node`, or None when it is not statically known."""
        node = self.finder.resolve(node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.literal(node.left), self.literal(node.right)
            if left is None or right is None or left.is_bytes != right.is_bytes:
                return None
            offset = len(left.pieces)
            leaves = (left.leaves or [(left, 0)]) + [
                (leaf, first + len(left.chars)) for leaf, first in right.leaves or [(right, 0)]]
            return Literal(left.chars + right.chars, left.starts + right.starts,
                           left.ends + right.ends, left.piece + [p + offset for p in right.piece],
                           left.pieces + right.pieces, left.start, right.end, left.is_bytes,
                           leaves, left.conversions + right.conversions)
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)) or \
                isinstance(node, ast.JoinedStr):
            start, end = self.src.node_range(node)
            try:
                return read_literal(self.src.text, start, end, node)
            except LiteralError:
                return None
        return None

    # ---- targets --------------------------------------------------------------------------

    def run(self, targets: list[Target]) -> list[Finding]:
        for target in targets:
            getattr(self, "_" + target.kind)(target)
        return self.findings

    def _filter(self, target: Target) -> None:
        node = self.finder.resolve(target.node)
        if isinstance(node, ast.Constant) and node.value is None:
            return
        lit = self.literal(node)
        if lit is None:
            return
        from mlfilter.checker import check

        # Type checks need the real text: a filter with f-string placeholders is not compared
        # with the store (its stand-in values would always look "never logged").
        schema = self.schema if not lit.has_placeholders else None
        self._check([lit], lambda texts: check(texts[0], target.api, schema=schema,
                                                          **self.target),
                    memo=("filter", target.api, schema))

    def _order_by(self, target: Target) -> None:
        node = self.finder.resolve(target.node)
        if isinstance(node, ast.Constant) and node.value is None:
            return
        if isinstance(node, (ast.Constant, ast.JoinedStr)) and target.flavor != "mlfilter":
            lit = self.literal(node)
            if lit is not None:
                self._emit("MF602", lit.start, lit.end,
                           f"order_by is a string: {target.call} reads it one character at a "
                           "time", "pass a list: order_by=[...]")
            return
        if not isinstance(node, (ast.List, ast.Tuple)):
            return
        entries = []
        for element in node.elts:
            element = self.finder.resolve(element)
            if isinstance(element, ast.Dict):
                try:
                    value = ast.literal_eval(element)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    return
                if not hasattr(element, "lineno"):
                    return
                entries.append(_Opaque(value, *self.src.node_range(element)))
                continue
            lit = self.literal(element)
            if lit is None or lit.is_bytes:
                return
            entries.append(lit)
        if not entries:
            return
        from mlfilter.checker import check_order_by

        self._check(entries, lambda texts: check_order_by(texts, target.api, **self.target),
                    joined=True, memo=("order_by", target.api, None))

    def _view_type(self, target: Target) -> None:
        node = self.finder.resolve(target.node)
        parts = dotted(node)
        imports = self.finder.imports
        if parts is not None and len(parts) >= 2 and (
                parts[-2] == "ViewType" and (len(parts) > 2 or parts[0] in imports.view_types)):
            if parts[-1] not in VIEW_TYPES:
                _, end = self.src.node_range(node)
                start = end - len(parts[-1])  # the attribute name
                self._emit("MF603", start, end, f"ViewType has no `{parts[-1]}`",
                           "use ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY or ViewType.ALL")
            return
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "from_string" and len(node.args) == 1 and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            owner = dotted(node.func.value)
            value = node.args[0].value
            if owner and owner[-1] == "ViewType" and value not in VIEW_TYPE_STRINGS:
                start, end = self.src.node_range(node.args[0])
                self._emit("MF603", start, end,
                           f"ViewType.from_string raises an exception for {value!r}",
                           "it takes 'active_only', 'deleted_only' or 'all' (lower case)")
            return
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool) and (
                isinstance(node.value, str) or isinstance(node.value, int)
                and node.value not in VIEW_TYPES.values()):
            start, end = self.src.node_range(node)
            self._emit("MF604", start, end,
                       f"view type {node.value!r} is not a ViewType: {target.call} returns "
                       "nothing", "use ViewType.ACTIVE_ONLY, ViewType.DELETED_ONLY or ViewType.ALL "
                       "(from mlflow.entities)")

    def _max_results(self, target: Target) -> None:
        if target.flavor == "mlfilter":
            return
        node = self.finder.resolve(target.node)
        value = _int_constant(node)
        if value is None:
            return
        table = FLUENT_MAX_RESULTS if target.flavor == "fluent" else CLIENT_MAX_RESULTS
        low, high, below = table[target.api]
        start, end = self.src.node_range(node)
        shown = f"{value:,}"
        if high is not None and value > high:
            self._emit("MF605", start, end, f"{target.call} takes at most {high:,} results; "
                       f"MLflow rejects max_results={shown}",
                       "page through the results with page_token, or use the mlflow."
                       + target.call.split(".")[-1] + " function, which pages for you")
        elif low is not None and value < low:
            if below == "rejected":
                self._emit("MF605", start, end, f"MLflow rejects max_results={shown}: "
                           f"{target.call} takes a positive integer", "pass 1 or more")
            else:
                self._emit("MF606", start, end, f"max_results={shown}: {target.call} returns "
                           "nothing", "pass 1 or more, or leave max_results out")

    def _emit(self, code: str, start: int, end: int, message: str, hint: str | None) -> None:
        self.findings.append(Finding(code, severity(code), message, hint, start, end))

    # ---- checking with stand-ins ----------------------------------------------------------

    def _check(self, entries: list, checkfn, joined: bool = False, memo=None) -> None:
        contexts = [_contexts(e) if isinstance(e, Literal) else [] for e in entries]
        placeholders = any(ctx for ctx in contexts)
        runs = RUNS if placeholders else 1
        results = []
        for run in range(runs):
            rendered = [_Rendered(e, run, ctx) for e, ctx in zip(entries, contexts)]
            values, offsets, pos = [], [], 0
            for r in rendered:
                if r.text is None:
                    values.append(r.entry.value)
                    line = _show(r.entry.value)
                else:
                    values.append(r.text if not r.entry.is_bytes else _bytes_value(r.entry))
                    line = r.text
                offsets.append(pos)
                pos += len(line) + 1
            report = memoized(checkfn, values if joined else values[:1], memo, self.target)
            results.append((rendered, offsets, report))
        self._collect(results)

    def _collect(self, results) -> None:
        keyed = []
        for rendered, offsets, report in results:
            keys = {}
            for d in report.diagnostics:
                where = _locate(d.span.start, d.span.end, rendered, offsets)
                keys.setdefault((d.code, where[0], where[1]), (d, where))
            keyed.append(keys)
        rendered0, offsets0, _ = results[0]
        for key, (d, where) in keyed[0].items():
            if not all(key in other for other in keyed[1:]):
                continue
            fstart, fend, touches, entry = where
            if touches and d.severity is not Severity.ERROR:
                continue
            finding = Finding(d.code, d.severity, d.message, d.hint, fstart, fend,
                              last_line_offset=getattr(entry, "end", None))
            if d.fix is not None:
                finding.fix, finding.note = _map_fix(d.fix, rendered0, offsets0)
            self.findings.append(finding)
        if len(results) > 1:
            self._unquoted_placeholders(results)

    def _unquoted_placeholders(self, results) -> None:
        """MF601: in the runs whose value stand-ins are bare words, MLflow asks for quotes right
        at the stand-in."""
        hits = None
        for rendered, offsets, report in results[:2]:
            found = set()
            for d in report.diagnostics:
                if d.code != "MF201":
                    continue
                for r, base in zip(rendered, offsets):
                    for s, e, element in r.standin_ranges:
                        if (d.span.start, d.span.end) == (base + s, base + e):
                            found.add((id(r.entry), element))
            hits = found if hits is None else hits & found
        entries = {id(r.entry): r.entry for r in results[0][0]}
        for entry_id, element in sorted(hits or ()):
            lit = entries[entry_id]
            start, end = lit.starts[element], lit.ends[element]
            source = self.src.text[start:end]
            self.findings.append(Finding(
                "MF601", severity("MF601"),
                f"the placeholder `{source}` is pasted in without quotes, but this key takes a "
                "quoted string", f"quote it in the f-string: '{source}' (the value must not "
                "contain a quote)", start, end, last_line_offset=lit.end))


def _int_constant(node: ast.AST) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_constant(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and \
            not isinstance(node.value, bool):
        return node.value
    return None


def _show(value) -> str:
    """An order_by entry as check_order_by writes it into its source (one line per entry)."""
    try:
        return json.dumps(value, default=repr)
    except (TypeError, ValueError):
        return repr(value)


def _bytes_value(lit: Literal) -> bytes:
    return bytes(c for c in lit.chars)


def _locate(start: int, end: int, rendered, offsets):
    """A span of the checked text -> (file start, file end, touches a placeholder, entry)."""
    index = 0
    for i, base in enumerate(offsets):
        if base <= start:
            index = i
    r, base = rendered[index], offsets[index]
    entry = r.entry
    if isinstance(entry, _Opaque) or r.text is None:
        return entry.start, entry.end, False, entry
    if entry.is_bytes and len(entry.chars) != len(r.text):
        return entry.start, entry.end, False, entry
    s, e = start - base, min(end - base, len(r.text))
    e = max(e, s)
    if not entry.chars:
        return entry.start, entry.start, False, entry
    if s >= len(r.owner):
        fs = entry.ends[-1]
        touches = entry.chars[-1] is None and s == e
    else:
        fs = entry.starts[r.owner[s]]
        touches = entry.chars[r.owner[s]] is None
    if e > s:
        fe = entry.ends[r.owner[min(e, len(r.owner)) - 1]]
        touches = touches or any(entry.chars[r.owner[k]] is None for k in range(s, e))
    else:
        fe = fs
    return fs, fe, touches, entry


def _map_fix(fix, rendered, offsets) -> tuple[SourceFix | None, str | None]:
    """A fix of the checked text -> edits of the source literal, escaped for its kind."""
    edits, value_edits, lit = [], [], None
    for edit in fix.edits:
        index = 0
        for i, base in enumerate(offsets):
            if base <= edit.span.start:
                index = i
        r, base = rendered[index], offsets[index]
        entry = r.entry
        if isinstance(entry, _Opaque) or entry.is_bytes:
            return None, "no fix in the source: the value is not a plain string literal"
        if lit is not None and entry is not lit:
            return None, "no fix in the source: it spans several literals"
        lit = entry
        s, e = edit.span.start - base, edit.span.end - base
        elements = sorted({r.owner[k] for k in range(s, min(e, len(r.owner)))})
        if any(lit.chars[k] is None for k in elements):
            return None, "no fix in the source: it would change an f-string placeholder"
        if elements:
            pieces = {lit.piece[k] for k in elements}
            if len(pieces) != 1:
                return None, "no fix in the source: it spans implicitly concatenated literals"
            fs, fe = lit.starts[elements[0]], lit.ends[elements[-1]]
            piece = lit.pieces[pieces.pop()]
            first, last = elements[0], elements[-1] + 1
        elif s < len(r.owner) and lit.chars[r.owner[s]] is not None:
            element = r.owner[s]
            fs = fe = lit.starts[element]
            piece = lit.pieces[lit.piece[element]]
            first = last = element
        elif s >= len(r.owner) and lit.chars and lit.chars[-1] is not None:
            fs = fe = lit.ends[-1]
            piece = lit.pieces[lit.piece[-1]]
            first = last = len(lit.chars)
        else:
            return None, "no fix in the source: it would change an f-string placeholder"
        text = encode_for_piece(edit.replacement, piece)
        if text is None:
            return None, "no fix in the source: this kind of string literal cannot hold it"
        edits.append((fs, fe, text))
        value_edits.append((first, last, edit.replacement))
    # Verification re-reads one literal: the one of a `"a" + NAME` chain the edits fall in.
    leaf, first = lit.leaf(value_edits[0][0])
    if any(lit.leaf(a)[0] is not leaf or lit.leaf(max(a, b - 1))[0] is not leaf
           for a, b, _ in value_edits):
        return None, "no fix in the source: it spans several literals"
    value_edits = [(a - first, b - first, text) for a, b, text in value_edits]
    applicability = "safe" if fix.applicability is Applicability.SAFE else "unsafe"
    return SourceFix(fix.title, applicability, tuple(edits), leaf, tuple(value_edits)), None
