"""Schema extraction from real stores: what `Schema.from_store` reads equals what MLflow's client
logged (the record kept by tests/stores.py, written without mlfilter), on SQLite, PostgreSQL and
MariaDB, and through a real `mlflow server`. Snapshots: `schema dump` then `Schema.load` is the
same schema, other versions are refused clearly, and check --schema == check --store."""

from __future__ import annotations

import json
import math
import tracemalloc
from collections import Counter

import pytest
import stores

import mlfilter
from mlfilter.schema import Schema, SchemaError
from mlfilter.schema.model import FORMAT_VERSION, SAMPLE_SIZE

pytestmark = pytest.mark.mlflow
BACKENDS = ["sqlite", "postgresql", "mariadb"]


def _schema(uri):
    with stores.quiet_mlflow():
        return Schema.from_store(uri)


@pytest.fixture(scope="module")
def schemas():
    """One extraction per store URI (the store fixtures are session-wide)."""
    cache = {}

    def get(uri):
        if uri not in cache:
            cache[uri] = _schema(uri)
        return cache[uri]

    return get


# ---- runs: keys, counts, values, kinds ------------------------------------------------------

@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_experiments_and_run_counts(store, schemas):
    uri, logged = store
    schema = schemas(uri)
    assert {e.name: i for i, e in schema.experiments.items()} == {
        "Default": "0", **{f"store-{n}": i for n, i in logged.experiments.items()}}
    assert schema.mlflow_schema  # the alembic revision MLflow wrote
    for name, eid in logged.experiments.items():
        expected = Counter(f"{'deleted' if r.deleted else 'active'}/{r.status}"
                           for r in logged.runs_of([eid], 3))
        assert schema.experiments[eid].runs == dict(expected), name
    assert schema.experiments["0"].runs == {}


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
@pytest.mark.parametrize("part", ["params", "tags"])
def test_param_and_tag_keys_counts_and_values(store, part, schemas):
    uri, logged = store
    schema = schemas(uri)
    for name, eid in logged.experiments.items():
        infos = getattr(schema.experiments[eid], part)
        runs = logged.runs_of([eid], 3)
        keys = {k for r in runs for k in getattr(r, part)}
        assert set(infos) == keys, (name, part)
        for key in keys:
            having = [r for r in runs if key in getattr(r, part)]
            values = {getattr(r, part)[key] for r in having}
            info = infos[key]
            assert (info.entities, info.active, info.distinct) == (
                len(having), sum(not r.deleted for r in having), len(values)), (name, key)
            if len(values) <= SAMPLE_SIZE:
                assert sorted(info.sample) == sorted(values) and info.complete, (name, key)
            else:
                assert len(info.sample) == SAMPLE_SIZE and set(info.sample) <= values
                assert not info.complete


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_case_and_spelling_variants_stay_distinct(store, schemas):
    """'adam', 'Adam', 'ADAM' are three values and '0.001', '1e-3', '0.0010' three more: MLflow
    compares strings exactly (with BINARY on MariaDB, whose collation would merge them)."""
    uri, logged = store
    params = schemas(uri).experiments[logged.experiments["vision"]].params
    assert {"adam", "Adam", "ADAM"} <= set(params["optimizer"].sample)
    assert {"0.001", "1e-3", "0.0010"} <= set(params["lr"].sample)
    assert {"32", "032"} <= set(params["batch_size"].sample)


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_value_kinds(store, schemas):
    uri, logged = store
    exps = schemas(uri).experiments
    vision, tabular = exps[logged.experiments["vision"]], exps[logged.experiments["tabular"]]
    kinds = {k: v.kind for k, v in vision.params.items()}
    assert kinds["optimizer"] == "text"
    assert kinds["lr"] == "float"
    assert kinds["batch_size"] == kinds["seed"] == "integer"
    assert kinds["use_aug"] == "bool"
    assert tabular.params["max_depth"].kind == "text"  # '3', '6', 'None'
    assert {m.kind for m in vision.metrics.values()} == {"float"}


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_metrics_latest_values_ranges_and_nan(store, schemas):
    uri, logged = store
    schema = schemas(uri)
    for name, eid in logged.experiments.items():
        runs = logged.runs_of([eid], 3)
        metrics = schema.experiments[eid].metrics
        assert set(metrics) == {k for r in runs for k in r.metrics}
        for key, info in metrics.items():
            values = [r.metrics[key] for r in runs if key in r.metrics]
            finite = [v for v in values if not math.isnan(v)]
            # MLflow stores +-inf as the largest finite double
            clip = [max(min(v, 1.7976931348623157e308), -1.7976931348623157e308) for v in finite]
            assert info.entities == len(values)
            assert info.active == sum(1 for r in runs if key in r.metrics and not r.deleted)
            assert info.nan == len(values) - len(finite), (name, key)
            assert info.minimum == pytest.approx(min(clip)) and info.maximum == pytest.approx(
                max(clip)), (name, key)
    loss = schema.experiments[logged.experiments["vision"]].metrics["loss"]
    assert loss.nan > 0
    accuracy = schema.experiments[logged.experiments["vision"]].metrics["accuracy"]
    vision_runs = logged.runs_of([logged.experiments["vision"]], 3)
    assert accuracy.maximum == pytest.approx(max(r.metrics["accuracy"] for r in vision_runs))


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_datasets_experiment_tags_registry_logged_models_traces(store, schemas):
    uri, logged = store
    schema = schemas(uri)
    for name, eid in logged.experiments.items():
        expected: dict[str, set] = {}
        for r in logged.runs_of([eid], 3):
            for ds_name, _digest, context in r.datasets:
                expected.setdefault(ds_name, set()).add(context)
        got = schema.experiments[eid].datasets
        assert {k: set(v) for k, v in got.items()} == expected, name
        assert {"team", "purpose"} <= set(schema.experiments[eid].experiment_tags)
        assert schema.experiments[eid].experiment_tags["team"].sample == [name]
    assert sorted(schema.registered_models["name"].sample) == sorted(logged.registered_models)
    assert set(schema.registered_models["tags.owner"].sample) == {"vision", "nlp"}
    assert {k for k in schema.model_versions if k != "name"} == {
        f"tags.{k}" for k in logged.model_version_tags}
    for key, values in logged.model_version_tags.items():
        assert set(schema.model_versions[f"tags.{key}"].sample) == values
    assert schema.model_versions["name"].entities == 4
    for key, values in logged.logged_model_params.items():
        assert set(schema.logged_models["params"][key].sample) == values
    for key, values in logged.logged_model_tags.items():
        assert set(schema.logged_models["tags"][key].sample) == values
    assert set(schema.logged_models["metrics"]) == {"eval_score"}
    assert set(schema.traces["tags"]["env"].sample) == logged.trace_tags["env"]
    assert schema.traces["attributes"]["status"].sample == ["OK"]


