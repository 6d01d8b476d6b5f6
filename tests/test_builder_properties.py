"""The builder's promise, checked against a real MLflow 3.17.2 store for every search API.

For every expression the strategies below build (written per API: only terms and comparators
that API has), either the builder refuses with a BuildError that names an inexpressible value or
an impossible negation (predicted here, independently, from the expression), or:

(a) a real MLflow store accepts every search the query emits (`query.filters()`, one per
    conjunction of the OR/NOT expansion), together with the query's order_by;
(b) MLflow's own parser reads each AND-only filter as exactly the intended conditions: same
    number, same entity types, keys, comparators and values (quotes, backslashes, `%`, `_`,
    unicode and empty strings included). Hostile values such as `' AND params.x = '`, backticks
    and newlines can therefore never add, drop or re-key a condition. For OR/NOT expressions
    each emitted condition is one of the written conditions (possibly negated, or merged into IN);
(c) the text round-trips: mlfilter's parser gives back the expression's structure (AND/OR/NOT
    nesting and comparators, so precedence is preserved), `mlfilter.parse` agrees with MLflow,
    and `from_string(str(expr))` is the same expression and builds the same searches.

MLFILTER_BUILDER_EXAMPLES sets the number of generated examples per test (default 100).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

pytest.importorskip("mlflow")

from hypothesis_settings import examples_settings  # noqa: E402
from hypothesis import given, note  # noqa: E402
from hypothesis.control import currently_in_test_context  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import mlfilter  # noqa: E402
from mlfilter import ast  # noqa: E402
from mlfilter.builder import BuildError, F, Predicate, from_string  # noqa: E402
from mlflow_oracle import get_oracle  # noqa: E402

pytestmark = pytest.mark.mlflow

# (its own knob: each example here runs several searches, so CI's MLFILTER_EXAMPLES would be slow)
SETTINGS = examples_settings("MLFILTER_BUILDER_EXAMPLES", 100)

APIS = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# ---- the expressions: small trees of leaves ---------------------------------------------------

@dataclass(frozen=True)
class Leaf:
    """One intended condition: `F.<kind>(key) <op> value`."""

    kind: str  # an F factory: metric, param, tag, attr, dataset, metadata, span, span_attribute,
    #            feedback, expectation
    key: str
    op: str  # MLflow's spelling: =, !=, <, LIKE, IN, IS NULL, ...
    value: object = None  # str | int | float | datetime | date | tuple[str, ...] | None

    def __repr__(self) -> str:
        return f"F.{self.kind}({self.key!r}) {self.op} {self.value!r}"


# A tree is a Leaf, ("and", a, b), ("or", a, b) or ("not", a).


def build(tree) -> Predicate:
    """The builder expression for a tree, through the public operators only."""
    if isinstance(tree, Leaf):
        term = getattr(F, tree.kind)(tree.key)
        op, v = tree.op, tree.value
        return {
            "=": lambda: term == v, "!=": lambda: term != v, "<": lambda: term < v,
            "<=": lambda: term <= v, ">": lambda: term > v, ">=": lambda: term >= v,
            "LIKE": lambda: term.like(v), "ILIKE": lambda: term.ilike(v),
            "RLIKE": lambda: term.rlike(v), "IN": lambda: term.isin(list(v)),
            "NOT IN": lambda: term.not_in(list(v)), "IS NULL": term.is_null,
            "IS NOT NULL": term.is_not_null,
        }[op]()
    tag, *items = tree
    parts = [build(i) for i in items]
    if tag == "and":
        return parts[0] & parts[1]
    if tag == "or":
        return parts[0] | parts[1]
    return ~parts[0]


def leaves(tree) -> list[Leaf]:
    if isinstance(tree, Leaf):
        return [tree]
    return [leaf for item in tree[1:] for leaf in leaves(item)]


def is_conjunction(tree) -> bool:
    return isinstance(tree, Leaf) or (tree[0] == "and" and all(map(is_conjunction, tree[1:])))


def shape(tree):
    """AND/OR flattened, NOT kept, leaves reduced to their comparator."""
    if isinstance(tree, Leaf):
        return tree.op
    tag, *items = tree
    if tag == "not":
        return ("not", shape(items[0]))
    out = []
    for item in items:
        s = shape(item)
        out.extend(s[1] if isinstance(s, tuple) and s[0] == tag else [s])
    return (tag, out)


def ast_shape(node):
    """The same for the core's AST (parentheses are transparent)."""
    while isinstance(node, ast.Group):
        node = node.item
    if isinstance(node, ast.Comparison):
        return node.op.canonical
    if isinstance(node, ast.Not):
        return ("not", ast_shape(node.item))
    tag = "and" if isinstance(node, ast.And) else "or"
    out = []
    for item in node.items:
        s = ast_shape(item)
        out.extend(s[1] if isinstance(s, tuple) and s[0] == tag else [s])
    return (tag, out)


