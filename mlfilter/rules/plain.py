"""Which comparisons no rule has anything to say about: the checker skips the rules for them.

A comparison is *plain* when its key resolves to a target without special rules (no format,
32-bit column, rewrite...: `plain_target`) and its comparator and value are ones the rules
accept without a remark (`_share`): a number with `<`, `<=`, `>`, `>=` or `!=`, short, an integer
where only integers go, not a time that looks like seconds; a quoted value with no quote,
backslash or non-printable character inside, with `=`, `!=`, `ILIKE`, or `LIKE` with a
wildcard, one MLflow stores where the key has a fixed set; `IS [NOT] NULL` where the key takes
it. Everything else runs the rules. This is a shortcut, not a second set of rules: it may only
say "nothing to report" where the rules (mlfilter/rules/clauses.py, suspicious.py) say nothing
either, which tests/test_fast_path.py checks on generated filters against the rules run on
every comparison.
"""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import NULL_OPS, Api, Target
from mlfilter.diagnostics import Span
from mlfilter.fastparse import AFTER, CLAUSE, comparison, name_parts
from mlfilter.resolve import memo_of, resolve, rewritten

_LEADING_SPACE = re.compile(r"\s*")

# A quoted value the rules leave alone: printable ASCII, without its own quote (MF307: MLflow
# keeps doubled or escaped quotes) or a backslash (MF306: LIKE escapes differ per database).
_PLAIN_VALUE = re.compile(r"'[ -&(-\[\]-~]*'|\"[ !#-\[\]-~]*\"")
# A list literal_eval reads as plain strings: only such values, commas and spaces (not a
# trailing comma, nor a space Python's tokenizer does not take)
_PLAIN_LIST = re.compile(r"\([ \t\n]*(?:{0})(?:[ \t\n]*,[ \t\n]*(?:{0}))*[ \t\n]*\)".format(
    _PLAIN_VALUE.pattern))
_PLAIN_KEY = re.compile(r"[!-~]+")  # printable ASCII without spaces (MF317, MF242)
_MAX_NUMBER = 15  # characters: far from int() limits, 64 bits and float overflow
_SECONDS = (1e8, 1e11)  # a time in this range looks like seconds (rules/suspicious.py, MF303)
_ORDERING = frozenset({"<", "<=", ">", ">=", "!="})
_STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
_NUMBER_CLASSES = {"INT": "int", "FLOAT": "float"}  # (HEX is read otherwise)


def plain_target(target: Target) -> bool:
    """A target whose value rules `_share` can tell apart (an enum, a time, a 64-bit
    integer column), or that has none."""
    return not (target.int_string or target.int32 or target.value_format
                or target.never_matches_eq or target.string_as_number
                or target.case_sensitive_ops or target.span_bound or target.op_values
                or target.drops_non_lowercase)


def _key_facts(api: Api, text: str):
    """(target, joins, entity name) of a key that plain comparisons may use, else None."""
    memo = memo_of(api) if len(text) <= 200 else {}  # (a giant key is not kept)
    if text in memo:
        return memo[text]
    res = resolve(api, text)
    facts = None
    if res.problem is None and res.target is not None and res.entity.name != "span" \
            and not res.entity.keys_checked_by_store and plain_target(res.target) \
            and rewritten(api, res.entity, res.key) == (res.entity.name, res.key, None) \
            and ".." not in text and _PLAIN_KEY.fullmatch(text) \
            and res.key == res.key.strip():
        facts = (res.target, res.target.joins, res.entity.name)
    memo[text] = facts
    return facts


def plain_facts(c: ast.Comparison, api: Api) -> tuple[int, str] | None:
    """(tables joined, entity name) of a plain comparison, or None when the rules must run."""
    left, op, right = c.left, c.op, c.right
    if op is None or left.__class__ is not ast.Name or left.keyword or api.parser != "search_utils":
        return None
    facts = _key_facts(api, left.text)
    if facts is None:
        return None
    if right is None:
        vclass = text = None
    elif right.__class__ is ast.Number:
        vclass, text = _NUMBER_CLASSES.get(right.kind), right.text
    elif right.__class__ is ast.String:
        vclass, text = "string", right.text
    elif right.__class__ is ast.ListValue:
        vclass, text = "list", right.text
    else:
        return None
    joins = _share(api, facts, op.canonical, op.text, vclass, text)
    return None if joins is None else (joins, facts[2])


