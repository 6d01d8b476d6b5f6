"""Where the grammar stops: the token it could not take -> one syntax diagnostic (MF1xx).

Lark's raw "expected one of" is never shown; each case below names the mistake the way a person
would, from the token that stopped the parser and its neighbours.
"""

from __future__ import annotations

from mlfilter.diagnostics import Applicability, Diagnostic, Edit, Fix, Severity, Span, brief
from mlfilter.lalr import ParseFailure
from mlfilter import lexer
from mlfilter.lexer import Token

_OPERAND_TYPES = frozenset({"NAME", "SQ", "DQ", "NUMBER", "NULL", "LPAR"})
_FRIENDLY = {
    "NAME": "a key",
    "SQ": "a quoted value",
    "DQ": "a quoted value",
    "NUMBER": "a number",
    "NULL": "NULL",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "OP": "a comparator",
    "LIKE": "LIKE",
    "AND": "AND",
    "OR": "OR",
    "IN": "IN",
    "IS": "IS",
    "NOT": "NOT",
    "NOT_NULL": "NOT NULL",
    "COMMA": "`,`",
    "DIRECTION": "ASC or DESC",
    "$END": "the end of the filter",
}


def _diag(code, span, message, hint=None, fix=None):
    return Diagnostic(code, Severity.ERROR, span, brief(message), hint and brief(hint), fix)


def _edit_fix(title, start, end, replacement, applicability=Applicability.SAFE):
    return Fix(title, (Edit(Span(start, end), replacement),), applicability)


def classify(failure: ParseFailure, tokens: list[Token], text: str) -> Diagnostic:
    tok = failure.token
    idx = next((i for i, t in enumerate(tokens) if t is tok), len(tokens))
    prev = tokens[idx - 1] if idx > 0 else None
    span = Span(tok.start, tok.end)
    kind = tok.type

    if kind == "UNTERMINATED":
        quote = tok.text[0]
        what = "key" if quote == "`" else "string"
        return _diag(
            "MF101",
            Span(tok.start, len(text)),
            f"unterminated {what}: the {quote} at column {tok.start + 1} is never closed",
            f"close it with a matching {quote}",
            _edit_fix(f"add the closing {quote}", len(text), len(text), quote, Applicability.UNSAFE),
        )
    if kind == "COMMENT":
        return _diag(
            "MF106",
            span,
            "comments are not allowed in a filter",
            "remove the comment",
            _edit_fix("remove the comment", tok.start, tok.end, ""),
        )
    if kind == "SEMI":
        rest = text[tok.end :].strip()
        if rest:
            return _diag(
                "MF107",
                span,
                "`;` splits the filter into two statements; MLflow takes one",
                "join conditions with AND instead",
                _edit_fix("replace `;` with AND", tok.start, tok.end, " AND", Applicability.UNSAFE),
            )
        return _diag(
            "MF107",
            span,
            "a filter must not end with `;`",
            "remove the `;`",
            _edit_fix("remove the `;`", tok.start, tok.end, ""),
        )
    if kind == "BETWEEN":
        return _diag(
            "MF109",
            span,
            "BETWEEN is not supported by MLflow",
            "write two conditions instead: `key >= low AND key <= high`",
        )
    if kind == "DIRECTION":
        return _diag(
            "MF103",
            span,
            f"`{tok.text}` belongs in order_by, not in a filter",
            "pass the ordering as `order_by=[\"key DESC\"]`",
        )
    for t in tokens:  # `a = 1 && b = 2` stops later, at the second `=`: name the real mistake
        if t.type == "ARITH" and t.text in ("&&", "||"):
            return _other_token(t, tokens, tokens.index(t), text)
    glued = _glued_key(tokens, idx, text)
    if glued is not None:
        return glued
    if kind in ("OTHER", "ARITH"):
        return _other_token(tok, tokens, idx, text)
    if kind == "LPAR" and prev is not None and prev.type in ("IN", "OP", "LIKE"):
        return _diag("MF108", Span(tok.start, len(text)), "this list is never closed",
                     "add the closing `)`")
    if kind == "RPAR" and "RPAR" not in failure.expected:
        return _diag("MF108", span, "unbalanced `)`: no `(` opens it", "remove it")
    if kind == "$END":
        return _unexpected_end(failure, prev, text)
    if prev is not None and prev.type == "IS":
        return _diag(
            "MF103",
            span,
            "IS only forms `IS NULL` and `IS NOT NULL`",
            "to compare with a value use `=`",
            _edit_fix("replace IS with =", prev.start, prev.end, "=", Applicability.UNSAFE),
        )
    if prev is not None and prev.type == "IN" and kind in ("SQ", "DQ", "NUMBER", "NAME"):
        return _diag(
            "MF103",
            span,
            "IN takes a parenthesised list",
            f"write `({tok.text})`",
            _edit_fix("wrap the value in parentheses", tok.start, tok.end, f"({tok.text})"),
        )
    if kind in _OPERAND_TYPES and "AND" in failure.expected:
        return _diag(
            "MF105",
            span,
            "two conditions must be joined with AND",
            "insert AND before this condition",
            _edit_fix("insert AND", tok.start, tok.start, "AND ", Applicability.UNSAFE),
        )
    if kind in ("OP", "LIKE") and prev is not None and prev.type in ("OP", "LIKE"):
        return _diag("MF103", span, f"a second comparator `{tok.text}` where a value is expected",
                     "keep one comparator")
    if kind in ("OP", "LIKE", "IS", "IN") and (prev is None or prev.type in ("AND", "OR", "LPAR", "NOT")):
        return _diag("MF103", span, f"a condition must start with a key, not `{tok.text}`",
                     "write `key comparator value`, e.g. `metrics.acc > 0.9`")
    expected = _expected_words(failure.expected)
    return _diag(
        "MF103",
        span,
        f"unexpected {_FRIENDLY.get(kind, repr(tok.text))} `{tok.text}`",
        f"expected {expected}" if expected else None,
    )


