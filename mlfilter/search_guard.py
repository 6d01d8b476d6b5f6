"""`mlfilter.guard()`: MLflow's search functions, in this process, check their filter and
order_by first, and raise mlfilter.FilterError before any request is sent.

It wraps the six `MlflowClient.search_*` methods and the fluent `mlflow.search_*` functions
(in the modules that define them and in `mlflow`'s namespace); `guard(False)` puts the originals
back. The verdict is for the store each call goes to: a tracking server's own MLflow release (its
GET /version, asked once per server), or, for a database the process searches itself, the MLflow
installed here and the database of the URI. Stores mlfilter does not model (a file store,
Databricks) are searched unchecked. Built on mlfilter's public API (check, check_order_by).
"""

from __future__ import annotations

import functools
import inspect

from mlfilter.checker import FilterError, check, check_order_by
from mlfilter.render import render_summary, render_text

# mlfilter API -> the module defining the fluent function (MLflow 3.17.2)
FLUENT = {
    "runs": "mlflow.tracking.fluent",
    "experiments": "mlflow.tracking.fluent",
    "logged_models": "mlflow.tracking.fluent",
    "registered_models": "mlflow.tracking._model_registry.fluent",
    "model_versions": "mlflow.tracking._model_registry.fluent",
    "traces": "mlflow.tracing.fluent",
}
REGISTRY_APIS = ("registered_models", "model_versions")

_originals: dict[tuple[object, str], object] = {}  # (owner, attribute) -> what was there
_targets: dict[str, tuple[str | None, str | None]] = {}  # store URI -> (release line, backend)
_chosen: dict[str, str | None] = {"mlflow_version": None, "backend": None}


def guard(on: bool = True, *, mlflow_version: str | None = None,
          backend: str | None = None) -> bool:
    """Turn the guard on (or off with `guard(False)`); returns whether it was on before.
    `mlflow_version` and `backend` override what the tracking URI tells."""
    import importlib

    import mlflow
    from mlflow import MlflowClient

    was_on = bool(_originals)
    if not on:
        for (owner, name), original in _originals.items():
            setattr(owner, name, original)
        _originals.clear()
        return was_on
    _chosen.update(mlflow_version=mlflow_version, backend=backend)
    _targets.clear()
    if was_on:
        return True
    for api, module_name in FLUENT.items():
        name = f"search_{api}"
        if hasattr(MlflowClient, name):
            _wrap(MlflowClient, name, api, client=True)
        module = importlib.import_module(module_name)
        original = getattr(module, name, None)
        if original is None:
            continue
        guarded = _wrap(module, name, api, client=False)
        if getattr(mlflow, name, None) is original:  # `mlflow.search_runs`: the same function
            _originals[mlflow, name] = original
            setattr(mlflow, name, guarded)
    return False


def is_on() -> bool:
    return bool(_originals)


def _wrap(owner, name: str, api: str, client: bool):
    original = getattr(owner, name)
    if getattr(original, "__mlfilter_guarded__", False):
        return original
    signature = inspect.signature(original)
    call_name = f"MlflowClient.{name}" if client else f"mlflow.{name}"

    @functools.wraps(original)
    def guarded(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError:
            return original(*args, **kwargs)  # MLflow says what is wrong with the call
        values = bound.arguments
        uri = _uri_of(values.get("self"), api)
        target = _target(uri)
        if target is not None:
            _check(call_name, api, values.get("filter_string"), values.get("order_by"), target)
        return original(*args, **kwargs)

    guarded.__mlfilter_guarded__ = True
    _originals[owner, name] = original
    setattr(owner, name, guarded)
    return guarded


def _check(call: str, api: str, filter_string, order_by, target) -> None:
    version, backend = target
    reports = []
    if filter_string:
        reports.append(check(filter_string, api, mlflow_version=version, backend=backend))
    if order_by and not isinstance(order_by, str):
        reports.append(check_order_by(list(order_by), api, mlflow_version=version,
                                      backend=backend))
    for report in reports:
        if not report.ok:
            error = FilterError(report)
            errors_only = type(report)(report.source, report.api, tuple(report.errors),
                                       kind=report.kind, target=report.target)
            error.args = (f"{call}: MLflow would not run this search\n"
                          f"{render_text(errors_only)}\n{render_summary(report, True)}",)
            raise error


def _uri_of(client, api: str) -> str:
    """The URI a call searches: the client's own, else the process's tracking/registry URI."""
    import mlflow

    if client is not None:
        if api in REGISTRY_APIS:
            uri = getattr(client, "_registry_uri", None)
        else:
            uri = getattr(getattr(client, "_tracking_client", None), "tracking_uri", None)
        if uri:
            return uri
    return mlflow.get_registry_uri() if api in REGISTRY_APIS else mlflow.get_tracking_uri()


def _target(uri: str):
    """(release line, backend) whose verdict a search at `uri` gets; None: not checked."""
    chosen = _chosen["mlflow_version"], _chosen["backend"]
    if all(chosen):
        return chosen
    if uri not in _targets:
        _targets[uri] = _discover(uri)
    found = _targets[uri]
    if found is None:
        return None
    return chosen[0] or found[0], chosen[1] or found[1]


def _discover(uri: str):
    from mlflow.version import VERSION

    from mlfilter.versions import backend_from_uri, nearest_line

    scheme = uri.split(":", 1)[0].lower()
    if scheme in ("http", "https"):
        from mlfilter.schema.server import server_version

        release = server_version(uri)  # the server decides; None: it does not say
        return (nearest_line(release) if release else None), None
    backend = backend_from_uri(uri)
    if backend is None:
        return None  # a file store, Databricks...: not a store mlfilter models
    return nearest_line(VERSION), backend  # this process runs the search itself
