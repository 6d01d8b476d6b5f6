"""search_logged_models: MLflow's second, looser parser (search_logged_model_utils.py).

It takes the text of each side of a comparison as written: any prefix matching `^[a-z]+\\.`,
keys looked up as SqlLoggedModel columns by the store, numbers through float(), strings with
only single quotes stripped. Many mistakes here are crashes (500), not 400s.
"""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import (
    LOGGED_MODEL_ALIASES,
    LOGGED_MODEL_COLUMNS,
    LOGGED_MODEL_NEVER_MATCH,
    LOGGED_MODEL_RELATIONSHIPS,
    LOGGED_MODEL_STATUSES,
    LOGGED_MODEL_NUMERIC_OPS,
    LOGGED_MODEL_STRING_OPS,
    NULL_OPS,
    Api,
)
from mlfilter.diagnostics import Applicability, Span
from mlfilter.rules.base import Sink, did_you_mean, literal_list, replace, value_class

_ENTITY_RE = re.compile(r"^([a-z]+)\.(.+)$")  # Entity.IDENTIFIER_RE
_PREFIXES = ("attributes", "metrics", "params", "tags")
_NUMERIC_COLUMNS = frozenset({"creation_timestamp_ms", "last_updated_timestamp_ms"})


def resolve_logged_model_key(text: str) -> tuple[str, str]:
    """Entity.from_str: (entity type, key)."""
    m = _ENTITY_RE.match(text)
    if m:
        return m.group(1), m.group(2).strip("`")
    return "attributes", LOGGED_MODEL_ALIASES.get(text, text).strip("`")


