#!/usr/bin/env python3
"""Find the first MLflow release that shows each search-filter behaviour change.

Not a test: a rerunnable research script.  It runs REAL MLflow releases (installed from the
configured pip index) against a fresh SQLite tracking + registry store and records, per probe
(API + filter string), what the store does:

    ok            the search ran (the result count is kept: ``ok (n=1)``)
    rejected      MlflowException with a 4xx HTTP status (the REST server answers 400)
    crash         any other exception, or an MlflowException with a 5xx status (REST 500)
    unsupported   the API does not exist in that release (search_logged_models in 2.x)

Method (see first_releases.md):

* the candidate releases are every FINAL mlflow release from 2.22.1 to 3.18.0 listed by
  ``pip index versions --pre mlflow``; release candidates are only run at a boundary whose first
  final release is an ``X.Y.0`` that has rcs (reported separately, the YAML names final releases);
* one base venv holds mlflow==3.17.2's dependencies (+ ``sqlalchemy<2.1``, which 2.22.x needs)
  but no mlflow; each release is installed with ``pip install --no-deps --target`` (mlflow and,
  where they exist at that version, mlflow-skinny and mlflow-tracing) and run with
  ``PYTHONPATH=<target>``.  If that fails to import, the release gets its own venv with its own
  dependencies;
* bisection: 2.22.1, 3.17.2 and 3.18.0 are run first; then for every probe whose behaviour differs
  between two neighbouring runs with untried releases between them, the middle release is run,
  until every change sits between two adjacent releases.  ``--all`` runs every release instead
  (no monotonicity assumption).

Usage::

    python3 tests/compat/bisect_releases.py            # bisect, write first_releases.{yaml,md}
    python3 tests/compat/bisect_releases.py --all      # run every final release
    python3 tests/compat/bisect_releases.py --only 3.0.0 3.0.1   # run just these releases
    python3 tests/compat/bisect_releases.py --own 3.10.1 3.11.1  # cross-check: own venvs, own deps
    python3 tests/compat/bisect_releases.py --report   # rewrite the outputs from cached results

Results are cached per release in $BISECT_DIR/results/<version>.json (default
/tmp/bisect-venvs); delete a file to re-run that release.  ``--worker`` is the in-venv part.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path(os.environ.get("BISECT_DIR", "/tmp/bisect-venvs"))
LOW, HIGH = "2.22.1", "3.18.0"
SEEDS = ("2.22.1", "3.17.2", "3.18.0")  # the supported versions
BASE_SPEC = ["mlflow==3.17.2", "sqlalchemy<2.1"]

# --------------------------------------------------------------------------------------------
# Probes.  (id, api, filter, summary).  PRIMARY probes go into first_releases.yaml; EXTRA probes
# are run too, to notice other changes along the way (reported in first_releases.md).
# api "parser" = the value type SearchUtils.parse_search_filter returns for the filter.
# --------------------------------------------------------------------------------------------
PRIMARY = [
    # A1 IS NULL / IS NOT NULL
    ("is-null-runs-params", "runs", "params.lr IS NULL", "IS NULL / IS NOT NULL on run params and tags"),
    ("is-not-null-runs-tags", "runs", "tags.t IS NOT NULL", "IS NULL / IS NOT NULL on run params and tags"),
    ("is-null-experiments-tags", "experiments", "tags.t IS NULL", "IS NULL / IS NOT NULL on experiment tags"),
    ("is-null-traces-tags", "traces", "tags.t IS NULL", "IS NULL / IS NOT NULL on trace tags"),
    # A2 IN lists beyond run_id
    ("in-list-registered-models-name", "registered_models", "name IN ('m')", "IN / NOT IN lists on registered model name"),
    ("in-list-model-versions-name", "model_versions", "name IN ('m')", "IN / NOT IN lists on model version name"),
    ("in-list-experiments-id", "experiments", "experiment_id IN ('1')", "IN / NOT IN lists on experiment_id"),
    # A3 RLIKE on runs
    ("rlike-runs-params", "runs", "params.lr RLIKE '0.*'", "RLIKE (regular expressions) in search_runs"),
    ("rlike-runs-tags", "runs", "tags.t RLIKE 'a'", "RLIKE (regular expressions) in search_runs"),
    # A4
    ("experiments-experiment-id", "experiments", "experiment_id = '1'", "experiment_id attribute in search_experiments"),
    # A5
    ("logged-models-api", "logged_models", "name = 'lm'", "search_logged_models API"),
    # A6 traces
    ("traces-span-prefix", "traces", "span.name = 'x'", "span.* filters on traces"),
    ("traces-tags-like", "traces", "tags.env LIKE 'p%'", "LIKE/ILIKE/RLIKE on trace tags"),
    ("traces-status-like", "traces", "status LIKE 'O%'", "LIKE/ILIKE/RLIKE on trace string attributes"),
    ("traces-end-time", "traces", "end_time > 0", "end_time attribute on traces"),
    ("traces-text-bare", "traces", "text LIKE '%a%'", "text (span content) filter on traces, bare key"),
    ("traces-text-prefixed", "traces", "trace.text LIKE '%a%'", "text (span content) filter on traces"),
    ("traces-client-request-id", "traces", "client_request_id = 'x'", "client_request_id attribute on traces"),
    ("traces-feedback", "traces", "feedback.x = 'y'", "feedback.* filters on traces"),
    ("traces-expectation", "traces", "expectation.x = 'y'", "expectation.* filters on traces"),
    ("traces-issue", "traces", "issue.id = 'x'", "issue.* filters on traces"),
    ("traces-prompt", "traces", "prompt = 'a/1'", "prompt = 'name/version' filter on traces"),
    # A7 parser output
    ("runs-numeric-value-type", "parser", "start_time > 5", "numeric run attributes parsed as numbers, not strings"),
    # A8 / B12 registry IS NULL
    ("registry-is-null-registered-models", "registered_models", "tags.k IS NULL", "IS NULL on registered models"),
    ("registry-is-null-model-versions", "model_versions", "tags.k IS NULL", "IS NULL on model versions"),
    # B9
    ("experiments-attributes-prefix", "experiments", "attributes.name = 'x'", "attributes. prefix in search_experiments"),
    # B10
    ("experiments-lowercase-like-name", "experiments", "name like 'e%'", "lower-case like/ilike in search_experiments"),
    ("experiments-lowercase-like-tags", "experiments", "tags.t like 'a%'", "lower-case like/ilike in search_experiments"),
    # B11
    ("logged-models-status", "logged_models", "status = 'READY'", "logged model status filters match"),
    ("logged-models-status-lowercase", "logged_models", "status = 'ready'", "logged model status values validated"),
    # Not in the brief: other differences between the supported versions seen by the extra probes.
    ("runs-numeric-value-type-float", "parser", "end_time > 1.5", "numeric run attributes parsed as numbers, not strings"),
    ("experiments-time-non-integer", "experiments", "creation_time > 0.5",
     "non-integer values for experiment time attributes rejected"),
    ("traces-metadata-is-null", "traces", "metadata.k IS NULL", "IS NULL / IS NOT NULL on trace metadata and run_id"),
    ("traces-run-id-is-null", "traces", "run_id IS NULL", "IS NULL / IS NOT NULL on trace metadata and run_id"),
    ("traces-feedback-is-null", "traces", "feedback.x IS NULL", "IS NULL / IS NOT NULL on trace feedback/expectation"),
    ("traces-name-is-null", "traces", "name IS NULL", "IS NULL / IS NOT NULL on trace name"),
    ("traces-metadata-like", "traces", "metadata.k LIKE 'v%'", "LIKE/ILIKE/RLIKE on trace metadata and name"),
    ("traces-name-like", "traces", "name LIKE 'r%'", "LIKE/ILIKE/RLIKE on trace metadata and name"),
    ("traces-span-type", "traces", "span.type = 'LLM'", "span.type / span.content / span.attributes.* filters on traces"),
    ("traces-span-content", "traces", "span.content LIKE '%a%'", "span.type / span.content / span.attributes.* filters on traces"),
    ("logged-models-status-like", "logged_models", "status LIKE 'R%'", "logged model status takes only = != IN NOT IN"),
]

EXTRA = [
    ("runs", None), ("experiments", None), ("registered_models", None), ("model_versions", None),
    ("logged_models", None), ("traces", None),
    ("runs", "params.lr IS NOT NULL"), ("runs", "tags.t IS NULL"), ("runs", "metrics.m IS NULL"),
    ("runs", "status IS NULL"), ("runs", "params.lr ILIKE '0%'"), ("runs", "status RLIKE 'F'"),
    ("runs", "run_name RLIKE 'r'"), ("runs", "metrics.m RLIKE '1'"), ("runs", "status IN ('FINISHED')"),
    ("runs", "run_name IN ('r')"), ("runs", "params.lr IN ('0.1')"), ("runs", "dataset.name = 'ds'"),
    ("runs", "datasets.name IN ('ds')"), ("runs", "start_time > 0.5"), ("runs", "experiment_id = '1'"),
    ("runs", "params.lr like '0%'"), ("runs", "tags.t NOT LIKE 'a'"), ("runs", "tags.t != 'a'"),
    ("runs", "run_id NOT IN ('a')"), ("runs", "attributes.run_id RLIKE 'a'"),
    ("experiments", "tags.t IS NOT NULL"), ("experiments", "name IS NULL"),
    ("experiments", "experiment_id NOT IN ('1')"), ("experiments", "name IN ('e')"),
    ("experiments", "attribute.name = 'x'"), ("experiments", "attr.name = 'x'"),
    ("experiments", "name ilike 'E%'"), ("experiments", "name ILIKE 'E%'"), ("experiments", "name RLIKE 'e'"),
    ("experiments", "tags.t RLIKE 'a'"), ("experiments", "creation_time > 0"),
    ("experiments", "creation_time > 0.5"), ("experiments", "last_update_time > 0"),
    ("experiments", "experiment_id > '0'"), ("experiments", "tags.t ILIKE 'A%'"),
    ("registered_models", "name NOT IN ('m')"), ("registered_models", "tags.k IS NOT NULL"),
    ("registered_models", "name IS NULL"), ("registered_models", "name RLIKE 'm'"),
    ("registered_models", "name ilike 'M%'"), ("registered_models", "tags.k like 'v%'"),
    ("registered_models", "attributes.name = 'm'"), ("registered_models", "tag.k = 'v'"),
    ("model_versions", "name NOT IN ('m')"), ("model_versions", "name IS NULL"),
    ("model_versions", "tags.k IS NOT NULL"), ("model_versions", "run_id IN ('a')"),
    ("model_versions", "version_number = 1"), ("model_versions", "version_number > 0"),
    ("model_versions", "source_path = 'x'"), ("model_versions", "name RLIKE 'm'"),
    ("model_versions", "name like 'm%'"), ("model_versions", "attributes.name = 'm'"),
    ("logged_models", "status = 'READY' AND name = 'lm'"), ("logged_models", "status IN ('READY')"),
    ("logged_models", "status LIKE 'R%'"), ("logged_models", "name IS NULL"),
    ("logged_models", "metrics.score > 0.5"), ("logged_models", "params.p = '1'"),
    ("logged_models", "tags.k = 'v'"), ("logged_models", "name IN ('lm')"),
    ("logged_models", "name RLIKE 'l'"), ("logged_models", "foo = 'x'"),
    ("logged_models", "creation_time > 0"), ("logged_models", "metric.score > 0.5"),
    ("traces", "tags.t IS NOT NULL"), ("traces", "metadata.k IS NULL"), ("traces", "name IS NULL"),
    ("traces", "run_id IS NULL"), ("traces", "status IS NULL"), ("traces", "tags.env ILIKE 'P%'"),
    ("traces", "tags.env RLIKE '^p'"), ("traces", "status RLIKE 'O'"), ("traces", "status ILIKE 'o%'"),
    ("traces", "status IN ('OK')"), ("traces", "request_id LIKE 'tr%'"), ("traces", "name = 'root'"),
    ("traces", "name LIKE 'r%'"), ("traces", "run_id = 'x'"), ("traces", "metadata.k LIKE 'v%'"),
    ("traces", "timestamp_ms > 0"), ("traces", "timestamp > 0.5"), ("traces", "execution_time > 0"),
    ("traces", "end_time_ms > 0"), ("traces", "span.type = 'LLM'"), ("traces", "span.attributes.a LIKE '%b%'"),
    ("traces", "span.content LIKE '%a%'"), ("traces", "feedback.x IS NULL"), ("traces", "issue.id != 'x'"),
    ("traces", "assessment.x = 'y'"), ("traces", "prompt = 'p'"), ("traces", "trace.text = 'x'"),
    ("traces", "tags.env IN ('prod')"), ("traces", "client_request_id LIKE 'x%'"),
    ("traces", "experiment_id = '1'"),
    ("parser", "metrics.m > 5"), ("parser", "end_time > 1.5"),
]

# Hand-written remarks for first_releases.md (checked against the cached results when written).
NOTES = [
    "Runs `RLIKE` (`params.lr RLIKE '0.*'`, `tags.t RLIKE 'a'`) is rejected (400 `Invalid comparator 'RLIKE' not one of "
    "...`) by EVERY release from 2.22.1 to 3.18.0, including 3.17.2 and 3.18.0: it is not a 2.22 → 3.x difference. "
    "RLIKE works only in search_traces (from 3.6.0 on tags, string attributes, name, metadata).",
    "Bare `text LIKE '%a%'` never parses in search_traces (`text` is an SQL keyword for sqlparse: 400 "
    "`Invalid clause(s) in filter string`); `trace.text LIKE '%a%'` is accepted from 3.6.0.",
    "IS NULL did not arrive in 3.0: experiments got it in the 3.10.1 patch release, runs and traces tags in 3.11 "
    "(3.11.0rc1 already has it; **3.11.0 final is not on the configured index**, so 3.11.1 is the first final "
    "release we could run; 3.11.0, if it exists, very probably has it too). Trace metadata/run_id IS NULL came in 3.9.0, "
    "feedback/expectation IS NULL in 3.10.0.",
    "Registry `IS [NOT] NULL`: 400 (`Invalid clause(s)`) up to 3.10.1, 500 (raw `ValueError: not enough values to unpack`) "
    "from 3.11.1 (and 3.11.0rc1) to 3.17.2, a clean 400 from 3.18.0. The same holds for `name IS NULL`.",
    "No 3.17.x patch after 3.17.2 is on the index, so the 3.17.2 → 3.18.0 changes (B) first appear in 3.18.0 (run).",
    "A change that narrows what is accepted: experiments `creation_time > 0.5` is accepted up to 3.16.1 and rejected "
    "from 3.17.0 (`Invalid value for numeric attribute 'creation_time': '0.5'`); logged-model `status LIKE 'R%'` "
    "is accepted (never matches) up to 3.17.2 and rejected from 3.18.0.",
    "Releases absent from the configured index (not run): 2.22.3, 3.1.2, 3.11.0; mlflow-tracing is absent for 3.0.1 and "
    "3.1.1 and mlflow-skinny/mlflow-tracing for 3.18.0 (the full mlflow wheel contains every file of both, so the "
    "mlflow wheel alone is the complete package).",
    "MLflow 3.2.0-3.3.2 log no trace with opentelemetry-sdk >= 1.40 (`'MlflowV3SpanProcessor' object has no attribute "
    "'_shutdown'`); they were run in venvs of their own with `opentelemetry-sdk<1.40`. The cross-check rows for 3.3.2 "
    "differ only in trace counts because that own venv had no pin (no trace logged); the accept/reject outcomes agree.",
]

API_ORDER = ["runs", "experiments", "registered_models", "model_versions", "logged_models", "traces", "parser"]


def probe_key(api, flt):
    return f"{api}|{flt if flt is not None else '<none>'}"


def all_probes():
    seen, out = set(), []
    for _id, api, flt, _s in PRIMARY:
        out.append((api, flt))
        seen.add((api, flt))
    for api, flt in EXTRA:
        if (api, flt) not in seen:
            seen.add((api, flt))
            out.append((api, flt))
    return out


# ============================================================================================
# Worker: runs inside an interpreter that imports the mlflow release under test.
# ============================================================================================
def worker(out_path):
    import inspect
    import logging
    import tempfile
    import time
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    result = {"probes": {}, "notes": []}
    tmp = tempfile.mkdtemp(prefix="mlflow-bisect-")
    try:
        import mlflow
        from mlflow.exceptions import MlflowException

        result["version"] = mlflow.__version__
        result["mlflow_file"] = mlflow.__file__
        from mlflow.entities import ExperimentTag, Param, RunStatus, RunTag, ViewType
        from mlflow.entities.model_registry import ModelVersionTag, RegisteredModelTag
        from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegStore
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
        from mlflow.utils.search_utils import SearchUtils

        uri = f"sqlite:///{tmp}/mlflow.db"
        ts = SqlAlchemyStore(uri, f"{tmp}/artifacts")
        rs = RegStore(uri)
        now = int(time.time() * 1000)
        exp = ts.create_experiment("e", tags=[ExperimentTag("t", "a")])
        result["notes"].append(f"experiment id {exp}")
        run = ts.create_run(exp, "u", now - 5000, [RunTag("t", "a")], "r")
        ts.log_batch(run.info.run_id, metrics=[], params=[Param("lr", "0.1")], tags=[])
        ts.update_run_info(run.info.run_id, RunStatus.FINISHED, now - 1000, None)
        try:
            from mlflow.entities import Dataset, DatasetInput, InputTag

            ds = Dataset(name="ds", digest="d1", source_type="local", source="/tmp/ds")
            ts.log_inputs(run.info.run_id, datasets=[DatasetInput(ds, tags=[InputTag("mlflow.data.context", "training")])])
        except Exception as e:  # pragma: no cover - informational
            result["notes"].append(f"dataset input not logged: {type(e).__name__}: {e}")
        rs.create_registered_model("m", tags=[RegisteredModelTag("k", "v")])
        rs.create_model_version("m", source=f"runs:/{run.info.run_id}/model", run_id=run.info.run_id,
                                tags=[ModelVersionTag("k", "v")])
        has_lm = hasattr(ts, "search_logged_models") and hasattr(ts, "create_logged_model")
        if has_lm:
            try:
                from mlflow.entities import LoggedModelParameter, LoggedModelStatus, LoggedModelTag, Metric

                lm = ts.create_logged_model(exp, name="lm", source_run_id=run.info.run_id,
                                            tags=[LoggedModelTag("k", "v")],
                                            params=[LoggedModelParameter("p", "1")])
                ts.finalize_logged_model(lm.model_id, LoggedModelStatus.READY)
                try:
                    ts.log_batch(run.info.run_id, metrics=[Metric("score", 0.7, now, 0, model_id=lm.model_id)],
                                 params=[], tags=[])
                except Exception as e:
                    result["notes"].append(f"logged-model metric not logged: {type(e).__name__}: {e}")
            except Exception as e:
                result["notes"].append(f"logged model not created: {type(e).__name__}: {e}")
        # traces, through the fluent API into the same store
        try:
            mlflow.set_tracking_uri(uri)
            mlflow.set_experiment(experiment_id=exp)
            with mlflow.start_span(name="root", span_type="CHAIN") as s:
                s.set_inputs({"q": "a b"})
                s.set_attribute("a", "b")
                with mlflow.start_span(name="child", span_type="LLM") as c:
                    c.set_outputs({"o": "hi"})
            try:
                mlflow.flush_trace_async_logging()
            except Exception:
                pass
            sig = inspect.signature(ts.search_traces).parameters
            kw = {"experiment_ids": [exp]} if "experiment_ids" in sig else {"locations": [exp]}
            infos = ts.search_traces(filter_string=None, max_results=10, order_by=None, page_token=None, **kw)[0]
            if not infos:
                raise RuntimeError("the fluent API logged no trace into the store")
            info = infos[0]
            tid = getattr(info, "trace_id", None) or getattr(info, "request_id", None)
            ts.set_trace_tag(tid, "env", "prod")
        except Exception as e:
            result["notes"].append(f"trace not created: {type(e).__name__}: {e}")

        trace_sig = inspect.signature(ts.search_traces).parameters if hasattr(ts, "search_traces") else {}

        def call(api, f):
            # keyword calls, as the tracking server's handlers make them
            if api == "runs":
                return ts.search_runs(experiment_ids=[exp], filter_string=f, run_view_type=ViewType.ALL,
                                      max_results=1000, order_by=None, page_token=None)
            if api == "experiments":
                return ts.search_experiments(view_type=ViewType.ALL, max_results=1000, filter_string=f,
                                             order_by=None, page_token=None)
            if api == "registered_models":
                return rs.search_registered_models(filter_string=f, max_results=100, order_by=None, page_token=None)
            if api == "model_versions":
                return rs.search_model_versions(filter_string=f, max_results=10000, order_by=None, page_token=None)
            if api == "logged_models":
                if not hasattr(ts, "search_logged_models"):
                    raise NotImplementedError("search_logged_models is absent")
                return ts.search_logged_models(experiment_ids=[exp], filter_string=f, datasets=None,
                                               max_results=None, order_by=None, page_token=None)
            if api == "traces":
                kw = {"experiment_ids": [exp]} if "experiment_ids" in trace_sig else {"locations": [exp]}
                return ts.search_traces(filter_string=f, max_results=100, order_by=None, page_token=None, **kw)[0]
            if api == "parser":
                return SearchUtils.parse_search_filter(f)
            raise ValueError(api)

        for api, f in all_probes():
            key = probe_key(api, f)
            try:
                r = call(api, f)
                if api == "parser":
                    v = r[0]["value"]
                    res = {"kind": f"value-{type(v).__name__}", "value": repr(v)}
                else:
                    res = {"kind": "ok", "n": len(r)}
            except NotImplementedError as e:
                res = {"kind": "unsupported", "msg": str(e)}
            except MlflowException as e:
                st = e.get_http_status_code()
                res = {"kind": "rejected" if 400 <= st < 500 else "crash", "status": st,
                       "msg": str(e.message)[:400], "exc": "MlflowException", "code": e.error_code}
            except Exception as e:  # a raw exception: the REST server answers 500
                res = {"kind": "crash", "status": 500, "msg": f"{type(e).__name__}: {e}"[:400],
                       "exc": type(e).__name__}
            result["probes"][key] = res
        result["ok"] = True
    except Exception as e:
        import traceback

        result["ok"] = False
        result["error"] = traceback.format_exc()[-3000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    Path(out_path).write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0 if result.get("ok") else 1


# ============================================================================================
# Orchestrator
# ============================================================================================
def vparse(v):
    try:
        from packaging.version import Version
    except ImportError:  # pragma: no cover
        from pip._vendor.packaging.version import Version
    return Version(v)


def run(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


def index_versions(pkg):
    cache = WORK / "index" / f"{pkg}.txt"
    if cache.exists():
        return cache.read_text().split()
    p = run([sys.executable, "-m", "pip", "index", "versions", "--pre", pkg])
    m = re.search(r"Available versions: (.*)", p.stdout)
    if not m:
        raise SystemExit(f"cannot list {pkg} versions: {p.stdout}\n{p.stderr}")
    vs = [v.strip() for v in m.group(1).split(",")]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text("\n".join(vs))
    return vs


def candidates():
    lo, hi = vparse(LOW), vparse(HIGH)
    vs = [v for v in index_versions("mlflow") if lo <= vparse(v) <= hi]
    finals = sorted((v for v in vs if not vparse(v).is_prerelease and not vparse(v).is_devrelease), key=vparse)
    pres = sorted((v for v in vs if vparse(v).is_prerelease or vparse(v).is_devrelease), key=vparse)
    return finals, pres


def base_python():
    base = WORK / "base"
    py = base / "bin" / "python"
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(base)])
        subprocess.check_call([str(py), "-m", "pip", "install", "-q", *BASE_SPEC])
        subprocess.check_call([str(py), "-m", "pip", "uninstall", "-y", "-q", "mlflow", "mlflow-skinny", "mlflow-tracing"])
    return py


def specs_for(v):
    specs = [f"mlflow=={v}"]
    for pkg in ("mlflow-skinny", "mlflow-tracing"):
        if v in index_versions(pkg):
            specs.append(f"{pkg}=={v}")
    return specs


def _env():
    env = dict(os.environ, MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false", MLFLOW_DISABLE_TELEMETRY="true",
               DO_NOT_TRACK="true", PYTHONWARNINGS="ignore")
    for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "PYTHONPATH"):
        env.pop(k, None)
    return env


def _worker_run(py, out, extra_env=None):
    out.unlink(missing_ok=True)
    p = run([str(py), str(Path(__file__).resolve()), "--worker", str(out)],
            env=dict(_env(), **(extra_env or {})), timeout=900, cwd="/tmp")
    if out.exists():
        return json.loads(out.read_text())
    return {"ok": False, "error": (p.stdout + p.stderr)[-2000:]}


def fixture_problems(res):
    return [n for n in res.get("notes", []) if "not created" in n or "not logged" in n]


def run_base(v, log=print):
    """The release's wheels installed with --no-deps over the shared base venv."""
    py = base_python()
    target = WORK / "rel" / v
    if not (target / "mlflow").exists():
        shutil.rmtree(target, ignore_errors=True)
        p = run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), *specs_for(v)])
        if p.returncode:
            log(f"  {v}: pip --target failed: {p.stderr[-500:]}")
            return {"ok": False, "error": p.stderr[-1000:]}
    res = _worker_run(py, WORK / "tmp" / f"{v}.base.json", {"PYTHONPATH": str(target)})
    res["how"] = ("base venv (mlflow 3.17.2's dependencies, sqlalchemy<2.1) + "
                  f"pip install --no-deps --target ({' '.join(specs_for(v))})")
    return res


