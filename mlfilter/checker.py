"""text -> tokens -> parse tree -> AST -> rules -> Report. The one validation path: `check` always
collects, `parse` is `check` plus raising FilterError."""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import _NO_KEYS, Api, get_api
from mlfilter.versions import default_version
from mlfilter.diagnostics import Report, Span, sort_diagnostics
from mlfilter.errors import FilterError, MlfilterError  # noqa: F401 (re-exported)
from mlfilter.grouping import effective_comparisons
from mlfilter.fastparse import parse_simple
from mlfilter.rules.base import Sink, read_int, replace, too_long_for_int, value_class
from mlfilter.apis import NULL_OPS
from mlfilter.records import replace as with_fields
from mlfilter.resolve import resolve, rewritten
from mlfilter.rules.clauses import check_comparison, store_target
from mlfilter.rules.plain import plain_facts, plain_query
from mlfilter.rules.structure import check_structure
from mlfilter.rules.suspicious import check_suspicious

MAX_NESTING = 100  # MLflow takes no parentheses at all; deeper input is not a filter
SQLPARSE_MAX_TOKENS = 10_000  # sqlparse.engine.grouping.MAX_GROUPING_TOKENS
# The two shortcuts (tests/test_fast_path.py turns them off to compare): parse the common filter
# in one scan (mlfilter.fastparse), skip the rules for comparisons none applies to
# (mlfilter.rules.plain). Neither changes a report.
FAST_PARSE = SKIP_PLAIN = True
# And a third: a release change that alters only entities the filter does not use is not
# re-checked for version hints (`_reads_alike`).
SKIP_SAME = True
# And the fourth: a filter of plain comparisons joined with AND gets its report from one scan
# of the text (`_direct`), without an AST.
DIRECT = True


def check(filter_string, api: str | Api = "runs", schema=None, experiment_ids=None,
          view_type=None, mlflow_version: str | None = None, backend: str | None = None) -> Report:
    """Check a filter string for one search API; the report's `.ok` is MLflow's verdict.

    `mlflow_version` ("2.22", "3.17", "3.18"; None: mlfilter.versions.default_version()) and
    `backend` ("sqlite", "postgresql", "mysql", "mssql"; None: sqlite) choose whose verdict.
    With `schema` (a Schema, a schema snapshot path or a store URI) the filter is also compared
    with what the store holds in `experiment_ids` (all experiments when None) under `view_type`.
    """
    if schema is not None:
        schema = _schema(schema)
        # a store's own MLflow release and database decide, unless the caller chose
        mlflow_version = mlflow_version or schema.mlflow_line
        backend = backend or schema.backend
    spec = target_api(api, mlflow_version, backend)
    if DIRECT and schema is None and filter_string.__class__ is str and spec.available:
        report = _direct(filter_string, spec)
        if report is not None:
            return report
    text, items, filt = _filter_items(filter_string, spec, schema, experiment_ids, view_type)
    if filt is not None:
        found = items

        def rerun(other: Api) -> list:
            if schema is None and SKIP_SAME and _reads_alike(_keys(filt), spec, other):
                return found  # what check_filter would find again (tests/test_fast_path.py)
            return _recheck(filt, other)

        items = _with_version_hints(items, spec, rerun)
    return _report(text, spec, items)


def _direct(text: str, spec: Api) -> Report | None:
    """The report of a filter of plain comparisons joined with AND, from one scan of its text
    (mlfilter.rules.plain.plain_query) and the query's own rules; None for any other filter."""
    scanned = _scan(text, spec)
    if scanned is None:
        return None
    found, keys = scanned
    if not found:
        return _report(text, spec, found)

    def rerun(other: Api) -> list:
        if SKIP_SAME and _reads_alike(keys, spec, other):
            return found
        again = _scan(text, other) if other.available else None
        if again is None:
            return _recheck(_parse_into(text, spec, Sink()), other)
        return again[0]

    return _report(text, spec, _with_version_hints(found, spec, rerun))


def _scan(text: str, spec: Api) -> tuple[list, list[str]] | None:
    """(diagnostics, keys) of a filter of comparisons joined with AND, found in one scan: what
    check_filter finds on its AST (the same comparisons, in the same order, each through
    _check_comparison), without building the AST of the plain ones."""
    emit = Sink()
    q = _Query()
    keys = plain_query(text, spec, q, _count,
                       lambda c: _check_comparison(c, spec, emit, q), MAX_NESTING)
    if keys is None:
        return None
    _span_bound(q.bounds, q.spans, spec, emit)
    check_query(text, spec, q.joins, q.wheres, q.joined, emit)
    return emit.items, keys


