"""The common filter, parsed without the lexer and the LALR automaton: a flat conjunction of
plain `key comparator value` clauses (`metrics.acc > 0.9 AND params.opt = 'adam'`).

It builds exactly the AST that lexer -> lalr -> transform builds for the same text (node for
node, span for span: tests/test_fast_path.py compares the two on generated filters), and gives
up (None) on anything it does not cover, which then takes the full path. The checker's rules
run on the AST either way, so diagnostics do not depend on which parser built it. Only ASCII
text is read here; anything else sqlparse might read differently.
"""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter._sqlparse_words import AFTER_DOT_KEYWORDS, KEYWORDS
from mlfilter.diagnostics import Span

_WORD = r"[A-Za-z_][A-Za-z0-9_]*"
# a backticked segment without spaces at its ends (MLflow keeps them: MF317) or control codes
_BACKTICKED = r"`[!-_a-~](?:[ -_a-~]*[!-_a-~])?`"
# quoted values without their own quote or a backslash (nothing for MLflow to keep or
# escape), in printable ASCII
_STRING = rf"'[ -&(-\[\]-~]*'|\"[ !#-\[\]-~]*\""
# sqlparse's number classes; HEX and `1.` forms are left to the full path
_FLOAT = r"-?\d+(?:\.\d+)?[eE]-?\d+|-?\d+\.\d+"
_INT = r"-?\d+"

_KEY = rf"{_WORD}(?:\.{_WORD})*(?:\.{_BACKTICKED})?"
CLAUSE = _CLAUSE = re.compile(
    rf"""
    (?P<compare>
      (?P<key>{_KEY})
      (?:
          \s*(?P<op>!=|<=|>=|=|<|>)(?![<>=~!])\s*
        | \s+(?P<like>(?i:like|ilike))\s+
      )
      (?:(?P<str>{_STRING})|(?P<float>{_FLOAT})|(?P<int>{_INT})|(?P<word>{_WORD}))
    )
  | (?P<in_list>
      (?P<lkey>{_KEY})
      \s+(?:(?P<not>(?i:not))\s+)?(?P<in>(?i:in))\s*
      (?P<list>\(\s*(?:{_STRING})(?:\s*,\s*(?:{_STRING}))*\s*\))
    )
  | (?P<is_null>
      (?P<nkey>{_KEY})
      \s+(?P<is>(?i:is))\s+(?P<null>(?i:null|not\ null))
    )
  | (?P<missing_op>  # a value right after the key (MF102)
      (?P<mkey>{_KEY})
      \s+(?:(?P<mstr>{_STRING})|(?P<mfloat>{_FLOAT})|(?P<mint>{_INT}))
    )
    """,
    re.VERBOSE,
)
# What may follow a clause: AND or OR between two clauses, or the end of the text. (A word or a
# number ends at a space or the end: nothing may stick to it.)
AFTER = _AFTER = re.compile(r"\s+(?:(?P<and>and)|or)\s+(?=\S)|\s*\Z", re.IGNORECASE)
_SEGMENT = re.compile(rf"{_BACKTICKED}|{_WORD}")
_LIST_ITEM = re.compile(_STRING)
_LEADING_SPACE = re.compile(r"\s*")
# Words the lexer makes tokens of their own at the start of a name (a keyword token, or the
# start of LIKE, NOT NULL or ASC/DESC): such a key is left to the full path.
_TOKEN_WORDS = frozenset(
    "AND OR NOT IS IN NULL BETWEEN ASC DESC LIKE ILIKE RLIKE REGEXP".split()
)


def parse_simple(text: str, api: str, max_nots: int) -> ast.Filter | None:
    """The AST of `text` when it is plain clauses joined with AND (or OR, which the rules
    refuse), else None. More than `max_nots` NOT INs is left to the full path (its nesting
    limit counts every NOT)."""
    if not text.isascii():
        return None
    pos = _LEADING_SPACE.match(text).end()
    n = len(text)
    if pos == n:
        return None
    groups = [[]]  # the conjunctions between ORs
    match, after = _CLAUSE.match, _AFTER.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            return None
        c = comparison(text, m)
        if c is None:
            return None
        if c.op is not None and c.op.canonical == "NOT IN":
            max_nots -= 1
            if max_nots < 0:
                return None
        groups[-1].append(c)
        sep = after(text, m.end())
        if sep is None:
            return None
        pos = sep.end()
        if pos < n and sep.start("and") < 0:
            groups.append([])
    conjunctions = [items[0] if len(items) == 1 else
                    ast.And(tuple(items), Span(items[0].span.start, items[-1].span.end))
                    for items in groups]
    root = conjunctions[0] if len(conjunctions) == 1 else ast.Or(
        tuple(conjunctions), Span(conjunctions[0].span.start, conjunctions[-1].span.end))
    return ast.Filter(text, root, (), api, ())


