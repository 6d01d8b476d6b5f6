"""Probe how two MLflow releases treat the same search requests, on real SQLite stores.

Two modes:

* Probe mode -- run with the python of a venv that has ONE MLflow installed::

      /tmp/cat-venvs/m222/bin/python tests/compat/probe_versions.py --json /tmp/r222.json

  It builds a fresh SQLite tracking + registry store with that MLflow's own ``SqlAlchemyStore``
  (experiments, runs with metrics incl. NaN/inf, params, tags, dataset inputs, registered models
  and versions, traces; logged models where the release has them), calls the store methods the
  way the tracking server's handlers do, and prints (or writes) one JSON verdict per probe:
  ok (+ result count), rejected (4xx + message), crash (5xx + exception type/message) or
  unsupported (the release has no such API). A few probes go through the REST app
  (``mlflow.server.app.test_client()``), and parse probes call MLflow's parser functions.

* Compare mode -- run with any python 3 that has PyYAML (or none: a small YAML writer is
  built in)::

      python3 tests/compat/probe_versions.py \\
          --python /tmp/cat-venvs/m222/bin/python --python /tmp/cat-venvs/m317/bin/python \\
          --yaml tests/compat/cases_2_22.yaml

  It runs probe mode once per interpreter (each with PYTHONHASHSEED=0, so messages that print
  Python sets are stable) and writes the YAML list of cases. Each case gets the topic declared
  for its probe when the two versions differ (status, result count, or message), else "same".
  A declared "same" probe that does differ is written with topic "UNEXPECTED" (none should).

Filters may contain placeholders ``{run:NAME}``, replaced by the id of the run NAME in the
store being probed (run ids differ between stores); the YAML shows the placeholder form.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import warnings

# ------------------------------------------------------------------------------------------
# The probes. Each: (api, kind, input, topic). kind: "filter" (a filter string), "order_by" (a
# list), "max_results" (a store call with this max_results), "rest" (a REST request: (method,
# path, body)), "parse" (the API's parser on a filter string), "view_type".
# topic: the id of the difference this probe is meant to show ("same" when none is expected).
# ------------------------------------------------------------------------------------------

F, O, M, R, P = "filter", "order_by", "max_results", "rest", "parse"

PROBES: list[tuple[str, str, object, str]] = [
    # ================================ runs: filters ======================================
    ("runs", F, "metrics.acc > 0.5", "same"),
    ("runs", F, "metric.acc <= 0.9", "same"),
    ("runs", F, "metrics.big > 1e300", "same"),
    ("runs", F, "params.lr = '0.01'", "same"),
    ("runs", F, "param.lr != '0.01'", "same"),
    ("runs", F, "parameters.lr LIKE '0.0%'", "same"),
    ("runs", F, "params.lr ILIKE '0.0%'", "same"),
    ("runs", F, "params.lr like '0.0%'", "same"),
    ("runs", F, "tags.team = 'ml'", "same"),
    ("runs", F, "tag.team ILIKE 'ML'", "same"),
    ("runs", F, "tags.`my key` = 'spaced'", "same"),
    ("runs", F, "attributes.status = 'FINISHED'", "same"),
    ("runs", F, "status != 'RUNNING'", "same"),
    ("runs", F, "attr.user_id = 'user1'", "same"),
    ("runs", F, "run.run_name = 'alpha-run'", "same"),
    ("runs", F, "attributes.`run name` = 'alpha-run'", "same"),
    ("runs", F, "run_name LIKE 'a%'", "same"),
    ("runs", F, "artifact_uri LIKE '%'", "same"),
    ("runs", F, "start_time > 0", "same"),
    ("runs", F, "end_time > 0", "same"),
    ("runs", F, "created > 0", "same"),
    ("runs", F, "Created >= 0", "same"),
    ("runs", F, "start_time > 0.5", "same"),
    ("runs", F, "run_id = 'abc'", "same"),
    ("runs", F, "run_id IN ('abc', 'def')", "same"),
    ("runs", F, "run_id NOT IN ('abc')", "same"),
    ("runs", F, "run_id IN ('{run:alpha-run}')", "same"),
    ("runs", F, "run_id IN ('abc')", "same"),
    ("runs", F, "dataset.name = 'ds1'", "same"),
    ("runs", F, "dataset.digest = 'd1'", "same"),
    ("runs", F, "dataset.context = 'training'", "same"),
    ("runs", F, "datasets.name LIKE 'ds%'", "same"),
    ("runs", F, "dataset.name IN ('ds1')", "same"),
    ("runs", F, "dataset.name = 'Ds2'", "same"),
    ("runs", F, "metrics.loss = '1'", "same"),
    ("runs", F, "params.lr = 0.01", "same"),
    ("runs", F, "status > 'A'", "same"),
    ("runs", F, "params.lr = '0.01' OR params.lr = '0.1'", "same"),
    ("runs", F, "(params.lr = '0.01')", "same"),
    ("runs", F, "Metrics.loss < 1", "same"),
    ("runs", F, "foo = 'x'", "same"),
    ("runs", F, "dataset.foo = 'x'", "same"),
    ("runs", F, "status = FINISHED", "same"),
    ("runs", F, "start_time = '5'", "same"),
    ("runs", F, "run_id IN ()", "same"),
    ("runs", F, "run_id IN (1, 2)", "same"),
    ("runs", F, "params.lr == '0.01'", "msg-comparator-set"),
    ("runs", F, "params.lr NOT LIKE 'x'", "msg-comparator-set"),
    ("runs", F, "attributes.artifact_uri = 'x'", "same"),
    ("runs", F, "user_id != 'x'", "same"),
    ("runs", F, "run_id LIKE '%'", "same"),
    ("runs", F, "end_time < 1e400", "same"),
    ("runs", F, "params.lr = \"0.01\"", "same"),
    ("runs", F, "tags.team != 'ml' AND params.lr = '0.1'", "same"),
    ("runs", F, "dataset.context IN ('training', 'eval')", "same"),
    ("runs", F, "dataset.name NOT IN ('ds1')", "same"),
    ("runs", F, "metrics.loss IN ('a')", "same"),
    # IS [NOT] NULL: 3.x joins `IS NULL` / `IS NOT NULL` into a clause; 2.22 never does
    ("runs", F, "params.lr IS NULL", "is-null"),
    ("runs", F, "params.lr IS NOT NULL", "is-null"),
    ("runs", F, "tags.team IS NULL", "is-null"),
    ("runs", F, "tags.team is not null", "is-null"),
    ("runs", F, "params.lr IS NULL AND tags.team = 'ml'", "is-null"),
    ("runs", F, "metrics.loss IS NULL", "is-null-other-keys"),
    ("runs", F, "status IS NULL", "is-null-other-keys"),
    ("runs", F, "dataset.name IS NOT NULL", "is-null-other-keys"),
    # numeric attribute values: 2.22 keeps the literal's text, 3.x converts to int/float
    ("runs", F, "start_time < 99999999999999999999999", "runs-time-int64"),
    ("runs", F, "end_time > -99999999999999999999999", "runs-time-int64"),
    ("runs", F, "created < 99999999999999999999999", "runs-time-int64"),
    # NaN metrics: stored as value 0 with is_nan; 3.17 excludes them from numeric filters
    ("runs", F, "metrics.loss = 0", "nan-metric"),
    ("runs", F, "metrics.loss < 1", "nan-metric"),
    ("runs", F, "metrics.loss != 0", "nan-metric"),
    ("runs", F, "metrics.loss >= 0", "nan-metric"),
    ("runs", F, "metrics.loss <= 0.5", "nan-metric"),
    ("runs", F, "metrics.loss < 1e400", "nan-metric"),
    # lists: 2.22 checks sqlparse tokens (single-quoted strings only) and drops every item
    # that is not all-lower-case (str.islower); 3.x uses ast.literal_eval and keeps all items
    ("runs", F, "dataset.name IN ('Ds2')", "list-islower"),
    ("runs", F, "dataset.digest IN ('12345')", "list-islower"),
    ("runs", F, "dataset.name NOT IN ('Ds2')", "list-islower"),
    ("runs", F, "run_id IN ('{run:alpha-run}', 'ABC')", "same"),
    ("runs", F, "run_id IN (\"abc\", \"def\")", "list-double-quotes"),
    ("runs", F, "dataset.name IN (\"ds1\")", "list-double-quotes"),
    ("runs", F, "run_id IN ('abc', \"def\")", "list-double-quotes"),
    ("runs", F, "run_id IN ('abc',)", "list-trailing-comma"),
    ("runs", F, "run_id IN ('abc' 'def')", "list-adjacent-strings"),
    ("runs", F, "run_id IN ('abc', 2)", "same"),
    ("runs", F, "run_id IN (1)", "list-single-number"),
    ("runs", F, "status IN ('FINISHED')", "msg-list-keys"),
    ("runs", F, "run_name NOT IN ('alpha-run')", "msg-list-keys"),
    # comparators refused by the store: the message lists the comparator set, which grew
    ("runs", F, "params.lr > '0'", "msg-comparator-set"),
    ("runs", F, "tags.team RLIKE 'm.*'", "msg-comparator-set"),
    ("runs", F, "params.lr RLIKE '0.*'", "msg-comparator-set"),
    # ================================ runs: order_by =====================================
    ("runs", O, ["metrics.loss DESC"], "same"),
    ("runs", O, ["metrics.loss"], "same"),
    ("runs", O, ["params.lr"], "same"),
    ("runs", O, ["tags.team ASC"], "same"),
    ("runs", O, ["start_time"], "same"),
    ("runs", O, ["created DESC"], "same"),
    ("runs", O, ["Created"], "same"),
    ("runs", O, ["run_name"], "same"),
    ("runs", O, ["attributes.run_id"], "same"),
    ("runs", O, ["status"], "same"),
    ("runs", O, ["user_id desc"], "same"),
    ("runs", O, ["end_time"], "same"),
    ("runs", O, ["artifact_uri"], "same"),
    ("runs", O, ["metrics.`my loss`"], "same"),
    ("runs", O, ["metrics.loss", "metrics.loss DESC"], "same"),
    ("runs", O, ["start_time", "created"], "same"),
    ("runs", O, ["dataset.name"], "same"),
    ("runs", O, ["experiment_id"], "same"),
    ("runs", O, ["foo"], "same"),
    ("runs", O, ["metrics.loss DESCENDING"], "same"),
    ("runs", O, ["run name"], "same"),
    ("runs", O, ["tags.`my key` DESC"], "same"),
    ("runs", O, ["param.lr", "metrics.acc DESC", "start_time"], "same"),
    # ================================ runs: max_results / view type ======================
    ("runs", M, None, "runs-max-results-none"),
    ("runs", M, 0, "same"),
    ("runs", M, 50000, "same"),
    ("runs", M, 50001, "same"),
    ("runs", "view_type", "DELETED_ONLY", "same"),
    ("runs", "view_type", "ACTIVE_ONLY", "same"),
    ("runs", R, ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["{exp:exp-A}"],
                                                         "max_results": 50001}), "same"),
    ("runs", R, ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["{exp:exp-A}"],
                                                         "max_results": 50000}), "same"),
    ("runs", R, ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["{exp:exp-A}"],
                                                         "run_view_type": "ALL"}), "same"),
    ("runs", R, ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["{exp:exp-A}"],
                                                         "filter": "params.lr IS NULL"}),
     "is-null"),
    # ================================ runs: parser output ================================
    ("runs", P, "start_time > 5 AND end_time < 2.5 AND created >= 1e3", "parse-numeric-attr"),
    ("runs", P, "run_id IN ('abc', 'DEF')", "parse-list"),
    ("runs", P, "dataset.digest IN ('d1', '12345')", "parse-list"),
    ("runs", P, "metrics.loss < 1e-1 AND params.lr like '0.01'", "same"),
    ("runs", P, "tags.team IS NOT NULL", "is-null"),
    # ================================ experiments: filters ===============================
    ("experiments", F, "name = 'exp-A'", "same"),
    ("experiments", F, "attribute.name = 'exp-A'", "same"),
    ("experiments", F, "name LIKE 'exp-%'", "same"),
    ("experiments", F, "name ILIKE 'EXP-%'", "same"),
    ("experiments", F, "name != 'exp-A'", "same"),
    ("experiments", F, "tags.team = 'ml'", "same"),
    ("experiments", F, "tag.team != 'ml'", "same"),
    ("experiments", F, "tags.team LIKE 'm%'", "same"),
    ("experiments", F, "tags.team ILIKE 'M%'", "same"),
    ("experiments", F, "creation_time > 0", "same"),
    ("experiments", F, "last_update_time >= 0", "same"),
    ("experiments", F, "name like 'exp-%'", "same"),
    ("experiments", F, "tags.team like 'm%'", "same"),
    ("experiments", F, "name > 'a'", "same"),
    ("experiments", F, "tags.team > 'a'", "same"),
    ("experiments", F, "attributes.name = 'exp-A'", "same"),
    ("experiments", F, "metrics.x > 1", "same"),
    ("experiments", F, "creation_time > '0'", "same"),
    ("experiments", F, "lifecycle_stage = 'active'", "exp-experiment-id"),
    ("experiments", F, "name = \"exp-A\"", "same"),
    ("experiments", F, "tags.Env = 'Prod'", "same"),
    ("experiments", F, "tags.`mlflow.note.content` = 'b'", "same"),
    ("experiments", F, "name = 'exp-A' OR name = 'exp-B'", "same"),
    ("experiments", F, "name IN ('exp-A')", "msg-list-keys"),
    # experiment_id is a filter key only in 3.x
    ("experiments", F, "experiment_id = '{exp:exp-A}'", "exp-experiment-id"),
    ("experiments", F, "attribute.experiment_id != '0'", "exp-experiment-id"),
    ("experiments", F, "experiment_id IN ('0', '{exp:exp-A}')", "exp-experiment-id"),
    ("experiments", F, "experiment_id NOT IN ('0')", "exp-experiment-id"),
    ("experiments", F, "experiment_id = 'abc'", "exp-experiment-id"),
    ("experiments", F, "experiment_id > '0'", "exp-experiment-id"),
    ("experiments", F, "experiment_id = 1", "exp-experiment-id"),
    # IS [NOT] NULL on experiment tags
    ("experiments", F, "tags.team IS NULL", "is-null"),
    ("experiments", F, "tags.team IS NOT NULL", "is-null"),
    ("experiments", F, "name IS NULL", "is-null-other-keys"),
    ("experiments", F, "creation_time IS NOT NULL", "is-null-other-keys"),
    # numeric attribute values: 2.22 binds the literal's text, 3.x requires an integer
    ("experiments", F, "creation_time > 0.5", "exp-time-integer-only"),
    ("experiments", F, "creation_time > 1e3", "exp-time-integer-only"),
    ("experiments", F, "last_update_time != 1.0", "exp-time-integer-only"),
    ("experiments", F, "creation_time < 99999999999999999999999", "exp-time-int64"),
    # ================================ experiments: order_by ==============================
    ("experiments", O, ["name"], "same"),
    ("experiments", O, ["experiment_id DESC"], "same"),
    ("experiments", O, ["creation_time"], "same"),
    ("experiments", O, ["last_update_time ASC"], "same"),
    ("experiments", O, ["attribute.name"], "same"),
    ("experiments", O, ["tags.team"], "same"),
    ("experiments", O, ["name", "name DESC"], "same"),
    ("experiments", O, ["lifecycle_stage"], "same"),
    ("experiments", O, ["attributes.name"], "same"),
    # ================================ experiments: max_results / REST ====================
    ("experiments", M, None, "same"),
    ("experiments", M, 0, "same"),
    ("experiments", M, 50000, "same"),
    ("experiments", M, 50001, "same"),
    ("experiments", "view_type", "DELETED_ONLY", "same"),
    ("experiments", R, ("POST", "/api/2.0/mlflow/experiments/search", {}), "same"),
    ("experiments", R, ("POST", "/api/2.0/mlflow/experiments/search",
                        {"max_results": 10, "filter": "experiment_id = '0'"}),
     "exp-experiment-id"),
    ("experiments", P, "creation_time > 5 AND name = 'x'", "parse-numeric-attr"),
    ("experiments", P, "experiment_id IN ('0', '1')", "exp-experiment-id"),
    # ================================ registered models: filters =========================
    ("registered_models", F, "name = 'model-a'", "same"),
    ("registered_models", F, "attribute.name = 'model-a'", "same"),
    ("registered_models", F, "name LIKE 'model%'", "same"),
    ("registered_models", F, "name ILIKE 'MODEL%'", "same"),
    ("registered_models", F, "name != 'model-a'", "same"),
    ("registered_models", F, "name like 'model%'", "same"),
    ("registered_models", F, "tags.k = 'v'", "same"),
    ("registered_models", F, "tag.k LIKE 'v%'", "same"),
    ("registered_models", F, "tags.k ilike 'V'", "same"),
    ("registered_models", F, "tags.`mlflow.prompt.is_prompt` = 'true'", "same"),
    ("registered_models", F, "name > 'a'", "same"),
    ("registered_models", F, "tags.k > 'a'", "same"),
    ("registered_models", F, "name = model-a", "same"),
    ("registered_models", F, "source_path = 'x'", "same"),
    ("registered_models", F, "run_id IN ('abc')", "same"),
    ("registered_models", F, "attributes.name = 'model-a'", "same"),
    ("registered_models", F, "tags.k RLIKE 'v'", "same"),
    ("registered_models", F, "name = 'model-a' OR name = 'Model-B'", "same"),
    ("registered_models", F, "name = \"model-a\"", "same"),
    ("registered_models", F, "tags.team = 'ml'", "same"),
    # name lists: 3.x only
    ("registered_models", F, "name IN ('model-a')", "registry-name-list"),
    ("registered_models", F, "name IN ('model-a', 'Model-B')", "registry-name-list"),
    ("registered_models", F, "name NOT IN ('model-a')", "registry-name-list"),
    # IS [NOT] NULL: 2.22 400 (invalid clause), 3.17 500 (raw ValueError from unpacking)
    ("registered_models", F, "tags.k IS NULL", "registry-is-null"),
    ("registered_models", F, "tags.k IS NOT NULL", "registry-is-null"),
    ("registered_models", F, "name IS NULL", "registry-is-null"),
    # ================================ registered models: order_by ========================
    ("registered_models", O, ["name"], "same"),
    ("registered_models", O, ["timestamp DESC"], "same"),
    ("registered_models", O, ["last_updated_timestamp"], "same"),
    ("registered_models", O, ["timestamp", "last_updated_timestamp"], "same"),
    ("registered_models", O, ["name", "name DESC"], "same"),
    ("registered_models", O, ["creation_timestamp"], "same"),
    ("registered_models", O, ["attribute.name"], "same"),
    ("registered_models", O, ["tags.k"], "same"),
    ("registered_models", M, 0, "same"),
    ("registered_models", M, -1, "same"),
    ("registered_models", M, 1000, "same"),
    ("registered_models", M, 1001, "same"),
    ("registered_models", R, ("GET", "/api/2.0/mlflow/registered-models/search",
                              {"max_results": 1001}), "same"),
    ("registered_models", R, ("GET", "/api/2.0/mlflow/registered-models/search",
                              {"filter": "name IN ('model-a')"}), "registry-name-list"),
    ("registered_models", P, "name IN ('model-a')", "registry-name-list"),
    ("registered_models", P, "name like 'x%' AND tags.k = 'v'", "same"),
    ("registered_models", P, "tags.k IS NULL", "registry-is-null"),
    ("registered_models", R, ("GET", "/api/2.0/mlflow/registered-models/search",
                              {"filter": "tags.k IS NULL"}), "registry-is-null"),
    # ================================ model versions: filters ============================
    ("model_versions", F, "name = 'model-a'", "same"),
    ("model_versions", F, "attribute.name LIKE 'model%'", "same"),
    ("model_versions", F, "name ILIKE 'MODEL%'", "same"),
    ("model_versions", F, "run_id = '{run:alpha-run}'", "same"),
    ("model_versions", F, "run_id != 'abc'", "same"),
    ("model_versions", F, "run_id IN ('{run:alpha-run}', '{run:Beta}')", "same"),
    ("model_versions", F, "run_id IN ('abc')", "same"),
    ("model_versions", F, "source_path = 's3://bucket/m2'", "same"),
    ("model_versions", F, "source_path LIKE 's3%'", "same"),
    ("model_versions", F, "version_number = 1", "same"),
    ("model_versions", F, "version_number > 1", "same"),
    ("model_versions", F, "version_number = '1'", "same"),
    ("model_versions", F, "version_number LIKE '1'", "same"),
    ("model_versions", F, "tags.t = 'x'", "same"),
    ("model_versions", F, "tag.t LIKE 'x%'", "same"),
    ("model_versions", F, "tags.t > 'a'", "same"),
    ("model_versions", F, "name > 'a'", "same"),
    ("model_versions", F, "version_number > 99999999999999999999999", "same"),
    ("model_versions", F, "creation_timestamp > 0", "same"),
    ("model_versions", F, "source_path IN ('x')", "msg-list-keys"),
    ("model_versions", F, "version_number != 2", "same"),
    ("model_versions", F, "tags.t ILIKE 'X'", "same"),
    ("model_versions", F, "version_number = 1.0", "mv-version-integer-only"),
    # lists / NOT IN
    ("model_versions", F, "name IN ('model-a')", "registry-name-list"),
    ("model_versions", F, "name NOT IN ('model-a')", "registry-name-list"),
    ("model_versions", F, "run_id NOT IN ('abc')", "mv-run-id-not-in"),
    ("model_versions", F, "run_id IN (\"abc\")", "list-double-quotes"),
    # version_number: 3.x validates the value as an integer
    ("model_versions", F, "version_number >= 1.5", "mv-version-integer-only"),
    ("model_versions", F, "version_number = 'abc'", "mv-version-integer-only"),
    ("model_versions", F, "version_number = '99999999999999999999999'", "mv-version-integer-only"),
    # IS [NOT] NULL
    ("model_versions", F, "tags.t IS NULL", "registry-is-null"),
    ("model_versions", F, "run_id IS NOT NULL", "registry-is-null"),
    # ================================ model versions: order_by ===========================
    ("model_versions", O, ["name"], "same"),
    ("model_versions", O, ["version_number DESC"], "same"),
    ("model_versions", O, ["creation_timestamp"], "same"),
    ("model_versions", O, ["last_updated_timestamp ASC"], "same"),
    ("model_versions", O, ["attribute.name"], "same"),
    ("model_versions", O, ["name", "name DESC"], "same"),
    ("model_versions", O, ["run_id"], "same"),
    ("model_versions", O, ["tags.t"], "same"),
    ("model_versions", M, 0, "same"),
    ("model_versions", M, 200000, "same"),
    ("model_versions", M, 200001, "same"),
    ("model_versions", R, ("GET", "/api/2.0/mlflow/model-versions/search",
                           {"max_results": 200001}), "same"),
    ("model_versions", P, "run_id IN ('abc', 'DEF') AND version_number = '2'", "parse-list"),
    # ================================ traces: filters ====================================
    ("traces", F, "status = 'OK'", "same"),
    ("traces", F, "attributes.status != 'ERROR'", "same"),
    ("traces", F, "trace.status IN ('OK', 'ERROR')", "same"),
    ("traces", F, "status NOT IN ('ERROR')", "same"),
    ("traces", F, "status in ('OK')", "same"),
    ("traces", F, "timestamp_ms > 0", "same"),
    ("traces", F, "timestamp > 0", "same"),
    ("traces", F, "execution_time_ms >= 0", "same"),
    ("traces", F, "execution_time < 100000", "same"),
    ("traces", F, "execution_time_ms < '100000'", "same"),
    ("traces", F, "timestamp_ms > 99999999999999999999999", "same"),
    ("traces", F, "request_metadata.foo = 'x'", "same"),
    ("traces", F, "run_id != 'x'", "same"),
    ("traces", F, "tags.`mlflow.traceName` = 'root-span'", "same"),
    ("traces", F, "status = 'OK' AND tags.env = 'prod'", "same"),
    ("traces", F, "timestamp_ms > '0'", "same"),
    ("traces", F, "timestamp > 0.5", "same"),
    ("traces", F, "tags.env = 'prod'", "same"),
    ("traces", F, "tag.env != 'prod'", "same"),
    ("traces", F, "metadata.`mlflow.sourceRun` = '{run:trace-run}'", "same"),
    ("traces", F, "request_metadata.`mlflow.sourceRun` != 'x'", "same"),
    ("traces", F, "name = 'root-span'", "same"),
    ("traces", F, "name != 'second'", "same"),
    ("traces", F, "run_id = '{run:trace-run}'", "same"),
    ("traces", F, "request_id = 'abc'", "same"),
    ("traces", F, "request_id IN ('abc')", "same"),
    ("traces", F, "status = 'FOO'", "same"),
    ("traces", F, "tags.env IN ('prod')", "msg-comparator-set"),
    ("traces", F, "name IN ('root-span')", "msg-comparator-set"),
    ("traces", F, "run_id IN ('abc')", "msg-comparator-set"),
    ("traces", F, "status > 'A'", "msg-comparator-set"),
    ("traces", F, "execution_time LIKE '1'", "msg-comparator-set"),
    ("traces", F, "foo = 'x'", "msg-trace-keys"),
    ("traces", F, "metrics.x > 1", "msg-trace-keys"),
    ("traces", F, "status = 'OK' OR status = 'ERROR'", "same"),
    ("traces", F, "tags.env like 'p%'", "trace-like"),
    ("traces", F, "tags.env LIKE 'p%'", "trace-like"),
    ("traces", F, "tags.env ILIKE 'P%'", "trace-like"),
    ("traces", F, "status LIKE 'O%'", "trace-like"),
    ("traces", F, "request_id LIKE 'tr%'", "trace-like"),
    ("traces", F, "name LIKE 'root%'", "trace-like"),
    ("traces", F, "metadata.`mlflow.sourceRun` LIKE '%'", "trace-like"),
    ("traces", F, "tags.env RLIKE '^pr'", "trace-rlike"),
    ("traces", F, "status RLIKE 'O.'", "trace-rlike"),
    ("traces", F, "tags.env IS NULL", "is-null"),
    ("traces", F, "tags.env IS NOT NULL", "is-null"),
    ("traces", F, "metadata.foo IS NULL", "is-null"),
    ("traces", F, "name IS NOT NULL", "is-null"),
    ("traces", F, "run_id IS NULL", "is-null"),
    ("traces", F, "status IS NULL", "is-null-other-keys"),
    ("traces", F, "end_time > 0", "trace-end-time"),
    ("traces", F, "end_time_ms > 0", "trace-end-time"),
    ("traces", F, "client_request_id = 'x'", "trace-client-request-id"),
    ("traces", F, "client_request_id IN ('x')", "trace-client-request-id"),
    ("traces", F, "text LIKE '%hello%'", "same"),
    ("traces", F, "trace.text LIKE '%hello%'", "trace-text"),
    ("traces", F, "attributes.text ILIKE '%HELLO%'", "trace-text"),
    ("traces", F, "attributes.text = 'x'", "trace-text"),
    ("traces", F, "prompt = 'p/1'", "trace-prompt"),
    ("traces", F, "span.name = 'child'", "trace-span"),
    ("traces", F, "span.type = 'LLM'", "trace-span"),
    ("traces", F, "span.status = 'OK'", "trace-span"),
    ("traces", F, "span.attributes.model LIKE '%gpt%'", "trace-span"),
    ("traces", F, "span.content LIKE '%hi%'", "trace-span"),
    ("traces", F, "timestamp_ms > '0' AND span.name = 'child'", "trace-span"),
    ("traces", F, "feedback.quality > 0.5", "trace-assessment"),
    ("traces", F, "expectation.expected = 'hi'", "trace-assessment"),
    ("traces", F, "feedback.verdict IS NOT NULL", "trace-assessment"),
    ("traces", F, "issue.id = 'abc'", "trace-issue"),
    ("traces", F, "status IN (\"OK\")", "list-double-quotes"),
    ("traces", F, "request_id IN ('abc',)", "list-trailing-comma"),
    ("traces", F, "'x' = status", "msg-trace-clause"),
    ("traces", F, "1 = 1", "msg-trace-clause"),
    ("traces", F, "metadata.`mlflow.trace.tokenUsage` LIKE '%'", "trace-reserved-metadata"),
    ("traces", F, "metadata.`mlflow.trace.tokenUsage` = '{\"total_tokens\": 5}'", "same"),
    ("traces", F, "metadata.`mlflow.trace.session` = 's1'", "same"),
    # ================================ traces: order_by ===================================
    ("traces", O, ["timestamp_ms DESC"], "same"),
    ("traces", O, ["timestamp"], "same"),
    ("traces", O, ["execution_time"], "same"),
    ("traces", O, ["execution_time_ms ASC"], "same"),
    ("traces", O, ["status"], "same"),
    ("traces", O, ["request_id"], "same"),
    ("traces", O, ["name"], "same"),
    ("traces", O, ["run_id"], "same"),
    ("traces", O, ["experiment_id"], "same"),
    ("traces", O, ["tags.env"], "same"),
    ("traces", O, ["metadata.`mlflow.sourceRun`"], "same"),
    ("traces", O, ["timestamp", "timestamp_ms"], "same"),
    ("traces", O, ["TIMESTAMP"], "same"),
    ("traces", O, ["metadata.`mlflow.trace.tokenUsage`"], "trace-reserved-metadata"),
    ("traces", O, ["metadata.`mlflow.trace.session` DESC"], "same"),
    ("traces", O, ["name DESC", "timestamp_ms"], "same"),
    ("traces", O, ["client_request_id"], "msg-trace-keys"),
    ("traces", O, ["span.name"], "msg-trace-keys"),
    ("traces", O, ["end_time"], "trace-end-time"),
    ("traces", O, ["end_time_ms DESC"], "trace-end-time"),
    ("traces", M, None, "same"),
    ("traces", M, 0, "same"),
    ("traces", M, 50000, "same"),
    ("traces", M, 50001, "same"),
    ("traces", R, ("GET", "/api/2.0/mlflow/traces",
                   {"experiment_ids": ["{exp:exp-A}"], "max_results": 501}), "same"),
    ("traces", R, ("GET", "/api/2.0/mlflow/traces",
                   {"experiment_ids": ["{exp:exp-A}"], "max_results": 500}), "same"),
    ("traces", P, "timestamp > 5 AND name = 'x' AND status IN ('OK')", "parse-list"),
    ("traces", P, "run_id = 'r1' AND execution_time < 2.5", "same"),
    ("traces", P, "tags.env IS NULL", "is-null"),
    ("traces", R, ("POST", "/api/3.0/mlflow/traces/search",
                   {"locations": [{"type": "MLFLOW_EXPERIMENT",
                                   "mlflow_experiment": {"experiment_id": "{exp:exp-A}"}}],
                    "max_results": 10}), "traces-v3-endpoint"),
    # ================================ logged models ======================================
    ("logged_models", F, "name = 'lm-one'", "logged-models-api"),
    ("logged_models", F, "metrics.score > 0.5", "logged-models-api"),
    ("logged_models", F, "params.p = '1'", "logged-models-api"),
    ("logged_models", F, "tags.k = 'v'", "logged-models-api"),
    ("logged_models", O, [{"field_name": "name"}], "logged-models-api"),
    ("logged_models", R, ("POST", "/api/2.0/mlflow/logged-models/search",
                          {"experiment_ids": ["{exp:exp-A}"]}), "logged-models-api"),
]

VERSION_KEY = {"2.22.1": "2_22_1", "3.17.2": "3_17_2", "3.18.0": "3_18_0"}


# ------------------------------------------------------------------------------------------
# probe mode
# ------------------------------------------------------------------------------------------
class Store:
    def __init__(self) -> None:
        import mlflow

        self.version = mlflow.__version__
        self.dir = tempfile.mkdtemp(prefix="mlflow-compat-")
        self.uri = f"sqlite:///{self.dir}/mlflow.db"
        self.artifacts = f"file://{self.dir}/artifacts"
        self.ids: dict[str, str] = {}
        self._build()

    # -- fixture ---------------------------------------------------------------------------
    def _build(self) -> None:
        from mlflow.entities import (
            Dataset,
            DatasetInput,
            ExperimentTag,
            InputTag,
            Metric,
            Param,
            RunStatus,
            RunTag,
        )
        from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

        ts = TrackingStore(self.uri, self.artifacts)
        rs = RegistryStore(self.uri)
        self.ts, self.rs = ts, rs
        now = int(time.time() * 1000)

        ea = ts.create_experiment("exp-A", tags=[ExperimentTag("team", "ml"),
                                                 ExperimentTag("Env", "Prod")])
        eb = ts.create_experiment("exp-B", tags=[ExperimentTag("mlflow.note.content", "b")])
        ed = ts.create_experiment("exp-deleted", tags=[ExperimentTag("team", "old")])
        ts.delete_experiment(ed)
        self.ids.update({"exp:exp-A": ea, "exp:exp-B": eb, "exp:exp-deleted": ed})

        r1 = ts.create_run(ea, "user1", now - 50_000,
                           [RunTag("team", "ml"), RunTag("my key", "spaced")],
                           "alpha-run").info.run_id
        ts.log_batch(
            r1,
            metrics=[Metric("loss", 0.8, now - 40_000, 0), Metric("loss", 0.5, now - 30_000, 1),
                     Metric("acc", 0.9, now - 30_000, 1), Metric("neg", -1.0, now - 30_000, 0),
                     Metric("my loss", 0.3, now - 30_000, 0)],
            params=[Param("lr", "0.01"), Param("batch_size", "32"), Param("model", "cnn"),
                    Param("quote", "it's")],
            tags=[RunTag("note", "50% off")],
        )
        ts.log_inputs(r1, datasets=[DatasetInput(
            Dataset(name="ds1", digest="d1", source_type="local", source="/tmp/ds1"),
            tags=[InputTag("mlflow.data.context", "training")])])
        ts.update_run_info(r1, RunStatus.FINISHED, now - 10_000, None)

        r2 = ts.create_run(ea, "user2", now - 30_000, [], "Beta").info.run_id  # stays RUNNING
        ts.log_batch(
            r2,
            metrics=[Metric("loss", float("nan"), now - 20_000, 0),
                     Metric("big", float("inf"), now - 20_000, 0),
                     Metric("neg", float("-inf"), now - 20_000, 0)],
            params=[Param("lr", "0.1")],
            tags=[RunTag("team", "data")],
        )
        # a dataset whose name has upper case and whose digest is all digits
        ts.log_inputs(r2, datasets=[DatasetInput(
            Dataset(name="Ds2", digest="12345", source_type="local", source="/tmp/ds2"),
            tags=[InputTag("mlflow.data.context", "eval")])])
        r3 = ts.create_run(ea, "user1", now - 20_000, [], "gamma-deleted").info.run_id
        ts.log_batch(r3, metrics=[Metric("loss", 0.1, now, 0)], params=[], tags=[])
        ts.delete_run(r3)
        r4 = ts.create_run(eb, "user3", now - 15_000, [RunTag("env", "prod")], "delta").info.run_id
        ts.log_batch(r4, metrics=[Metric("loss", 1.5, now, 0)], params=[], tags=[])
        ts.update_run_info(r4, RunStatus.FAILED, now - 5_000, None)
        r5 = ts.create_run(ea, "user1", now - 5_000, [], "trace-run").info.run_id
        ts.update_run_info(r5, RunStatus.FINISHED, now - 4_000, None)
        self.ids.update({"run:alpha-run": r1, "run:Beta": r2, "run:gamma-deleted": r3,
                         "run:delta": r4, "run:trace-run": r5})

        # ---- model registry
        rs.create_registered_model("model-a", tags=[RegisteredModelTag("k", "v")])
        rs.create_registered_model("Model-B", tags=[RegisteredModelTag("team", "ml")])
        rs.create_model_version("model-a", source=f"runs:/{r1}/model", run_id=r1,
                                tags=[ModelVersionTag("t", "x")])
        rs.create_model_version("model-a", source="s3://bucket/m2")
        rs.create_model_version("Model-B", source="/local/path", run_id=r2,
                                tags=[ModelVersionTag("t", "y")])

        self.has_logged_models = hasattr(ts, "search_logged_models")
        if self.has_logged_models:
            self._logged_models(ts, ea, eb, r1, now)
        self._traces(ts, ea, r5, now)

    def _logged_models(self, ts, ea, eb, r1, now) -> None:
        from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag, Metric

        lm1 = ts.create_logged_model(ea, name="lm-one", source_run_id=r1,
                                     tags=[LoggedModelTag("k", "v")],
                                     params=[LoggedModelParameter("p", "1")],
                                     model_type="agent").model_id
        ts.log_batch(r1, metrics=[Metric("score", 0.7, now, 0, model_id=lm1, dataset_name="ds1",
                                         dataset_digest="d1")], params=[], tags=[])
        lm2 = ts.create_logged_model(ea, name="lm-two", model_type="classifier").model_id
        ts.finalize_logged_model(lm2, LoggedModelStatus.READY)
        ts.create_logged_model(eb, name="lm-three", params=[LoggedModelParameter("p", "2")])

    def _traces(self, ts, ea, r5, now) -> None:
        """Two traces in exp-A: t1 'root-span' (tag env=prod, spans root-span/child), t2
        'second' (tag env=dev, source run trace-run). 2.22 has no span or assessment tables
        in its SQL store, so there they are made with the store's start_trace/end_trace."""
        import inspect

        if "trace_info" not in inspect.signature(ts.start_trace).parameters:
            from mlflow.entities.trace_status import TraceStatus

            t1 = ts.start_trace(ea, now - 3000, {}, {"mlflow.traceName": "root-span"}).request_id
            ts.end_trace(t1, now - 2990, TraceStatus.OK, {}, {})
            t2 = ts.start_trace(ea, now - 2000, {"mlflow.sourceRun": r5},
                                {"mlflow.traceName": "second"}).request_id
            ts.end_trace(t2, now - 1990, TraceStatus.OK, {}, {})
        else:
            import mlflow
            from mlflow.entities import AssessmentSource, Expectation, Feedback
            from mlflow.tracking import fluent
            from mlflow.tracking._tracking_service import utils as tracking_utils

            os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
            with tracking_utils._use_tracking_uri(self.uri):
                fluent._active_experiment_id = ea
                with mlflow.start_span(name="root-span", span_type="CHAIN") as s:
                    s.set_inputs({"q": "hello world"})
                    s.set_attribute("model", "gpt")
                    with mlflow.start_span(name="child", span_type="LLM") as c:
                        c.set_outputs({"a": "hi"})
                t1 = mlflow.get_last_active_trace_id()
                with mlflow.start_run(run_id=r5):
                    with mlflow.start_span(name="second") as s2:
                        s2.set_inputs({"q": "bye"})
                    t2 = mlflow.get_last_active_trace_id()
                with contextlib.suppress(Exception):
                    mlflow.flush_trace_async_logging()
                fluent._active_experiment_id = None
            human = AssessmentSource(source_type="HUMAN", source_id="u1")
            ts.create_assessment(Feedback(name="quality", value=0.8, trace_id=t1, source=human))
            ts.create_assessment(Feedback(name="verdict", value="good", trace_id=t2,
                                          source=human))
            ts.create_assessment(Expectation(name="expected", value="hi", trace_id=t1,
                                             source=human))
        ts.set_trace_tag(t1, "env", "prod")
        ts.set_trace_tag(t2, "env", "dev")
        self.ids.update({"trace:t1": t1, "trace:t2": t2})

    # -- calls -----------------------------------------------------------------------------
    def fill(self, text):
        if isinstance(text, str):
            for k, v in self.ids.items():
                text = text.replace("{" + k + "}", str(v))
            return text
        if isinstance(text, list):
            return [self.fill(x) for x in text]
        if isinstance(text, dict):
            return {k: self.fill(v) for k, v in text.items()}
        return text

    def search(self, api, filter_string=None, order_by=None, max_results="default",
               view_type=None):
        from mlflow.entities import ViewType

        ts, rs = self.ts, self.rs
        exp_a, exp_b = self.ids["exp:exp-A"], self.ids["exp:exp-B"]
        kw = {} if max_results == "default" else {"max_results": max_results}
        vt = ViewType.ALL if view_type is None else getattr(ViewType, view_type)
        if api == "runs":
            return ts.search_runs([exp_a, exp_b], filter_string, vt,
                                  kw.get("max_results", 1000), order_by)
        if api == "experiments":
            return ts.search_experiments(view_type=vt, max_results=kw.get("max_results", 1000),
                                         filter_string=filter_string, order_by=order_by)
        if api == "registered_models":
            return rs.search_registered_models(filter_string=filter_string, order_by=order_by,
                                               **kw)
        if api == "model_versions":
            return rs.search_model_versions(filter_string=filter_string, order_by=order_by, **kw)
        if api == "traces":
            res, _token = ts.search_traces(experiment_ids=[exp_a], filter_string=filter_string,
                                           order_by=order_by, **kw)
            return res
        if api == "logged_models":
            if not self.has_logged_models:
                raise NotImplementedError("this MLflow has no search_logged_models")
            return ts.search_logged_models(experiment_ids=[exp_a, exp_b],
                                           filter_string=filter_string, order_by=order_by, **kw)
        raise ValueError(api)

    def parse(self, api, filter_string):
        from mlflow.utils import search_utils as su

        fn = {
            "runs": su.SearchUtils.parse_search_filter,
            "experiments": su.SearchExperimentsUtils.parse_search_filter,
            "registered_models": su.SearchModelUtils.parse_search_filter,
            "model_versions": su.SearchModelVersionUtils.parse_search_filter,
            "traces": su.SearchTraceUtils.parse_search_filter_for_search_traces,
        }[api]
        return fn(filter_string)

    _client = None

    def rest(self, method, path, body):
        if self._client is None:
            os.environ["_MLFLOW_SERVER_FILE_STORE"] = self.uri
            os.environ["_MLFLOW_SERVER_REGISTRY_STORE"] = self.uri
            os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = self.artifacts
            from mlflow.server import app

            self._client = app.test_client()
        if method == "GET":
            return self._client.get(path, query_string=body)
        return self._client.post(path, json=body)