def _share(api: Api, facts, canonical: str, op_text: str, vclass: str | None,
           value: str | None) -> int | None:
    """The tables a plain comparison joins (None: not plain). `value` is its text."""
    target, joins, _ = facts
    if canonical in NULL_OPS:
        if value is not None or api.nulls_crash or api.keys_ignore_case \
                or canonical not in target.ops:
            return None
        if canonical == "IS NOT NULL" and op_text.split(None, 1)[1].upper() != "NOT NULL":
            return None
        return 0
    if canonical not in target.ops or vclass is None or vclass not in target.values:
        return None
    if vclass == "list":  # MF212, MF213, MF234, MF302 (lists of statuses), MF319
        if canonical not in ("IN", "NOT IN") or api.strict_lists or target.enum \
                or not target.list_ops_only or not _PLAIN_LIST.fullmatch(value):
            return None
        return joins
    if vclass == "string":
        if canonical not in _STRING_OPS or not _PLAIN_VALUE.fullmatch(value):
            return None
        if canonical == "LIKE" and "%" not in value and "_" not in value:
            return None  # MF305
        if target.enum and (canonical not in ("=", "!=") or value[1:-1] not in target.enum):
            return None  # MF302
        return joins
    if len(value) > _MAX_NUMBER or api.rejects_infinite or canonical not in _ORDERING:
        return None  # (`=` on a metric: MF304)
    if target.int_only and vclass == "float":
        return None  # MF218
    if target.time_ms and _SECONDS[0] <= abs(float(value)) < _SECONDS[1]:
        return None  # MF303 (and at most 15 characters: within 64 bits, MF233)
    return joins


def plain_query(text: str, api: Api, q, count, rules, max_nots: int) -> list[str] | None:
    """Read a filter of comparisons joined with AND (the shape mlfilter.fastparse reads, without
    OR) in one scan: `count(q, joins, entity, span)` for each plain comparison, without building
    its AST; `rules(comparison)` with the AST fastparse builds for each other one. Returns the
    keys as written; None, having called neither, for any other filter."""
    if not text.isascii() or len(text) > 10_000 or api.parser != "search_utils":
        return None
    pos = _LEADING_SPACE.match(text).end()
    n = len(text)
    if pos == n:
        return None
    plain, others, keys = [], [], []
    match, after = CLAUSE.match, AFTER.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            return None
        kind = m.lastgroup
        facts = share = None
        if kind == "compare":
            key = m.group("key")
            op_text = m.group("op") or m.group("like")
            value = m.group("str")
            vclass = "string"
            if value is None:
                value = m.group("float")
                vclass = "float"
                if value is None:
                    value = m.group("int")
                    vclass = "int" if value is not None else None
        elif kind == "is_null":
            key = m.group("nkey")
            op_text = f"{m.group('is')} {m.group('null')}"
            value = vclass = None
        elif kind == "in_list":
            key = m.group("lkey")
            op_text = f"{m.group('not')} {m.group('in')}" if m.group("not") else m.group("in")
            value, vclass = m.group("list"), "list"
            if m.group("not"):
                max_nots -= 1  # (the full path's nesting limit counts every NOT)
                if max_nots < 0:
                    return None
        else:
            key = op_text = None
        if key is not None and name_parts(key) is not None:
            facts = _key_facts(api, key)
            if facts is not None:
                share = _share(api, facts, op_text.upper(), op_text, vclass, value)
        if share is not None:
            plain.append((len(others), share, facts[2], Span(m.start(), m.end(kind))))
            keys.append(key)
        else:
            c = comparison(text, m)
            if c is None:
                return None
            if c.op is not None and c.op.canonical == "NOT IN" and kind != "in_list":
                max_nots -= 1
                if max_nots < 0:
                    return None
            others.append(c)
            keys.append(c.left.text)
        sep = after(text, m.end())
        if sep is None or (sep.end() < n and sep.start("and") < 0):  # (OR: MF202)
            return None
        pos = sep.end()
    # in source order, as the checker meets them
    done = 0
    for before, share, entity, span in plain:
        while done < before:
            rules(others[done])
            done += 1
        count(q, share, entity, span)
    for c in others[done:]:
        rules(c)
    return keys
