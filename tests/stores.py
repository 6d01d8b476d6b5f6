"""Real MLflow tracking stores for the store tests: built and filled by MLflow 3.17.2's own code.

`build_store(uri, artifact_dir)` lets MLflow create its tables (SqlAlchemyStore for tracking and
registry), then logs a deterministic data set with `MlflowClient(tracking_uri=uri)`: several
experiments, a few hundred runs with params (case and numeric-spelling variants), metrics (NaN,
infinities, several steps), tags, run names, every status, deleted runs, dataset inputs with
contexts, registered models and versions with tags, logged models and traces. It returns a
`Logged` record of what it logged, written independently of mlfilter: tests derive expected
schemas and the values of random filters from it.

Databases: `server_database(kind)` creates a fresh PostgreSQL or MariaDB database (and drops it
after); `readonly_uri(kind, uri)` creates a login that may only read it. `mlflow_server(uri)`
runs a real `mlflow server` process on a free port of 127.0.0.1.

Calls into MLflow run with PYTEST_CURRENT_TEST hidden: MLflow's session maker installs a test-only
"read-only session" tripwire when it sees it, which a real deployment never has.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import random
import socket
import subprocess
import sys
import time
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
MYSQL_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/"
T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms: fixed, so that stores are comparable
SEED = 20260101

# What the runs log. Case variants and numeric spellings on purpose: they are what MF502 is for.
OPTIMIZERS = ["adam"] * 6 + ["Adam", "ADAM", "sgd", "sgd", "SGD", "rmsprop"]
LEARNING_RATES = ["0.001", "0.001", "1e-3", "0.0010", "0.01", "0.01", "0.1", ".1", "1E-2"]
BATCH_SIZES = ["32", "64", "64", "128", "032"]
MODELS = {"vision": ["cnn", "cnn", "resnet-50", "ResNet-50"],
          "nlp": ["bert base", "bert_base", "gpt-2"],
          "tabular": ["xgboost", "lightgbm"]}
NOTES = ["50% off", "it's", "a_b", "plain", "C:\\temp"]
TEAMS = {"vision": ["vision", "vision", "Vision"], "nlp": ["nlp"], "tabular": ["tabular", "data"]}
STAGES = ["dev", "dev", "prod", "Prod"]
STATUSES = ["FINISHED"] * 6 + ["FAILED", "KILLED", "RUNNING", "SCHEDULED"]
USERS = ["alice", "bob", "carol"]
RUNS_PER_EXPERIMENT = {"vision": 130, "nlp": 80, "tabular": 45}  # tabular: < SAMPLE_SIZE names


@dataclass
class RunRecord:
    run_id: str
    experiment: str  # name
    name: str
    status: str
    deleted: bool
    user: str
    start_time: int
    end_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)  # latest values
    tags: dict[str, str] = field(default_factory=dict)  # user tags (mlflow.runName included)
    datasets: list[tuple[str, str, str]] = field(default_factory=list)  # name, digest, context


@dataclass
class Logged:
    uri: str
    experiments: dict[str, str] = field(default_factory=dict)  # name -> id
    runs: list[RunRecord] = field(default_factory=list)
    registered_models: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> tags
    model_version_tags: dict[str, set[str]] = field(default_factory=dict)  # key -> values
    logged_model_params: dict[str, set[str]] = field(default_factory=dict)
    logged_model_tags: dict[str, set[str]] = field(default_factory=dict)
    trace_tags: dict[str, set[str]] = field(default_factory=dict)
    build_seconds: float = 0.0

    def runs_of(self, experiment_ids=None, view_type: int = 1) -> list[RunRecord]:
        """The runs a search over these experiment ids (None: all) and view type looks at."""
        names = {n for n, i in self.experiments.items()
                 if experiment_ids is None or i in set(map(str, experiment_ids))}
        keep = {1: (False,), 2: (True,), 3: (False, True)}[view_type]
        return [r for r in self.runs if r.experiment in names and r.deleted in keep]

    def values(self, part: str, key: str, experiment_ids=None) -> set[str]:
        return {getattr(r, part)[key] for r in self.runs_of(experiment_ids, 3)
                if key in getattr(r, part)}

    def keys(self, part: str, experiment_ids=None) -> set[str]:
        return {k for r in self.runs_of(experiment_ids, 3) for k in getattr(r, part)}


# ---- quiet calls into MLflow ------------------------------------------------------------------

@contextlib.contextmanager
def quiet_mlflow(quiet: bool = True):
    """Call into MLflow as a real process would: PYTEST_CURRENT_TEST hidden; with `quiet`,
    its warnings and logs below ERROR silenced (restored afterwards)."""
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)
    names = ("mlflow", "alembic", "sqlalchemy", "urllib3", "opentelemetry") if quiet else ()
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            for name in names:
                logging.getLogger(name).setLevel(logging.ERROR)
            yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved


@contextlib.contextmanager
def _env(**values):
    saved = {k: os.environ.get(k) for k in values}
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def search_count(uri: str, experiment_ids, filter_string: str, view_type: int = 1) -> int:
    """How many runs MLflow's own search returns (one call; MLflow's maximum page size)."""
    from mlflow import MlflowClient

    with quiet_mlflow():
        runs = MlflowClient(tracking_uri=uri).search_runs(
            [str(i) for i in experiment_ids], filter_string, run_view_type=view_type,
            max_results=50000)
    return len(runs)


# ---- the data set -----------------------------------------------------------------------------

def create_tables(uri: str, artifact_dir: str) -> None:
    """MLflow creates its tables itself (alembic migrations to its head revision)."""
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    with quiet_mlflow():
        tracking = TrackingStore(uri, Path(artifact_dir).as_uri())
        RegistryStore(uri)
        tracking.engine.dispose()


def build_store(uri: str, artifact_dir: str, runs_per_experiment=None, seed: int = SEED) -> Logged:
    t0 = time.perf_counter()
    create_tables(uri, artifact_dir)
    with quiet_mlflow():
        logged = _fill(uri, artifact_dir, runs_per_experiment or RUNS_PER_EXPERIMENT, seed)
    logged.build_seconds = time.perf_counter() - t0
    return logged


def _fill(uri, artifact_dir, sizes, seed) -> Logged:
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    rng = random.Random(seed)
    client = MlflowClient(tracking_uri=uri)
    logged = Logged(uri)
    for name in sizes:
        logged.experiments[name] = client.create_experiment(
            f"store-{name}", artifact_location=Path(artifact_dir, name).as_uri(),
            tags={"team": name, "purpose": "mlfilter tests"})
    # experiment names in the record are the short names; the store's are "store-<name>"
    index = 0
    for exp, n_runs in sizes.items():
        eid = logged.experiments[exp]
        for i in range(n_runs):
            index += 1
            deleted = i % 13 == 5
            model = rng.choice(MODELS[exp])
            name = f"{model.replace(' ', '-')}-{i}" if i % 10 else rng.choice(
                ["baseline", "Baseline", "baseline-v2"])
            user = rng.choice(USERS)
            start = T0 + index * 60_000
            tags = {"mlflow.runName": name, "mlflow.user": user, "team": rng.choice(TEAMS[exp]),
                    "stage": rng.choice(STAGES)}
            if i % 4 == 0:
                tags["priority"] = rng.choice(["1", "2", "10"])
            if deleted:
                tags["archived"] = "yes"
            run = client.create_run(eid, start_time=start, tags=tags, run_name=name)
            rid = run.info.run_id
            params = {"model": model, "seed": str(i % 7)}
            if exp != "tabular":
                params["optimizer"] = rng.choice(OPTIMIZERS)
                params["lr"] = rng.choice(LEARNING_RATES)
            if i % 9 != 3:
                params["batch_size"] = rng.choice(BATCH_SIZES)
            if i % 3 == 0:
                params["dropout"] = rng.choice(["0.1", "0.25", "0.5"])
                params["use_aug"] = rng.choice(["true", "True", "false"])
            if i % 5 == 1:
                params["note"] = rng.choice(NOTES)
            if exp == "nlp":
                params["hidden size"] = rng.choice(["256", "512"])
                params["tokenizer"] = rng.choice(["wordpiece", "bpe"])
            if exp == "tabular":
                params["n_estimators"] = rng.choice(["100", "200", "1000"])
                params["max_depth"] = rng.choice(["3", "6", "None"])
            if deleted and exp == "vision":
                params["legacy_flag"] = "1"  # only deleted runs have it
            accuracy = round(rng.uniform(0.55, 0.97), 4)
            metrics = {"accuracy": accuracy}
            loss = float("nan") if i % 17 == 2 else round(1.0 - accuracy + rng.uniform(0, 0.1), 4)
            metrics["loss"] = loss
            if exp == "vision":
                metrics["big"] = (float("inf") if i % 31 == 7 else float("-inf") if i % 31 == 8
                                  else float(rng.choice([1e6, 2e6])))
            if exp == "nlp":
                metrics["f1"] = round(rng.uniform(0.4, 0.9), 3)
            if exp == "tabular":
                metrics["rmse"] = round(rng.uniform(1.0, 20.0), 2)
                metrics["neg"] = float(-rng.randint(1, 5))
            if i % 6 == 0:
                metrics["val_loss"] = round(rng.uniform(0.1, 0.9), 3)
            batch = []
            for key, value in metrics.items():
                if key == "accuracy":  # several steps: the latest (step 2) is what search sees
                    batch += [Metric(key, round(value / 2, 4), start + 1, 0),
                              Metric(key, round(value * 0.9, 4), start + 2, 1)]
                batch.append(Metric(key, value, start + 3, 2))
            client.log_batch(rid, metrics=batch, params=[Param(k, v) for k, v in params.items()],
                             tags=[RunTag("env", "test")] if i % 8 == 0 else [])
            if i % 8 == 0:
                tags["env"] = "test"
            datasets = []
            if exp in ("vision", "nlp") and i % 3 == 0:
                ds = ("cifar10", "c1f4r", "training") if exp == "vision" else \
                    ("squad", "5qu4d", rng.choice(["training", "Training"]))
                datasets.append(ds)
            if exp == "vision" and i % 5 == 0:
                datasets.append(("cifar10-test", "t35t", "eval"))
            if datasets:
                client.log_inputs(rid, [
                    DatasetInput(Dataset(name=n, digest=d, source_type="local",
                                         source=f"/data/{n}"),
                                 tags=[InputTag("mlflow.data.context", c)])
                    for n, d, c in datasets])
            status = "RUNNING" if i == n_runs - 1 else rng.choice(STATUSES)
            end = None
            if status == "SCHEDULED":
                client.update_run(rid, status="SCHEDULED")
            elif status != "RUNNING":
                end = start + 30_000
                client.set_terminated(rid, status=status, end_time=end)
            if deleted:
                client.delete_run(rid)
            logged.runs.append(RunRecord(rid, exp, name, status, deleted, user, start, end,
                                         params, metrics, tags, datasets))
    _registry_and_models(client, logged, artifact_dir)
    _traces(uri, logged)
    return logged


def _registry_and_models(client, logged: Logged, artifact_dir: str) -> None:
    from mlflow.entities import Metric

    models = {"vision-classifier": {"owner": "vision", "stage": "prod"},
              "nlp-bert": {"owner": "nlp"}, "Tabular-GBM": {}}
    for name, tags in models.items():
        client.create_registered_model(name, tags=tags)
        logged.registered_models[name] = tags
    first = {r.experiment: r for r in reversed(logged.runs) if not r.deleted}
    for name, exp, tags in (("vision-classifier", "vision", {"validated": "true"}),
                            ("vision-classifier", "vision", {"validated": "false"}),
                            ("nlp-bert", "nlp", {"validated": "true", "lang": "en"}),
                            ("Tabular-GBM", "tabular", {})):
        run = first.get(exp)
        if run is None:
            continue
        client.create_model_version(name, source=Path(artifact_dir, "model").as_uri(),
                                    run_id=run.run_id, tags=tags)
        for k, v in tags.items():
            logged.model_version_tags.setdefault(k, set()).add(v)
    for exp, name, params, tags in (
        ("vision", "cnn-export", {"epochs": "10", "quant": "int8"}, {"framework": "torch"}),
        ("vision", "resnet-export", {"epochs": "20"}, {"framework": "torch", "tier": "gold"}),
        ("nlp", "bert-export", {"max_len": "512"}, {"framework": "hf"}),
    ):
        run = first.get(exp)
        if run is None:
            continue
        model = client.create_logged_model(logged.experiments[exp], name=name,
                                           source_run_id=run.run_id, tags=tags, params=params)
        score = 0.5 + len(name) / 100
        client.log_batch(run.run_id, metrics=[Metric("eval_score", score, T0, 0,
                                                     model_id=model.model_id)])
        # a model's metric is the run's too; same step and time: the latest is the largest
        run.metrics["eval_score"] = max(score, run.metrics.get("eval_score", score))
        for k, v in params.items():
            logged.logged_model_params.setdefault(k, set()).add(v)
        for k, v in tags.items():
            logged.logged_model_tags.setdefault(k, set()).add(v)


def _traces(uri: str, logged: Logged) -> None:
    """Two traces in the nlp experiment, through the fluent API exporting synchronously."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.tracking import fluent
    from mlflow.tracking._tracking_service import utils as tracking_utils

    eid = logged.experiments.get("nlp")
    if eid is None:
        return
    saved = fluent._active_experiment_id
    ids = []
    with _env(MLFLOW_ENABLE_ASYNC_TRACE_LOGGING="false", MLFLOW_EXPERIMENT_ID=None,
              MLFLOW_EXPERIMENT_NAME=None), tracking_utils._use_tracking_uri(uri):
        try:
            fluent._active_experiment_id = eid
            for question in ("hello", "bye"):
                with mlflow.start_span(name="answer", span_type="CHAIN") as span:
                    span.set_inputs({"q": question})
                    span.set_outputs({"a": question[::-1]})
                ids.append(mlflow.get_last_active_trace_id())
        finally:
            fluent._active_experiment_id = saved
    client = MlflowClient(tracking_uri=uri)
    for trace_id, env in zip(ids, ("prod", "dev")):
        client.set_trace_tag(trace_id, "env", env)
        logged.trace_tags.setdefault("env", set()).add(env)


