"""`F` and its terms: Python comparisons -> predicates whose text MLflow reads exactly as written.

A predicate is the core's AST (parsed back from the text the builder writes) plus what each of
its conditions is meant to say, so that a query can verify, for its API, that MLflow reads every
condition as intended (the defence against values that would otherwise change the filter).
Terms overload `==`, so they are unhashable, and a predicate refuses `bool()`: `if F.x == 1:` and
`0 < F.metric("a") < 1` fail loudly instead of meaning something else.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlfilter import ast
from mlfilter.builder.render import (
    BuildError,
    epoch_ms,
    key_text,
    list_text,
    number_text,
    order_key_text,
    param_value,
    string_text,
)

# Attribute keys whose values are numbers in some search API (times in milliseconds, versions).
NUMERIC_ATTRIBUTES = frozenset(
    "start_time end_time created Created creation_time last_update_time version_number "
    "timestamp timestamp_ms execution_time execution_time_ms end_time_ms creation_timestamp "
    "creation_timestamp_ms last_updated_timestamp last_updated_timestamp_ms".split()
)
# Every status value a search API stores (runs, traces, logged models), for build-time checks.
STATUS_VALUES = {
    "runs": ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"),
    "traces": ("OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED"),
    "logged models": ("UNSPECIFIED", "PENDING", "READY", "FAILED"),
}


@dataclass(frozen=True)
class Intent:
    """What one condition is meant to say: MLflow's parse of it must give back these."""

    kind: str  # "metric", "param", "tag", "attribute", "dataset", ...
    key: str
    op: str
    value: object


