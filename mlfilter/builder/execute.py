"""Run a query through the MLflow client (imported here only): each search of the union, paged
to the end, merged without duplicates, then ordered and limited with MLflow's own sort."""

from __future__ import annotations

from mlfilter.builder.render import BuildError

# The ordering MLflow applies in memory (its file store uses them): same rules as the searches.
_SORTERS = {
    "runs": ("mlflow.utils.search_utils", "SearchUtils"),
    "experiments": ("mlflow.utils.search_utils", "SearchExperimentsUtils"),
    "registered_models": ("mlflow.utils.search_utils", "SearchModelUtils"),
    "model_versions": ("mlflow.utils.search_utils", "SearchModelVersionUtils"),
    "traces": ("mlflow.utils.search_utils", "SearchTraceUtils"),
    "logged_models": ("mlflow.utils.search_utils", "SearchLoggedModelsUtils"),
}
# What the fluent mlflow.search_* returns for an id list, to build its DataFrame for a union.
_FLUENT_ID_FILTER = {"runs": "attributes.run_id", "logged_models": "model_id"}


def run_query(query, client, path: str):
    from mlflow import MlflowClient

    client = client or MlflowClient()
    spec = query.spec
    query = _with_ids(query, client)
    searches = query.searches("client")
    if path == "fluent" and spec.fluent is not None and len(searches) == 1:
        import mlflow

        return getattr(mlflow, spec.fluent)(**query.to_kwargs("fluent"))
    limit = query.max_results
    merged: dict = {}
    for kw in searches:
        for entity in _pages(client, spec, kw, limit if query.orders or len(searches) == 1
                             else None):
            merged.setdefault(_identity(entity, spec.id_of), entity)
    entities = list(merged.values())
    if len(searches) > 1:
        entities = _sort(spec.api, entities, list(query.orders))
    if limit is not None:
        entities = entities[:limit]
    if path == "fluent" and spec.api in _FLUENT_ID_FILTER:
        return _fluent_frame(query, entities)
    return entities


def _with_ids(query, client):
    """Experiment names -> ids (the client path takes ids)."""
    if not query.scope_names or query.scope:
        return query
    from dataclasses import replace

    ids = []
    for name in query.scope_names:
        exp = client.get_experiment_by_name(name)
        if exp is None:
            raise BuildError(f"no experiment named {name!r}")
        ids.append(exp.experiment_id)
    return replace(query, scope=tuple(ids), scope_names=())


def _pages(client, spec, kw: dict, limit: int | None):
    """Every result of one search, page after page (stopping at `limit` when given)."""
    method = getattr(client, spec.client_method)
    kw = dict(kw)
    page = spec.python_max or 1000
    if spec.api == "traces":
        kw["locations"] = kw.pop("locations", kw.pop("experiment_ids", None))
        kw["include_spans"] = False
        page = 500
    kw["max_results"] = min(page, limit) if limit is not None else page
    got = 0
    token = None
    while True:
        if token is not None:
            kw["page_token"] = token
        result = method(**kw)
        for entity in result:
            yield entity
            got += 1
            if limit is not None and got >= limit:
                return
        token = getattr(result, "token", None)
        if not token:
            return


def _identity(entity, id_of: str):
    parts = []
    for path in id_of.split(","):
        value = entity
        for attr in path.split("."):
            value = getattr(value, attr)
        parts.append(value)
    return tuple(parts)


# The SQL stores' orders when none is given, where MLflow's in-memory sorters differ from them.
_DEFAULT_ORDER = {
    "experiments": ["creation_time DESC", "experiment_id ASC"],
    "model_versions": ["last_updated_timestamp DESC", "name ASC", "version_number DESC"],
}


def _sort(api: str, entities: list, order_by: list):
    import importlib

    module, name = _SORTERS[api]
    sorter = getattr(importlib.import_module(module), name)
    order_by = order_by or _DEFAULT_ORDER.get(api)
    if api == "traces":
        infos = {id(t.info): t for t in entities}
        ordered = sorter.sort([t.info for t in entities], order_by or None)
        return [infos[id(i)] for i in ordered]
    return sorter.sort(entities, order_by or None)


def _fluent_frame(query, entities):
    """The DataFrame mlflow.search_* would give for these entities, in this order."""
    import mlflow
    import pandas as pd

    spec = query.spec
    ids = [_identity(e, spec.id_of)[0] for e in entities]
    if not ids:
        kw = query.to_kwargs("fluent") if len(query.union) == 1 else query.searches("fluent")[0]
        kw.update(filter_string=f"{_FLUENT_ID_FILTER[spec.api]} IN ('-')")
        return getattr(mlflow, spec.fluent)(**kw)
    frames = []
    for start in range(0, len(ids), 1000):  # IN lists stay well under sqlparse's token limit
        chunk = ids[start : start + 1000]
        quoted = ", ".join(f"'{i}'" for i in chunk)
        kw = {"filter_string": f"{_FLUENT_ID_FILTER[spec.api]} IN ({quoted})",
              "experiment_ids": list(query.scope)}
        if spec.view_kw:
            kw[spec.view_kw] = 3  # the ids were chosen under the query's view already
        frames.append(getattr(mlflow, spec.fluent)(**kw))
    frame = pd.concat(frames, ignore_index=True)
    column = "run_id" if spec.api == "runs" else "model_id"
    position = {i: n for n, i in enumerate(ids)}
    frame = frame.assign(_order=frame[column].map(position)).sort_values("_order")
    return frame.drop(columns="_order").reset_index(drop=True)