def number_after_dot(tokens: list[Token], i: int, text: str) -> Diagnostic:
    """`metrics.0x1a`, `tags.1e5x` (tokens[i] is the name, as `lexer.number_after_dot` found
    it): sqlparse reads a hexadecimal or exponent number right after the dot as a number, not as
    the key, and MLflow rejects the clause. Found before parsing, because the grammar would
    take the pieces for another mistake (a missing comparator)."""
    name, number = tokens[i], tokens[i + 1]
    end = lexer.glued_end(tokens, i + 1)
    key = text[number.start : end]
    what = "a hexadecimal number" if number.parts == ("HEX",) else "a number"
    fix = None
    if "`" not in key:
        fix = _edit_fix("put the key in backticks", number.start, end, f"`{key}`")
    return _diag("MF110", Span(number.start, end),
                 f"MLflow reads `{number.text}` right after the dot as {what}, not as part of "
                 "the key", f"put the key in backticks: {name.text}`{key}`", fix)


def _unexpected_end(failure: ParseFailure, prev: Token | None, text: str) -> Diagnostic:
    end = Span(len(text), len(text))
    if prev is not None and prev.type in ("OP", "LIKE"):
        return _diag("MF104", Span(prev.start, prev.end), f"`{prev.text}` has no value after it",
                     "add the value to compare with")
    if prev is not None and prev.type == "OR":
        return _diag("MF104", Span(prev.start, prev.end), "`OR` joins nothing", "remove it")
    if prev is not None and prev.type in ("IS", "IN", "NOT"):
        return _diag("MF104", Span(prev.start, prev.end), f"incomplete condition after `{prev.text}`",
                     "complete it: `IS NULL`, `IS NOT NULL` or `IN ('a', 'b')`")
    if "RPAR" in failure.expected:
        return _diag("MF108", end, "unbalanced `(`: it is never closed", "add `)`")
    if prev is not None and prev.type in _OPERAND_TYPES | {"NAME", "RPAR"}:
        return _diag("MF102", Span(prev.start, prev.end),
                     f"`{prev.text}` is not a complete condition: a comparator and a value are missing",
                     "write `key comparator value`, e.g. `metrics.acc > 0.9`")
    return _diag("MF103", end, "the filter ends too early", None)


def _glued_key(tokens: list[Token], idx: int, text: str) -> Diagnostic | None:
    """`tags.a-b`, `metrics.train/loss`, `tags.my key`: a key with characters MLflow only reads
    inside backticks, found where the parser stops right after a prefixed name."""
    key_ish = ("OTHER", "ARITH", "NUMBER", "NAME", "DOT")
    tok = tokens[idx] if idx < len(tokens) else None
    first = last = None
    if idx >= 1 and _prefixed(tokens[idx - 1]) and tok is not None and tok.type in key_ish \
            and tok.start == tokens[idx - 1].end:
        first, j = tokens[idx - 1], idx
        while j < len(tokens) and tokens[j].type in key_ish and tokens[j].start == tokens[j - 1].end:
            last, j = tokens[j], j + 1
    elif idx >= 2 and _prefixed(tokens[idx - 2]) and tokens[idx - 1].type == "NAME" \
            and tok is not None and tok.type in ("OP", "LIKE"):
        first, last = tokens[idx - 2], tokens[idx - 1]  # `tags.my key = 'x'`
    if first is None or last is None:
        return None
    prefix, rest = text[first.start : last.end].split(".", 1)
    if "`" in rest:
        return None
    fixed = f"{prefix}.`{rest}`"
    return _diag(
        "MF110",
        Span(first.start + len(prefix) + 1, last.end),
        f"the key `{rest}` has characters MLflow only reads inside backticks",
        f"quote the key: {fixed}",
        _edit_fix("quote the key with backticks", first.start, last.end, fixed),
    )


def _prefixed(tok: Token) -> bool:
    return tok.type == "NAME" and len(tok.parts) >= 2 and not tok.parts[-1].startswith(("`", '"', "'"))


def _other_token(tok: Token, tokens: list[Token], idx: int, text: str) -> Diagnostic:
    span = Span(tok.start, tok.end)
    nxt = tokens[idx + 1] if idx + 1 < len(tokens) else None
    if tok.text == "&&":
        return _diag("MF110", span, "`&&` is not an operator in MLflow filters", "use AND",
                     _edit_fix("replace with AND", tok.start, tok.end, "AND"))
    if tok.text == "||":
        return _diag("MF110", span, "`||` is not an operator in MLflow filters",
                     "MLflow has no OR: run one search per alternative and combine the results "
                     "(mlfilter's builder does this for you)")
    if tok.text == "+" and nxt is not None and nxt.type == "NUMBER" and nxt.start == tok.end:
        return _diag("MF110", span, "MLflow does not read `+` before a number", "drop the `+`",
                     _edit_fix("drop the `+`", tok.start, tok.end, ""))
    shown = tok.text if tok.text.isprintable() else repr(tok.text)
    return _diag("MF110", span, f"unexpected character `{shown}`",
                 "MLflow filters are `key comparator value` conditions joined with AND")


def _expected_words(expected: frozenset[str]) -> str:
    words = sorted({_FRIENDLY[t] for t in expected if t in _FRIENDLY})
    return ", ".join(words[:-1]) + (" or " if len(words) > 1 else "") + words[-1] if words else ""