def _keys(filt: ast.Filter) -> list[str] | None:
    """The keys of a filter's comparisons as written; None if one is not a name."""
    keys = []
    for c in effective_comparisons(filt):
        if c.left.__class__ is not ast.Name:
            return None
        keys.append(c.left.text)
    return keys


def _reads_alike(keys: list[str] | None, spec: Api, other: Api) -> bool:
    """Whether `other` (`spec` with one release change taken the other way) differs from
    `spec` only in entities, or keys of an entity, that none of the filter's `keys` uses, so
    that checking against it finds exactly what `spec` found."""
    differ = _entity_differences(spec, other)
    if differ is None or spec.parser != "search_utils" or spec.rewrites or keys is None:
        return False
    if not differ:
        return True
    for key in keys:
        res, again = resolve(spec, key), resolve(other, key)
        if res.entity is None or again.entity is None or again.entity.name != res.entity.name:
            return False
        if res.entity.name in differ:
            changed = differ[res.entity.name]
            if changed is None or res.key in changed:
                return False
    return True


_DIFFERENCES: dict = {}


def _entity_differences(spec: Api, other: Api) -> dict[str, frozenset[str] | None] | None:
    """The entities two tables hold differently: name -> the keys whose targets differ, or None
    when the entity differs otherwise. None when the tables differ otherwise (any field of the
    Api, or which entities there are)."""
    key = (id(spec), id(other))
    entry = _DIFFERENCES.get(key)
    if entry is None or entry[0] is not spec or entry[1] is not other:
        names = [e.name for e in spec.entities]
        if names != [e.name for e in other.entities] or \
                with_fields(spec, entities=()) != with_fields(other, entities=()):
            differ = None
        else:
            differ = {a.name: _key_differences(a, b)
                      for a, b in zip(spec.entities, other.entities) if a != b}
        if len(_DIFFERENCES) > 256:
            _DIFFERENCES.clear()
        entry = _DIFFERENCES[key] = (spec, other, differ)
    return entry[2]


def _key_differences(a, b) -> frozenset[str] | None:
    """The keys whose targets differ between two versions of an entity; None when more differs
    (its other fields, or which keys it has)."""
    if list(a.keys) != list(b.keys) or with_fields(a, keys=_NO_KEYS) != with_fields(b, keys=_NO_KEYS):
        return None
    return frozenset(k for k in a.keys if a.keys[k] != b.keys[k])


def _recheck(filt: ast.Filter, spec: Api) -> list:
    """The diagnostics of an already parsed filter against another table of the same API (the
    parse does not depend on the release or database)."""
    emit = Sink()
    if _available(spec, emit):
        check_filter(filt, spec, emit)
    return emit.items


def _filter_items(value, spec: Api, schema=None, experiment_ids=None, view_type=None):
    """(text, diagnostics, AST or None) of one filter against one table."""
    text, problem = _as_text(value)
    emit = Sink()
    if problem is not None:
        emit(*problem)
        return text, emit.items, None
    if not _available(spec, emit):
        return text, emit.items, None
    filt = _parse_into(text, spec, emit)
    if filt is not None:
        check_filter(filt, spec, emit)
        if schema is not None and not any(d.severity.value == "error" for d in emit.items):
            from mlfilter.schema.typecheck import typecheck

            typecheck(filt, effective_comparisons(filt), spec, _schema(schema), experiment_ids,
                      view_type, emit)
        elif schema is not None:  # an error on a key the store holds under another entity
            from mlfilter.schema.typecheck import cross_entity_hints

            return text, cross_entity_hints(filt, effective_comparisons(filt), spec,
                                            _schema(schema), emit.items, experiment_ids), filt
    return text, emit.items, filt


def target_api(api: str | Api, mlflow_version: str | None = None,
               backend: str | None = None) -> Api:
    """The table to check against: an Api as given, or the one of a name, version and backend."""
    if isinstance(api, Api):
        if mlflow_version is None and backend is None:
            return api
        api = api.name
    if api.__class__ is not str:
        return get_api(api, mlflow_version, backend)
    # the default release can change (MLFILTER_MLFLOW_VERSION): it is part of the key
    key = (api, default_version() if mlflow_version is None else mlflow_version, backend)
    spec = _TARGETS.get(key)
    if spec is None:
        spec = get_api(api, key[1], backend)
        if len(_TARGETS) > 256:
            _TARGETS.clear()
        _TARGETS[key] = spec
    return spec


_TARGETS: dict = {}


def _report(text: str, spec: Api, items, kind: str = "filter") -> Report:
    return Report(text, spec.name, sort_diagnostics(items), kind=kind,
                  target=f"{spec.version}/{spec.backend}")