# ---- values and keys --------------------------------------------------------------------------

HOSTILE = [
    "", " ", "x", "it's", 'say "hi"', "' AND params.x = '", '" AND tags.y = "', "' OR '1'='1",
    "`", "a`b`", "line\nbreak", "\n", "tab\there", "\r\n", "50%_off", "%", "_", "%%", "\\",
    "a\\b", "\\'", '\\"', "x\\", "\\\\", "ünïcødé", "中文", "🙂", "Ω≈ç√", "NULL", "IS NULL",
    "a) OR (b", "('a',)", ",", "both ' and \"", "'", '"', "''", '""', "  lead", "trail  ",
    "AND", "x = 'y'", "\x00", "\u200b", "-- comment", "/* c */", ";", "\\n", "a'\"b\\",
]
TEXT_ALPHABET = "ab Z09'\"`\\%_.,()=;\n\t-é中🙂"
KEY_ALPHABET = "abZ09_ .-/`'\"é:"


def strings():
    return st.one_of(st.sampled_from(HOSTILE), st.text(TEXT_ALPHABET, max_size=10),
                     st.text(max_size=6))


def plain_strings():
    """Values that are expressible everywhere (no quotes, no trailing backslash)."""
    return st.text("abcXYZ019 _-%.", max_size=8)


def lists_of(values):
    return st.lists(values, min_size=1, max_size=3).map(tuple)


KEYS = [
    "a", "lr", "batch_size", "a.b", "my key", "a-b", "1x", "AND", "select", "is", "null", "in",
    "a b.c", " a", "a..b", "a.", "it's", 'q"k', "b`t", "mixed`'", "all`\"'", "ünï", "x\ny",
    "mlflow.runName", "name", "Name", "timestamp", "run_id", "text", "prompt", "end_time",
    "execution_time", "emoji🙂", "tab\tkey", "back\\", "a\\b", "a'b\"c", "a'b`c", "`a`", "``",
    "two\\\\back", "it's\\x", "q\"\\",
]


def keys():
    return st.one_of(st.sampled_from(KEYS), st.text(KEY_ALPHABET, min_size=1, max_size=8))


INT64 = st.integers(-(2**63), 2**63 - 1)
TIMES = st.one_of(
    st.integers(0, 2**63 - 1),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1),
                 timezones=st.just(timezone.utc)),
    st.dates(min_value=date(1971, 1, 1), max_value=date(2200, 1, 1)),
)
METRIC_VALUES = st.one_of(
    st.floats(allow_nan=False), st.integers(-(10**20), 10**20),
    st.sampled_from([0, -0.0, 1e-300, 5e-324, 1.7976931348623157e308, float("inf"), -1.5]),
)
# Assessment values are compared in SQLite as 64-bit integers or floats: a larger integer
# crashes MLflow, so the builder refuses it.
ASSESSMENT_NUMBERS = st.one_of(st.floats(allow_nan=False), INT64, st.integers(-(10**20), 10**20))
NUMERIC_OPS = ["=", "!=", "<", "<=", ">", ">="]
STRING_OPS = ["=", "!=", "LIKE", "ILIKE"]
LIST_OPS = ["IN", "NOT IN"]
NULL_OPS = ["IS NULL", "IS NOT NULL"]


def leaf(kind, key_strategy, ops, values=None):
    """Leaves of one kind: `ops` -> each op drawn with its value strategy."""
    key_strategy = st.just(key_strategy) if isinstance(key_strategy, str) else key_strategy

    def make(draw_key, op, value):
        return Leaf(kind, draw_key, op, value)

    parts = []
    for op_list, value_strategy in ops:
        for op in op_list:
            vs = st.none() if op in NULL_OPS else value_strategy
            parts.append(st.builds(make, key_strategy, st.just(op), vs))
    return st.one_of(parts)


def string_leaf(kind, key, *, lists=False, nulls=False, rlike=False, values=None):
    values = values or strings()
    ops = [(STRING_OPS + (["RLIKE"] if rlike else []), values)]
    if lists:
        ops.append((LIST_OPS, lists_of(values)))
    if nulls:
        ops.append((NULL_OPS, st.none()))
    return leaf(kind, key, ops)


def numeric_leaf(kind, key, values):
    return leaf(kind, key, [(NUMERIC_OPS, values)])


RUN_STATUS = ["RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"]
TRACE_STATUS = ["OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED"]
LOGGED_MODEL_STATUS = ["UNSPECIFIED", "PENDING", "READY", "FAILED"]
STATUSES = {"runs": RUN_STATUS, "traces": TRACE_STATUS, "logged_models": LOGGED_MODEL_STATUS}


