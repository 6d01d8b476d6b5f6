"""mlfilter in IPython and Jupyter: `%load_ext mlfilter`.

    %mlfilter [--api API] [--store URI | --schema FILE] [--experiment ID|NAME ...] FILTER
    %mlfilter explain --store URI [--experiment ID|NAME ...] [--view-type all] FILTER
    %%mlfilter [options]            (the cell holds the filter, over as many lines as it likes)
    %mlfilter guard [on|off]        (mlfilter.guard(): searches refused before they are sent)

The magics return what they show (a Report, or an Explanation), so `r = %mlfilter ...` works.
`mlfilter.use_schema(...)` sets the schema that the magics type-check against and that tab
completion offers keys from, inside `F.metric("`, `F.param("`, `F.tag("` and `%mlfilter` lines.
`schema.metrics` (and `.params`, `.tags`) are the keys of a Schema as builder terms.

IPython is imported only inside the functions here: importing this module costs nothing, and the
lint path never imports it.
"""

from __future__ import annotations

import keyword
import re

from mlfilter.schema.keys import ENTITY_OF_TERM as _ENTITY_OF_TERM
from mlfilter.schema.keys import FILTER_KEY as _FILTER_KEY
from mlfilter.schema.keys import PREFIX_ENTITY as _PREFIX_ENTITY
from mlfilter.schema.keys import TERM_CALL as _TERM_CALL
from mlfilter.schema.keys import filter_key as _filter_key
from mlfilter.schema.keys import fits_quote as _fits_quote
from mlfilter.schema.keys import run_keys as _keys_of

USAGE = """\
%mlfilter [--api API] [--store URI | --schema FILE] [--experiment ID|NAME ...] FILTER
    check FILTER as MLflow would (API: runs, experiments, registered_models, model_versions,
    logged_models or traces; default runs). With --store or --schema (or after
    mlfilter.use_schema(...)) also compare it with what the tracking store holds.
%mlfilter explain --store URI [--experiment ID|NAME ...] [--view-type active_only|deleted_only|all] FILTER
    count, per condition, the runs it keeps: which condition empties the result?
%%mlfilter [same options]
    the filter is the cell, over several lines if you like.
%mlfilter guard [on|off]
    MLflow's search functions in this kernel refuse what MLflow would reject, before sending it
    (mlfilter.guard(); docs/guard.md). MLFILTER_GUARD=1 turns it on at %load_ext.
Option values may name a variable: --store $uri (the filter itself is never expanded).
Put -- before a filter that starts with '-' or with the word 'explain'."""

_VALUE_OPTIONS = {"--api": "api", "--store": "store", "--schema": "schema",
                  "--experiment": "experiments", "--view-type": "view_type"}
_VIEW_TYPES = ("active_only", "deleted_only", "all")
_MATCHER_ID = "mlfilter.keys"

# The active schema (mlfilter.use_schema): what completion and the magics use by default.
_active = None


# ---- the active schema --------------------------------------------------------------------------

def use_schema(schema, experiments=None):
    """Make `schema` the one that `%mlfilter` type-checks against and that tab completion offers
    keys from. `schema` is a Schema, the path of a snapshot (`mlfilter schema dump`), or a store
    URI (sqlite:///..., postgresql://..., http(s)://server); `experiments` (ids or names) limits it
    to those experiments, their keys merged. `use_schema(None)` forgets it. Returns the Schema."""
    global _active
    if schema is None:
        _active = None
        return None
    _active = load_schema(schema, experiments)
    return _active


def active_schema():
    """The schema set by use_schema(), or None."""
    return _active


