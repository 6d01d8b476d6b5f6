"""Read a schema from a tracking server through the MLflow client (mlflow-skinny is enough).

A server offers no aggregate queries, so runs are paged (newest first, at most MAX_RUNS per
experiment) and folded into counts and bounded samples as they arrive: memory stays bounded.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from mlfilter.schema.errors import SchemaError
from mlfilter.schema.model import (
    SAMPLE_SIZE,
    ExperimentInfo,
    KeyInfo,
    Schema,
    mask,
    value_kind,
)

MAX_RUNS = 5000  # per experiment
TIMEOUT = 10  # seconds per request


@contextmanager
def _fail_fast():
    """MLflow's client retries for minutes on a server that is down: ask it not to."""
    saved = {k: os.environ.get(k) for k in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES",
                                            "MLFLOW_HTTP_REQUEST_TIMEOUT")}
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] = str(TIMEOUT)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def client_for(uri: str):
    try:
        from mlflow import MlflowClient
    except ImportError:
        raise SchemaError("reading a tracking server needs the MLflow client: install "
                          "mlfilter[store]") from None
    return _Guarded(MlflowClient(tracking_uri=uri), uri)


class _Guarded:
    """The client, with every call failing fast and turned into one clear SchemaError."""

    def __init__(self, client, uri):
        self._client, self._uri = client, uri

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with _fail_fast():
                try:
                    return method(*args, **kwargs)
                except Exception as e:  # connection refused, 4xx/5xx, timeouts...
                    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                    raise SchemaError(f"cannot read {mask(self._uri)}: {mask(first)}") from None
        return call


def experiments_at(client, uri: str, refs=None) -> list:
    """The experiments named by id or name (all of them when `refs` is empty)."""
    if not refs:
        return list(client.search_experiments(max_results=1000, view_type=3))
    out = []
    for ref in refs:
        try:
            exp = client.get_experiment(str(ref))
        except SchemaError:
            exp = client.get_experiment_by_name(str(ref))
        if exp is None:
            raise SchemaError(f"no experiment with id or name {ref!r} at {mask(uri)}")
        out.append(exp)
    return out


def server_version(uri: str) -> str | None:
    """The MLflow release a tracking server runs (its GET /version), or None when it does not
    say. Credentials come from the URI or MLflow's usual environment variables."""
    import re

    import requests  # an mlflow dependency

    headers = {}
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    auth = None
    if os.environ.get("MLFLOW_TRACKING_USERNAME"):
        auth = (os.environ["MLFLOW_TRACKING_USERNAME"],
                os.environ.get("MLFLOW_TRACKING_PASSWORD", ""))
    try:
        response = requests.get(uri.rstrip("/") + "/version", headers=headers, auth=auth,
                                timeout=TIMEOUT)
    except requests.RequestException:
        return None
    text = response.text.strip() if response.ok else ""
    return text if re.fullmatch(r"\d+\.\d+(\.\d+)?([a-z.]+\d*)?", text) else None


def read_server(uri: str, experiments=None, progress=None) -> Schema:
    say = progress or (lambda message: None)
    client = client_for(uri)
    say("experiments")
    exps = experiments_at(client, uri, experiments)
    schema = Schema(source=mask(uri), mlflow_version=server_version(uri) or "")
    for exp in exps:
        info = ExperimentInfo(exp.experiment_id, exp.name, exp.lifecycle_stage)
        schema.experiments[exp.experiment_id] = info
        say(f"runs of {exp.name}")
        _fold_runs(client, exp.experiment_id, info)
    return schema


def _fold_runs(client, experiment_id: str, info: ExperimentInfo) -> None:
    values: dict = {"params": {}, "tags": {}}
    token, seen = None, 0
    while seen < MAX_RUNS:
        page = client.search_runs([experiment_id], "", run_view_type=3,
                                  max_results=min(1000, MAX_RUNS - seen), page_token=token)
        for run in page:
            seen += 1
            active = run.info.lifecycle_stage == "active"
            slot = f"{run.info.lifecycle_stage}/{run.info.status}"
            info.runs[slot] = info.runs.get(slot, 0) + 1
            for part, data in (("params", run.data.params), ("tags", run.data.tags)):
                for key, value in data.items():
                    k = getattr(info, part).setdefault(key, KeyInfo())
                    k.entities += 1
                    k.active += active
                    distinct = values[part].setdefault(key, set())
                    if value not in distinct and len(distinct) <= SAMPLE_SIZE:
                        distinct.add(value)
                        k.distinct += 1
                    elif value not in distinct:
                        k.distinct += 1  # an upper bound once past the sample
            for key, value in run.data.metrics.items():
                k = info.metrics.setdefault(key, KeyInfo(kind="float"))
                k.entities += 1
                k.active += active
                if value != value:  # NaN
                    k.nan += 1
                else:
                    k.minimum = value if k.minimum is None else min(k.minimum, value)
                    k.maximum = value if k.maximum is None else max(k.maximum, value)
        token = page.token
        if not token:
            break
    if token:  # stopped at MAX_RUNS: older runs may hold other keys and values
        info.complete = False
    for part in ("params", "tags"):
        for key, distinct in values[part].items():
            k = getattr(info, part)[key]
            k.sample = sorted(distinct)[:SAMPLE_SIZE]
            k.kind = value_kind(k.sample)