def status_leaf(kind, values, lists):
    enum = st.sampled_from(values)
    ops = [(["=", "!="], enum), (["LIKE", "ILIKE"], strings())]
    if lists:
        ops.append((LIST_OPS, lists_of(enum)))
    return leaf(kind, "status", ops)


LEAVES = {
    "runs": st.one_of(
        numeric_leaf("metric", keys(), METRIC_VALUES),
        string_leaf("param", keys(), nulls=True),
        string_leaf("tag", keys(), nulls=True),
        string_leaf("attr", "run_id", lists=True),
        string_leaf("attr", st.sampled_from(["run_name", "user_id", "artifact_uri"])),
        status_leaf("attr", RUN_STATUS, lists=False),
        numeric_leaf("attr", st.sampled_from(["start_time", "end_time"]), TIMES),
        string_leaf("dataset", st.sampled_from(["name", "digest", "context"]), lists=True),
    ),
    "experiments": st.one_of(
        string_leaf("attr", "name"),
        leaf("attr", "experiment_id", [(["=", "!="], st.integers(0, 2**63 - 1).map(str)),
                                       (LIST_OPS, lists_of(st.integers(0, 2**63 - 1).map(str)))]),
        numeric_leaf("attr", st.sampled_from(["creation_time", "last_update_time"]),
                     st.one_of(INT64, TIMES)),
        string_leaf("tag", keys(), nulls=True),
    ),
    "registered_models": st.one_of(
        string_leaf("attr", "name", lists=True),
        string_leaf("tag", keys()),
    ),
    "model_versions": st.one_of(
        string_leaf("attr", st.sampled_from(["name", "run_id"]), lists=True),
        string_leaf("attr", "source_path"),
        numeric_leaf("attr", "version_number", st.integers(-5, 2**63 - 1)),
        string_leaf("tag", keys()),
    ),
    "logged_models": st.one_of(
        string_leaf("attr", st.sampled_from(["name", "model_id", "model_type", "source_run_id"]),
                    lists=True),
        status_leaf("attr", LOGGED_MODEL_STATUS, lists=True),
        numeric_leaf("attr", st.sampled_from(["creation_time", "creation_timestamp_ms",
                                              "last_updated_timestamp_ms"]),
                     st.one_of(st.integers(0, 2**53), TIMES)),
        numeric_leaf("metric", keys(), METRIC_VALUES),
        string_leaf("param", keys(), lists=True),
        string_leaf("tag", keys(), lists=True),
    ),
    "traces": st.one_of(
        string_leaf("attr", "request_id", lists=True, rlike=True),
        status_leaf("attr", TRACE_STATUS, lists=True),
        numeric_leaf("attr", st.sampled_from(["timestamp_ms", "execution_time_ms"]),
                     st.one_of(INT64, TIMES)),
        string_leaf("tag", keys(), nulls=True, rlike=True),
        string_leaf("metadata", keys(), nulls=True, rlike=True),
        string_leaf("span", st.sampled_from(["name", "type", "status"]), lists=True, rlike=True),
        leaf("span", "content", [(["LIKE", "ILIKE"], strings())]),
        leaf("span_attribute", st.one_of(st.sampled_from(["model", "a.b", "my key", "x-y", "1"]),
                                         st.text("abZ09_ .-", min_size=1, max_size=6)),
             [(["LIKE", "ILIKE", "RLIKE"], strings())]),
        *[leaf(kind, keys(), [(STRING_OPS + ["RLIKE"], strings()),
                              (["<", "<=", ">", ">="], ASSESSMENT_NUMBERS),
                              (NULL_OPS, st.none())])
          for kind in ("feedback", "expectation")],
    ),
}


def trees(api: str, max_leaves: int = 5):
    base = LEAVES[api]
    return st.recursive(
        base,
        lambda sub: st.one_of(
            st.tuples(st.just("and"), sub, sub),
            st.tuples(st.just("or"), sub, sub),
            st.tuples(st.just("not"), sub),
        ),
        max_leaves=max_leaves,
    )


def conjunctions(api: str):
    return st.lists(LEAVES[api], min_size=1, max_size=5).map(
        lambda ls: ls[0] if len(ls) == 1 else _and_chain(ls))


def _and_chain(ls):
    tree = ls[0]
    for item in ls[1:]:
        tree = ("and", tree, item)
    return tree


# ---- what MLflow should read --------------------------------------------------------------

MLFLOW_TYPE = {
    "runs": {"metric": "metric", "param": "parameter", "tag": "tag", "attr": "attribute",
             "dataset": "dataset"},
    "experiments": {"attr": "attribute", "tag": "tag"},
    "registered_models": {"attr": "attribute", "tag": "tag"},
    "model_versions": {"attr": "attribute", "tag": "tag"},
    "logged_models": {"attr": "attributes", "metric": "metrics", "param": "params",
                      "tag": "tags"},
    "traces": {"attr": "attribute", "tag": "tag", "metadata": "request_metadata", "span": "span",
               "span_attribute": "span", "feedback": "feedback", "expectation": "expectation"},
}
# search_logged_models reads these attribute names as the column they alias.
LOGGED_MODEL_ALIASES = {"creation_time": "creation_timestamp_ms",
                        "creation_timestamp": "creation_timestamp_ms",
                        "last_updated_timestamp": "last_updated_timestamp_ms"}