def load_schema(ref, experiments=None):
    """A Schema from a Schema, a snapshot path or a store URI, limited to `experiments`."""
    import dataclasses
    import os

    from mlfilter.schema.errors import SchemaError
    from mlfilter.schema.model import Schema

    if isinstance(experiments, (str, int)):
        experiments = [experiments]
    experiments = [str(x) for x in experiments] if experiments else None
    if isinstance(ref, os.PathLike):
        ref = os.fspath(ref)
    if isinstance(ref, Schema):
        schema = ref
    elif isinstance(ref, str):
        if ref.endswith(".json") or (os.path.exists(ref) and "://" not in ref):
            schema = Schema.load(ref)
        else:
            return Schema.from_store(ref, experiments)
    else:
        raise SchemaError(f"use a Schema, a snapshot path or a store URI, not {ref!r}")
    if experiments:
        chosen = schema.select(experiments)
        schema = dataclasses.replace(schema, experiments={e.experiment_id: e for e in chosen})
    return schema


# ---- keys as attributes -------------------------------------------------------------------------

_TERMS = {"metrics": "metric", "params": "param", "tags": "tag"}


def schema_keys(schema, entity: str) -> Keys:
    """`schema.metrics` / `.params` / `.tags`: the run keys of all the schema's experiments."""
    from mlfilter.schema.model import merged

    exps = list(schema.experiments.values())
    names = ", ".join(e.name for e in exps) or "no experiment"
    where = f"{schema.source or 'the schema'} ({names})"
    return Keys(entity, merged([getattr(e, entity) for e in exps]), where)


def _reserved(name: str) -> bool:
    """Names `Keys` never treats as keys: IPython's hooks (`_repr_html_`, `_ipython_...`),
    dunders and its own slots. Such keys stay reachable as items."""
    return name.startswith("_") and (name.endswith("_") or name.startswith("_mlfilter"))


def _attribute_name(key: str) -> bool:
    return key.isidentifier() and not keyword.iskeyword(key) and not _reserved(key)


class MissingKey(KeyError):
    """A key the schema has not seen (its message reads as a sentence, not as a repr)."""

    def __str__(self) -> str:
        return str(self.args[0])


class Keys:
    """Keys of one kind as builder terms: `schema.metrics.accuracy` is `F.metric("accuracy")`,
    and a key that is not a Python name is an item: `schema.metrics["val/loss"]`. Tab completes
    both. Iterating gives the key names; `len()` and `in` work as for a set of names."""

    __slots__ = ("_mlfilter_entity", "_mlfilter_infos", "_mlfilter_where")

    def __init__(self, entity: str, infos: dict, where: str):
        self._mlfilter_entity = entity
        self._mlfilter_infos = infos
        self._mlfilter_where = where

    def _term(self, key: str):
        from mlfilter.builder.terms import F

        return getattr(F, _TERMS[self._mlfilter_entity])(key)

    def __getattr__(self, name: str):
        if _reserved(name):
            raise AttributeError(name)
        if name in self._mlfilter_infos:
            return self._term(name)
        raise AttributeError(self._missing(name))

    def __getitem__(self, key: str):
        if key in self._mlfilter_infos:
            return self._term(key)
        raise MissingKey(self._missing(key))

    def _missing(self, key) -> str:
        import difflib

        word = _TERMS[self._mlfilter_entity]
        keys = sorted(self._mlfilter_infos)
        close = [k for k in keys if k.lower().startswith(str(key).lower())][:3] or \
            difflib.get_close_matches(str(key), keys, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(k) for k in close)}?" if close else ""
        return f"no {word} {key!r} was logged in {self._mlfilter_where}{hint}"

    def __dir__(self):
        return sorted(k for k in self._mlfilter_infos if _attribute_name(k))

    def __iter__(self):
        return iter(sorted(self._mlfilter_infos))

    def __len__(self) -> int:
        return len(self._mlfilter_infos)

    def __contains__(self, key) -> bool:
        return key in self._mlfilter_infos

    def _ipython_key_completions_(self):
        return sorted(self._mlfilter_infos)

    def _access(self, key: str) -> str:
        return f".{key}" if _attribute_name(key) else f"[{key!r}]"

    def __repr__(self) -> str:
        keys = sorted(self._mlfilter_infos)
        shown = ", ".join(keys[:20]) + (f", ... ({len(keys)} keys)" if len(keys) > 20 else "")
        return f"<{self._mlfilter_entity} of {self._mlfilter_where}: {shown or 'none'}>"

    def _repr_html_(self):
        from mlfilter.display import keys_html

        return keys_html(self)