def _with_version_hints(items, spec: Api, rerun):
    if not any(d.severity.value == "error" for d in items):
        return items
    from mlfilter.compat import version_hints

    return version_hints(rerun, spec, items)


def _available(spec: Api, emit: Sink) -> bool:
    if spec.available:
        return True
    from mlfilter.changes import CHANGES

    # the change whose older tables lack the API
    since = min((c.since for c in CHANGES if spec.name in c.apis
                 and any(("available", False) in e.fields for e in c.before)), default=None)
    emit("MF225", Span(0, 0), f"{spec.mlflow_call} does not exist in MLflow {spec.version}",
         f"it was added in MLflow {since}" if since else "upgrade MLflow")
    return False


def _schema(schema):
    from mlfilter.schema.model import Schema

    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, str):
        return Schema.load(schema) if schema.endswith(".json") else Schema.from_store(schema)
    raise TypeError(f"schema must be a Schema, a snapshot path or a store URI, not {schema!r}")


def parse(filter_string, api: str | Api = "runs", mlflow_version: str | None = None,
          backend: str | None = None) -> ast.Filter:
    """The filter's AST; raises FilterError when MLflow would reject (or crash on) it."""
    spec = target_api(api, mlflow_version, backend)
    text, items, filt = _filter_items(filter_string, spec)
    report = _report(text, spec, items)
    if not report.ok:
        raise FilterError(report)
    return filt if filt is not None else ast.Filter(text, None, (), spec.name)


def parse_tree(filter_string: str, api: str | Api = "runs") -> ast.Filter:
    """The AST of a filter whatever MLflow thinks of it (OR, NOT and parentheses included);
    raises FilterError only when the text does not parse at all."""
    spec = api if isinstance(api, Api) else get_api(api)
    text, problem = _as_text(filter_string)
    emit = Sink()
    if problem is not None:
        emit(*problem)
        filt = None
    else:
        filt = _parse_into(text, spec, emit)
    if filt is None:
        if not emit.items:
            return ast.Filter(text, None, (), spec.name)
        raise FilterError(Report(text, spec.name, sort_diagnostics(emit.items)))
    return filt


class _Query:
    """What the comparisons add up to in the query MLflow builds."""

    __slots__ = ("joins", "wheres", "joined", "bounds", "spans")

    def __init__(self):
        self.joins = self.wheres = 0
        self.joined: dict[str, Span] = {}  # entity -> a comparison with its own join
        self.bounds: list = []  # span search bounds (traces' timestamp)
        self.spans = False  # a span filter


def check_filter(filt: ast.Filter, spec: Api, emit: Sink) -> None:
    check_structure(filt, emit)
    q = _Query()
    for c in effective_comparisons(filt):
        _check_comparison(c, spec, emit, q)
    _span_bound(q.bounds, q.spans, spec, emit)
    check_query(filt.text, spec, q.joins, q.wheres, q.joined, emit)


def _check_comparison(c: ast.Comparison, spec: Api, emit: Sink, q: _Query) -> None:
    if spec.parser == "logged_models":
        from mlfilter.rules.logged_models import check_logged_model_comparison

        parsed = check_logged_model_comparison(c, spec, emit)
        if parsed is not None and parsed[0] != "attributes":
            q.joins += spec.entity(parsed[0]).target.joins
        elif parsed is not None:
            q.wheres += 1
        return
    facts = plain_facts(c, spec) if SKIP_PLAIN else None
    if facts is not None:  # no rule applies: only its share of the query counts
        _count(q, *facts, c.span)
        return
    res = check_comparison(c, spec, emit)
    if res is not None and c.op is not None:
        join = 0 if c.op.canonical in NULL_OPS else store_target(spec, res).joins
        _count(q, join, res.entity.name, c.span)
        check_suspicious(c, spec, res, emit)
        q.spans = q.spans or rewritten(spec, res.entity, res.key)[0] == "span"  # `text` too
        if res.target is not None and res.target.span_bound and c.op.canonical in (">", ">="):
            q.bounds.append(c.right)


def _count(q: _Query, join: int, entity: str, span: Span) -> None:
    q.joins += join
    if join:
        q.joined.setdefault(entity, span)
    else:
        q.wheres += 1  # a condition without its own join goes to the WHERE clause