def verdict_of(exc: BaseException) -> dict:
    from mlflow.exceptions import MlflowException

    if isinstance(exc, NotImplementedError):
        return {"status": "unsupported", "message": str(exc)}
    if isinstance(exc, MlflowException):
        try:
            http = int(exc.get_http_status_code())
        except Exception:  # noqa: BLE001
            http = 500
        return {"status": "rejected" if 400 <= http < 500 else "crash", "http": http,
                "type": type(exc).__name__, "error_code": exc.error_code,
                "message": exc.message}
    return {"status": "crash", "http": 500, "type": type(exc).__name__, "message": str(exc)}


def _jsonable(x):
    if isinstance(x, (list, tuple)):
        return {"__" + type(x).__name__: [_jsonable(i) for i in x]}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return repr(x)


def run_probe(store: Store, api, kind, value) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if kind == F:
                try:
                    n = len(store.search(api, filter_string=store.fill(value)))
                except Exception as e:  # noqa: BLE001
                    return {**verdict_of(e), "stage": parse_stage(store, api, value)}
                return {"status": "ok", "n": n}
            if kind == O:
                n = len(store.search(api, order_by=store.fill(value)))
                return {"status": "ok", "n": n}
            if kind == M:
                n = len(store.search(api, max_results=value))
                return {"status": "ok", "n": n}
            if kind == "view_type":
                n = len(store.search(api, view_type=value))
                return {"status": "ok", "n": n}
            if kind == P:
                out = store.parse(api, store.fill(value))
                return {"status": "ok", "parsed": _jsonable(out)}
            if kind == R:
                method, path, body = value
                resp = store.rest(method, path, store.fill(body))
                http = resp.status_code
                try:
                    payload = resp.get_json()
                except Exception:  # noqa: BLE001
                    payload = None
                if http == 200:
                    key = {"runs": "runs", "experiments": "experiments",
                           "registered_models": "registered_models",
                           "model_versions": "model_versions", "traces": "traces",
                           "logged_models": "models"}[api]
                    return {"status": "ok", "http": 200, "n": len((payload or {}).get(key, []))}
                if http in (404, 405):
                    return {"status": "unsupported", "http": 404,
                            "message": f"{method} {path}: 404"}
                msg = (payload or {}).get("message") if isinstance(payload, dict) else None
                if msg is None and http >= 500:
                    msg = "uncaught exception: Flask's generic HTML '500 Internal Server Error' page"
                return {"status": "rejected" if http < 500 else "crash", "http": http,
                        "error_code": (payload or {}).get("error_code")
                        if isinstance(payload, dict) else None,
                        "message": msg if msg is not None else resp.get_data(as_text=True)[:300]}
            raise ValueError(kind)
        except Exception as e:  # noqa: BLE001 - every failure is an answer
            return verdict_of(e)