# search_traces rewrites these keys (any case) whatever their prefix, span fields excepted.
TRACE_REWRITTEN_KEYS = {"name", "prompt", "run_id", "text", "timestamp", "execution_time",
                        "end_time"}


def epoch_ms(value):
    if isinstance(value, datetime):
        return (value - EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, date):
        return (datetime(value.year, value.month, value.day, tzinfo=timezone.utc) - EPOCH) \
            // timedelta(milliseconds=1)
    return value


def expected_condition(api: str, leaf: Leaf) -> dict:
    key = leaf.key
    if leaf.kind == "span_attribute":
        key = "attributes." + key
    if api == "logged_models" and leaf.kind == "attr":
        key = LOGGED_MODEL_ALIASES.get(key, key)
    value = epoch_ms(leaf.value)
    return {"type": MLFLOW_TYPE[api][leaf.kind], "key": key, "comparator": leaf.op,
            "value": value}


def same_value(expected, got) -> bool:
    """Exact for strings and lists; numbers by value (MLflow keeps a metric's literal text)."""
    if expected is None or got is None:
        return expected is got
    if isinstance(expected, tuple):
        return isinstance(got, (tuple, list)) and tuple(got) == expected
    if isinstance(expected, str):
        return isinstance(got, str) and got == expected
    if isinstance(got, str):
        try:
            got = int(got) if re.fullmatch(r"-?\d+", got) else float(got)
        except ValueError:
            return False
    if isinstance(expected, int) and isinstance(got, int):
        return got == expected
    return float(got) == float(expected)


def assert_reads_as(api: str, parsed, expected: list[dict], explain: str) -> None:
    assert isinstance(parsed, list), f"MLflow's parser failed: {parsed}\n{explain}"
    assert len(parsed) == len(expected), f"MLflow reads {len(parsed)} conditions\n{explain}"
    for got, want in zip(parsed, expected):
        assert (got["type"], got["key"], got["comparator"].upper()) == \
               (want["type"], want["key"], want["comparator"]), f"{got} != {want}\n{explain}"
        assert same_value(want["value"], got["value"]), f"{got} != {want}\n{explain}"


# ---- when the builder must refuse -------------------------------------------------------------

# Conditions whose negation MLflow can express: present on every entity (flip the comparator) or
# may be missing and take IS NULL (flip OR IS NULL). Anything else negated is refused.
ALWAYS_PRESENT = {
    "runs": {("attr", "run_id"), ("attr", "status"), ("attr", "start_time")},
    "experiments": {("attr", k) for k in ("name", "experiment_id", "creation_time",
                                          "last_update_time")},
    "registered_models": {("attr", "name")},
    "model_versions": {("attr", "name"), ("attr", "version_number")},
    "logged_models": {("attr", k) for k in ("name", "model_id", "creation_time",
                                            "creation_timestamp_ms")},
    "traces": {("attr", k) for k in ("request_id", "status", "timestamp_ms")},
}
NULLABLE = {"runs": {"param", "tag"}, "experiments": {"tag"}, "traces": {"tag", "metadata"}}


def value_refusals(api: str, leaf: Leaf) -> list[str]:
    """Why no filter text can say this condition (message patterns), or []."""
    out = []
    if leaf.kind == "span_attribute":
        pass
    elif all(q in leaf.key for q in "`\"'"):
        out.append("every quote character")
    elif api == "logged_models" and "`" in leaf.key and not _plain_key(leaf.key):
        out.append("MLflow would read")  # its parser unquotes backticks only
    elif api == "logged_models" and leaf.kind != "attr" and "\n" in leaf.key:
        out.append("line break")  # its key pattern stops at a line break: MLflow crashes
    elif len(leaf.key) >= 2 and leaf.key[0] == leaf.key[-1] == "`":
        # unquoted, then the backticks are trimmed too: another key, or none at all
        out += ["MLflow would read", "no key after the prefix"]
    if api == "traces" and leaf.kind not in ("span", "span_attribute", "attr") and \
            leaf.key.lower() in TRACE_REWRITTEN_KEYS:
        # MLflow would read another key (which may then not take this value at all)
        out.append("rewrites the key")
    if api == "logged_models" and leaf.kind == "attr" and leaf.key == "status":
        out.append("never matches")  # MLflow 3.17.2 compares the name with an integer column
    if leaf.kind in ("feedback", "expectation") and isinstance(leaf.value, int) and \
            not -(2**63) <= leaf.value < 2**63:
        out.append("does not fit a 64-bit integer")  # MLflow crashes on SQLite
    values = [] if leaf.value is None or not isinstance(leaf.value, (str, tuple)) else \
        ([leaf.value] if isinstance(leaf.value, str) else [])
    for v in values:  # a single quoted value: MLflow drops the first and last characters
        if "'" in v and '"' in v:
            out.append("both quote characters")
        if v.endswith("\\"):
            out.append("ending with a backslash")
        if api == "logged_models" and "'" in v and '"' not in v:
            out.append("MF312")  # the logged-model parser keeps double quotes
    if api in ("runs", "traces") and leaf.kind == "attr" and leaf.key == "status" and \
            leaf.op in ("LIKE", "ILIKE") and "%" not in leaf.value and "_" not in leaf.value:
        fold = (lambda v: v.upper()) if leaf.op == "ILIKE" else (lambda v: v)
        if fold(leaf.value) not in STATUSES[api]:
            out.append("MF302")  # no wildcard: a status MLflow never stores, so matches nothing
    return out