# ---- the magics ---------------------------------------------------------------------------------

def _usage_error(message: str):
    from IPython.core.error import UsageError

    return UsageError(message)


def parse_magic_line(line: str):
    """`[explain] [--option value ...] [--] FILTER` -> (command, options, filter text).
    The filter is the rest of the line exactly as typed: quotes are the filter's own."""
    rest = line.lstrip()
    command = "check"
    if re.match(r"explain(\s|$)", rest):
        command, rest = "explain", rest[len("explain"):].lstrip()
    opts: dict = {"experiments": []}
    while rest.startswith("-"):
        if re.match(r"--(\s|$)", rest):
            rest = rest[2:].lstrip()
            break
        m = re.match(r"(-h|--help|--[A-Za-z][A-Za-z-]*)(=|\s+|$)", rest)
        if not m:
            raise _usage_error(f"cannot read {rest.split()[0]!r} as an option (put -- before a "
                               f"filter that starts with '-')\n{USAGE}")
        name = m.group(1)
        if name in ("-h", "--help"):
            return "help", opts, ""
        if name not in _VALUE_OPTIONS:
            raise _usage_error(f"unknown option {name}: %mlfilter takes "
                               f"{', '.join(_VALUE_OPTIONS)}\n{USAGE}")
        rest = rest[m.end():]
        quoted = rest[:1] in ("'", '"')
        value, rest = _take_value(rest)
        if not value:
            raise _usage_error(f"{name} needs a value, for example {name} "
                               f"{_EXAMPLE_VALUES[name]}")
        key = _VALUE_OPTIONS[name]
        if not quoted:
            value = _expand(value)
        if key == "experiments":
            opts[key].append(value)
        elif key in opts:
            raise _usage_error(f"{name} is given twice")
        else:
            opts[key] = value
        rest = rest.lstrip()
    return command, opts, rest


_EXAMPLE_VALUES = {"--api": "runs", "--store": "sqlite:///mlflow.db", "--schema": "schema.json",
                   "--experiment": "my-experiment", "--view-type": "all"}


def _expand(value: str) -> str:
    """`$name` or `{name}` as an option value: that variable of the notebook (the filter itself
    is never expanded: `$` and braces belong to it)."""
    m = re.fullmatch(r"\$([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\}", value)
    if m is None:
        return value
    from IPython import get_ipython

    name = m.group(1) or m.group(2)
    ip = get_ipython()
    namespace = ip.user_ns if ip is not None else {}
    if name not in namespace:
        raise _usage_error(f"{value}: the notebook has no variable {name!r}")
    return str(namespace[name])


def _take_value(text: str) -> tuple[str, str]:
    """One option value: quoted ('...' or "...", quotes dropped) or up to the next space."""
    if text[:1] in ("'", '"'):
        end = text.find(text[0], 1)
        if end < 0:
            raise _usage_error(f"unterminated quote in the option value {text!r}")
        return text[1:end], text[end + 1:]
    m = re.match(r"\S*", text)
    return m.group(0), text[m.end():]


def mlfilter_magic(line: str, cell: str | None = None):
    """%mlfilter FILTER, %mlfilter explain --store URI FILTER, %%mlfilter (see USAGE)."""
    guard = re.fullmatch(r"\s*guard(?:\s+(on|off))?\s*", line) if cell is None else None
    if guard:
        return _guard(guard.group(1) != "off")
    command, opts, text = parse_magic_line(line)
    if command == "help" or (cell is None and not text.strip()):
        print(USAGE)
        return None
    if cell is not None:
        if text.strip():
            raise _usage_error("%%mlfilter takes options on its first line and the filter in the "
                               f"cell; found {text.strip()!r} after the options")
        text = cell.strip("\r\n")
    try:
        if command == "explain":
            return _explain(text, opts)
        return _check(text, opts)
    except ValueError as e:  # an unknown API or view type
        raise _usage_error(str(e)) from None
    except _mlfilter_errors() as e:  # a store that is down, a bad snapshot...
        raise _usage_error(str(e)) from None


