"""MF5xx: a filter compared with what the tracking store really holds (a Schema).

MLflow accepts these filters, and they run, but they cannot match what was logged: a key never
logged in the searched experiments, a value never logged (often differing only in case or in
numeric spelling), a LIKE that matches no logged value, a metric threshold no run passes.
"""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.apis import Api
from mlfilter.diagnostics import Applicability, Span
from mlfilter.resolve import resolve
from mlfilter.rules.base import Sink, did_you_mean, literal_list, replace
from mlfilter.schema.model import KeyInfo, Schema, merged

_ENTITY_FIELD = {"metric": "metrics", "parameter": "params", "tag": "tags"}
_ENTITY_WORD = {"metric": "metric", "parameter": "param", "tag": "tag"}
_PREFIX = {"metric": "metrics", "parameter": "params", "tag": "tags"}
_RUN_NAME_KEYS = frozenset({"run_name", "run name", "Run name", "Run Name"})


def typecheck(filt: ast.Filter, comparisons, api: Api, schema: Schema, experiment_ids=None,
              view_type=None, emit: Sink | None = None) -> None:
    """Add MF5xx diagnostics for `comparisons` (the filter's, as MLflow groups them)."""
    if api.name != "runs":
        return _typecheck_other(comparisons, api, schema, emit)
    experiments = _experiments(schema, experiment_ids, emit)
    if experiments is None:
        return  # an experiment the schema does not hold may have any key: MF508 only
    if not all(e.complete for e in experiments):
        return  # only its newest runs were read (a tracking server): nothing can be ruled out
    where = _where(experiments)
    keys = {entity: merged([getattr(e, field) for e in experiments])
            for entity, field in _ENTITY_FIELD.items()}
    active_only = view_type in (None, 1, "active_only", "ACTIVE_ONLY")
    for c in comparisons:
        if c.op is None or not isinstance(c.left, (ast.Name, ast.String)):
            continue
        res = resolve(api, c.left.text)
        if res.problem is not None or res.entity is None:
            continue
        entity, key = res.entity.name, res.key
        if entity == "attribute" and key in _RUN_NAME_KEYS:
            entity, key = "tag", "mlflow.runName"
        if entity not in keys:
            continue
        info = keys[entity].get(key)
        if info is None:
            if c.op.canonical == "IS NULL":
                continue  # no run has the key, so every run matches
            if (c.op.canonical == "IS NOT NULL" and _keys_ignore_case(schema)
                    and any(k.lower() == key.lower() for k in keys[entity])):
                continue  # MLflow's IS [NOT] NULL compares keys with the column's collation
            _never_logged(c, res, entity, key, keys, where, emit)
            continue
        if active_only and info.entities and not info.active and c.op.canonical != "IS NULL":
            emit("MF506", c.left.span, f"only deleted runs {_has(entity)} `{key}` in {where}, "
                 "and this search looks at active runs only",
                 "search deleted runs too (view type ALL), or check the key")
        if entity == "metric":
            _threshold(c, key, info, where, emit)
        else:
            _values(c, entity, key, info, where, emit, is_run_name=res.key in _RUN_NAME_KEYS,
                    like_escapes=_like_escapes(schema))


# ---- errors about a key the store holds under another entity -----------------------------------

# errors that often mean the key was given the wrong prefix: a comparator, a value class or a
# list the entity does not take
_WRONG_ENTITY_CODES = frozenset({"MF201", "MF208", "MF211", "MF212", "MF214"})
_NUMERIC = frozenset({"=", "!=", "<", "<=", ">", ">="})
_TEXTUAL = frozenset({"=", "!=", "LIKE", "ILIKE"})


