"""MF2xx/MF23x for the APIs MLflow parses with SearchUtils: one comparison at a time, driven by the
API tables (mlfilter.apis). Parse-time rules follow SearchUtils._get_comparison; comparator rules
follow the stores (they run after MLflow's key rewrites)."""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import ALL_OPS, LIST, NULL_OPS, NUMBERS, STR, Api, Target
from mlfilter.diagnostics import Applicability, Span
from mlfilter.resolve import Resolved, resolve, rewritten
from mlfilter.rules.base import (
    INT_MAX_STR_DIGITS,
    Sink,
    int_digits,
    read_int,
    too_long_for_int,
    did_you_mean,
    literal_list,
    mlflow_op_text,
    quote,
    replace,
    value_class,
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_comparison(c: ast.Comparison, api: Api, emit: Sink) -> Resolved | None:
    """Check one comparison; returns how MLflow resolves its key when it gets that far."""
    left = c.left
    if c.op is not None and c.op.canonical in NULL_OPS and api.nulls_crash and \
            not (isinstance(left, ast.Name) and left.keyword):
        emit("MF230", c.op.span, f"MLflow {api.version}'s {api.mlflow_call} crashes on "
             f"`{c.op.text}` (HTTP 500)", "its parser for this API cannot read IS NULL / "
             "IS NOT NULL; filter on a value instead")
        return None
    if isinstance(left, ast.Arith):
        _expression_key(left, emit)
        return None
    if not _is_key(left):
        _key_not_first(c, emit)
        return None
    if c.op is None:
        emit("MF102", c.right.span, f"missing comparator between `{left.text}` and `{c.right.text}`",
             "put a comparator before the value, e.g. `=`",
             replace("insert `=`", Span(c.right.span.start, c.right.span.start), "= ",
                     Applicability.UNSAFE))
        return None
    if isinstance(left, ast.Name) and left.keyword and not _keyword_key_ok(c, api, emit):
        return None
    res = resolve(api, left.text)
    if res.problem is not None:
        _bad_key(c, api, res, emit)
        if res.entity is not None and res.entity.keys_checked_by_store:
            _list_read_first(c, emit)  # the parser reads the value before the store sees the key
        return None
    op = c.op.canonical
    if op in NULL_OPS:
        _check_null(c, api, res, emit)
        return res
    store = store_target(api, res)
    _check_operator(c, api, store, emit)
    _check_value(c, api, res, store, emit)
    return res


# ---- keys ---------------------------------------------------------------------------------------

def _is_key(node) -> bool:
    return isinstance(node, ast.Name) or (isinstance(node, ast.String) and node.quote == '"')


def _expression_key(left: ast.Arith, emit: Sink) -> None:
    """`tags.a-b`, `metrics.train/loss`: MLflow's parser reads an arithmetic expression."""
    text = left.text
    if "." in text and not any(ch.isspace() for ch in text) and "`" not in text:
        prefix, rest = text.split(".", 1)
        fixed = f"{prefix}.`{rest}`"
        emit("MF110", Span(left.span.start + len(prefix) + 1, left.span.end),
             f"the key `{rest}` has characters MLflow only reads inside backticks",
             f"quote the key: {fixed}", replace("quote the key with backticks", left.span, fixed))
        return
    emit("MF110", left.span, f"`{text}` is an expression, not a key",
         "quote a key with special characters in backticks, e.g. ``tags.`a-b` ``")


def _key_not_first(c: ast.Comparison, emit: Sink) -> None:
    left, right = c.left, c.right
    if _is_key(right) and c.op is not None and c.op.canonical in ("=", "!="):
        swapped = f"{right.text} {c.op.text} {left.text}"
        emit("MF217", left.span, "a condition must start with its key, not with a value",
             f"swap the two sides: `{swapped}`",
             replace("swap key and value", c.span, swapped))
    elif isinstance(left, ast.String):
        emit("MF217", left.span, f"{left.text} is a string value, not a key",
             f"to quote a key use backticks: `{left.inner}`")
    else:
        emit("MF217", left.span, f"`{left.text}` cannot be a key",
             "a condition is `key comparator value`, e.g. `metrics.acc > 0.9`")


def _keyword_key_ok(c: ast.Comparison, api: Api, emit: Sink) -> bool:
    """sqlparse reads the key (or part of it) as an SQL keyword. True when MLflow copes anyway."""
    left = c.left
    if "." not in left.text and left.text in api.keyword_keys:
        # SearchTraceUtils repairs `timestamp <op> <integer>` and nothing else.
        if value_class(c.right) == api.keyword_keys[left.text] and c.op.text in (
            "=", "!=", "<", "<=", ">", ">="
        ):
            return True
        emit("MF223", left.span,
             f"`{left.text}` here only works as `{left.text} <comparator> <integer>`",
             f"write `{left.text}_ms` or `trace.{left.text}` instead",
             replace(f"use `{left.text}_ms`", left.span, f"{left.text}_ms", Applicability.SAFE))
        return False
    if "." in left.text:
        prefix, rest = left.text.split(".", 1)
        fixed = f"{prefix}.`{rest}`" if "`" not in rest else None
        word = next((p for p in left.parts[1:] if p.upper() in ("AS", "CASE", "FROM", "IN",
                                                                  "USING", "VALUES")), rest)
        if rest.lstrip()[:1].isdigit():
            word = prefix  # `parameters.1abc`: before a digit, sqlparse keeps the keyword
    else:
        res = resolve(api, left.text)
        if res.problem == "attribute":
            return True  # an unknown key anyway: MF210 explains it better
        fixed = f"`{left.text}`" if not api.attribute_key_as_written else None
        word = left.text
    emit("MF215", left.span, f"MLflow's SQL parser reads `{word}` as a keyword, not as a key",
         f"quote the key with backticks: {fixed}" if fixed else "this key cannot be written here",
         replace("quote the key with backticks", left.span, fixed) if fixed else None)
    return False


def _bad_key(c: ast.Comparison, api: Api, res: Resolved, emit: Sink) -> None:
    left = c.left
    if res.entity is not None and res.entity.keys_checked_by_store:
        emit = _at_store(emit)
    if res.problem == "entity":
        prefix = res.prefix
        span = Span(left.span.start, left.span.start + len(prefix))
        guess = did_you_mean(prefix.strip("`"), api.all_prefixes)
        valid = ", ".join(sorted(set(api.all_prefixes)))
        quoted_prefix = prefix.startswith(("`", '"')) and api.entity_for_prefix(prefix.strip('`"'))
        if quoted_prefix and prefix.startswith("`"):
            emit("MF216", span, f"{api.mlflow_call} does not accept a quoted prefix `{prefix}`",
                 f"write it without backticks: {prefix.strip('`')}",
                 replace("remove the backticks", span, prefix.strip("`")))
        elif guess:
            emit("MF209", span, f"unknown entity `{prefix}` for {api.mlflow_call}",
                 f"did you mean `{guess}`? valid prefixes: {valid}",
                 replace(f"use `{guess}`", span, guess, Applicability.UNSAFE))
        else:
            emit("MF209", span, f"unknown entity `{prefix}` for {api.mlflow_call}",
                 f"valid prefixes: {valid}"
                 + ("; quote the whole key with backticks only after the prefix"
                    if prefix.startswith(("`", '"')) else ""))
    elif res.problem == "attribute":
        span = Span(left.span.end - len(res.key_text), left.span.end)
        keys = sorted(res.entity.keys)
        extra = [f"{h}<name>" for h, _ in res.entity.pattern_keys]
        guess = did_you_mean(res.key, keys)
        what = "attribute" if res.entity.name == api.bare_entity else f"{res.entity.name} key"
        hint = f"valid {what}s: {', '.join(keys + extra)}"
        fix = None
        if guess:
            hint = f"did you mean `{guess}`? {hint}"
            fix = replace(f"use `{guess}`", span, guess, Applicability.UNSAFE)
        if res.entity.name == api.bare_entity and res.prefix is None:
            other = _other_entity_hint(api, res.key)
            if other:
                hint = f"{hint}; {other}"
        emit("MF210", span, f"unknown {what} `{res.key}` for {api.mlflow_call}", hint, fix)
    elif res.problem == "empty_key":
        emit("MF220", left.span, f"`{left.text}` has no key after the prefix",
             "name the key, e.g. `feedback.rating`")
    elif res.problem == "quoted_attribute":
        span = Span(left.span.end - len(res.key_text), left.span.end)
        emit("MF216", span, f"{api.mlflow_call} does not accept the quoted key {res.key_text}",
             f"write it without quotes: {res.key}", replace("remove the quotes", span, res.key))


def _list_read_first(c: ast.Comparison, emit: Sink) -> None:
    if value_class(c.right) == "list":
        _read_list(c.right, emit)


def _read_list(v, emit: Sink):
    """MLflow's literal_eval of a list: (items, problem), reporting a list it cannot read."""
    parsed, problem = literal_list(v.text)
    if problem == "ill-formed":
        emit("MF213", v.span, "MLflow cannot read this list", "write quoted strings separated by "
             "commas: ('a', 'b')")
    elif problem == "malformed":
        emit("MF234", v.span, "this list holds unquoted words: MLflow crashes reading it (HTTP 500)",
             "quote every item: ('a', 'b')")
    return parsed, problem


def _at_store(emit: Sink):
    """The same sink, marking what it is given as found by the store (not the parser)."""
    def store_emit(*args, **kwargs):
        emit(*args, stage="store", **kwargs)
    return store_emit


def _other_entity_hint(api: Api, key: str) -> str | None:
    """A bare unknown key is often a param, metric or tag written without its prefix."""
    free = [e for e in api.entities if e.target is not None and not e.keys]
    if not free or not re.fullmatch(r"\w+", key):
        return None
    return "to compare a " + " or ".join(e.name for e in free[:3]) + \
        f", add its prefix, e.g. `{free[0].prefixes[-1]}.{key}`"


def store_target(api: Api, res: Resolved) -> Target:
    _, _, store = rewritten(api, res.entity, res.key)
    return store or res.target


# ---- comparators --------------------------------------------------------------------------------

def _check_null(c: ast.Comparison, api: Api, res: Resolved, emit: Sink) -> None:
    op = c.op
    if op.canonical == "IS NOT NULL":
        not_null = op.text.split(None, 1)[1]
        if not_null.upper() != "NOT NULL":
            emit("MF221", op.span, "MLflow only reads `IS NOT NULL` with single spaces",
                 "write `IS NOT NULL`", replace("normalise the spaces", op.span, "IS NOT NULL"))
            return
    store = store_target(api, res)
    if op.canonical not in store.ops:
        emit("MF214", op.span,
             f"{op.canonical} is not supported for `{c.left.text}` in {api.mlflow_call}",
             _null_hint(api))


def _null_hint(api: Api) -> str:
    able = [e.name for e in api.entities if e.target is not None and "IS NULL" in e.target.ops]
    if able:
        return "IS [NOT] NULL works on " + ", ".join(able) + " keys only"
    return "this API cannot test for missing values; filter on a value instead"


def _check_operator(c: ast.Comparison, api: Api, store: Target, emit: Sink) -> None:
    op, canonical = c.op, c.op.canonical
    if canonical == "==":
        emit("MF205", op.span, "`==` is not a comparator in MLflow", "use `=`",
             replace("replace `==` with `=`", op.span, "="))
        return
    if canonical == "<>":
        emit("MF206", op.span, "`<>` is not a comparator in MLflow", "use `!=`",
             replace("replace `<>` with `!=`", op.span, "!="))
        return
    if canonical not in ALL_OPS:
        guess = {"NOT LIKE": "LIKE", "NOT ILIKE": "ILIKE", "=<": "<=", "=>": ">=", "!": "!=",
                 "REGEXP": "RLIKE", "~": "RLIKE"}.get(canonical)
        hint = "valid comparators here: " + ", ".join(sorted(store.ops))
        if canonical.startswith("NOT ") and "LIKE" in canonical:
            hint = f"MLflow has no {canonical}; filter with LIKE and drop the matches yourself, " \
                   f"or choose a pattern that excludes them. {hint}"
        elif guess and guess in store.ops:
            hint = f"did you mean `{guess}`? {hint}"
        emit("MF207", op.span, f"`{op.text}` is not a comparator MLflow knows", hint)
        return
    if canonical not in store.ops:
        _comparator_not_allowed(c, store, emit)
        return
    if store.case_sensitive_ops and mlflow_op_text(op) != canonical:
        emit("MF222", op.span, f"MLflow {api.version} needs `{canonical}` in upper case here",
             f"write `{canonical}`", replace("upper-case the comparator", op.span, canonical))
    elif canonical == "RLIKE" and not api.rlike:
        from mlfilter.versions import BACKEND_NAMES

        emit("MF240", op.span, f"MLflow refuses RLIKE on {BACKEND_NAMES[api.backend]}",
             "use LIKE or ILIKE with `%` and `_` wildcards instead")


def _comparator_not_allowed(c: ast.Comparison, store: Target, emit: Sink) -> None:
    op = c.op.canonical
    what = f"`{c.left.text}`"
    hint = "valid comparators here: " + ", ".join(sorted(store.ops))
    if store.kind == "string" and op in ("<", "<=", ">", ">="):
        hint = f"{what} holds strings, which MLflow does not order; {hint}"
    emit("MF208", c.op.span, f"`{c.op.text}` is not allowed for {what}", hint)


# ---- values -------------------------------------------------------------------------------------

def _check_value(c: ast.Comparison, api: Api, res: Resolved, store: Target, emit: Sink) -> None:
    v, op = c.right, c.op.canonical
    vclass = value_class(v)
    target = res.target
    allowed = target.values
    if target.op_values:
        allowed = next((vals for ops, vals in target.op_values if op in ops), frozenset({STR}))
    if vclass == "list" and LIST not in allowed:
        emit("MF212", v.span, f"`{c.left.text}` does not take a list", _list_hint(res))
        return
    if vclass not in allowed and not (vclass == "list" and LIST in allowed):
        _wrong_value(c, res, allowed, emit)
        return
    if vclass == "list":
        _check_list(c, api, res, store, emit)
        return
    if op in ("IN", "NOT IN"):
        return
    if store.int_only and vclass == "float":
        emit("MF218", v.span, f"`{c.left.text}` takes an integer, not `{v.text}`",
             "MLflow rejects float literals here (even `1e3`)")
    elif vclass == "int" and target.output == "number" and too_long_for_int(v.text):
        emit("MF236", v.span, f"this integer has {int_digits(v.text):,} digits: MLflow reads it "
             f"with Python's int(), which refuses more than {INT_MAX_STR_DIGITS:,}, and crashes "
             "(HTTP 500)", "use a smaller number: the column holds 64-bit integers (at most 19 "
             "digits)")
    elif vclass == "int" and store.int64 and not _fits(read_int(v.text), store, api):
        integer_overflow(api, v, emit, not INT64_MIN <= read_int(v.text) <= INT64_MAX)
    elif vclass == "string" and store.int_string and read_int(v.inner) is None:
        emit("MF219", v.span, f"`{c.left.text}` takes an integer in quotes, not {v.text}",
             "for example `'1'`")
    elif vclass == "string" and store.int_string and too_long_for_int(v.inner):
        emit("MF219", v.span, f"`{c.left.text}` takes an integer in quotes, and this one has "
             f"{int_digits(v.inner):,} digits: MLflow reads it with Python's int(), which refuses "
             f"more than {INT_MAX_STR_DIGITS:,}", "use a smaller number: the column holds "
             "integers of at most 19 digits")
    elif vclass == "string" and store.int_string and store.int64 and \
            not _fits(read_int(v.inner), store, api):
        integer_overflow(api, v, emit, not INT64_MIN <= read_int(v.inner) <= INT64_MAX)
    elif vclass == "string" and store.string_as_number and api.rejects_string_for_integer:
        string_for_integer(api, c, emit)
    elif vclass in ("int", "float") and api.rejects_infinite and _infinite(v.text):
        infinite_value(api, v, emit)
    elif vclass == "string" and store.value_format and not re.fullmatch(store.value_format, v.inner):
        emit("MF219", v.span, f"{v.text} is not a valid value for `{c.left.text}`",
             f"expected format: {store.value_format_hint}")


# ---- what the database does with a value (MF24x; the facts are BackendFacts in changes.py) ------

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def _fits(value: int, store: Target, api: Api) -> bool:
    """Whether the database takes the integer for this column (only PostgreSQL checks a 32-bit
    column's range; SQLite's columns are all 64-bit)."""
    if store.int32 and api.int64_overflow == "reject":
        return INT32_MIN <= value <= INT32_MAX
    return INT64_MIN <= value <= INT64_MAX


def integer_overflow(api: Api, v, emit: Sink, beyond_64: bool = True) -> None:
    if api.int64_overflow == "crash":
        emit("MF233", v.span, f"{v.text} does not fit a 64-bit integer: MLflow crashes (HTTP 500)",
             "use a smaller number")
    elif api.int64_overflow == "reject":
        from mlfilter.versions import BACKEND_NAMES

        bits, kind = ("64", "bigint") if beyond_64 else ("32", "integer")
        emit("MF243", v.span, f"{v.text} does not fit a {bits}-bit integer: "
             f"{BACKEND_NAMES[api.backend]} rejects it ({kind} out of range)",
             "use a smaller number")


def string_for_integer(api: Api, c: ast.Comparison, emit: Sink) -> None:
    from mlfilter.versions import BACKEND_NAMES

    v = c.right
    fix = replace("remove the quotes", v.span, v.inner) if isinstance(v, ast.String) and \
        re.fullmatch(r"-?\d+", v.inner) else None
    emit("MF241", v.span, f"`{c.left.text}` is an integer column: {BACKEND_NAMES[api.backend]} "
         f"cannot compare it with the string {v.text}", "write the number without quotes", fix)


def infinite_value(api: Api, v, emit: Sink) -> None:
    from mlfilter.versions import BACKEND_NAMES

    emit("MF244", v.span, f"`{v.text}` is {'not a number' if 'nan' in v.text.lower() else 'infinite'}"
         f" as a float: the {BACKEND_NAMES[api.backend]} driver refuses it",
         "use a finite bound, e.g. `1e300`")


def _infinite(text: str) -> bool:
    import math

    try:
        x = float(text)
    except ValueError:
        return False
    return math.isinf(x) or math.isnan(x)


def list_equality(api: Api, c: ast.Comparison, items: int, int_column: bool, emit: Sink) -> None:
    """A list after = or != goes to the database as one bound value."""
    v, op = c.right, c.op.canonical
    fix = replace("use IN", c.op.span, "IN", Applicability.UNSAFE) if op == "=" else None
    fails = (api.list_equality == "rejects" or (api.list_equality == "compares" and int_column)
             or (api.list_equality == "single-item" and items != 1))
    if fails:
        # MySQL: a row of several values fails when the query runs; no value is bad SQL (400)
        crash = " (HTTP 503)" if api.list_equality == "single-item" and items > 1 else ""
        emit("MF224", v.span, f"a list needs IN or NOT IN, not `{c.op.text}`{crash}",
             "write `IN (...)`", fix, stage="execution")  # the driver cannot bind it
        return
    emit("MF321", v.span, f"`{c.op.text}` compares with the whole list as one value, which "
         "matches nothing useful", "write `IN (...)` or `NOT IN (...)`", fix)


def _reads_as_int(text: str) -> bool:
    """Whether MLflow's int(text) succeeds (it fails on non-integers and on too many digits)."""
    return read_int(text) is not None and not too_long_for_int(text)


def _list_hint(res: Resolved) -> str:
    listy = sorted(k for k, t in res.entity.keys.items() if LIST in t.values)
    if listy:
        return "lists work with " + ", ".join(listy) + "; use `=` for a single value"
    return "use `=` with a single value"


def _wrong_value(c: ast.Comparison, res: Resolved, allowed: frozenset, emit: Sink) -> None:
    v = c.right
    if allowed & NUMBERS and STR not in allowed:
        fix = None
        if isinstance(v, ast.String) and re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE]-?\d+)?", v.inner):
            fix = replace("remove the quotes", v.span, v.inner)
        shown = v.text
        emit("MF211", v.span, f"`{c.left.text}` compares with a number, but {shown} is not a number "
             "MLflow reads", "write the number without quotes, e.g. `0.8`" if fix else
             "use a number literal such as `1`, `0.5` or `1e-3`", fix)
        return
    if allowed & NUMBERS and isinstance(v, ast.String):
        emit("MF211", v.span, f"`{c.left.text} {c.op.text}` needs a number, not {v.text}",
             "use a number literal", replace("remove the quotes", v.span, v.inner)
             if re.fullmatch(r"-?\d+(\.\d+)?", v.inner) else None)
        return
    if isinstance(v, ast.Null):
        emit("MF201", v.span, "NULL is not a value MLflow compares with",
             "test for a missing key with `IS NULL` / `IS NOT NULL`")
        return
    kind = {ast.Number: "number", ast.Arith: "unquoted text"}.get(type(v), "unquoted word")
    q = quote(v.text)
    entity = res.entity.name
    holds = "strings" if entity in ("parameter", "tag", "params", "tags") else "string values"
    emit("MF201", v.span, f"`{c.left.text}` holds {holds}: the {kind} `{v.text}` must be quoted",
         f"quote it: {q}" if q else "quote it", replace("quote the value", v.span, q) if q else None)