def check_logged_model_comparison(c: ast.Comparison, api: Api, emit: Sink) -> tuple | None:
    """Returns (type, key, op, value) as MLflow's parser would, or None when it rejects."""
    if c.op is None:
        emit("MF102", c.right.span, f"missing comparator between `{c.left.text}` and `{c.right.text}`",
             "put a comparator before the value, e.g. `=`")
        return None
    if c.op.canonical in NULL_OPS:
        emit("MF214", c.op.span, "search_logged_models does not support IS [NOT] NULL",
             "filter on a value instead")
        return None
    if isinstance(c.left, ast.Name) and c.left.keyword:
        emit("MF215", c.left.span, f"MLflow's SQL parser reads `{c.left.text}` as a keyword",
             "quote the key with backticks")
        return None
    if c.op.canonical in ("IN", "NOT IN") and not isinstance(c.left, ast.Name | ast.String) or \
            isinstance(c.left, ast.String) and c.left.quote == "'" and c.op.canonical in ("IN", "NOT IN"):
        emit("MF217", c.left.span, "a condition must start with its key")
        return None
    if value_class(c.right) == "hex":
        # sqlparse's hexadecimal literal does not form a comparison: MLflow rejects the filter.
        emit("MF201", c.right.span, f"MLflow's SQL parser does not read `{c.right.text}` as a value",
             f"quote it ('{c.right.text}') or write the number in decimal")
        return None
    if isinstance(c.right, ast.Name) and c.right.keyword:
        emit("MF201", c.right.span, f"MLflow's SQL parser reads `{c.right.text}` as a keyword, "
             "not a value", f"quote it: '{c.right.text}'",
             replace("quote the value", c.right.span, f"'{c.right.text}'"))
        return None
    entity, key = resolve_logged_model_key(c.left.text)
    if entity not in _PREFIXES:
        span = Span(c.left.span.start, c.left.span.start + len(entity))
        guess = did_you_mean(entity, _PREFIXES)
        emit("MF209", span, f"unknown entity `{entity}` for search_logged_models (only the plural "
             "forms work here)", f"did you mean `{guess}`? valid prefixes: "
             + ", ".join(_PREFIXES) if guess else "valid prefixes: " + ", ".join(_PREFIXES),
             replace(f"use `{guess}`", span, guess, Applicability.SAFE if guess == entity + "s"
                     else Applicability.UNSAFE) if guess else None)
        return None
    numeric = entity == "metrics" or (entity == "attributes" and
                                      LOGGED_MODEL_ALIASES.get(key, key) in _NUMERIC_COLUMNS)
    op = c.op.text.upper() if c.op.canonical not in ("NOT IN",) else "NOT IN"
    ops = LOGGED_MODEL_NUMERIC_OPS if numeric else LOGGED_MODEL_STRING_OPS
    if op not in ops:
        emit("MF208", c.op.span, f"`{c.op.text}` is not allowed for `{c.left.text}` in "
             "search_logged_models", "valid comparators here: " + ", ".join(ops), stage="parse")
        return None
    value = _value(c, numeric, emit)
    if value is _CRASH:
        return None
    if entity == "attributes" and key in LOGGED_MODEL_RELATIONSHIPS:
        if op in ("=", "!=") and not api.raw_sql_comparisons:
            emit("MF210", c.left.span, f"`{key}` is a collection of the logged model, not a value",
                 f"compare one of them: `{key}.<name>`", stage="store")
        else:
            emit("MF231", c.left.span, f"`{key}` is a collection of the logged model: MLflow "
                 f"crashes on `{c.op.text}` (HTTP 500)", f"compare one of them: `{key}.<name>`",
                 stage="store")
        return None
    if entity == "attributes" and key in LOGGED_MODEL_NEVER_MATCH:
        emit("MF310", c.left.span, f"`{key}` is not a logged-model field: MLflow compares it as "
             "false and matches nothing", "valid keys: " + ", ".join(sorted(LOGGED_MODEL_COLUMNS)))
        return entity, key, op, value
    if entity == "attributes" and key not in LOGGED_MODEL_COLUMNS:
        span = c.left.span
        guess = did_you_mean(key, list(LOGGED_MODEL_COLUMNS) + list(LOGGED_MODEL_ALIASES))
        hint = "valid keys: " + ", ".join(sorted(LOGGED_MODEL_COLUMNS))
        if "." in c.left.text and key in LOGGED_MODEL_ALIASES:
            hint = f"the alias `{key}` only works without a prefix; write `{key}` or " \
                   f"`attributes.{LOGGED_MODEL_ALIASES[key]}`. {hint}"
        elif guess:
            hint = f"did you mean `{guess}`? {hint}"
        emit("MF231", span, f"`{key}` is not a logged-model field: MLflow crashes (HTTP 500)", hint,
             stage="store")
        return None
    if op in ("IN", "NOT IN") and not isinstance(value, tuple):
        # `IN (1)` reads as the number 1, which SQLAlchemy refuses as an IN list (400).
        emit("MF224", c.right.span, f"`{c.right.text}` is not a list to MLflow (one item needs a "
             "trailing comma, and must be a string)", f"write `{c.op.text} ('…',)`",
             stage="store")
        return None
    if isinstance(value, tuple) and op not in ("IN", "NOT IN"):
        # The store binds the tuple as one SQL parameter: SQLite's driver refuses it (400).
        from mlfilter.rules.clauses import list_equality

        before = len(emit.items)
        list_equality(api, c, len(value), LOGGED_MODEL_COLUMNS.get(key) == "integer", emit)
        if any(d.severity.value == "error" for d in emit.items[before:]):
            return None
    if entity == "attributes" and key == "status" and api.logged_model_status == "enum" and \
            not _status_ok(c, op, value, emit):
        return None
    if not _database_ok(c, api, entity, key, value, emit):
        return None
    _suspicious(c, api, entity, key, value, emit)
    if api.keys_ignore_case and entity != "attributes":
        from mlfilter.rules.suspicious import key_without_case

        key_without_case(api, c, key, emit)
    return entity, key, op, value


def _database_ok(c: ast.Comparison, api: Api, entity: str, key: str, value, emit: Sink) -> bool:
    """What the database itself refuses (BackendFacts in mlfilter/changes.py)."""
    import math

    from mlfilter.rules.clauses import infinite_value, string_for_integer
    from mlfilter.rules.suspicious import nul_character

    mapped = key == "status" and api.logged_model_status == "enum"  # status names become ints
    if entity == "attributes" and LOGGED_MODEL_COLUMNS.get(key) == "integer" and not mapped and \
            api.rejects_string_for_integer:
        string_for_integer(api, c, emit)
        return False
    if isinstance(value, float) and api.rejects_infinite and (math.isinf(value) or math.isnan(value)):
        infinite_value(api, c.right, emit)
        return False
    if api.rejects_nul and "\x00" in c.right.text + c.left.text:
        nul_character(api, c.right, emit)
        return False
    return True


