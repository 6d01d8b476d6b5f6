"""docs/api.md, from the code: every name `mlfilter` exports (its `__all__`), grouped, each with
its signature and the first paragraph of its docstring, then the stability promise.
tools/gen_docs.py writes it; `--check` fails when it is stale, and a test fails when a public
name is in no group."""

from __future__ import annotations

import dataclasses
import enum
import inspect

import mlfilter
from mlfilter.records import fields as record_fields, is_record

# The groups are editorial; the names in them must be exactly mlfilter.__all__.
GROUPS = (
    ("Checking", "The verdict of MLflow on a filter or an order_by list, as a Report.",
     ("check", "check_order_by", "parse", "MLFLOW_TARGET")),
    ("Fixing", "Safe fixes keep the meaning the user wrote; unsafe ones are guesses.",
     ("fix_filter", "apply_fixes")),
    ("Reports and diagnostics", "Plain data: what every check returns and every renderer reads.",
     ("Report", "Diagnostic", "Severity", "Span", "Fix", "Edit", "Applicability", "Filter")),
    ("Errors", "The only exceptions mlfilter raises on bad input; all derive from MlfilterError.",
     ("MlfilterError", "FilterError", "TargetError", "ConfigError", "BuildError",
      "SchemaError")),
    ("Building searches", "Searches with OR and NOT, run as several MLflow searches "
     "(docs/builder.md).",
     ("F", "Term", "Predicate", "OrderTerm", "Query", "from_string", "search_runs",
      "search_experiments", "search_registered_models", "search_model_versions",
      "search_logged_models", "search_traces")),
    ("Tracking stores", "Need the `store` extra (SQLAlchemy, MLflow's client); imported when "
     "used (docs/store.md).",
     ("Schema", "explain", "Explanation")),
    ("In a running process", "The client-side guard (docs/guard.md).", ("guard",)),
)

STABILITY = """\
## Stability

mlfilter follows [semantic versioning](https://semver.org). While its version is 0.x, a minor
release (0.2, 0.3) may change the public API, and says so in its release notes; a patch release
never does. From 1.0, what is listed on this page changes only in a major release. It covers:

- the names above, their parameters (names, order and defaults) and what they return;
- the fields of `Report`, `Diagnostic`, `Fix`, `Edit` and `Span`, and the JSON of
  `Report.to_dict()` and `--format json`: keys are only ever added;
- the diagnostic codes and their severities: a code is never reused for another mistake, and a
  retired code keeps its entry in `mlfilter rules`;
- the command line's subcommands, flags and exit statuses (0, 1, 2), and `[tool.mlfilter]`.

Not covered: the wording of messages and hints, the rendered text (columns, windows), which
release or database is the default when none is named, and every module not named here
(`mlfilter.checker`, `mlfilter.lint`, `mlfilter.rules`, ...), which may change in any release.
Verdicts follow MLflow: when mlfilter learns that MLflow behaves otherwise than it said, the
verdict changes in a patch release, since agreeing with MLflow is the promise.
"""


def _summary(obj) -> str:
    """The first paragraph of the object's own docstring (not one inherited from str or Enum,
    nor the one dataclasses write)."""
    if _instance(obj):
        obj = type(obj)
    if inspect.ismodule(obj):  # mlfilter.explain: the module that is also its function
        obj = type(obj).__call__
    doc = vars(obj).get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    if not callable(obj) and not isinstance(obj, type):
        return ""
    doc = inspect.cleandoc(doc or "")
    if isinstance(obj, type) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def _instance(obj) -> bool:
    """An object of one of mlfilter's classes (the builder's `F`), not a plain constant."""
    return type(obj).__module__.startswith("mlfilter") and not isinstance(obj, type) \
        and not callable(obj)


def _annotation(text) -> str:
    return text if isinstance(text, str) else inspect.formatannotation(text)