def cross_entity_hints(filt: ast.Filter, comparisons, api: Api, schema: Schema, items,
                       experiment_ids=None) -> list:
    """`items` with the hint (and fix) of an error on `params.accuracy > 0.5` saying that the
    store logged `accuracy` as a metric, not a param: `metrics.accuracy > 0.5` was meant."""
    from mlfilter.records import replace as with_fields

    if api.name != "runs" or not any(d.code in _WRONG_ENTITY_CODES for d in items):
        return items
    experiments = _experiments(schema, experiment_ids, Sink())
    if not experiments:
        return items
    where = _where(experiments)
    keys = {entity: merged([getattr(e, field) for e in experiments])
            for entity, field in _ENTITY_FIELD.items()}
    meant = {}  # comparison span -> (hint, fix)
    for c in comparisons:
        found = _other_entity(c, api, keys, where)
        if found is not None:
            meant[c.span] = found
    if not meant:
        return items
    out = []
    for d in items:
        c_span = next((s for s in meant if s.start <= d.span.start < s.end), None)
        if d.code in _WRONG_ENTITY_CODES and c_span is not None:
            hint, fix = meant[c_span]
            d = with_fields(d, hint=hint, fix=fix)
        out.append(d)
    return out


def _other_entity(c, api: Api, keys, where):
    """(hint, fix) when `c`'s key is not logged under its entity but is under another one."""
    if c.op is None or not isinstance(c.left, (ast.Name, ast.String)):
        return None
    res = resolve(api, c.left.text)
    if res.problem is not None or res.entity is None or res.entity.name not in keys:
        return None
    entity, key = res.entity.name, res.key
    others = [e for e in keys if e != entity and key in keys[e]]
    if key in keys[entity] or not others:
        return None
    other = others[0]
    rewritten = _as_entity(c, other, res.key_text)
    what = (f"a {_ENTITY_WORD[other]} `{key}` is logged in {where}, but no "
            f"{_ENTITY_WORD[entity]} `{key}`")
    if rewritten is None:
        return f"{what}: write `{_PREFIX[other]}.{res.key_text}`", None
    from mlfilter.checker import check

    if not check(rewritten, api).ok:
        return f"{what}: write `{_PREFIX[other]}.{res.key_text}`", None
    fix = replace(f"compare the {_ENTITY_WORD[other]}", c.span, rewritten, Applicability.UNSAFE)
    return f"did you mean `{rewritten}`? {what}", fix


def _as_entity(c, entity: str, key_text: str) -> str | None:
    """The comparison `c` written for `entity` (its prefix, a comparator and a value it takes),
    or None when there is no such reading."""
    op, v = c.op.canonical, c.right
    left = f"{_PREFIX[entity]}.{key_text}"
    if op in ("IS NULL", "IS NOT NULL"):
        return f"{left} {op}" if entity != "metric" else None
    if v is None:
        return None
    if entity == "metric":
        if op not in _NUMERIC:
            return None
        if isinstance(v, ast.Number):
            return f"{left} {c.op.text} {v.text}"
        if isinstance(v, ast.String) and re.fullmatch(r"-?(\d+(\.\d*)?|\.\d+)([eE]-?\d+)?", v.inner):
            return f"{left} {c.op.text} {v.inner}"
        return None
    if op not in _TEXTUAL:
        return None
    if isinstance(v, ast.String):
        return f"{left} {c.op.text} {v.text}"
    if isinstance(v, ast.Number):
        return f"{left} {c.op.text} '{v.text}'"
    return None


def _keys_ignore_case(schema: Schema) -> bool:
    """MLflow's IS NULL / IS NOT NULL compare keys with `=` (not BINARY), so on MySQL and
    MariaDB, whose default collations ignore case, `tags.Team IS NOT NULL` finds `team`. True
    unless the schema was read from a database known to compare exactly (SQLite, PostgreSQL);
    a tracking server or a snapshot of unknown origin may sit on MySQL."""
    scheme = schema.source.split(":", 1)[0].lower() if "://" in schema.source else ""
    return not scheme.startswith(("sqlite", "postgresql"))


def _experiments(schema: Schema, experiment_ids, emit: Sink):
    out = []
    for ref in experiment_ids or list(schema.experiments):
        ref = str(ref)
        exp = schema.experiments.get(ref) or next(
            (e for e in schema.experiments.values() if e.name == ref), None)
        if exp is None:
            emit("MF508", Span(0, 0), f"experiment {ref!r} is not in the schema "
                 f"({schema.source or 'snapshot'})", "dump the schema again, or check the id")
        else:
            out.append(exp)
    return out if len(out) == len(experiment_ids or list(schema.experiments)) else None