def structure_refusals(api: str, tree, negated: bool = False) -> list[tuple[str, Leaf]]:
    """Negations MLflow has no exact form for: (message pattern, negated leaf)."""
    if isinstance(tree, Leaf):
        if not negated or tree.op in NULL_OPS:
            return []
        if tree.op in ("LIKE", "ILIKE", "RLIKE"):
            return [("no exact opposite", tree)]
        if (tree.kind, tree.key) in ALWAYS_PRESENT[api] or tree.kind in NULLABLE.get(api, ()):
            return []
        return [("also matches entities that have no", tree)]
    tag, *items = tree
    return [r for item in items
            for r in structure_refusals(api, item, negated != (tag == "not"))]


# Refusals raised by F itself, before any query: they can never be absorbed.
BUILD_TIME = ("every quote character", "both quote characters", "ending with a backslash")


def assert_absorbed(query, offending: list[Leaf]) -> None:
    """A query accepted although some conditions cannot be sent: the OR/NOT expansion must have
    dropped them (`a AND (a OR b)` is `a`), never sent them."""
    sent = {leaf.text for conj in query.union for leaf in conj}
    for lf in offending:
        forms = [lf] + ([Leaf(lf.kind, lf.key, _FLIP[lf.op], lf.value)] if lf.op in _FLIP else [])
        for form in forms:
            try:
                text = str(build(form))
            except BuildError:
                continue
            assert text not in sent, f"sent {text!r}, which should have been refused"


# ---- the checks -------------------------------------------------------------------------------

def make_query(api: str):
    ids = [get_oracle().experiment_ids["exp-A"]]
    factory = getattr(mlfilter, f"search_{api}")
    return factory(ids) if api in ("runs", "logged_models", "traces") else factory()


def check_tree(api: str, tree, order_by=()) -> None:
    oracle = get_oracle()
    if currently_in_test_context():
        note(f"tree: {tree!r}")
    expected_refusals = [r for lf in leaves(tree) for r in value_refusals(api, lf)]
    structural = structure_refusals(api, tree)
    expected_refusals += [r for r, _ in structural]
    try:
        expr = build(tree)
        query = make_query(api).where(expr)
    except (BuildError, mlfilter.FilterError) as e:
        assert isinstance(e, BuildError), f"not a BuildError: {e!r}"
        assert expected_refusals, f"refused an expressible expression: {e}\n{tree!r}"
        assert any(r in str(e) for r in expected_refusals), \
            f"unclear refusal {str(e)!r}; expected one of {expected_refusals}"
        return
    assert not any(r in BUILD_TIME for r in expected_refusals), query.filters()
    if expected_refusals:
        assert_absorbed(query, [lf for lf in leaves(tree) if value_refusals(api, lf)]
                        + [lf for _, lf in structural])
    if order_by:
        query = query.order_by(*order_by)
    filters = query.filters()
    text = str(expr)
    explain = f"{api}: {text!r} -> {filters!r}"

    # (c) structure: the text parses back to the same nesting and comparators
    assert ast_shape(expr.node.root) == shape(tree), explain
    assert [c.op.canonical for c in ast.iter_comparisons(expr.node.root)] == \
        [lf.op for lf in leaves(tree)], explain
    again = from_string(text, api)
    assert again == expr and str(again) == text, explain
    assert make_query(api).where(again).order_by(*order_by).filters() == filters, explain

    # (a) MLflow accepts every search, with the order_by
    for f in filters:
        verdict = oracle._verdict(api, f, list(query.orders) or None)
        assert verdict.ok, f"MLflow: {verdict.short()}\n{explain}"

    # (b) MLflow reads the intended conditions
    if is_conjunction(tree):
        assert len(filters) == 1, explain
        # a condition repeated word for word is sent once
        unique = {(lf.kind, lf.key, lf.op, repr(epoch_ms(lf.value))): lf for lf in leaves(tree)}
        expected = [expected_condition(api, lf) for lf in unique.values()]
        assert_reads_as(api, oracle.parse(api, filters[0]), expected, explain)
        ours = mlfilter.parse(filters[0], api)
        if filters[0] == text:  # nothing repeated was dropped: the text is the expression's
            assert ours.root == expr.node.root, explain
        assert_reads_as(api, ours.to_mlflow(), expected, explain + " (mlfilter.parse)")
    else:
        written = [expected_condition(api, lf) for lf in leaves(tree)]
        for f in filters:
            parsed = oracle.parse(api, f)
            assert isinstance(parsed, list), f"{parsed}\n{explain}"
            for got in parsed:
                assert any(_is_form_of(got, w) for w in written), f"{got} not written\n{explain}"


