"""Which comparisons no rule has anything to say about: the checker skips the rules for them.

A comparison is *plain* when its key resolves to a target without special rules (no enum, time,
integer column, format, rewrite...: `plain_target`) and its comparator and value are ones those
rules accept without a remark: a metric with `<`, `<=`, `>`, `>=` or `!=` and a short number; a
param or tag with `=`, `!=`, `LIKE` with a wildcard, `ILIKE`, `IS [NOT] NULL` and a quoted value
with no quote, backslash or non-printable character inside. Everything else runs the rules.
This is a shortcut, not a second set of rules: it may only say "nothing to report" where the
rules (mlfilter/rules/clauses.py, suspicious.py) say nothing either, which
tests/test_fast_path.py checks on generated filters against the rules run on every comparison.
"""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import NULL_OPS, Api, Target
from mlfilter.resolve import memo_of, resolve, rewritten

# A quoted value the rules leave alone: printable ASCII, without its own quote (MF307: MLflow
# keeps doubled or escaped quotes) or a backslash (MF306: LIKE escapes differ per database).
_PLAIN_VALUE = re.compile(r"'[ -&(-\[\]-~]*'|\"[ !#-\[\]-~]*\"")
_PLAIN_KEY = re.compile(r"[!-~]+")  # printable ASCII without spaces (MF317, MF242)
_MAX_NUMBER = 15  # characters: far from int() limits, 64 bits and float overflow
_ORDERING = frozenset({"<", "<=", ">", ">=", "!="})
_STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
_NUMBER_CLASSES = {"INT": "int", "FLOAT": "float"}  # (HEX is read otherwise)


def plain_target(target: Target) -> bool:
    """A target none of whose value rules applies to a plain value."""
    return not (target.enum or target.time_ms or target.int_string or target.int64
                or target.int32 or target.int_only or target.value_format
                or target.never_matches_eq or target.string_as_number
                or target.case_sensitive_ops or target.span_bound or target.op_values
                or target.drops_non_lowercase or target.output == "number")


def _key_facts(api: Api, text: str):
    """(target, joins, entity name) of a key that plain comparisons may use, else None."""
    memo = memo_of(api)
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
    left, op = c.left, c.op
    if op is None or left.__class__ is not ast.Name or left.keyword or api.parser != "search_utils":
        return None
    facts = _key_facts(api, left.text)
    if facts is None:
        return None
    target, joins, entity = facts
    canonical = op.canonical
    right = c.right
    if canonical in NULL_OPS:
        if api.nulls_crash or api.keys_ignore_case or canonical not in target.ops:
            return None
        if canonical == "IS NOT NULL" and op.text.split(None, 1)[1].upper() != "NOT NULL":
            return None
        return 0, entity
    if canonical not in target.ops:
        return None
    cls = right.__class__
    if cls is ast.Number:
        vclass = _NUMBER_CLASSES.get(right.kind)
        if vclass not in target.values or len(right.text) > _MAX_NUMBER \
                or api.rejects_infinite or canonical not in _ORDERING:
            return None  # (`=` on a metric: MF304)
        return joins, entity
    if cls is ast.String:
        if "string" not in target.values or canonical not in _STRING_OPS \
                or not _PLAIN_VALUE.fullmatch(right.text):
            return None
        if canonical == "LIKE" and "%" not in right.text and "_" not in right.text:
            return None  # MF305
        return joins, entity
    return None
