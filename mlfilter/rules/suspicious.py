"""MF3xx: filters MLflow runs but that almost surely do not mean what was written."""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import Api
from mlfilter.diagnostics import Applicability, Span
from mlfilter.resolve import Resolved, rewritten
from mlfilter.rules.base import Sink, did_you_mean, replace, value_class

_SPACE = re.compile(r"\s")

# 1e8..1e11 as seconds is 1973..5138; as milliseconds it is 1970-01-02..1973: seconds, surely.
_SECONDS_RANGE = (1e8, 1e11)


def check_suspicious(c: ast.Comparison, api: Api, res: Resolved, emit: Sink) -> None:
    _odd_key(c, res, emit)
    if api.keys_ignore_case and c.op.canonical in ("IS NULL", "IS NOT NULL"):
        key_without_case(api, c, res.key, emit)
    if api.rejects_nul and "\x00" in c.left.text:
        nul_character(api, c.left, emit)
    if c.right is None:  # IS [NOT] NULL
        return
    target, op, v = res.target, c.op.canonical, c.right
    vclass = value_class(v)
    if target.enum and vclass == "string" and op in ("=", "!=", "LIKE", "ILIKE") and \
            "%" not in v.inner and "_" not in v.inner or target.enum and vclass == "list":
        _enum(c, res, emit)
    if target.time_ms and vclass in ("int", "float") and _SECONDS_RANGE[0] <= abs(float(v.text)) \
            < _SECONDS_RANGE[1]:
        ms = int(float(v.text) * 1000)
        emit("MF303", v.span, f"`{v.text}` looks like seconds, but `{res.key}` is in milliseconds",
             f"multiply by 1000: {ms}", replace("convert to milliseconds", v.span, str(ms),
                                                 Applicability.UNSAFE))
    if target.output == "text" and op == "=" and vclass in ("int", "float"):
        emit("MF304", c.op.span, f"exact `=` on the metric `{res.key}` matches only that exact float",
             f"compare with a range, e.g. `{c.left.text} >= {v.text}`")
    if vclass == "string" and op in ("LIKE", "ILIKE"):
        _like(c, api, emit)
    if vclass == "string" and op == "ILIKE" and api.ilike_ascii_only and _folds(v.inner):
        emit("MF322", v.span, f"SQLite's ILIKE ignores case only for ASCII letters: {v.text} "
             "matches non-ASCII letters in this case only", "list the case variants, or search "
             "a database with Unicode case folding (PostgreSQL, MySQL)")
    if vclass == "string" and op == "RLIKE":
        _regex(c, api, emit)

    if vclass == "string":
        _kept_quotes(c, emit)
        if "\x00" in v.inner:
            nul_character(api, v, emit)
    if target.never_matches_eq and op == "=" and vclass == "string":
        pattern = f"'%{v.inner}%'" if "'" not in v.inner else None
        emit("MF308", c.op.span, f"`=` on `{c.left.text}` never matches: MLflow compares span "
             "attributes as JSON text", f"use LIKE: `{c.left.text} LIKE {pattern}`" if pattern
             else "use LIKE with % around the value",
             replace("use LIKE with wildcards", Span(c.op.span.start, v.span.end),
                     f"LIKE {pattern}", Applicability.UNSAFE) if pattern else None)
    if target.string_as_number and vclass == "string" and not api.rejects_string_for_integer:
        emit("MF309", v.span, f"`{res.key}` is a number but {v.text} is text: SQLite compares it as "
             "text (wrong order) and PostgreSQL fails", f"write {v.inner} without quotes"
             if _is_number(v.inner) else "use a number literal",
             replace("remove the quotes", v.span, v.inner) if _is_number(v.inner) else None)
    _rewrite_note(c, api, res, emit)