_FLIP = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "IN": "NOT IN",
         "NOT IN": "IN", "IS NULL": "IS NOT NULL", "IS NOT NULL": "IS NULL"}


def _is_form_of(got: dict, written: dict) -> bool:
    """`got` is the written condition, its negation, its IS NULL, or part of a merged IN."""
    if (got["type"], got["key"]) != (written["type"], written["key"]):
        return False
    op, wop = got["comparator"].upper(), written["comparator"]
    if op in NULL_OPS:
        return True
    if op in (wop, _FLIP.get(wop)) and (same_value(written["value"], got["value"])
                                        or wop in NULL_OPS):
        return True
    if op in ("IN", "NOT IN") and wop in ("=", "!=", "IN", "NOT IN"):
        items = written["value"] if isinstance(written["value"], tuple) else (written["value"],)
        return all(i in got["value"] for i in items)
    return False


# ---- order_by strategies ----------------------------------------------------------------------

def _unique_orders(entries):
    seen, out = set(), []
    for kind, key, asc in entries:
        if (kind, key) not in seen:
            seen.add((kind, key))
            out.append((kind, key, asc))
    return out


ORDER_TERMS = {
    "runs": st.one_of(st.tuples(st.sampled_from(["metric", "param", "tag"]), keys()),
                      st.tuples(st.just("attr"), st.sampled_from(
                          ["run_id", "run_name", "status", "user_id", "start_time", "end_time",
                           "artifact_uri"]))),
    "experiments": st.tuples(st.just("attr"), st.sampled_from(
        ["name", "experiment_id", "creation_time", "last_update_time"])),
    "registered_models": st.tuples(st.just("attr"), st.sampled_from(
        ["name", "last_updated_timestamp"])),
    "model_versions": st.tuples(st.just("attr"), st.sampled_from(
        ["name", "version_number", "creation_timestamp", "last_updated_timestamp"])),
    "logged_models": st.one_of(st.tuples(st.just("metric"), keys()),
                               st.tuples(st.just("attr"), st.sampled_from(
                                   ["name", "creation_time", "model_id", "model_type"]))),
    "traces": st.one_of(st.tuples(st.sampled_from(["tag", "metadata"]), keys()),
                        st.tuples(st.just("attr"), st.sampled_from(
                            ["timestamp_ms", "execution_time_ms", "status", "request_id"]))),
}


def order_lists(api: str):
    entry = st.builds(lambda kk, asc: (*kk, asc), ORDER_TERMS[api],
                      st.sampled_from([True, False, None]))
    return st.lists(entry, max_size=3).map(_unique_orders)


def order_terms(entries):
    out = []
    for kind, key, asc in entries:
        term = getattr(F, kind)(key)
        out.append(term if asc is None else (term.asc() if asc else term.desc()))
    return out


ORDER_TYPE = {**MLFLOW_TYPE, "traces": {"attr": "attribute", "tag": "tag",
                                        "metadata": "request_metadata"}}


def expected_order(api: str, kind: str, key: str, asc) -> tuple:
    ascending = asc is not False
    if api == "registered_models":
        return (key, ascending)
    if api == "logged_models":
        name = key if kind == "attr" else f"metrics.{key}"
        return (name, ascending, None, None)
    return (ORDER_TYPE[api][kind], key, ascending)


def order_refusals(api: str, entries) -> list[str]:
    """order_by keys MLflow cannot read back (see test_inexpressible_order_keys_really_are):
    MLflow runs an entry through shlex with backticks turned into double quotes, keeps shlex's
    reading of the key when a direction follows, strips the entry and one pair of quotes."""
    out = []
    for kind, key, _ in entries:
        if api == "logged_models":  # dicts: the key is not parsed, but F cannot write it
            out += ["every quote character"] if all(q in key for q in "`\"'") else []
            continue
        if api == "traces" and kind != "attr" and key.lower() in TRACE_REWRITTEN_KEYS:
            out.append("rewrites the key")
        if kind == "attr" or _plain_key(key):
            continue
        if all(q in key for q in "`\"'"):
            out.append("every quote character")
        elif key != key.rstrip():
            out.append("ends with whitespace")
        elif len(key) >= 2 and key[0] == key[-1] and key[0] in "`\"'":
            out.append("removes the quotes around it")
        elif "`" in key:
            out.append("backtick")
        elif "'" in key and ('"' in key or "\\\\" in key or key.endswith("\\")):
            out.append("cannot also hold")
    return out