# IPython's @no_var_expand, without importing IPython: `{x}` and `$x` belong to the filter.
mlfilter_magic._ipython_magic_no_var_expand = True


def _mlfilter_errors():
    from mlfilter.checker import MlfilterError

    return MlfilterError


def _view_type(opts):
    view = opts.get("view_type")
    if view is None:
        return None
    if view.lower() not in _VIEW_TYPES:
        raise _usage_error(f"unknown --view-type {view!r}: use {', '.join(_VIEW_TYPES)}")
    return view.lower()


def _check(text: str, opts: dict):
    from mlfilter.checker import check

    if "store" in opts and "schema" in opts:
        raise _usage_error("give --store or --schema, not both")
    experiments = opts["experiments"] or None
    schema = None
    if "store" in opts:
        schema = load_schema(opts["store"], experiments)
    elif "schema" in opts:
        schema = load_schema(opts["schema"], experiments)
    elif _active is not None:
        schema = load_schema(_active, experiments)
    elif experiments:
        raise _usage_error("--experiment needs --store or --schema (or mlfilter.use_schema(...)) "
                           "to know what the experiments hold")
    return check(text, opts.get("api", "runs"), schema=schema, experiment_ids=experiments,
                 view_type=_view_type(opts))


def _explain(text: str, opts: dict):
    from mlfilter.checker import FilterError
    from mlfilter.explain import explain

    if "store" not in opts:
        raise _usage_error("%mlfilter explain counts the runs each condition keeps, so it needs "
                           "--store URI (a database such as sqlite:///mlflow.db, or a tracking "
                           "server); a schema snapshot holds no runs")
    if opts.get("api", "runs").lower().removeprefix("search_") != "runs":
        raise _usage_error("%mlfilter explain works on run searches only (--api runs)")
    try:
        return explain(text, opts["store"], opts["experiments"] or None, _view_type(opts))
    except FilterError as e:
        return e.report  # MLflow would reject it: show why instead of counting


# ---- completion ---------------------------------------------------------------------------------

# `schema.metrics["val/lo` or `keys['val`
_ITEM = re.compile(r"""([A-Za-z_][\w.]*)\s*\[\s*(?:(")([^"\\\n]*)|(')([^'\\\n]*))\Z""")
# `schema.metrics.acc`
_ATTRIBUTE = re.compile(r"([A-Za-z_][\w.]*)\.([A-Za-z_]\w*|)\Z")


def _resolve(expr: str, namespace: dict):
    """The object a dotted name stands for, following attributes only through modules, the
    builder's F, Schemas (metrics/params/tags) and nothing else: completion runs no user code."""
    import types

    from mlfilter.schema.model import Schema

    parts = expr.split(".")
    if parts[0] not in namespace:
        return None
    obj = namespace[parts[0]]
    for part in parts[1:]:
        if isinstance(obj, types.ModuleType):
            obj = getattr(obj, part, None)
        elif isinstance(obj, Schema) and part in _TERMS:
            obj = getattr(obj, part)
        else:
            return None
    return obj


def key_completions(context, namespace: dict | None = None) -> tuple[list[str], str] | None:
    """(completions, the text they replace) at the cursor, or None when it is not mlfilter's
    business. `context` has `text_until_cursor` and `full_text` (IPython's CompletionContext)."""
    namespace = namespace if namespace is not None else {}
    before = context.text_until_cursor
    m = _TERM_CALL.search(before)
    if m is not None:
        factory = _resolve(m.group(1), namespace)
        from mlfilter.builder.terms import _F

        if not isinstance(factory, _F) and not (factory is None and
                                                m.group(1).split(".")[-1] == "F"):
            return None
        quote, typed = (m.group(3), m.group(4)) if m.group(3) else (m.group(5), m.group(6))
        if _active is None:
            return None
        keys = _keys_of(_active, _ENTITY_OF_TERM[m.group(2)])
        return [k for k in keys if k.startswith(typed) and _fits_quote(k, quote)], typed
    m = _ITEM.search(before)
    if m is not None:
        obj = _resolve(m.group(1), namespace)
        if not isinstance(obj, Keys):
            return None
        quote, typed = (m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5))
        return [k for k in obj if k.startswith(typed) and _fits_quote(k, quote)], typed
    m = _ATTRIBUTE.search(before)
    if m is not None:
        obj = _resolve(m.group(1), namespace)
        if isinstance(obj, Keys):
            typed = m.group(2)
            return [k for k in dir(obj) if k.startswith(typed)], typed
    return _magic_key_completions(context)