def _format(name: str, sig: inspect.Signature) -> str:
    parts, star = [], False
    for p in sig.parameters.values():
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = ("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD
                else "") + p.name
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            text += (f" = {_default(p.default)}" if p.annotation is not p.empty
                     else f"={_default(p.default)}")
        parts.append(text)
    out = f"{name}({', '.join(parts)})"
    if sig.return_annotation is not sig.empty:
        out += f" -> {_annotation(sig.return_annotation)}"
    return out


def _default(value) -> str:
    return f"{type(value).__name__}.{value.name}" if isinstance(value, enum.Enum) else repr(value)


def _signature(name: str, obj) -> str:
    if _instance(obj):
        return f"{name}: {type(obj).__name__}  # an object"
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return f"class {name}({', '.join(b.__name__ for b in obj.__bases__)})"
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return f"{name}: " + ", ".join(f"{m.name} = {m.value!r}" for m in obj)
    if isinstance(obj, type) and is_record(obj):  # mlfilter.records: the same shape
        shown = [f"{n}: {_annotation(obj.__annotations__[n])}" + (
            f" = {_default(obj.__record_defaults__[n])}" if n in obj.__record_defaults__ else "")
            for n in record_fields(obj) if not n.startswith("_")]
        return f"{name}({', '.join(shown)})"
    if dataclasses.is_dataclass(obj):
        fields = [f for f in dataclasses.fields(obj) if not f.name.startswith("_")]
        shown = [f"{f.name}: {_annotation(f.type)}" + (
            f" = {_default(f.default)}" if f.default is not dataclasses.MISSING else "") for f in fields]
        return f"{name}({', '.join(shown)})"
    if callable(obj):
        try:
            return _format(name, inspect.signature(obj))
        except (TypeError, ValueError):
            return name
    return f"{name} = {obj!r}"


def _members(obj) -> list[str]:
    """Public properties and methods a class defines itself (what users call on a Report)."""
    if _instance(obj):
        obj = type(obj)
    if not isinstance(obj, type) or issubclass(obj, (enum.Enum, BaseException)):
        return []
    out = []
    for attr, value in vars(obj).items():
        if attr.startswith("_") or attr in getattr(obj, "__dataclass_fields__", {}) or \
                attr in getattr(obj, "__record_fields__", ()):
            continue
        if isinstance(value, property):
            out.append(f"`.{attr}`")
        elif isinstance(value, (classmethod, staticmethod)) or inspect.isfunction(value):
            out.append(f"`.{attr}()`")
    return out


def api_markdown() -> str:
    grouped = [n for _, _, names in GROUPS for n in names]
    missing = sorted(set(mlfilter.__all__) - set(grouped))
    extra = sorted(set(grouped) - set(mlfilter.__all__))
    if missing or extra:
        raise SystemExit(f"tools/api_reference.py: not grouped {missing}, not exported {extra}")
    lines = ["# Public API", "",
             "Generated from the code by `python tools/gen_docs.py`: every name `import mlfilter`",
             "exports. Each is reached as `mlfilter.NAME`; the builder, the store helpers and",
             "the guard load on first use, so `import mlfilter` imports only the standard",
             "library and mlfilter's checker.", ""]
    for title, about, names in GROUPS:
        lines += [f"## {title}", "", about, ""]
        for name in names:
            obj = getattr(mlfilter, name)
            kind = ("exception" if isinstance(obj, type) and issubclass(obj, BaseException)
                    else "class" if isinstance(obj, type)
                    else "function" if callable(obj)
                    else "object" if _instance(obj) else "constant")
            lines.append(f"### `{name}` ({kind})")
            lines.append("")
            lines.append("```text")  # a signature: ```python blocks are examples, and run
            lines.append(_signature(name, obj))
            lines.append("```")
            lines.append("")
            summary = _summary(obj)
            if summary:
                lines += [summary, ""]
            members = _members(obj)
            if members:
                lines += ["Members: " + ", ".join(members) + ".", ""]
    lines.append(STABILITY)
    return "\n".join(lines)