def test_the_three_databases_give_the_same_schema(sqlite_store, postgres_store, mariadb_store,
                                                  schemas):
    """Same data, three databases: the same keys, counts, ranges and value sets."""
    def normal(schema):
        data = schema.to_dict()
        data.pop("source")
        data.pop("traces")  # artifact locations differ by store
        out = json.loads(json.dumps(data))

        def walk(node):
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "sample":
                        node[k] = sorted(v)
                    elif k in ("minimum", "maximum") and isinstance(v, float):
                        node[k] = round(v, 9) if abs(v) < 1e300 else v
                    else:
                        walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(out)
        for exp in out["experiments"].values():
            for ds in exp["datasets"]:
                exp["datasets"][ds] = sorted(exp["datasets"][ds])
        return out

    base = normal(schemas(sqlite_store[0]))
    assert normal(schemas(postgres_store[0])) == base
    assert normal(schemas(mariadb_store[0])) == base


def test_choosing_experiments_by_id_or_name(sqlite_store):
    uri, logged = sqlite_store
    schema = Schema.from_store(uri, ["store-nlp", logged.experiments["tabular"]])
    assert sorted(e.name for e in schema.experiments.values()) == ["store-nlp", "store-tabular"]
    with pytest.raises(SchemaError, match="no experiment with id or name 'missing'"):
        Schema.from_store(uri, ["missing"])


# ---- bounded memory: samples are capped in SQL ----------------------------------------------

@pytest.fixture(scope="module")
def wide_store(tmp_path_factory):
    """5,000 runs, each with its own value of param `token` (900 characters), through MLflow's
    own SQLAlchemy models in bulk (the client would take minutes)."""
    home = tmp_path_factory.mktemp("wide")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    stores.bulk_store(uri, str(home), runs=5000, experiments=1,
                      params=lambda i: {"token": f"{i:05d}-" + "x" * 894, "constant": "same"})
    return uri