def parse_stage(store: Store, api, value) -> str | None:
    """Where a failing filter fails: 'parse' (MLflow's parser alone raises) or 'store' (the
    parser accepts it; the store refuses or crashes while building or running the query)."""
    if api == "logged_models" and not store.has_logged_models:
        return None
    try:
        if api == "logged_models":
            from mlflow.utils.search_logged_model_utils import parse_filter_string

            parse_filter_string(store.fill(value))
        else:
            store.parse(api, store.fill(value))
    except Exception:  # noqa: BLE001
        return "parse"
    return "store"


def probe_mode(out_path: str | None) -> None:
    logging.disable(logging.CRITICAL)
    os.environ.pop("PYTEST_CURRENT_TEST", None)
    with contextlib.redirect_stdout(sys.stderr):
        store = Store()
        results = []
        for api, kind, value, topic in PROBES:
            v = run_probe(store, api, kind, value)
            results.append({"api": api, "kind": kind, "input": value, "topic": topic, **v})
    doc = {"mlflow": store.version, "results": results}
    text = json.dumps(doc, indent=1, default=repr)
    if out_path:
        with open(out_path, "w") as fh:
            fh.write(text)
    else:
        print(text)


# ------------------------------------------------------------------------------------------
# compare mode
# ------------------------------------------------------------------------------------------
def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _flow(x) -> str:
    if isinstance(x, str):
        return _q(x)
    if isinstance(x, bool):
        return "true" if x else "false"
    if x is None:
        return "null"
    if isinstance(x, (int, float)):
        return repr(x)
    if isinstance(x, list):
        return "[" + ", ".join(_flow(i) for i in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{_q(str(k))}: {_flow(v)}" for k, v in x.items()) + "}"
    return _q(repr(x))


