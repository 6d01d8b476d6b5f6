"""The fluent builder: `F` terms -> predicates (the core's AST) -> search requests."""

from mlfilter.builder.query import (
    Query,
    from_string,
    search_experiments,
    search_logged_models,
    search_model_versions,
    search_registered_models,
    search_runs,
    search_traces,
)
from mlfilter.builder.render import BuildError
from mlfilter.builder.terms import F, OrderTerm, Predicate, Term

__all__ = [
    "BuildError", "F", "OrderTerm", "Predicate", "Query", "Term", "from_string",
    "search_experiments", "search_logged_models", "search_model_versions",
    "search_registered_models", "search_runs", "search_traces",
]