def wide_store(uri: str, artifact_dir: str, distinct: int = 5000) -> None:
    """A store with one param of `distinct` values (one run each), logged by MLflow's client."""
    from mlflow import MlflowClient
    from mlflow.entities import Param, RunTag

    create_tables(uri, artifact_dir)
    with quiet_mlflow():
        client = MlflowClient(tracking_uri=uri)
        eid = client.create_experiment("wide", artifact_location=Path(artifact_dir).as_uri())
        for i in range(distinct):
            run = client.create_run(eid, start_time=T0 + i)
            client.log_batch(run.info.run_id, params=[Param("token", f"tok-{i:05d}"),
                                                      Param("constant", "same")],
                             tags=[RunTag("shard", str(i % 3))])


# ---- database servers -------------------------------------------------------------------------

def server_available(kind: str) -> str | None:
    """None when the server answers; else why not (a skip reason)."""
    import sqlalchemy as sa

    url = PG_ADMIN if kind == "postgresql" else MYSQL_ADMIN
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except ModuleNotFoundError as e:
        return f"{kind}: the driver is not installed ({e.name})"
    except Exception as e:  # noqa: BLE001 - any failure means "no server here"
        line = str(getattr(e, "orig", e)).strip().splitlines()
        return f"no {kind} server at 127.0.0.1 ({line[0] if line else type(e).__name__})"