_PARTS: dict[str, tuple[str, ...] | None] = {}


def name_parts(key: str) -> tuple[str, ...] | None:
    """The segments of a key matched by CLAUSE, as the lexer splits them; None when the lexer
    reads it otherwise (a keyword token, a name it marks as holding a keyword)."""
    if key in _PARTS:
        return _PARTS[key]
    if "." not in key:
        upper = key.upper()
        parts = None if upper in KEYWORDS or upper in _TOKEN_WORDS else (key,)
    else:
        parts = tuple(_SEGMENT.findall(key))
        # the lexer marks a keyword after a dot (`tags.from`)
        if parts[0].upper() in _TOKEN_WORDS or any(p.upper() in AFTER_DOT_KEYWORDS
                                                    for p in parts[1:]):
            parts = None
    if len(key) <= 200:  # (a giant key is not kept)
        if len(_PARTS) >= 4096:
            _PARTS.clear()
        _PARTS[key] = parts
    return parts


def _name(text: str, m: re.Match, group: str) -> ast.Name | None:
    start, end = m.span(group)
    key = text[start:end]
    parts = name_parts(key)
    if parts is None:
        return None
    return ast.Name(key, parts, Span(start, end), False)


def comparison(text: str, m: re.Match) -> ast.Comparison | None:
    """The comparison a CLAUSE match stands for (None: one the lexer reads otherwise)."""
    kind = m.lastgroup  # the group of the alternative that matched closes last
    if kind == "compare":
        left = _name(text, m, "key")
        if left is None:
            return None
        group = "op" if m.start("op") >= 0 else "like"
        start, end = m.span(group)
        op = ast.Operator(text[start:end], Span(start, end), text[start:end].upper())
        right = _value(text, m, "str", "float", "int", "word")
    elif kind == "in_list":
        left = _name(text, m, "lkey")
        if left is None:
            return None
        in_start, in_end = m.span("in")
        if m.start("not") >= 0:
            op = ast.operator(f"{m.group('not')} {m.group('in')}", Span(m.start("not"), in_end))
        else:
            op = ast.operator(m.group("in"), Span(in_start, in_end))
        ls, le = m.span("list")
        items = tuple(ast.String(i.group(), Span(i.start(), i.end()))
                      for i in _LIST_ITEM.finditer(text, ls + 1, le - 1))
        right = ast.ListValue(text[ls:le], items, Span(ls, le))
    elif kind == "is_null":
        left = _name(text, m, "nkey")
        if left is None:
            return None
        null_end = m.end("null")
        op = ast.operator(f"{m.group('is')} {m.group('null')}", Span(m.start("is"), null_end))
        return ast.Comparison(left, op, None, Span(left.span.start, null_end))
    else:
        left = _name(text, m, "mkey")
        if left is None:
            return None
        op = None
        right = _value(text, m, "mstr", "mfloat", "mint", None)
    if right is None:
        return None
    return ast.Comparison(left, op, right, Span(left.span.start, right.span.end))


def _value(text: str, m: re.Match, string: str, float_: str, int_: str, word: str | None):
    start = m.start(string)
    if start >= 0:
        end = m.end(string)
        return ast.String(text[start:end], Span(start, end))
    for group, kind in ((float_, "FLOAT"), (int_, "INT")):
        start = m.start(group)
        if start >= 0:
            end = m.end(group)
            return ast.Number(text[start:end], kind, Span(start, end))
    start, end = m.span(word)
    value = text[start:end]
    if value.upper() in KEYWORDS or value.upper() in _TOKEN_WORDS:
        return None  # a keyword token, or a name sqlparse marks
    return ast.Name(value, (value,), Span(start, end), False)