def _where(experiments) -> str:
    names = [f"'{e.name}'" for e in experiments[:3]]
    more = f" and {len(experiments) - 3} more" if len(experiments) > 3 else ""
    return ("experiment " if len(experiments) == 1 else "experiments ") + ", ".join(names) + more


def _has(entity: str) -> str:
    return {"metric": "logged the metric", "parameter": "logged the param",
            "tag": "have the tag"}[entity]


def _never_logged(c, res, entity, key, keys, where, emit: Sink) -> None:
    span = c.left.span
    word = _ENTITY_WORD[entity]
    hint = None
    fix = None
    guess = did_you_mean(key, keys[entity]) if keys[entity] else None
    if guess:
        hint = f"did you mean `{_PREFIX[entity]}.{guess}`?"
        fix = replace(f"use `{guess}`", span, _key_text(c.left.text, res.key_text, guess),
                      Applicability.UNSAFE)
    others = [e for e in keys if e != entity and key in keys[e]]
    if others:
        other = others[0]
        hint = (f"no {word} `{key}`, but a {_ENTITY_WORD[other]} `{key}` exists: write "
                f"`{_PREFIX[other]}.{key}`")
        fix = replace(f"compare the {_ENTITY_WORD[other]}", span, f"{_PREFIX[other]}.{res.key_text}",
                      Applicability.UNSAFE)
    if hint is None:
        names = sorted(keys[entity])[:8]
        hint = (f"logged {word}s: " + ", ".join(names) + ("..." if len(keys[entity]) > 8 else "")
                if names else f"no {word} was logged there")
    emit("MF501", span, f"no run in {where} has the {word} `{key}`, so this matches nothing",
         hint, fix)


def _key_text(written: str, key_text: str, new_key: str) -> str:
    return written[: len(written) - len(key_text)] + (new_key if re.fullmatch(r"[\w.]+", new_key)
                                                       else f"`{new_key}`")


def _values(c, entity, key, info: KeyInfo, where, emit: Sink, is_run_name=False,
            like_escapes=(False, True)) -> None:
    op, v = c.op.canonical, c.right
    if not info.complete or v is None:
        return
    shown = _shown(entity, key, info)
    if op in ("=", "IN") and isinstance(v, (ast.String, ast.ListValue)):
        wanted = [v.inner] if isinstance(v, ast.String) else list(literal_list(v.text)[0] or [])
        missing = [w for w in wanted if isinstance(w, str) and w not in info.sample]
        if missing and len(missing) == len(wanted):
            close = _close_value(missing[0], info.sample)
            code = "MF507" if is_run_name else "MF502"
            what = "no run is named" if is_run_name else f"{shown} never has the value"
            fix = None
            hint = f"logged values of {shown}: " + _list(info.sample)
            if close is not None and isinstance(v, ast.String):
                fix = replace(f"use '{close}'", v.span, f"{v.quote}{close}{v.quote}"
                              if v.quote not in close else _requote(close), Applicability.UNSAFE)
                hint = f"did you mean {close!r}? {hint}"
            emit(code, v.span, f"{what} {missing[0]!r} in {where}", hint, fix)
    elif op in ("LIKE", "ILIKE") and isinstance(v, ast.String):
        patterns = [_like_regex(v.inner, op == "ILIKE", escapes) for escapes in like_escapes]
        if not any(p.fullmatch(s) for p in patterns for s in info.sample):
            emit("MF503", v.span, f"{op} {v.text} matches no logged value of {shown} in {where}",
                 f"logged values: {_list(info.sample)}")


def _threshold(c, key, info: KeyInfo, where, emit: Sink) -> None:
    op, v = c.op.canonical, c.right
    if not isinstance(v, ast.Number) or info.minimum is None or v.kind == "HEX":
        return
    x = float(v.text)
    lo, hi = info.minimum, info.maximum
    none = {">": hi <= x, ">=": hi < x, "<": lo >= x, "<=": lo > x, "=": not lo <= x <= hi}.get(op)
    every = {">": lo > x, ">=": lo >= x, "<": hi < x, "<=": hi <= x}.get(op)
    span = Span(c.span.start, c.span.end)
    rng = f"latest values of metrics.{key} in {where} range from {lo:g} to {hi:g}"
    if none:
        emit("MF504", span, f"no run passes `{c.left.text} {c.op.text} {v.text}`", rng)
    elif every and not info.nan:
        emit("MF505", span, f"every run with metrics.{key} passes `{c.left.text} {c.op.text} "
             f"{v.text}`", rng + "; the condition only requires the metric to exist")