# Extra pins tried, in order, for an own venv whose fixture is incomplete.  MLflow 3.2.0-3.3.2 do not
# cap OpenTelemetry, and their span processor fails with opentelemetry-sdk >= 1.40 ("'MlflowV3SpanProcessor'
# object has no attribute '_shutdown'"), so no trace reaches the store; a contemporary SDK fixes it.
OWN_PINS = [[], ["opentelemetry-sdk<1.40", "opentelemetry-api<1.40"]]


def run_own(v, log=print, pins=()):
    """The release in a venv of its own, with the dependencies pip resolves for it (plus pins)."""
    tag = "" if not pins else "-pinned"
    venv = WORK / "own" / f"{v}{tag}"
    py = venv / "bin" / "python"
    specs = [f"mlflow=={v}", "sqlalchemy<2.1", *pins]
    if not (venv / ".installed").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(venv)])
        p = run([str(py), "-m", "pip", "install", "-q", *specs])
        if p.returncode:
            log(f"  {v}: own venv install failed: {p.stderr[-500:]}")
            return {"ok": False, "error": "own venv install failed: " + p.stderr[-1000:]}
        (venv / ".installed").write_text("ok")
    res = _worker_run(py, WORK / "tmp" / f"{v}.own.json")
    res["how"] = "own venv: pip install " + " ".join(repr(x) if "<" in x else x for x in specs)
    return res