def check_query(text: str, spec: Api, joins: int, wheres: int, joined: dict[str, Span],
                emit: Sink) -> None:
    """What the whole query meets: its joins, its WHERE clause, the text's encoding."""
    if spec.dataset_join_crash and "dataset" in joined and len(joined) > 1:
        emit("MF239", joined["dataset"], f"MLflow {spec.version} crashes (HTTP 503) joining a dataset "
             "condition with a metric, param or tag condition", "search by dataset and by the "
             "other conditions separately, or upgrade to MLflow 3")
    if not any(d.severity.value == "error" for d in emit.items):
        _surrogate(text, emit)
    if spec.max_where_conditions is not None and wheres > spec.max_where_conditions:
        emit("MF238", Span(0, len(text)),
             f"this search has {wheres} conditions in its WHERE clause; SQLite's expression depth "
             f"allows {spec.max_where_conditions} here, so MLflow fails (HTTP 503)",
             "use IN lists, or split it into several searches")
    if spec.join_limit is not None and 1 + joins > spec.join_limit:
        from mlfilter.rules.registry import http_status
        from mlfilter.versions import BACKEND_NAMES

        db = BACKEND_NAMES[spec.backend]
        emit("MF235", Span(0, len(text)),
             f"this search joins {1 + joins} tables; {db} allows {spec.join_limit}, so "
             f"MLflow fails (HTTP {http_status('MF235')}) on a {db} store",
             "split it into several searches with fewer metric, param, tag or dataset conditions")


# MLflow prunes spans from 10 s before the largest bound, in nanoseconds
SPAN_TOLERANCE_MS, NS_PER_MS = 10_000, 1_000_000


def _span_bound(bounds, spans: bool, spec: Api, emit: Sink) -> None:
    """search_traces keeps the largest `timestamp_ms >` bound to prune spans: a quoted bound
    beside a span filter (str - int) or beside a numeric bound (max of str and int) fails, and
    an integer bound far in the past leaves 64 bits once turned into nanoseconds."""
    if not bounds:
        return
    from mlfilter.rules.clauses import INT64_MAX, INT64_MIN, integer_overflow

    texts = [v for v in bounds if value_class(v) == "string"]
    # (an integer too long for int() already crashed MLflow's parser: MF236)
    ints = [v for v in bounds if value_class(v) == "int" and not too_long_for_int(v.text)]
    if spans and ints and not texts and all(value_class(v) == "int" for v in bounds):
        largest = max(ints, key=lambda v: read_int(v.text))
        ns = (read_int(largest.text) - SPAN_TOLERANCE_MS) * NS_PER_MS
        if not INT64_MIN <= ns <= INT64_MAX:
            integer_overflow(spec, largest, emit)
    if texts and (spans or len(texts) < len(bounds)):
        why = "a span filter" if spans else "a numeric bound on the same key"
        emit("MF237", texts[0].span, f"a quoted timestamp bound beside {why} makes MLflow "
             f"{spec.version} crash (HTTP 500)", f"write the number without quotes: "
             f"{texts[0].inner}" if texts[0].inner.lstrip("-").isdigit() else
             "use a number literal", replace("remove the quotes", texts[0].span, texts[0].inner)
             if texts[0].inner.lstrip("-").isdigit() else None)


def _as_text(value) -> tuple[str, tuple | None]:
    """Accept str, None (no filter) and UTF-8 bytes; anything else is MF001."""
    if value is None:
        return "", None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as e:
            return "", ("MF001", Span(0, 0), f"the filter is not valid UTF-8 (byte {e.start})",
                        "pass text, or bytes encoded as UTF-8")
    if not isinstance(value, str):
        return "", ("MF001", Span(0, 0), f"the filter must be a string, not {type(value).__name__}",
                    "pass a string such as \"metrics.acc > 0.9\", or None for no filter")
    return value, None


