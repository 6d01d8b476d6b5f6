"""Strategies of the fuzz campaign (tests/test_fuzz.py): filter strings built from the grammar
and the per-API tables, then mutated, plus text of every Unicode category and hostile values.

- `grammar_filters(api)`: hypothesis' `from_lark` over grammar/filter.lark. The grammar's
  terminals come from mlfilter's lexer (`%declare`), so each is drawn from the API's own table:
  its entity prefixes (every alias) and attribute keys, backticked and quoted keys, MLflow's
  comparators and value shapes, each with the spaces around it.
- `mutated(base)`: a drawn filter with tokens deleted, duplicated, swapped, or replaced by a
  hostile piece (a huge number, a character of any Unicode category, NUL, a lone surrogate).
- `fuzz_filters(api)`: all of these, with tests/strategies.py's near-valid filters and raw text.
- `fuzz_order_bys(api)`: order_by lists of entries built the same way, and non-lists.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import strategies as near_valid

GRAMMAR = Path(__file__).resolve().parent.parent / "grammar" / "filter.lark"

# ---- the campaign's size ------------------------------------------------------------------------
# MLFILTER_FUZZ=long runs a deeper campaign (about 50x the examples); CI runs the default,
# derandomized. MLFILTER_FUZZ_EXAMPLES sets the count of one test directly.
PROFILES = {"ci": 1, "long": 50}


def fuzz_settings(default: int) -> settings:
    profile = os.environ.get("MLFILTER_FUZZ", "ci")
    count = int(os.environ.get("MLFILTER_FUZZ_EXAMPLES", default * PROFILES.get(profile, 1)))
    return settings(max_examples=count, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")) or profile == "ci")


# ---- hostile pieces -----------------------------------------------------------------------------

HUGE_NUMBERS = ("1" * 4301, "-" + "9" * 4301, "0" * 4300 + "1", "1" * 4300, "9" * 20,
                "9223372036854775808", "-9223372036854775809", "2147483648", "1e400", "-1e400",
                "1" * 400 + ".5", "1e-400", "0x" + "f" * 50, "1" + "0" * 5000 + "e-5000")
# one character of each kind that has broken parsers: NUL, controls, a lone surrogate of each
# half, the byte order mark, zero-width and bidi marks, line and paragraph separators, a
# combining mark, a wide character, an emoji, a private-use character, a non-ASCII digit
HOSTILE_CHARS = ("\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\ufeff", "\u200b",
                 "\u202e", "\u2028", "\u2029", "\u0301", "\u4e2d", "\U0001f600", "\ue000",
                 "\u0663", "\t", "\r", "\n", "\x0b", "\x0c", "\\", "'", '"', "`", "%", "_")
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every category, surrogates too
ANY_TEXT = st.text(ANY_CHAR, max_size=60)
HOSTILE_PIECE = st.one_of(st.sampled_from(HUGE_NUMBERS), st.sampled_from(HOSTILE_CHARS),
                          ANY_CHAR, st.text(ANY_CHAR, min_size=1, max_size=8))

_SPACE = st.sampled_from([" "] * 12 + ["", "  ", "\t", "\n", "\r\n", "\u00a0"])


def _spaced(strategy):
    """A terminal with the whitespace around it (the grammar has none: the lexer drops it)."""
    return st.tuples(_SPACE, strategy, _SPACE).map("".join)


@lru_cache(maxsize=None)
def _table(api: str):
    from mlfilter.apis import get_api

    spec = get_api(api)
    prefixes, keys = [], []
    for entity in spec.entities:
        prefixes.extend(entity.prefixes)
        keys.extend(entity.keys)
        keys.extend(p for p, _ in entity.pattern_keys)
        keys.extend(entity.reserved_keys)
    return tuple(sorted(set(prefixes))), tuple(sorted(set(keys) | set(spec.keyword_keys)))


_KEY_WORDS = ("loss", "acc", "lr", "x", "my key", "a.b", "from", "select", "mlflow.runName",
              "ключ", "", "1", "a-b", "a`b", "a'b", 'a"b', "%", " ")


@st.composite
def _name(draw, api: str) -> str:
    """A NAME token: a key as the lexer would read it, from the API's table or near it."""
    prefixes, keys = _table(api)
    kind = draw(st.integers(0, 9))
    if kind < 4 and keys:
        key = draw(st.sampled_from(keys))
        if draw(st.integers(0, 4)) == 0 and prefixes:
            return f"{draw(st.sampled_from(prefixes))}.{key}"
        return key
    prefix = draw(st.sampled_from(prefixes)) if prefixes else "params"
    word = draw(st.sampled_from(_KEY_WORDS) | st.text(ANY_CHAR, max_size=6))
    quote = draw(st.sampled_from(["", "", "`", '"', "'"]))
    if quote or not re.fullmatch(r"\w+(\.\w+)*", word):
        quote = quote or "`"
        word = f"{quote}{word}{quote}"
    return f"{prefix}.{word}"


