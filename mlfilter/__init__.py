"""mlfilter: knows, before the request is sent, whether MLflow will reject a search filter.

    >>> import mlfilter
    >>> mlfilter.check("params.batch_size = 32").ok
    False

The lint path (this module, `check`, `parse`) imports only the standard library; mlflow,
sqlalchemy and pandas are never imported here.
"""

from mlfilter._target import MLFLOW_TARGET
from mlfilter.checker import check, check_order_by, parse
from mlfilter.errors import ConfigError, FilterError, MlfilterError, TargetError
from mlfilter.diagnostics import Applicability, Diagnostic, Edit, Fix, Report, Severity, Span
from mlfilter.ast import Filter
from mlfilter.fixes import apply_fixes, fix_filter

__version__ = "0.1.0"

_BUILDER = ("F", "BuildError", "OrderTerm", "Predicate", "Query", "Term", "from_string",
            "search_experiments", "search_logged_models", "search_model_versions",
            "search_registered_models", "search_runs", "search_traces")


_JUPYTER = ("load_ipython_extension", "unload_ipython_extension", "use_schema")
_STORE = {"Schema": ("mlfilter.schema.model", "Schema"),
          "SchemaError": ("mlfilter.schema.errors", "SchemaError"),
          "Explanation": ("mlfilter.explain", "Explanation")}


def __getattr__(name):
    # The builder loads on first use, so `import mlfilter` stays as light as the lint path.
    if name in _BUILDER:
        from mlfilter import builder

        return getattr(builder, name)
    if name in ("guard", "guard_is_on"):  # mlfilter/search_guard.py imports mlflow when called
        from mlfilter import search_guard

        return search_guard.guard if name == "guard" else search_guard.is_on
    if name in _STORE:  # the store extra: SQLAlchemy or MLflow's client, imported when used
        from importlib import import_module

        module, attribute = _STORE[name]
        return getattr(import_module(module), attribute)
    if name == "explain":  # the module mlfilter/explain.py, callable as its function
        import mlfilter.explain as explain_module

        return explain_module
    if name in _JUPYTER:  # `%load_ext mlfilter` (mlfilter/jupyter.py imports IPython lazily)
        from mlfilter import jupyter

        return getattr(jupyter, name)
    raise AttributeError(f"module 'mlfilter' has no attribute {name!r}")

__all__ = [*_BUILDER, *_STORE,
    "MLFLOW_TARGET",
    "Applicability",
    "ConfigError",
    "Diagnostic",
    "Edit",
    "Filter",
    "FilterError",
    "Fix",
    "MlfilterError",
    "Report",
    "Severity",
    "Span",
    "TargetError",
    "apply_fixes",
    "check",
    "check_order_by",
    "explain",
    "fix_filter",
    "guard",
    "parse",
]