def _magic_key_completions(context):
    """Keys inside `%mlfilter ...` and `%%mlfilter` cells, written as a filter writes them."""
    full = context.full_text
    line = context.line_with_cursor.lstrip()
    in_cell = full.lstrip().startswith("%%mlfilter") and context.cursor_line > 0
    if not (in_cell or line.startswith("%mlfilter ")):
        return None
    m = _FILTER_KEY.search(context.text_until_cursor)
    if m is None:
        return None
    first_line = full.lstrip().split("\n", 1)[0]
    schema = _schema_for_line(first_line if in_cell else line)
    if schema is None:
        return None
    prefix, typed = m.group(1), m.group(2)
    out = []
    for key in _keys_of(schema, _PREFIX_ENTITY[prefix]):
        written = _filter_key(prefix, key)
        if written is not None and key.startswith(typed.removeprefix("`")):
            out.append(written)
    return out, f"{prefix}.{typed}"


_snapshots: dict = {}


def _schema_for_line(line: str):
    """A `--schema FILE` on the magic's line (a snapshot is cheap to read), else the active
    schema. `--store` is not read on TAB: a store can be slow; use mlfilter.use_schema."""
    import os

    m = re.search(r"--schema(?:=|\s+)(\"[^\"]*\"|'[^']*'|\S+)", line)
    if m is None:
        return _active
    path = m.group(1).strip("'\"")
    try:
        stamp = os.stat(path).st_mtime_ns
        if _snapshots.get(path, (None,))[0] != stamp:
            from mlfilter.schema.model import Schema

            _snapshots[path] = (stamp, Schema.load(path))
        return _snapshots[path][1]
    except Exception:  # a TAB must never raise: no completions then
        return _active


def _make_matcher(ip):
    def mlfilter_keys(context):
        found = key_completions(context, ip.user_ns)
        if not found:
            return {"completions": [], "suppress": False}
        from IPython.core.completer import SimpleCompletion

        completions, fragment = found
        return {"completions": [SimpleCompletion(k, type="mlfilter key") for k in completions],
                "matched_fragment": fragment, "suppress": bool(completions)}

    mlfilter_keys.matcher_api_version = 2
    mlfilter_keys.matcher_priority = 100  # before the file and dict-key matchers, which also
    mlfilter_keys.matcher_identifier = _MATCHER_ID  # complete inside quotes
    return mlfilter_keys


# ---- the extension ------------------------------------------------------------------------------

def _guard(on: bool) -> None:
    from mlfilter.search_guard import guard

    guard(on)
    print("mlfilter: MLflow searches in this kernel are " + (
        "checked before they are sent" if on else "no longer checked"))


def load_ipython_extension(ip) -> None:
    """`%load_ext mlfilter`: the %mlfilter magics and key completion (and the guard, with
    MLFILTER_GUARD=1)."""
    import os

    if os.environ.get("MLFILTER_GUARD", "").strip().lower() in ("1", "on", "true", "yes"):
        _guard(True)
    ip.register_magic_function(mlfilter_magic, magic_kind="line_cell", magic_name="mlfilter")
    matchers = ip.Completer.custom_matchers
    matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", None) != _MATCHER_ID]
    matchers.append(_make_matcher(ip))


def unload_ipython_extension(ip) -> None:
    matchers = ip.Completer.custom_matchers
    matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", None) != _MATCHER_ID]
    for kind in ("line", "cell"):
        ip.magics_manager.magics[kind].pop("mlfilter", None)