_STRING_BODIES = st.sampled_from(("a", "adam", "FINISHED", "50%", "it''s", "a\\b", "%a_", "",
                                  " ", "ключ", "1", "1e-3", "x" * 300)) | ANY_TEXT


def _terminals(api: str) -> dict:
    return {
        "NAME": _spaced(_name(api)),
        "SQ": _spaced(_STRING_BODIES.map(lambda s: "'" + s.replace("'", "''") + "'")),
        "DQ": _spaced(_STRING_BODIES.map(lambda s: '"' + s.replace('"', '""') + '"')),
        "NUMBER": _spaced(st.sampled_from(near_valid.GOOD_NUMBERS + near_valid.BAD_NUMBERS[:5]
                                          + HUGE_NUMBERS)),
        "OP": _spaced(st.sampled_from(("=", "!=", "<", "<=", ">", ">=", "==", "<>", "=<", "!"))),
        "LIKE": _spaced(st.sampled_from(("LIKE", "ILIKE", "RLIKE", "like", "NOT LIKE",
                                         "NOT ILIKE", "REGEXP"))),
        "IS": _spaced(st.sampled_from(("IS", "is"))),
        "NOT_NULL": _spaced(st.sampled_from(("NOT NULL", "not null", "NOT  NULL"))),
        "NULL": _spaced(st.sampled_from(("NULL", "null"))),
        "AND": _spaced(st.sampled_from(("AND", "and", "And"))),
        "OR": _spaced(st.sampled_from(("OR", "or"))),
        "NOT": _spaced(st.sampled_from(("NOT", "not"))),
        "IN": _spaced(st.sampled_from(("IN", "in"))),
        "LPAR": _spaced(st.just("(")),
        "RPAR": _spaced(st.just(")")),
        "ARITH": _spaced(st.sampled_from(("+", "-", "||", "*", "/"))),
        "LIST": _spaced(st.sampled_from(near_valid.LIST_NOISE) | st.lists(
            _STRING_BODIES.map(lambda s: "'" + s.replace("'", "''") + "'"), min_size=1,
            max_size=4).map(lambda items: "(" + ", ".join(items) + ")")),
    }


@lru_cache(maxsize=None)
def _lark():
    from lark import Lark

    return Lark(GRAMMAR.read_text(encoding="utf-8"), start="filter")


def grammar_filters(api: str):
    from hypothesis.extra.lark import from_lark

    return from_lark(_lark(), start="filter", explicit=_terminals(api))


# ---- mutations ----------------------------------------------------------------------------------

# words, quoted runs, numbers, operators and single characters: the pieces a mutation moves
_PIECES = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\w+|\s+|[<>=!]+|.""", re.S)


@st.composite
def mutated(draw, base) -> str:
    text = draw(base)
    pieces = _PIECES.findall(text) or [""]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, max(0, len(pieces) - 1)))
        op = draw(st.sampled_from(("delete", "duplicate", "swap", "insert", "replace")))
        if op == "delete" and pieces:
            del pieces[i]
        elif op == "duplicate" and pieces:
            pieces.insert(i, pieces[i])
        elif op == "swap" and len(pieces) > 1:
            j = draw(st.integers(0, len(pieces) - 1))
            pieces[i], pieces[j] = pieces[j], pieces[i]
        elif op == "insert":
            pieces.insert(i, draw(HOSTILE_PIECE))
        elif pieces:
            pieces[i] = draw(HOSTILE_PIECE)
    return "".join(pieces)


def fuzz_filters(api: str):
    grammar = grammar_filters(api)
    near = near_valid.filters(api)
    return st.one_of(grammar, near, mutated(grammar), mutated(near), ANY_TEXT,
                     st.binary(max_size=40))


# ---- order_by -----------------------------------------------------------------------------------

_JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6)


@st.composite
def _order_entry(draw, api: str):
    kind = draw(st.integers(0, 9))
    if kind < 4:
        key = draw(_name(api))
        return key + draw(st.sampled_from(("", " ASC", " DESC", " desc", " DESC DESC", " UP")))
    if kind < 6:
        return draw(mutated(st.just(draw(_name(api)) + " DESC")))
    if kind < 8:
        return draw(st.dictionaries(st.sampled_from(["field_name", "ascending", "dataset_name",
                                                     "dataset_digest"]) | ANY_TEXT, _JSONISH,
                                    max_size=4))
    return draw(_JSONISH)


def fuzz_order_bys(api: str):
    entry = _order_entry(api)
    return st.one_of(st.lists(entry, max_size=5), entry, near_valid.order_bys(api))