def _differs(a: dict, b: dict) -> bool:
    if a["status"] != b["status"]:
        return True
    if a["status"] == "ok":
        return a.get("n") != b.get("n") or a.get("parsed") != b.get("parsed")
    return a.get("message") != b.get("message") or a.get("http") != b.get("http")


def _describe(v: dict) -> str:
    if v["status"] == "ok":
        return ""
    if v["status"] == "crash":
        if not v.get("type"):  # a REST answer
            return f"{v.get('http')}: {v.get('message')}"
        return f"{v.get('http')} {v.get('type')}: {v.get('message')}"
    if v["status"] == "unsupported":
        return v.get("message", "")
    return v.get("message") or ""


def compare(docs: list[dict]) -> list[str]:
    versions = [d["mlflow"] for d in docs]
    lines = [
        f"# Generated by tests/compat/probe_versions.py: MLflow {' vs '.join(versions)} on real",
        "# SQLite stores (SqlAlchemyStore, called as the tracking server does). Regenerate with:",
        "#   python3 tests/compat/probe_versions.py --python <venv-2.22.1>/bin/python "
        "--python <venv-3.17.2>/bin/python --yaml tests/compat/cases_2_22.yaml",
        "# verdicts: ok | rejected (HTTP 4xx) | crash (HTTP 5xx) | unsupported (no such API).",
        "# n_<version>: result count when ok. message_<version>: the error when not ok",
        "# (crash: '<http> <exception type>: <message>'). stage_<version>: where a failing filter",
        "# fails: parse (MLflow's parser alone raises) or store (the parser accepts it).",
        "# Placeholders {run:NAME} / {exp:NAME} stand for the id of that run / experiment.",
        "# kind (when not a filter or order_by): max_results / view_type (store call), rest",
        "# (request through the Flask app), parse (MLflow's parser output only).",
    ]
    base = docs[0]["results"]
    for i, r0 in enumerate(base):
        rs = [d["results"][i] for d in docs]
        api, kind, value = r0["api"], r0["kind"], r0["input"]
        declared = r0["topic"]
        diff = any(_differs(rs[0], r) for r in rs[1:])
        topic = (declared if declared != "same" else "UNEXPECTED") if diff else "same"
        lines.append(f"- api: {api}")
        if kind == F:
            lines.append(f"  filter: {_q(value)}")
        elif kind == O:
            lines.append(f"  order_by: {_flow(value)}")
        elif kind == M:
            lines.append("  kind: max_results")
            lines.append(f"  max_results: {_flow(value)}")
        elif kind == "view_type":
            lines.append("  kind: view_type")
            lines.append(f"  view_type: {_q(value)}")
        elif kind == R:
            method, path, body = value
            lines.append("  kind: rest")
            lines.append(f"  request: {_flow({'method': method, 'path': path, 'body': body})}")
        elif kind == P:
            lines.append("  kind: parse")
            lines.append(f"  filter: {_q(value)}")
        verdicts = {v: r["status"] for v, r in zip(versions, rs)}
        lines.append(f"  verdicts: {_flow(verdicts)}")
        for v, r in zip(versions, rs):
            k = VERSION_KEY.get(v, v.replace(".", "_"))
            if r["status"] == "ok" and "n" in r:
                lines.append(f"  n_{k}: {r['n']}")
            if r["status"] == "ok" and "parsed" in r:
                lines.append(f"  parsed_{k}: {_flow(r['parsed'])}")
            if r.get("http") and r["status"] != "ok":
                lines.append(f"  http_{k}: {r['http']}")
            if r.get("stage") and r["status"] != "ok":
                lines.append(f"  stage_{k}: {r['stage']}")
            if r["status"] != "ok":
                lines.append(f"  message_{k}: {_q(_describe(r))}")
        lines.append(f"  topic: {topic}")
    return lines


def compare_mode(pythons: list[str], yaml_path: str | None, keep: str | None) -> None:
    docs = []
    script = os.path.abspath(__file__)
    for py in pythons:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            out = fh.name
        env = dict(os.environ, PYTHONHASHSEED="0")
        env.pop("PYTEST_CURRENT_TEST", None)
        subprocess.run([py, script, "--json", out], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as fh:
            docs.append(json.load(fh))
        if keep:
            os.makedirs(keep, exist_ok=True)
            with open(os.path.join(keep, f"probe-{docs[-1]['mlflow']}.json"), "w") as fh:
                json.dump(docs[-1], fh, indent=1)
        os.unlink(out)
    text = "\n".join(compare(docs)) + "\n"
    if yaml_path:
        with open(yaml_path, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", action="append", help="compare mode: a venv's python (twice)")
    ap.add_argument("--yaml", help="compare mode: write the cases here (default: stdout)")
    ap.add_argument("--keep-json", help="compare mode: keep each version's raw JSON here")
    ap.add_argument("--json", help="probe mode: write this version's verdicts here")
    args = ap.parse_args(argv)
    if args.python:
        compare_mode(args.python, args.yaml, args.keep_json)
    else:
        probe_mode(args.json)


if __name__ == "__main__":
    main()