def evaluate(v, log=print, own=False):
    """Run all probes on release v (cached).  Base venv first; an own venv when the base run fails or
    its fixture is incomplete (a newer dependency broke e.g. trace logging), or when own=True."""
    cache = WORK / ("results-own" if own else "results")
    out = cache / f"{v}.json"
    if out.exists():
        return json.loads(out.read_text())
    cache.mkdir(parents=True, exist_ok=True)
    (WORK / "tmp").mkdir(parents=True, exist_ok=True)
    if own:
        res = run_own(v, log)
    else:
        res = run_base(v, log)
        good = res.get("ok") and res.get("version") == v
        if not good or fixture_problems(res):
            why = fixture_problems(res) if good else (res.get("error") or "")[-300:]
            for pins in OWN_PINS:
                log(f"  {v}: base venv run {'incomplete' if good else 'failed'} ({why}); trying an own venv {pins}")
                res2 = run_own(v, log, pins)
                if res2.get("ok") and res2.get("version") == v and not fixture_problems(res2):
                    res2["base_run_problem"] = why
                    res = res2
                    break
            else:
                log(f"  {v}: no own venv gave a complete fixture; keeping the {'base' if good else 'failed'} run")
    if res.get("ok") and res.get("version") == v:
        out.write_text(json.dumps(res, indent=1, sort_keys=True))
    else:
        log(f"  {v}: FAILED: {(res.get('error') or '')[-800:]}")
    return res