def _surrogate(text: str, emit: Sink) -> None:
    """A lone surrogate inside a quoted value or key of a filter MLflow otherwise accepts reaches
    the database driver, which cannot encode it: HTTP 500. (Outside quotes, sqlparse stops at it
    and MLflow rejects the filter, which the other rules already report.)"""
    if text.isascii():
        return
    m = _SURROGATE.search(text)
    if m is None:
        return
    i = m.start()
    from mlfilter.lexer import tokenize

    if any(t.start <= i < t.end and (t.type in ("SQ", "DQ", "LIST") or "`" in t.text)
           for t in tokenize(text)):
        emit("MF003", Span(i, i + 1), f"a lone surrogate ({m.group()!r}) is not valid Unicode: "
             "MLflow crashes encoding it for the database (HTTP 500)", "remove it")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _parse_into(text: str, spec: Api, emit: Sink) -> ast.Filter | None:
    if not text:
        return ast.Filter(text, None, (), spec.name)
    if not text.strip():
        emit("MF005", Span(0, len(text)), "a filter of only whitespace is rejected by MLflow",
             "pass an empty string or None for no filter",
             replace("remove the whitespace", Span(0, len(text)), ""))
        return None
    # sqlparse refuses statements of more than 10,000 tokens (MAX_GROUPING_TOKENS), and MLflow
    # turns that into a 400. No text shorter than that many characters can reach the limit.
    if len(text) > SQLPARSE_MAX_TOKENS and _token_count(text) > SQLPARSE_MAX_TOKENS:
        emit("MF006", Span(0, len(text)),
             f"the filter is too long for MLflow's SQL parser (over {SQLPARSE_MAX_TOKENS:,} tokens)",
             "split the search into several smaller ones, or use IN lists where a key takes them")
        return None
    # the common filter (plain clauses joined with AND): the same AST, built in one scan
    filt = parse_simple(text, spec.name, MAX_NESTING) if FAST_PARSE else None
    if filt is not None:
        return filt
    from mlfilter import lalr
    from mlfilter.lexer import number_after_dot, tokenize
    from mlfilter.transform import Transformer

    tokens = tokenize(text)
    deep = _too_deep(tokens)
    if deep is not None:
        emit("MF002", deep, f"nesting deeper than {MAX_NESTING} levels",
             "MLflow takes no parentheses or NOT at all; write conditions joined with AND")
        return None
    glued = number_after_dot(tokens)
    if glued is not None:
        from mlfilter.syntax_errors import number_after_dot as glued_number

        emit.items.append(glued_number(tokens, glued, text))
        return None
    try:
        tree = lalr.parse([t for t in tokens if t.type != "WS"], "filter", len(text))
    except lalr.ParseFailure as failure:
        from mlfilter.syntax_errors import classify

        emit.items.append(classify(failure, tokens, text))
        return None
    return Transformer(text).filter(tree, spec.name)


def _token_count(text: str) -> int:
    from mlfilter.lexer import sqlparse_token_count

    return sqlparse_token_count(text, SQLPARSE_MAX_TOKENS)


def _too_deep(tokens) -> Span | None:
    depth = nots = 0
    for t in tokens:
        if t.type == "LPAR":
            depth += 1
        elif t.type == "RPAR":
            depth -= 1
        elif t.type == "NOT":
            nots += 1
        if depth + nots > MAX_NESTING:
            return Span(t.start, t.end)
    return None


def _show(entry) -> str:
    import json

    try:
        return json.dumps(entry, default=repr)
    except (TypeError, ValueError):
        return repr(entry)


# ---- order_by ---------------------------------------------------------------------------------

def check_order_by(order_by, api: str | Api = "runs", mlflow_version: str | None = None,
                   backend: str | None = None) -> Report:
    """Check an order_by list (or one entry) for one API. The report's source is the entries,
    one per line; spans point into it."""
    spec = target_api(api, mlflow_version, backend)
    source, items = _order_by_items(order_by, spec)
    items = _with_version_hints(items, spec, lambda other: _order_by_items(order_by, other)[1])
    return _report(source, spec, items, kind="order_by")


def _order_by_items(order_by, spec: Api):
    """(source, diagnostics) of an order_by list against one table."""
    from mlfilter.rules.order_by import check_order_by_dicts, check_order_entry

    emit = Sink()
    entries = [order_by] if isinstance(order_by, (str, dict)) else order_by
    if entries is None or not _available(spec, emit):
        return "", emit.items
    if not isinstance(entries, (list, tuple)):
        emit("MF423", Span(0, 0), f"order_by must be a list, not {type(order_by).__name__}",
             'for example ["metrics.acc DESC"]')
        return "", emit.items
    lines = [e if isinstance(e, str) else _show(e) for e in entries]
    source = "\n".join(lines)
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    spans = [Span(o, o + len(line)) for o, line in zip(offsets, lines)]
    if spec.order_by.dicts:
        check_order_by_dicts(list(entries), spec, emit, spans)
        return source, emit.items
    seen: dict = {}
    for entry, offset, span in zip(entries, offsets, spans):
        if not isinstance(entry, str):
            emit("MF423", span, f"{spec.mlflow_call} takes order_by entries as strings",
                 'for example "metrics.acc DESC"')
            continue
        field = check_order_entry(entry, spec, offset, emit)
        if field is None:
            continue
        if field in seen:
            code = "MF422" if spec.order_by.duplicates_crash else "MF451"
            message = (f"`{entry}` orders by the same field as `{seen[field]}`: MLflow crashes "
                       "(HTTP 500)" if code == "MF422" else
                       f"`{entry}` repeats the field of `{seen[field]}`; it has no effect")
            emit(code, span, message, "keep one entry per field")
        else:
            seen[field] = entry
    return source, emit.items