def check_order_by(api: str, entries) -> None:
    oracle = get_oracle()
    expected_refusals = order_refusals(api, entries)
    try:
        query = make_query(api).order_by(*order_terms(entries))
    except BuildError as e:
        assert expected_refusals, f"refused an expressible order_by {entries!r}: {e}"
        assert any(r in str(e) for r in expected_refusals), str(e)
        return
    assert not expected_refusals, f"accepted {query.orders}"
    orders = list(query.orders)
    verdict = oracle.order_by_verdict(api, orders)
    assert verdict.ok, f"{api} {orders!r}: {verdict.short()}"
    parsed = [oracle.parse_order_by(api, o) for o in orders]
    assert parsed == [expected_order(api, *e) for e in entries], orders


def _plain_key(key: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key) is not None


# ---- the tests --------------------------------------------------------------------------------

@pytest.mark.parametrize("api", APIS)
@SETTINGS
@given(data=st.data())
def test_conjunctions_are_read_exactly_as_built(api, data):
    check_tree(api, data.draw(conjunctions(api), label="tree"))


@pytest.mark.parametrize("api", APIS)
@SETTINGS
@given(data=st.data())
def test_or_not_expressions_become_accepted_searches(api, data):
    tree = data.draw(trees(api), label="tree")
    entries = data.draw(order_lists(api), label="order_by")
    check_tree(api, tree, _orders_or_none(api, entries))


def _orders_or_none(api, entries) -> tuple:
    """The order_by terms when the builder takes them (test_order_by_* checks refusals)."""
    try:
        orders = order_terms(entries)
        make_query(api).order_by(*orders)
    except BuildError:
        return ()
    return tuple(orders)


@pytest.mark.parametrize("api", APIS)
@SETTINGS
@given(data=st.data())
def test_order_by_is_accepted_and_read_as_built(api, data):
    check_order_by(api, data.draw(order_lists(api), label="order_by"))


# Hostile values, one by one, for the conditions that take arbitrary text in each API.
HOSTILE_TARGETS = {
    "runs": [("param", "p"), ("tag", "t"), ("attr", "run_name"), ("dataset", "name")],
    "experiments": [("attr", "name"), ("tag", "t")],
    "registered_models": [("attr", "name"), ("tag", "t")],
    "model_versions": [("attr", "source_path"), ("tag", "t")],
    "logged_models": [("attr", "name"), ("param", "p"), ("tag", "t")],
    "traces": [("tag", "t"), ("metadata", "m"), ("span", "name"), ("feedback", "f")],
}


LIST_TARGETS = {"runs": ("dataset", "name"), "registered_models": ("attr", "name"),
                "model_versions": ("attr", "run_id"), "logged_models": ("param", "p"),
                "traces": ("span", "name"), "experiments": None}


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_never_changes_the_structure(value):
    """Each hostile value in every free-text condition of each API, between plain conditions:
    MLflow still reads exactly the written conditions, keys and this exact value (or the builder
    says why no text can hold the value)."""
    plain = Leaf("tag", "after", "=", "ok")
    for api in APIS:
        conditions = [Leaf(kind, key, "=", value) for kind, key in HOSTILE_TARGETS[api]]
        check_tree(api, _and_chain([plain, *conditions, Leaf("tag", "last", "=", "ok")]))
        if LIST_TARGETS[api]:
            check_tree(api, ("and", Leaf(*LIST_TARGETS[api], "IN", (value, "x")), plain))


@pytest.mark.parametrize("api", ["runs", "experiments", "traces"])
@pytest.mark.parametrize("key", KEYS)
def test_hostile_keys_are_read_as_written(api, key):
    kinds = {"runs": ["param", "tag", "metric"], "experiments": ["tag"],
             "traces": ["tag", "metadata", "feedback"]}[api]
    for kind in kinds:
        value = 1.5 if kind in ("metric", "feedback") else "v"
        op = "<" if kind in ("metric", "feedback") else "="
        check_tree(api, ("and", Leaf(kind, key, op, value), Leaf(kind, key + "2", op, value)))


def test_from_string_round_trip_of_handwritten_text():
    text = "metrics.a > 1 OR NOT (params.b = 'x' AND tags.`c d` LIKE '%')"
    expr = from_string(text)
    assert str(expr) == text
    assert from_string(str(expr)) == expr
    assert ast_shape(expr.node.root) == ("or", [">", ("not", ("and", ["=", "LIKE"]))])