def test_a_param_of_5000_values_keeps_a_capped_sample(wide_store):
    Schema.from_store(wide_store)  # imports and SQLAlchemy's statement cache, not measured
    tracemalloc.start()
    try:
        schema = Schema.from_store(wide_store)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    params = schema.experiments["1"].params
    token = params["token"]
    assert (token.entities, token.distinct, len(token.sample)) == (5000, 5000, SAMPLE_SIZE)
    assert not token.complete
    assert len(set(token.sample)) == SAMPLE_SIZE
    assert (params["constant"].distinct, params["constant"].sample) == (1, ["same"])
    # the 5,000 values are 4.5 MB of text: the extraction never holds them all (a sample of
    # 50 is 45 kB)
    assert peak < 1_500_000, f"peak {peak} bytes"  # SQLAlchemy's own overhead is ~0.8 MB
    # MLflow itself sees the bulk-written runs
    assert stores.search_count(wide_store, ["1"], "params.constant = 'same'", 3) == 5000


def test_an_incomplete_sample_never_claims_a_value_is_missing(wide_store):
    schema = Schema.from_store(wide_store)
    value = "04999-" + "x" * 894  # logged, but (most likely) not in the sample
    report = mlfilter.check(f"params.token = '{value}' AND params.constant = 'other'", "runs",
                            schema=schema)
    assert [d.code for d in report.diagnostics] == ["MF502"]  # only the complete key
    assert stores.search_count(wide_store, ["1"], f"params.token = '{value}'") == 1


# ---- the tracking-server source ----------------------------------------------------------------

def test_server_source_has_the_database_keys_and_kinds(tracking_server, sqlite_store, schemas):
    url, _ = tracking_server
    remote = _schema(url)
    local = schemas(sqlite_store[0])
    assert remote.source == url and remote.mlflow_schema == ""
    assert set(remote.experiments) == set(local.experiments)
    for eid, exp in local.experiments.items():
        other = remote.experiments[eid]
        assert other.name == exp.name and other.runs == exp.runs
        for part in ("params", "tags", "metrics"):
            mine, theirs = getattr(exp, part), getattr(other, part)
            assert set(theirs) == set(mine), (eid, part)
            for key, info in mine.items():
                got = theirs[key]
                assert (got.kind, got.entities, got.active) == (info.kind, info.entities,
                                                                info.active), (eid, part, key)
                if part == "metrics":
                    assert (got.minimum, got.maximum, got.nan) == pytest.approx(
                        (info.minimum, info.maximum, info.nan)), key
                elif info.complete:
                    assert sorted(got.sample) == sorted(info.sample) and got.complete, key


def test_server_source_drives_the_same_type_checks(tracking_server, sqlite_store, schemas):
    url, logged = tracking_server
    remote = _schema(url)
    local = schemas(sqlite_store[0])
    text = ("params.optimizer = 'Adam ' AND params.momentum = '1' AND metrics.accuracy > 0.99 "
            "AND tags.stage = 'prod'")
    ids = [logged.experiments["vision"]]
    codes = [[(d.code, d.span) for d in mlfilter.check(text, schema=s, experiment_ids=ids)
              .diagnostics] for s in (remote, local)]
    assert codes[0] == codes[1] and len(codes[0]) == 3


# ---- snapshots -------------------------------------------------------------------------------

@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_dump_then_load_is_the_same_schema(store, tmp_path, schemas):
    uri, _ = store
    proc = stores.run_cli(["schema", "dump", "--store", uri])
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / "schema.json"
    path.write_text(proc.stdout)
    loaded = Schema.load(path)
    assert loaded == schemas(uri)
    assert json.loads(proc.stdout)["version"] == FORMAT_VERSION