# What MLflow 2.x took as a list: single-quoted strings separated by commas (sqlparse tokens).
_ITEM = r"'(?:[^'\\]|''|\\.)*'"
# MLflow 2.x checked the sqlparse tokens of a list: one quoted string alone, with no space around
# it, or an IdentifierList of quoted strings, commas and spaces (no line break) from the opening
# parenthesis on; what follows the last item is not looked at.
_STRICT_LIST = re.compile(rf"\({_ITEM}\)|\({_ITEM}(?:[^\S\r\n]*,[^\S\r\n]*{_ITEM})+[\s,]*\)", re.S)


def _check_list(c: ast.Comparison, api: Api, res: Resolved, store: Target, emit: Sink) -> None:
    v, op = c.right, c.op.canonical
    if api.strict_lists and not _STRICT_LIST.fullmatch(v.text):
        emit("MF213", v.span, f"MLflow {api.version} reads only lists of single-quoted strings "
             "separated by commas", "write ('a', 'b'): no double quotes, no trailing comma")
        return
    parsed, problem = _read_list(v, emit)
    if problem in ("ill-formed", "malformed"):
        return
    if problem == "empty":
        emit("MF213", v.span, "the list is empty", "put at least one quoted string in it")
        return
    if problem == "not-strings":
        emit("MF213", v.span, "lists may hold only quoted strings",
             "quote every item: ('1', '2')")
        return
    if op not in ("IN", "NOT IN") and store.list_ops_only:
        if store.int_string and not all(_reads_as_int(x) for x in parsed):
            emit("MF219", v.span, f"`{c.left.text}` takes integers in quotes",
                 "for example ('1', '2')")
            return
        list_equality(api, c, len(parsed), store.int_string, emit)
        return
    dropped = [x for x in parsed if not x.islower()] if store.drops_non_lowercase else []
    if dropped:
        emit("MF319", v.span, f"MLflow {api.version} drops list items that are not all lower "
             f"case: {', '.join(repr(x) for x in dropped[:3])} never match"
             + (" (and more)" if len(dropped) > 3 else ""),
             "run ids are lower-case hex; for other values use `=` conditions in separate "
             "searches, or upgrade to MLflow 3")
    if store.int_string and not all(_reads_as_int(x) for x in parsed):
        emit("MF219", v.span, f"`{c.left.text}` takes integers in quotes", "for example ('1', '2')")
    elif store.int_string and not all(_fits(read_int(x), store, api) for x in parsed):
        integer_overflow(api, v, emit,
                         not all(INT64_MIN <= read_int(x) <= INT64_MAX for x in parsed))