def test_rewritten_trace_keys_are_really_rewritten_by_mlflow():
    """The builder refuses `tags.name` in search_traces because MLflow reads another key."""
    oracle = get_oracle()
    for key in sorted(TRACE_REWRITTEN_KEYS):
        parsed = oracle.parse("traces", f"tags.{key} = '1'")
        assert isinstance(parsed, list) and len(parsed) == 1
        assert (parsed[0]["type"], parsed[0]["key"]) != ("tag", key), key


def test_inexpressible_values_really_are():
    """What the builder calls inexpressible: no quoting makes MLflow read these values back in
    every context (MLflow drops the outer quotes and unescapes nothing; sqlparse does escape)."""
    oracle = get_oracle()
    both, backslash = "it's \"x\"", "x\\"
    for value in (both, backslash):
        for q in "'\"":
            # the same quote later in the filter: sqlparse's escapes swallow the end of the value
            text = f"params.p = {q}{value}{q} AND tags.t = {q}ok{q}"
            parsed = oracle.parse("runs", text)
            assert not (isinstance(parsed, list) and len(parsed) == 2
                        and parsed[0]["value"] == value), text
    for key in ("`a`", "``"):  # a backticked key inside quotes loses its backticks too
        for q in "\"'":
            parsed = oracle.parse("runs", f"tags.{q}{key}{q} = 'x'")
            assert parsed[0]["key"] != key


def test_inexpressible_order_keys_really_are():
    """order_by keys the builder refuses: no quoting reads back in both directions."""
    oracle = get_oracle()
    keys = ["a'b\"c", "a'b`c", "a`b", "trailing ", '"q"', "`b`", "it's\\", "it's\\\\x"]
    for key in keys:
        assert order_refusals("runs", [("tag", key, True)]), key
        for spelling in (f"tags.`{key}`", f'tags."{key}"', f"tags.'{key}'", f"tags.{key}"):
            both = [oracle.parse_order_by("runs", spelling + suffix)
                    for suffix in ("", " DESC")]
            assert both != [("tag", key, True), ("tag", key, False)], spelling


# ---- gaps found on the way (now fixed), and what they rely on in MLflow ----------------------

def test_known_gaps_are_real_in_mlflow():
    """What the tests below rely on, checked on the real store."""
    oracle = get_oracle()
    assert oracle.filter_verdict("traces", f"feedback.quality < {2**63}").status == "crash"
    assert oracle.filter_verdict("traces", "feedback.quality < 9223372036854775807").ok
    ok = oracle.filter_verdict("traces", "status = 'OK'").n
    assert ok and oracle.filter_verdict("traces", "status ILIKE 'ok'").n == ok
    # lm-two is READY, yet MLflow 3.17.2 finds no logged model by status: the builder refuses
    assert oracle.filter_verdict("logged_models", "name = 'lm-two'").n == 1
    for status in LOGGED_MODEL_STATUS:
        assert oracle.filter_verdict("logged_models", f"status = '{status}'").n == 0


@pytest.mark.parametrize("api", ["runs", "registered_models", "logged_models", "traces"])
@pytest.mark.parametrize("items", [("a\\", "b"), ("\\", ")"), ("it's \"x\"", "x\\"), ("\n\\'",)])
def test_any_string_can_be_a_list_item(api, items):
    """Lists are read with ast.literal_eval, but sqlparse must first find the list's end: the
    builder never writes a backslash before a quote (`'\\\\'` would swallow the next item)."""
    kind, key = {"runs": ("attr", "run_id"), "registered_models": ("attr", "name"),
                 "logged_models": ("param", "p"), "traces": ("attr", "request_id")}[api]
    check_tree(api, ("and", Leaf(kind, key, "IN", items), Leaf("tag", "t", "=", "ok")))
    naive = f"name IN {items!r}"  # Python's own repr is not always safe
    if items == ("\\", ")"):
        assert not get_oracle().filter_verdict("registered_models", naive).ok


def test_assessment_int_over_int64_is_refused():
    """MLflow crashes (HTTP 500) comparing an assessment with an integer over 64 bits."""
    with pytest.raises(BuildError, match="does not fit a 64-bit integer"):
        mlfilter.search_traces(["1"]).where(F.feedback("quality") < 2**63)


def test_status_ilike_ignores_case_like_mlflow():
    query = mlfilter.search_traces([get_oracle().experiment_ids["exp-A"]]).where(
        F.attr("status").ilike("ok"))
    assert query.filters() == ["status ILIKE 'ok'"]
    oracle = get_oracle()
    assert oracle.filter_verdict("traces", "status ILIKE 'ok'").n == \
        oracle.filter_verdict("traces", "status = 'OK'").n > 0