def trailing_escape(api: Api, pattern: str, v, emit: Sink) -> bool:
    """MF320: a LIKE pattern ending in a lone backslash, where the database escapes with it."""
    if not api.rejects_trailing_escape or (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 0:
        return False
    from mlfilter.versions import BACKEND_NAMES

    emit("MF320", v.span, f"{BACKEND_NAMES[api.backend]} fails on a LIKE pattern that ends with "
         "its escape character `\\` once matching a value reaches the end",
         "double the final backslash to match one, or drop it")
    return True


def _folds(text: str) -> bool:
    """Whether the text has a non-ASCII letter with another case."""
    return any(not ch.isascii() and ch.lower() != ch.upper() for ch in text)


def key_without_case(api: Api, c: ast.Comparison, key: str, emit: Sink) -> None:
    """On MySQL some key comparisons use the column collation: `TEAM` finds `team`."""
    if key != key.lower() or key != key.rstrip():
        from mlfilter.versions import BACKEND_NAMES

        emit("MF323", c.left.span, f"{BACKEND_NAMES[api.backend]} compares the key `{key}` here "
             "without case and trailing spaces, so other keys (`" + key.lower().rstrip()
             + "`) match too", "write the key as it was logged, in lower case if it was")


def nul_character(api: Api, v, emit: Sink) -> None:
    if api.rejects_nul:
        from mlfilter.versions import BACKEND_NAMES

        what = "key" if isinstance(v, ast.Name) else "value"
        emit("MF242", v.span, f"{BACKEND_NAMES[api.backend]} text cannot hold the NUL character "
             f"in this {what}: the search fails", "remove the NUL character")
    else:
        emit("MF318", v.span, "the value holds a NUL character",
             "PostgreSQL rejects NUL in text, so this search fails there")


def _enum(c: ast.Comparison, res: Resolved, emit: Sink) -> None:
    values = c.right.items if isinstance(c.right, ast.ListValue) else (c.right,)
    fold = c.op.canonical == "ILIKE"  # ILIKE ignores case: 'finished' matches FINISHED
    known = {v.lower() for v in res.target.enum} if fold else set(res.target.enum)
    for item in values:
        if not isinstance(item, ast.String) or (item.inner.lower() if fold else item.inner) in known:
            continue
        guess = did_you_mean(item.inner, res.target.enum, cutoff=0.5)
        hint = f"{res.key} is one of {', '.join(res.target.enum)} (upper case)"
        fix = None
        if guess:
            hint = f"did you mean '{guess}'? {hint}"
            fix = replace(f"use '{guess}'", item.span, f"{item.quote}{guess}{item.quote}",
                          Applicability.UNSAFE)
        emit("MF302", item.span, f"MLflow never stores {res.key} {item.text}, so this matches "
             "nothing", hint, fix)


def _like(c: ast.Comparison, api: Api, emit: Sink) -> None:
    pattern = c.right.inner
    if "\\" in pattern:
        if trailing_escape(api, pattern, c.right, emit):
            return
        emit("MF306", c.right.span, "a backslash in a LIKE pattern means different things per "
             "database", "MLflow adds no ESCAPE clause: `\\` escapes `%` and `_` on PostgreSQL and "
             "MySQL but is a plain character on SQLite; avoid it, or use `_` for the literal")
    elif c.op.canonical == "LIKE" and "%" not in pattern and "_" not in pattern:
        emit("MF305", c.op.span, "LIKE without `%` or `_` only matches the exact value",
             "add wildcards (`'%text%'`) or use `=`",
             replace("use `=`", c.op.span, "=", Applicability.UNSAFE))


def _regex(c: ast.Comparison, api: Api, emit: Sink) -> None:
    import re
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning on patterns Python may read anew
            re.compile(_as_python_regex(c.right.inner, api.backend))
    except re.error as e:
        if api.invalid_regex == "ok":
            emit("MF316", c.right.span, f"{c.right.text} is not a valid regular expression "
                 f"({e.msg})", "SQLite then matches nothing, silently; PostgreSQL and MySQL fail "
                 "the search")
            return
        from mlfilter.versions import BACKEND_NAMES

        db = BACKEND_NAMES[api.backend]
        outcome = "rejects it" if api.invalid_regex == "reject" else "fails (HTTP 500)"
        emit("MF246", c.right.span, f"{c.right.text} is not a valid regular expression ({e.msg}): "
             f"{db} {outcome}", "fix the pattern; escape a literal `(`, `[` or `*` with `\\`")


# Escapes a database's regex dialect has and Python's lacks, made harmless before Python's `re`
# judges the pattern: PostgreSQL's word boundaries, ICU's (MySQL 8, MariaDB) property classes.
_DIALECT_ESCAPES = {
    "postgresql": re.compile(r"\\[yYmM]"),
    "mysql": re.compile(r"\\[pP]\{[^}]*\}|\\[pP][A-Za-z]"),
}
_OPEN_BRACE = re.compile(r"(?<!\\)\{\d+(,\d*)?$|(?<!\\)\{\d+(,\d*)?[^\d,}]")


def _as_python_regex(pattern: str, backend: str) -> str:
    escapes = _DIALECT_ESCAPES.get(backend)
    if escapes is not None:
        pattern = escapes.sub("a", pattern)
    if backend == "postgresql" and _OPEN_BRACE.search(pattern):
        return "("  # PostgreSQL refuses a bound without its `}`, which Python reads as text
    return pattern


def _kept_quotes(c: ast.Comparison, emit: Sink) -> None:
    v = c.right
    q = v.quote
    inner = v.inner
    if q + q in inner or "\\" + q in inner:
        meant = inner.replace(q + q, q).replace("\\" + q, q)
        other = '"' if q == "'" else "'"
        better = f"{other}{meant}{other}" if other not in meant else None
        emit("MF307", v.span, f"MLflow has no escapes: {v.text} means the text {inner!r}, "
             f"not {meant!r}", f"write {better}" if better else
             "MLflow cannot express a value holding both quote characters",
             replace("use the other quote character", v.span, better, Applicability.UNSAFE)
             if better else None)


def _odd_key(c: ast.Comparison, res: Resolved, emit: Sink) -> None:
    """`tags. team`, `tags..k`: MLflow keeps spaces and extra dots in the key."""
    if res.entity.keys or not isinstance(c.left, ast.Name):
        return
    key = res.key
    text = c.left.text
    if key != key.strip() or ".." in text or ("`" not in text and _SPACE.search(text)):
        emit("MF317", c.left.span, f"MLflow reads the key as {key!r}, spaces and dots included",
             "write the name without spaces around its dots; quote a key that really has spaces "
             "in backticks")


def _rewrite_note(c: ast.Comparison, api: Api, res: Resolved, emit: Sink) -> None:
    new_type, new_key, _ = rewritten(api, res.entity, res.key)
    if (new_type, new_key) == (res.entity.name, res.key) or res.prefix is None:
        return
    if res.entity.name == api.bare_entity:
        return
    emit("MF311", c.left.span, f"MLflow reads `{c.left.text}` as the {new_type} `{new_key}`",
         f"trace search rewrites the key `{res.key}` whatever its prefix")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text != ""