def _status_ok(c: ast.Comparison, op: str, value, emit: Sink) -> bool:
    """MLflow 3.18 maps status names to the integer column, and refuses anything else (400)."""
    if op not in ("=", "!=", "IN", "NOT IN"):
        emit("MF208", c.op.span, f"`{c.op.text}` is not allowed for `status` in "
             "search_logged_models", "valid comparators here: =, !=, IN, NOT IN", stage="store")
        return False
    values = value if isinstance(value, tuple) else (value,)
    bad = next((v for v in values if v not in LOGGED_MODEL_STATUSES), None)
    if bad is not None:
        guess = did_you_mean(str(bad), LOGGED_MODEL_STATUSES)
        emit("MF219", c.right.span, f"{bad!r} is not a logged-model status",
             (f"did you mean '{guess}'? " if guess else "") + "valid statuses: "
             + ", ".join(LOGGED_MODEL_STATUSES), stage="store")
        return False
    return True


class _Crash:
    pass


_CRASH = _Crash()


def _value(c: ast.Comparison, numeric: bool, emit: Sink):
    v = c.right
    text = v.text
    if numeric:
        try:
            return float(text)
        except ValueError:
            fix = None
            if isinstance(v, ast.String) and _floatable(v.inner):
                fix = replace("remove the quotes", v.span, v.inner)
            emit("MF232", v.span, f"MLflow calls float() on `{text}` and crashes (HTTP 500)",
                 "write a plain number, e.g. `0.5`", fix)
            return _CRASH
    if text.startswith("(") and text.endswith(")"):
        parsed, problem = literal_list(text)
        if problem in ("ill-formed", "malformed"):
            emit("MF234", v.span, "MLflow cannot read this list and crashes (HTTP 500)",
                 "write quoted strings separated by commas: ('a', 'b')")
            return _CRASH
        # MLflow keeps what literal_eval gives: a tuple, a string made a 1-tuple, or a number.
        import ast as pyast

        raw = pyast.literal_eval(text)
        return (raw,) if isinstance(raw, str) else raw
    return text.strip("'")


def _floatable(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _suspicious(c: ast.Comparison, api: Api, entity: str, key: str, value, emit: Sink) -> None:
    v = c.right
    if c.op.canonical in ("LIKE", "ILIKE") and isinstance(value, str):
        from mlfilter.rules.suspicious import trailing_escape

        trailing_escape(api, value, v, emit)
    if isinstance(v, ast.String) and v.quote == '"':
        emit("MF312", v.span, f"search_logged_models keeps double quotes: this searches for {v.text} "
             "with the quotes", f"use single quotes: '{v.inner}'" if "'" not in v.inner else
             "this value cannot be written for search_logged_models",
             replace("use single quotes", v.span, f"'{v.inner}'") if "'" not in v.inner else None)
    elif value_class(v) in ("word", "int", "float", "null", "hex", "expr") and entity != "metrics" and \
            not (entity == "attributes" and key in _NUMERIC_COLUMNS | set(LOGGED_MODEL_ALIASES)):
        q = f"'{v.text}'" if "'" not in v.text else None
        emit("MF313", v.span, f"`{v.text}` is unquoted: search_logged_models accepts it, other "
             "searches do not", f"quote it: {q}" if q else "quote it",
             replace("quote the value", v.span, q) if q else None)
    if entity == "attributes" and key == "status" and api.logged_model_status == "text":
        emit("MF310", c.left.span, f"in MLflow {api.version} a status filter on logged models "
             "never matches", "this release compares the status name with an integer column; "
             "filter after the search, or upgrade to MLflow 3.18")
    if isinstance(v, ast.String) and v.quote == "'" and ("''" in v.inner or "\\'" in v.inner):
        emit("MF307", v.span, f"MLflow has no escapes: {v.text} keeps the doubled quote or "
             "backslash", "use double quotes elsewhere; here a value with `'` cannot be written")