def _shown(entity: str, key: str, info: KeyInfo) -> str:
    if entity == "tag" and key == "mlflow.runName":
        return "the run name"
    return f"{_PREFIX[entity]}.{key}"


def _list(values, n: int = 8) -> str:
    shown = ", ".join(repr(v) for v in values[:n])
    return shown + (f" (and {len(values) - n} more)" if len(values) > n else "")


def _close_value(wanted: str, logged: list[str]) -> str | None:
    """A logged value that differs only in case, surrounding spaces or numeric spelling."""
    for s in logged:
        if s.lower() == wanted.lower() or s.strip() == wanted.strip():
            return s
    try:
        x = float(wanted)
    except ValueError:
        return None
    for s in logged:
        try:
            if float(s) == x:
                return s
        except ValueError:
            continue
    return None


def _requote(text: str) -> str:
    return f"'{text}'" if "'" not in text else f'"{text}"'


def _like_regex(pattern: str, ignore_case: bool, escapes: bool = False):
    """LIKE as a regex. MLflow emits no ESCAPE clause: a backslash escapes the next character on
    PostgreSQL and MySQL (`escapes`), and is a plain character on SQLite."""
    out = []
    chars = iter(pattern)
    for ch in chars:
        if escapes and ch == "\\":
            ch = next(chars, "\\")
            out.append(re.escape(ch))
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return re.compile("".join(out), re.S | (re.I if ignore_case else 0))


def _like_escapes(schema: Schema) -> tuple[bool, ...]:
    """How the store's database reads a backslash in LIKE: (False,) on SQLite, (True,) on
    PostgreSQL and MySQL; both when the schema does not say (a server, a snapshot of unknown
    origin), and MF503 then needs a pattern that matches nothing either way."""
    scheme = schema.source.split(":", 1)[0].lower() if "://" in schema.source else ""
    if scheme.startswith("sqlite"):
        return (False,)
    if scheme.startswith(("postgresql", "mysql", "mariadb")):
        return (True,)
    return (False, True)


def _typecheck_other(comparisons, api: Api, schema: Schema, emit: Sink) -> None:
    """Registered models, model versions, logged models and traces: keys never logged."""
    tables = {
        "registered_models": {"tag": schema.registered_models},
        "model_versions": {"tag": schema.model_versions},
        "logged_models": {"params": schema.logged_models.get("params", {}),
                          "tags": schema.logged_models.get("tags", {}),
                          "metrics": schema.logged_models.get("metrics", {})},
        "traces": {"tag": schema.traces.get("tags", {}),
                   "request_metadata": schema.traces.get("metadata", {})},
    }.get(api.name)
    if not tables:
        return
    for c in comparisons:
        if c.op is None or not isinstance(c.left, ast.Name):
            continue
        if api.parser == "logged_models":
            from mlfilter.rules.logged_models import resolve_logged_model_key

            entity, key = resolve_logged_model_key(c.left.text)
        else:
            res = resolve(api, c.left.text)
            if res.problem is not None or res.entity is None:
                continue
            entity, key = res.entity.name, res.key
        keys = tables.get(entity)
        if keys is None:
            continue
        lookup = f"tags.{key}" if api.name in ("registered_models", "model_versions") else key
        if keys and lookup not in keys:
            names = sorted(k.removeprefix("tags.") for k in keys if k != "name")
            guess = did_you_mean(key, names) if names else None
            emit("MF501", c.left.span, f"no {api.name.replace('_', ' ')} entry has the "
                 f"{entity} `{key}` in {schema.source or 'the schema'}",
                 f"did you mean `{guess}`?" if guess else ("known: " + ", ".join(names[:8])
                                                           if names else None))