class Predicate:
    """A filter expression. `str(p)` is the filter text; `p.node` its AST."""

    __slots__ = ("text", "node", "intents")

    def __init__(self, text: str, intents: tuple[Intent, ...]):
        from mlfilter.checker import parse_tree

        self.text = text
        self.node = parse_tree(text)
        self.intents = intents

    def __and__(self, other: Predicate) -> Predicate:
        other = _predicate(other, "&")
        return Predicate(f"{_wrap(self, ast.Or)} AND {_wrap(other, ast.Or)}",
                         self.intents + other.intents)

    def __or__(self, other: Predicate) -> Predicate:
        other = _predicate(other, "|")
        return Predicate(f"{self.text} OR {other.text}", self.intents + other.intents)

    def __invert__(self) -> Predicate:
        return Predicate(f"NOT {_wrap(self, (ast.Or, ast.And))}", self.intents)

    def __bool__(self):
        raise TypeError("a filter expression has no truth value: combine conditions with &, | "
                        "and ~ (not `and`, `or`, `not`, nor chained comparisons like 0 < x < 1)")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Predicate({self.text!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Predicate) and self.node == other.node

    __hash__ = None

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import predicate_html

        return predicate_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty, predicate_text

        pretty(predicate_text(self), p, cycle)


def _predicate(value, op: str) -> Predicate:
    if not isinstance(value, Predicate):
        raise TypeError(f"`{op}` combines filter expressions, not {type(value).__name__}")
    return value


def _wrap(p: Predicate, kinds) -> str:
    root = p.node.root
    return f"({p.text})" if isinstance(root, kinds) else p.text


@dataclass(frozen=True)
class OrderTerm:
    """An order_by entry built from a term: `F.metric("acc").desc()`."""

    term: Term
    ascending: bool = True

    def __str__(self) -> str:
        t = self.term
        if t.kind == "attribute" and _plain(t.key) and "." not in t.key:
            text = t.key  # MLflow's order_by reads bare attribute names, `timestamp` included
        elif t.prefix and t.text != f"{t.prefix}.{t.key}":
            text = order_key_text(t.prefix, t.key)
        else:
            text = t.text
        return text + ("" if self.ascending else " DESC")

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import order_html

        return order_html(self)


class Term:
    """A key of one kind (`F.metric("acc")`); comparisons make predicates."""

    __slots__ = ("kind", "key", "prefix", "text", "value_kind")

    def __init__(self, kind: str, prefix: str | None, key: str, value_kind: str):
        self.kind, self.key, self.prefix, self.value_kind = kind, key, prefix, value_kind
        self.text = key_text(prefix, key)

    __hash__ = None

    def __repr__(self) -> str:
        return f"F.{self.kind}({self.key!r})"

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import term_html

        return term_html(self)

    # ---- comparisons ----------------------------------------------------------------------
    def __eq__(self, value) -> Predicate:  # type: ignore[override]
        return self._compare("=", value)

    def __ne__(self, value) -> Predicate:  # type: ignore[override]
        return self._compare("!=", value)

    def __lt__(self, value) -> Predicate:
        return self._compare("<", value)

    def __le__(self, value) -> Predicate:
        return self._compare("<=", value)

    def __gt__(self, value) -> Predicate:
        return self._compare(">", value)

    def __ge__(self, value) -> Predicate:
        return self._compare(">=", value)

    def like(self, pattern: str) -> Predicate:
        return self._compare("LIKE", pattern, pattern=True)

    def ilike(self, pattern: str) -> Predicate:
        return self._compare("ILIKE", pattern, pattern=True)

    def rlike(self, pattern: str) -> Predicate:
        """Regular-expression match (search_traces only)."""
        return self._compare("RLIKE", pattern, pattern=True)

    def isin(self, values) -> Predicate:
        return self._list("IN", values)

    def not_in(self, values) -> Predicate:
        return self._list("NOT IN", values)

    def is_null(self) -> Predicate:
        return Predicate(f"{self.text} IS NULL", (Intent(self.kind, self.key, "IS NULL", None),))

    def is_not_null(self) -> Predicate:
        return Predicate(f"{self.text} IS NOT NULL",
                         (Intent(self.kind, self.key, "IS NOT NULL", None),))

    # ---- order_by ---------------------------------------------------------------------------
    def asc(self) -> OrderTerm:
        return OrderTerm(self, True)

    def desc(self) -> OrderTerm:
        return OrderTerm(self, False)

    # ---- rendering --------------------------------------------------------------------------
    def _compare(self, op: str, value, pattern: bool = False) -> Predicate:
        if isinstance(value, (Term, Predicate)):
            raise BuildError(f"MLflow compares a key with a value, not with {value!r}")
        if self.value_kind == "number" and not pattern:
            value = epoch_ms(value)
            if isinstance(value, bool) or not isinstance(value, (int, float)) and not (
                    isinstance(value, str) and self.key == "version_number"):
                raise BuildError(f"{self!r} compares with a number (or a date or datetime for "
                                 f"a time), not {value!r}")
            if isinstance(value, str) and self.kind == "attribute" and self.key == "version_number":
                if not value.strip().lstrip("+-").isdigit():
                    raise BuildError(f"{self!r} compares with a version number, not {value!r}")
                value = int(value)
            text, intended = number_text(value), value
        elif self.value_kind == "assessment" and not pattern and not isinstance(value, str):
            text, intended = number_text(value), value
        else:
            intended = param_value(value) if not pattern else value
            if not isinstance(intended, str):
                raise BuildError(f"a pattern must be a string, not {intended!r}")
            if self.kind == "attribute" and self.key == "status":
                _check_status(intended, op)
            text = string_text(intended)
        return Predicate(f"{self.text} {op} {text}", (Intent(self.kind, self.key, op, intended),))

    def _list(self, op: str, values) -> Predicate:
        values = [param_value(v) for v in (values if not isinstance(values, str) else [values])]
        if self.kind == "attribute" and self.key == "status":
            for v in values:
                _check_status(v, op)
        text = list_text(values)
        return Predicate(f"{self.text} {op} {text}", (Intent(self.kind, self.key, op, tuple(values)),))


def _check_status(value: str, op: str) -> None:
    if op in ("LIKE", "ILIKE", "RLIKE"):
        return
    if not any(value in values for values in STATUS_VALUES.values()):
        known = "; ".join(f"{api}: {', '.join(v)}" for api, v in STATUS_VALUES.items())
        raise BuildError(f"no MLflow search stores the status {value!r} (case matters), so this "
                         f"would match nothing. Valid statuses - {known}")


class _F:
    """Term factories: `F.metric("acc") > 0.9`, `F.param("lr") == 0.01`, `F.attr("status")`."""

    def metric(self, key: str) -> Term:
        return Term("metric", "metrics", key, "number")

    def param(self, key: str) -> Term:
        return Term("param", "params", key, "string")

    def tag(self, key: str) -> Term:
        return Term("tag", "tags", key, "string")

    def attr(self, key: str) -> Term:
        kind = "number" if key in NUMERIC_ATTRIBUTES else "string"
        try:
            return Term("attribute", None, key, kind)
        except BuildError:
            return Term("attribute", "attributes", key, kind)

    attribute = attr

    def dataset(self, key: str) -> Term:
        """search_runs: `name`, `digest` or `context` of the run's input datasets."""
        return Term("dataset", "dataset", key, "string")

    def metadata(self, key: str) -> Term:
        """search_traces: a trace's request metadata."""
        return Term("metadata", "metadata", key, "string")

    def span(self, key: str) -> Term:
        """search_traces: `name`, `type`, `status` or `content` of a trace's spans."""
        return Term("span", "span", key, "string")

    def span_attribute(self, key: str) -> Term:
        """search_traces: a span attribute (compare with LIKE: `=` never matches)."""
        term = Term("span", "span", "attributes." + key, "string")
        if any(q in key for q in "`\"'"):
            raise BuildError(f"MLflow cannot express the span attribute {key!r}")
        term.text = f"span.`attributes.{key}`" if not _plain(key) else f"span.attributes.{key}"
        return term

    def feedback(self, key: str) -> Term:
        """search_traces: a feedback assessment (strings with =, LIKE...; numbers with <, >)."""
        return Term("feedback", "feedback", key, "assessment")

    def expectation(self, key: str) -> Term:
        return Term("expectation", "expectation", key, "assessment")

    def issue(self, key: str = "id") -> Term:
        return Term("issue", "issue", key, "string")

    def __repr__(self) -> str:
        return "F"


def _plain(key: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", key) is not None


F = _F()