def _admin(kind: str):
    import sqlalchemy as sa

    url = PG_ADMIN if kind == "postgresql" else MYSQL_ADMIN
    return sa.create_engine(url, isolation_level="AUTOCOMMIT")


def fresh_name(prefix: str = "mlfilter_t") -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def create_database(kind: str, name: str) -> str:
    """CREATE DATABASE name; returns its URI (the admin user, no password)."""
    import sqlalchemy as sa

    engine = _admin(kind)
    with engine.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine.dispose()
    if kind == "postgresql":
        return f"postgresql://postgres@127.0.0.1:5432/{name}"
    return f"mysql+pymysql://root@127.0.0.1:3306/{name}"


def drop_database(kind: str, name: str, roles=()) -> None:
    import sqlalchemy as sa

    engine = _admin(kind)
    with engine.connect() as conn:
        if kind == "postgresql":
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            for role in roles:
                conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        else:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
            for role in roles:
                conn.execute(sa.text(f"DROP USER IF EXISTS '{role}'@'%'"))
                conn.execute(sa.text(f"DROP USER IF EXISTS '{role}'@'localhost'"))
    engine.dispose()


def create_reader(kind: str, database: str, role: str) -> str:
    """A login that may only read `database`: SELECT on its tables (and USAGE on PostgreSQL's
    schema), nothing else. Returns the URI that logs in as it."""
    import sqlalchemy as sa

    if kind == "postgresql":
        engine = _admin(kind)
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(sa.text(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"'))
        engine.dispose()
        engine = sa.create_engine(f"postgresql://postgres@127.0.0.1:5432/{database}",
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text('REVOKE CREATE ON SCHEMA public FROM PUBLIC'))
            conn.execute(sa.text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
            conn.execute(sa.text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
        engine.dispose()
        return f"postgresql://{role}@127.0.0.1:5432/{database}"
    engine = _admin(kind)
    with engine.connect() as conn:
        for host in ("%", "localhost"):
            conn.execute(sa.text(f"CREATE USER '{role}'@'{host}'"))
            conn.execute(sa.text(f"GRANT SELECT ON `{database}`.* TO '{role}'@'{host}'"))
    engine.dispose()
    return f"mysql+pymysql://{role}@127.0.0.1:3306/{database}"


# ---- processes, ports, files ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    return free_port()


@contextlib.contextmanager
def silent_server():
    """A TCP port that accepts connections and never answers: a store that hangs."""
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held, stop = [], threading.Event()

    def accept():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        sock.close()


def start_mlflow_server(backend_uri: str, artifact_dir: str, timeout: float = 180,
                        args=(), env=None) -> dict:
    """Start `mlflow server` on 127.0.0.1:<free port>, backed by `backend_uri`, in its own
    process group; returns {"url", "pgid", "log"} once /health answers. `args` are more
    options (`--app-name mlfilter`), `env` more environment variables."""
    import urllib.request

    port = free_port()
    exe = Path(sys.executable).with_name("mlflow")
    cmd = [str(exe), "server", "--host", "127.0.0.1", "--port", str(port),
           "--backend-store-uri", backend_uri, "--default-artifact-root",
           Path(artifact_dir).as_uri(), "--workers", "1", *args]
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}, **(env or {})}
    Path(artifact_dir).mkdir(parents=True, exist_ok=True)
    log_path = Path(artifact_dir, f"server-{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"mlflow server exited ({proc.returncode}): "
                               + log_path.read_text(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as r:
                if r.status == 200:
                    return {"url": url, "pgid": proc.pid, "log": str(log_path)}
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_mlflow_server({"pgid": proc.pid})
            raise RuntimeError(f"mlflow server did not start within {timeout:.0f} s: "
                               + log_path.read_text(errors="replace")[-2000:])
        time.sleep(0.3)


def stop_mlflow_server(server: dict) -> None:
    """SIGTERM to the server's process group (the one start_mlflow_server made), then SIGKILL."""
    import signal

    pgid = server["pgid"]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pgid, os.WNOHANG)
        time.sleep(0.2)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pgid, os.WNOHANG)


@contextlib.contextmanager
def shared(directory, name: str, create, destroy=None):
    """A resource shared by the pytest-xdist workers of one run (or by one plain session):
    created by the first that needs it, destroyed by the last that lets it go. `create()`
    returns a picklable value; a lock file serializes the workers."""
    import fcntl
    import pickle

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state_path = directory / f"{name}.state"

    @contextlib.contextmanager
    def locked():
        with open(directory / f"{name}.lock", "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def load():
        return pickle.loads(state_path.read_bytes()) if state_path.exists() else {
            "users": 0, "value": None}

    with locked():
        state = load()
        if state["value"] is None:
            state["value"] = create()
        state["users"] += 1
        state_path.write_bytes(pickle.dumps(state))
    try:
        yield state["value"]
    finally:
        with locked():
            state = load()
            state["users"] -= 1
            if state["users"] == 0 and destroy is not None:
                try:
                    destroy(state["value"])
                finally:
                    state["value"] = None
            state_path.write_bytes(pickle.dumps(state))


def run_cli_here(capfd, args) -> subprocess.CompletedProcess:
    """run_cli's result, from `mlfilter.cli.main` in this process (see cli)."""
    status, out, err = cli(capfd, *args)
    return subprocess.CompletedProcess(["mlfilter", *args], status, out, err)


def cli(capfd, *args) -> tuple[int, str, str]:
    """`mlfilter ARGS` in this process (mlfilter.cli.main), with everything written to the
    process's stdout and stderr (logging included) captured: (status, stdout, stderr)."""
    from mlfilter.cli import main

    capfd.readouterr()
    with quiet_mlflow(quiet=False):
        status = main(list(args))
    out, err = capfd.readouterr()
    return status, out, err


def file_digest(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_digest(directory) -> dict[str, str]:
    """Every file under `directory` and its hash: files added or changed show up."""
    return {str(p.relative_to(directory)): file_digest(p)
            for p in sorted(Path(directory).rglob("*")) if p.is_file()}


def run_cli(args, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """`python -m mlfilter ARGS` as a separate process, text output."""
    full_env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    full_env.update({"NO_COLOR": "1", **(env or {})})
    return subprocess.run([sys.executable, "-m", "mlfilter", *args], capture_output=True,
                          text=True, timeout=timeout, env=full_env, check=False)


def run_cli_many(arg_lists, timeout: float = 60) -> list[subprocess.CompletedProcess]:
    """Several `python -m mlfilter` processes at once (they mostly wait on stores); raises
    subprocess.TimeoutExpired for the first one still running `timeout` seconds after the start
    (all are killed then)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["NO_COLOR"] = "1"
    procs = [subprocess.Popen([sys.executable, "-m", "mlfilter", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for args in arg_lists]
    deadline = time.monotonic() + timeout
    out = []
    try:
        for args, proc in zip(arg_lists, procs):
            stdout, stderr = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            out.append(subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    return out


def isnan(x) -> bool:
    return isinstance(x, float) and math.isnan(x)


# ---- random filters over what was logged (hypothesis) -----------------------------------------

NEAR_MISS_KEYS = {
    "params": ["Optimizer", "learning_rate", "batchsize", "momentum", "accuracy", "team", "LR",
               "hidden_size"],
    "tags": ["Team", "owner", "model", "mlflow.runname", "Stage", "optimizer"],
    "metrics": ["acc", "Accuracy", "lr", "val-loss", "f1_score", "model"],
}
PREFIXES = {"params": ["params.", "param.", "parameters.", "parameter."],
            "tags": ["tags.", "tag."], "metrics": ["metrics.", "metric."]}
STRING_OPS = ["=", "=", "!=", "LIKE", "ILIKE"]
NUM_OPS = ["=", "!=", "<", "<=", ">", ">="]


def quote(value: str) -> str:
    return f'"{value}"' if "'" in value else f"'{value}'"


def name(key: str) -> str:
    import re

    return key if re.fullmatch(r"[A-Za-z_][\w.]*", key) else f"`{key}`"


def near_values(value: str) -> list[str]:
    """The value, and spellings of it that a person might search for instead."""
    out = [value, value.upper(), value.lower(), value.title(), value + " ", " " + value]
    try:
        x = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(x):
            out += [repr(x), f"{x:g}", "0" + value]
            if x == int(x):
                out += [str(int(x)), f"{int(x)}.0"]
    return out


def like_patterns(value: str, draw, st) -> str:
    k = draw(st.integers(0, len(value)))
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = draw(st.sampled_from([
        value, value[:k] + "%", "%" + value[k:], "%" + value[k:k + 2] + "%",
        value[:k] + "_" + value[k + 1:] if k < len(value) else value + "_",
        (value[:k] + "%").swapcase(), "%", "%zz%", escaped, escaped + "%",
    ]))
    return pattern if not pattern.endswith("\\") else pattern + "%"  # no escaped closing quote


def number_text(x: float) -> str:
    text = repr(float(x))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def filter_clauses(logged: Logged, with_run_ids: bool = True):
    """A strategy of (clauses, experiment ids, view type): 1-4 conditions MLflow accepts, drawn
    from the logged keys and values plus near misses (case, numeric spelling, spaces, other
    entities' keys)."""
    from hypothesis import strategies as st

    ids = sorted(logged.experiments.values())

    @st.composite
    def clause(draw):
        kind = draw(st.sampled_from(["params"] * 4 + ["tags"] * 3 + ["metrics"] * 3
                                    + ["attributes"] * 2 + ["datasets"]))
        if kind in ("params", "tags"):
            keys = sorted(logged.keys(kind)) + NEAR_MISS_KEYS[kind]
            key = draw(st.sampled_from(keys))
            left = draw(st.sampled_from(PREFIXES[kind])) + name(key)
            op = draw(st.sampled_from(STRING_OPS + ["IS NULL", "IS NOT NULL"]))
            if op.startswith("IS"):
                return f"{left} {op}"
            values = sorted(logged.values(kind, key)) or ["x"]
            value = draw(st.sampled_from(values))
            if op in ("LIKE", "ILIKE"):
                return f"{left} {op} {quote(like_patterns(value, draw, st))}"
            pool = near_values(value) + [draw(st.sampled_from(sorted(
                {v for k in logged.keys(kind) for v in logged.values(kind, k)})))]
            return f"{left} {op} {quote(draw(st.sampled_from(pool)))}"
        if kind == "metrics":
            keys = sorted(logged.keys("metrics")) + NEAR_MISS_KEYS["metrics"]
            key = draw(st.sampled_from(keys))
            left = draw(st.sampled_from(PREFIXES["metrics"])) + name(key)
            op = draw(st.sampled_from(NUM_OPS))
            finite = sorted({r.metrics[key] for r in logged.runs
                             if key in r.metrics and math.isfinite(r.metrics[key])}) or [0.5]
            x = draw(st.one_of(
                st.sampled_from(finite), st.sampled_from([finite[0], finite[-1]]),
                st.sampled_from([0, 1, 0.5, -1, 2e6, 1e300, -1e300, 1e308]),
                st.sampled_from(finite).map(lambda v: v + 0.0001),
            ))
            return f"{left} {op} {number_text(x)}"
        if kind == "attributes":
            attr = draw(st.sampled_from(["status", "run_name", "user_id", "start_time",
                                         "end_time"] + (["run_id"] if with_run_ids else [])))
            if attr in ("start_time", "end_time"):
                times = sorted({getattr(r, attr) for r in logged.runs
                                if getattr(r, attr) is not None})
                t = draw(st.sampled_from(times + [times[0] - 1, times[-1] + 1, 0]))
                return f"attributes.{attr} {draw(st.sampled_from(NUM_OPS))} {t}"
            if attr == "run_id":
                chosen = draw(st.lists(st.sampled_from([r.run_id for r in logged.runs]
                                                       + ["0" * 32]), min_size=1, max_size=4))
                op = draw(st.sampled_from(["IN", "NOT IN", "="]))
                if op == "=":
                    return f"attributes.run_id = {quote(chosen[0])}"
                return f"attributes.run_id {op} ({', '.join(map(quote, chosen))})"
            values = {"status": sorted({r.status for r in logged.runs}),
                      "run_name": sorted({r.name for r in logged.runs}),
                      "user_id": sorted({r.user for r in logged.runs})}[attr]
            value = draw(st.sampled_from(values))
            op = draw(st.sampled_from(STRING_OPS))
            left = {"status": "attributes.status", "user_id": "attributes.user_id",
                    "run_name": draw(st.sampled_from(["attributes.run_name", "run_name",
                                                      "attributes.`run name`"]))}[attr]
            if op in ("LIKE", "ILIKE"):
                return f"{left} {op} {quote(like_patterns(value, draw, st))}"
            return f"{left} {op} {quote(draw(st.sampled_from(near_values(value))))}"
        # datasets
        field_ = draw(st.sampled_from(["name", "digest", "context"]))
        values = sorted({d[("name", "digest", "context").index(field_)]
                         for r in logged.runs for d in r.datasets}) or ["x"]
        op = draw(st.sampled_from(STRING_OPS + ["IN", "NOT IN"]))
        if op in ("IN", "NOT IN"):
            chosen = draw(st.lists(st.sampled_from(values + [v.upper() for v in values]),
                                   min_size=1, max_size=3))
            return f"datasets.{field_} {op} ({', '.join(map(quote, chosen))})"
        value = draw(st.sampled_from(values))
        if op in ("LIKE", "ILIKE"):
            return f"datasets.{field_} {op} {quote(like_patterns(value, draw, st))}"
        return f"datasets.{field_} {op} {quote(draw(st.sampled_from(near_values(value))))}"

    return st.tuples(
        st.lists(clause(), min_size=1, max_size=4),
        st.lists(st.sampled_from(ids), min_size=1, max_size=len(ids), unique=True).map(sorted),
        st.sampled_from([1, 1, 2, 3]),
    )


def mlflow_accepts(filter_string: str) -> bool:
    """MLflow's own parser (what search_runs runs first) takes this filter."""
    from mlflow.utils.search_utils import SearchUtils

    try:
        SearchUtils.parse_search_filter(filter_string)
        return True
    except Exception:  # noqa: BLE001 - any rejection
        return False


# ---- big stores, written in bulk through MLflow's own SQLAlchemy models ------------------------

def default_params(i: int) -> dict[str, str]:
    return {"optimizer": OPTIMIZERS[i % len(OPTIMIZERS)],
            "lr": LEARNING_RATES[i % len(LEARNING_RATES)],
            "batch_size": BATCH_SIZES[i % len(BATCH_SIZES)],
            "model": ("cnn", "resnet-50", "bert base", "xgboost")[i % 4], "seed": str(i % 100)}


def bulk_store(uri: str, artifact_dir: str, runs: int, experiments: int = 3, params=None,
               chunk: int = 5000) -> list[str]:
    """`runs` runs spread over `experiments` experiments, with params (default_params or
    `params(i)`), tags (run name, stage, team), metrics (accuracy over 3 steps, loss; 1 in 50
    NaN) and their latest values: rows of MLflow's own models (SqlRun, SqlParam, SqlTag,
    SqlMetric, SqlLatestMetric), inserted in bulk. Experiments are created by MLflow's store.
    Returns the experiment ids."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    create_tables(uri, artifact_dir)
    params = params or default_params
    with quiet_mlflow():
        store = SqlAlchemyStore(uri, Path(artifact_dir).as_uri())
        ids = [store.create_experiment(f"bulk-{k}", Path(artifact_dir, str(k)).as_uri())
               for k in range(experiments)]
        engine = store.engine
        rng = random.Random(SEED)
        statuses = ["FINISHED"] * 7 + ["FAILED", "KILLED", "RUNNING"]
        for start in range(0, runs, chunk):
            rows = {t: [] for t in ("runs", "params", "tags", "metrics", "latest")}
            for i in range(start, min(runs, start + chunk)):
                rid = uuid.UUID(int=rng.getrandbits(128)).hex
                eid = ids[i % experiments]
                t = T0 + i * 1000
                name = f"run-{i}"
                rows["runs"].append(dict(
                    run_uuid=rid, name=name, source_type="LOCAL", user_id=USERS[i % 3],
                    status=statuses[i % len(statuses)], start_time=t, end_time=t + 500,
                    lifecycle_stage="deleted" if i % 25 == 7 else "active",
                    artifact_uri=Path(artifact_dir, rid).as_uri(), experiment_id=eid))
                rows["params"] += [dict(key=k, value=v, run_uuid=rid)
                                   for k, v in params(i).items()]
                rows["tags"] += [dict(key=k, value=v, run_uuid=rid) for k, v in (
                    ("mlflow.runName", name), ("stage", STAGES[i % 4]),
                    ("team", ("vision", "nlp", "Vision")[i % 3]))]
                accuracy = round(rng.uniform(0.5, 0.99), 4)
                loss = float("nan") if i % 50 == 3 else round(1 - accuracy, 4)
                nan = math.isnan(loss)
                for step, value in enumerate((accuracy / 2, accuracy * 0.9, accuracy)):
                    rows["metrics"].append(dict(key="accuracy", value=value, timestamp=t + step,
                                                step=step, is_nan=False, run_uuid=rid))
                rows["metrics"].append(dict(key="loss", value=0.0 if nan else loss,
                                            timestamp=t, step=0, is_nan=nan, run_uuid=rid))
                rows["latest"] += [
                    dict(key="accuracy", value=accuracy, timestamp=t + 2, step=2, is_nan=False,
                         run_uuid=rid),
                    dict(key="loss", value=0.0 if nan else loss, timestamp=t, step=0,
                         is_nan=nan, run_uuid=rid)]
            with engine.begin() as conn:
                for table, model in (("runs", SqlRun), ("params", SqlParam), ("tags", SqlTag),
                                     ("metrics", SqlMetric), ("latest", SqlLatestMetric)):
                    conn.execute(sa.insert(model.__table__), rows[table])
        engine.dispose()
    return [str(i) for i in ids]