def test_dump_to_a_file(sqlite_store, tmp_path, capfd):
    uri, _ = sqlite_store
    out = tmp_path / "s.json"
    proc = stores.run_cli_here(capfd, ["schema", "dump", "--store", uri, "-o", str(out),
                                       "--experiment", "store-vision"])
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert [e.name for e in Schema.load(out).experiments.values()] == ["store-vision"]


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 0, "1", None])
def test_a_snapshot_of_another_version_is_refused(sqlite_store, tmp_path, version, schemas,
                                                  capfd):
    data = schemas(sqlite_store[0]).to_dict()
    data["version"] = version
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaError, match=f"snapshot format version {version!r}; this mlfilter "
                                          f"reads version {FORMAT_VERSION}: dump it again"):
        Schema.load(path)
    proc = stores.run_cli_here(capfd, ["check", "params.a = 'b'", "--schema", str(path)])
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "dump it again" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("content,message", [
    ("{", "is not a schema snapshot (invalid JSON"),
    ('{"format": "other", "version": 1}', "is not an mlfilter schema snapshot"),
    ("[1, 2]", "is not an mlfilter schema snapshot"),
    ('{"format": "mlfilter-schema", "version": 1, "experiments": {"1": {"name": "x"}}}',
     "is damaged"),
])
def test_broken_snapshots_are_one_clear_message(tmp_path, content, message, capfd):
    path = tmp_path / "bad.json"
    path.write_text(content)
    proc = stores.run_cli_here(capfd, ["check", "params.a = 'b'", "--schema", str(path)])
    assert proc.returncode == 2
    assert proc.stderr.startswith("mlfilter: ") and message in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_missing_snapshot(tmp_path, capfd):
    proc = stores.run_cli_here(capfd, ["check", "params.a = 'b'", "--schema",
                                       str(tmp_path / "no.json")])
    assert proc.returncode == 2
    assert "cannot read the schema snapshot" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("store", BACKENDS, indirect=True)
def test_check_with_a_snapshot_equals_check_with_the_store(store, tmp_path, capfd):
    uri, _ = store
    snapshot = tmp_path / "schema.json"
    dump = ["schema", "dump", "--store", uri, "-o", str(snapshot)]
    assert stores.run_cli_here(capfd, dump).returncode == 0
    text = ("params.optimizer = 'Adam ' AND params.learning_rate = '0.1' AND "
            "metrics.accuracy > 0.99 AND params.legacy_flag = '1' AND tags.team LIKE 'V%N'")
    outputs = []
    for source in (["--store", uri], ["--schema", str(snapshot)]):
        proc = stores.run_cli_here(capfd, ["check", text, *source, "--experiment",
                                           "store-vision", "--format", "json"])
        assert proc.returncode == 0, proc.stderr
        outputs.append(json.loads(proc.stdout))
    assert outputs[0] == outputs[1]
    codes = [d["code"] for d in outputs[0]["diagnostics"]]
    assert sorted(codes) == ["MF501", "MF502", "MF503", "MF504", "MF506"]


@pytest.fixture(scope="module")
def long_server(tmp_path_factory):
    """A tracking server over 150 runs (bulk-written) where only the 20 oldest have param `x`."""
    home = tmp_path_factory.mktemp("long")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    ids = stores.bulk_store(uri, str(home), runs=150, experiments=1,
                            params=lambda i: {"x": "old"} if i < 20 else {"y": "new"})
    server = stores.start_mlflow_server(uri, str(home))
    try:
        yield server["url"], uri, ids[0]
    finally:
        stores.stop_mlflow_server(server)


def test_a_server_schema_that_stopped_early_rules_nothing_out(long_server, monkeypatch):
    """The server source reads at most MAX_RUNS runs per experiment, newest first: a key only
    older runs have is missing from it. Such an experiment is marked incomplete, and no MF5xx
    claims a search matches nothing there (MLflow finds the old runs)."""
    import mlfilter.schema.server as server_source

    url, uri, eid = long_server
    monkeypatch.setattr(server_source, "MAX_RUNS", 100)
    remote = _schema(url)
    assert remote.experiments[eid].complete is False
    assert "x" not in remote.experiments[eid].params  # the 20 oldest runs were not read
    clause = "params.x = 'old'"
    assert stores.search_count(uri, [eid], clause, 3) == 20
    assert mlfilter.check(clause, schema=remote, experiment_ids=[eid]).diagnostics == ()
    # read whole, from the server or the database, the key is there and a typo is flagged
    monkeypatch.setattr(server_source, "MAX_RUNS", 5000)
    for schema in (_schema(url), _schema(uri)):
        assert schema.experiments[eid].complete and "x" in schema.experiments[eid].params
        codes = [d.code for d in mlfilter.check("params.x = 'old' AND params.z = '1'",
                                                schema=schema, experiment_ids=[eid]).diagnostics]
        assert codes == ["MF501"]