def label(r):
    """The behaviour that the bisection compares: kind, HTTP status, and the count for ok."""
    if r is None:
        return "missing"
    if r["kind"] == "ok":
        return f"ok (n={r['n']})"
    if r["kind"] in ("rejected", "crash"):
        return f"{r['kind']} ({r['status']})"
    return r["kind"]


def short(r):
    return r["kind"] if r else "missing"


def bisect(finals, log=print):
    results = {}
    for v in SEEDS:
        log(f"run {v} (seed)")
        results[v] = evaluate(v, log)
    keys = [probe_key(a, f) for a, f in all_probes()]
    while True:
        done = [v for v in finals if results.get(v, {}).get("ok")]
        want = set()
        for k in keys:
            for a, b in zip(done, done[1:]):
                if label(results[a]["probes"].get(k)) != label(results[b]["probes"].get(k)):
                    ia, ib = finals.index(a), finals.index(b)
                    if ib - ia > 1:
                        want.add(finals[(ia + ib) // 2])
        want -= set(results)
        if not want:
            return results
        for v in sorted(want, key=vparse):
            log(f"run {v} (bisect)")
            results[v] = evaluate(v, log)


def transitions(results, order, key):
    """[(last_old, first, old_label, new_label)] between consecutive runs in `order`."""
    done = [v for v in order if results.get(v, {}).get("ok")]
    out = []
    for a, b in zip(done, done[1:]):
        la, lb = label(results[a]["probes"].get(key)), label(results[b]["probes"].get(key))
        if la != lb:
            out.append((a, b, results[a]["probes"].get(key), results[b]["probes"].get(key)))
    return out


def rc_check(results, finals, pres, log=print):
    """For boundaries whose first final release is X.Y.0, run that release's rcs too."""
    firsts = set()
    for _id, api, f, _s in PRIMARY:
        for a, b, _ra, _rb in transitions(results, finals, probe_key(api, f)):
            firsts.add((a, b))
    for a, b in sorted(firsts, key=lambda p: vparse(p[1])):
        for pre in pres:
            if vparse(a) < vparse(pre) < vparse(b):
                if pre not in results:
                    log(f"run {pre} (rc at boundary {a} -> {b})")
                    results[pre] = evaluate(pre, log)


def yaml_str(s):
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def old_new(ra, rb):
    """User-facing old/new words; ok is refined with the count only when both sides are ok."""
    a, b = short(ra), short(rb)
    if a == b == "ok":
        return (f"ok (n={ra['n']})", f"ok (n={rb['n']})")
    if a == b:  # same kind, other status
        return (label(ra), label(rb))
    return a, b


def write_outputs(results, finals, pres, mode):
    ran = [v for v in sorted(results, key=vparse) if results[v].get("ok")]
    failed = [v for v in sorted(results, key=vparse) if not results[v].get("ok")]
    ran_finals = [v for v in ran if v in finals]
    entries, table = [], []
    for pid, api, f, summary in PRIMARY:
        key = probe_key(api, f)
        trs = transitions(results, finals, key)
        if pid != "logged-models-api":  # the API's appearance is recorded once, by logged-models-api
            trs = [t for t in trs if short(t[2]) != "unsupported"]
        if not trs:
            r0 = results[ran_finals[-1]]["probes"].get(key)
            table.append((pid, api, f, "no change", label(r0), "", "", ""))
            continue
        for i, (a, b, ra, rb) in enumerate(trs):
            old, new = old_new(ra, rb)
            eid, summ = pid, summary
            if len(trs) > 1:  # e.g. registry IS NULL: 400 -> 500 (crash starts) -> 400 (crash fixed)
                if short(rb) == "crash":
                    eid, summ = f"{pid}-crash", f"{summary}: crashes (500) instead of a 400"
                elif short(ra) == "crash":
                    eid, summ = f"{pid}-crash-fixed", f"{summary}: a clean 400 again instead of the 500"
                else:
                    eid = f"{pid}-{i + 1}"
            if finals.index(b) - finals.index(a) != 1:
                summ += f" (NOT EXACT: releases between {a} and {b} were not run)"
            rcs = [p for p in pres if vparse(a) < vparse(p) < vparse(b) and results.get(p, {}).get("ok")]
            rc_note = ", ".join(f"{p}: {label(results[p]['probes'].get(key))}" for p in rcs)
            entries.append({"id": eid, "api": api, "filter": f, "old": old, "new": new,
                            "last_old": a, "first": b, "summary": summ})
            table.append((eid, api, f, "change", old, new, a, b, rc_note, ra, rb))
    lines = [
        "# First MLflow release for each search-filter behaviour change.",
        "# Produced by tests/compat/bisect_releases.py on real SQLite stores (see first_releases.md).",
        "# last_old / first are FINAL releases (release candidates are listed in first_releases.md).",
        "# old/new: ok | rejected (MlflowException 4xx) | crash (other exception or 5xx) | unsupported;",
        "# value-str/value-int: the type of the value SearchUtils.parse_search_filter returns.",
    ]
    for e in entries:
        lines.append(f"- id: {e['id']}")
        for k in ("api", "filter", "old", "new", "last_old", "first", "summary"):
            lines.append(f"  {k}: {yaml_str(e[k])}")
    (HERE / "first_releases.yaml").write_text("\n".join(lines) + "\n")

    md = ["# First MLflow releases for search-filter behaviour changes", "",
          "Generated by `tests/compat/bisect_releases.py` (rerunnable; see its docstring). "
          "Each row was found by running the releases themselves on a fresh SQLite tracking + registry store "
          "(MLflow's own `SqlAlchemyStore`), with a run, an experiment, a registered model and version, a logged model "
          "(3.x) and a trace logged, calling the store's search method with the keyword arguments the tracking "
          "server's handlers use.", "",
          "Outcome: `ok (n=…)` the search ran (result count); `rejected (4xx)` an `MlflowException` with a 4xx status; "
          "`crash (500)` any other exception or a 5xx `MlflowException`; `unsupported` the API is absent. "
          "`value-str`/`value-int`: type of the value in `SearchUtils.parse_search_filter` output.", "",
          "**Releases counted:** final releases only (`last_old`/`first` are always final releases). "
          "Where the first release is an `X.Y.0` with release candidates, the rcs were run too and are shown in the "
          "last column for information.", "",
          "| id | api | filter | old | new | last_old | first | rcs between |",
          "|---|---|---|---|---|---|---|---|"]
    for row in table:
        if row[3] == "no change":
            md.append(f"| {row[0]} | {row[1]} | `{row[2]}` | {row[4]} (no change from {LOW} to {HIGH}) | | | | |")
        else:
            eid, api, f, _c, old, new, a, b, rc_note, ra, rb = row
            md.append(f"| {eid} | {api} | `{f}` | {old} | {new} | {a} | {b} | {rc_note} |")
    md += ["", "## Notes", ""] + [f"* {n}" for n in NOTES]
    md += ["", "## Messages at each boundary", ""]
    for row in table:
        if row[3] == "change":
            eid, api, f, _c, old, new, a, b, rc_note, ra, rb = row
            md.append(f"* **{eid}** `{f}`: {a}: {label(ra)} {('`' + ra.get('msg', '')[:200] + '`') if ra.get('msg') else ''}"
                      f" → {b}: {label(rb)} {('`' + rb.get('msg', '')[:200] + '`') if rb.get('msg') else ''}")
    # other changes seen
    md += ["", "## Other changes seen among the releases run (extra probes)", "",
           "Only between releases that were actually run, so a boundary is exact only when the two releases are "
           "adjacent in the list below" + (" (in `--all` mode they all are)." if mode == "all" else "."), ""]
    primary_keys = {probe_key(a, f) for _i, a, f, _s in PRIMARY}
    for api, f in all_probes():
        key = probe_key(api, f)
        if key in primary_keys:
            continue
        for a, b, ra, rb in transitions(results, ran_finals, key):
            adj = finals.index(b) - finals.index(a) == 1
            md.append(f"* {api} `{f if f is not None else '(no filter)'}`: {a} {label(ra)} → {b} {label(rb)}"
                      f"{'' if adj else ' (not adjacent: boundary somewhere in between)'}"
                      f"{(' — new: `' + rb.get('msg', '')[:160] + '`') if rb.get('msg') else ''}"
                      f"{(' — old: `' + ra.get('msg', '')[:160] + '`') if ra.get('msg') else ''}")
    own_dir = WORK / "results-own"
    own = {q.stem: json.loads(q.read_text()) for q in own_dir.glob("*.json")} if own_dir.exists() else {}
    own = {v: r for v, r in own.items() if v in results and results[v].get("ok")}
    if own:
        md += ["", "## Cross-check: the same releases in venvs of their own", "",
               "These releases were also run in a venv with the dependencies pip resolves for that release "
               "(`--own`), to rule out effects of the shared base venv's newer dependencies. Probes whose "
               "outcome differs:", ""]
        for v in sorted(own, key=vparse):
            diffs = [k for k in results[v]["probes"]
                     if label(results[v]["probes"][k]) != label(own[v]["probes"].get(k))]
            md.append(f"* {v} ({own[v].get('how')}): " + ("none" if not diffs else "; ".join(
                f"`{k}` {label(results[v]['probes'][k])} vs own {label(own[v]['probes'].get(k))}" for k in diffs)))
    md += ["", "## Releases", "",
           f"Candidates (final releases from {LOW} to {HIGH} on the configured index): {', '.join(finals)}.", "",
           f"Pre-releases in range (run only at a boundary): {', '.join(pres)}.", "",
           f"Run ({mode} mode): {', '.join(ran)}.", ""]
    if failed:
        md.append(f"Could not run: {', '.join(failed)}.")
        md.append("")
    by_how = {}
    for v in ran:
        h = re.sub(r" \(mlflow==.*\)$", " (mlflow, mlflow-skinny, mlflow-tracing of that version where they exist)",
                   (results[v].get("how") or "").replace(f"=={v}", "==<v>"))
        by_how.setdefault(h, []).append(v)
    md += ["How each release was installed:", ""] + [f"* {h}: {', '.join(vs)}" for h, vs in by_how.items()] + [""]
    md += ["## Method", "",
           "* Base venv: `pip install mlflow==3.17.2 'sqlalchemy<2.1'`, then mlflow/mlflow-skinny/mlflow-tracing "
           "uninstalled. Each release: `pip install --no-deps --target rel/<v> mlflow==<v>` plus mlflow-skinny and "
           "mlflow-tracing of the same version where the index has them, run with `PYTHONPATH=rel/<v>` (the worker checks "
           "`mlflow.__version__` and `mlflow.__file__`). A release that fails there, or whose fixture is incomplete (no trace logged), gets a venv of its own with the dependencies pip resolves for it, then with contemporary pins (`OWN_PINS`).",
           "* Seeds 2.22.1, 3.17.2, 3.18.0; then bisection over the final releases for every probe (primary and extra) "
           "until each change lies between two adjacent final releases (the boundary pair is always run). "
           "`--all` then ran every final release; it found the same boundaries (no probe changes back and forth "
           "except the registry IS NULL crash, which the 3.17.2 seed catches).",
           "* Notes logged by the worker (fixture problems) are in the cached JSON results.", ""]
    notes = {}
    for v in ran:
        for n in results[v].get("notes", []):
            if not n.startswith("experiment id"):
                notes.setdefault(n, []).append(v)
    if notes:
        md += ["Fixture notes:", ""] + [f"* {n} ({', '.join(vs)})" for n, vs in notes.items()] + [""]
    (HERE / "first_releases.md").write_text("\n".join(md))


def main(argv):
    if argv[:1] == ["--worker"]:
        return worker(argv[1])
    WORK.mkdir(parents=True, exist_ok=True)
    finals, pres = candidates()
    print(f"{len(finals)} final releases: {' '.join(finals)}")
    print(f"pre-releases: {' '.join(pres)}")
    mode = "bisect"
    if "--only" in argv or "--own" in argv:
        own = "--own" in argv
        for v in argv[argv.index("--own" if own else "--only") + 1:]:
            r = evaluate(v, own=own)
            print(v, "ok" if r.get("ok") else "FAILED", r.get("how"))
        return 0
    results = {}
    cached = {p.stem: json.loads(p.read_text()) for p in (WORK / "results").glob("*.json")} if (WORK / "results").exists() else {}
    if "--report" in argv:
        results = {v: r for v, r in cached.items() if v in finals or v in pres}
        mode = "all" if all(v in results for v in finals) else "bisect"
    elif "--all" in argv:
        mode = "all"
        for v in finals:
            print(f"run {v}")
            results[v] = evaluate(v)
        rc_check(results, finals, pres)
    else:
        results = bisect(finals)
        rc_check(results, finals, pres)
    write_outputs(results, finals, pres, mode)
    print("wrote", HERE / "first_releases.yaml", HERE / "first_releases.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
