"""Read a schema from an MLflow database through SQLAlchemy: aggregate SQL only (counts, ranges
and a bounded sample of values per key), on a read-only connection. SQLAlchemy is imported here,
never on the lint path."""

from __future__ import annotations

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

CONNECT_TIMEOUT = 5  # seconds
MAX_SAMPLED_VALUE = 1000  # longer values are counted but not kept in samples


def read_only_engine(uri: str):
    """An engine that cannot write: SQLite opened with mode=ro, PostgreSQL and MySQL sessions
    in read-only transactions, and short connect timeouts so a store that is down fails fast."""
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(uri)
    except Exception:
        raise SchemaError(f"not a database URI: {mask(uri)!r}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        import os
        import urllib.parse

        path = url.database
        if not path or path == ":memory:":
            raise SchemaError("an in-memory SQLite database holds no MLflow store")
        if not os.path.exists(path):
            raise SchemaError(f"no SQLite database at {path}")
        target = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"

        def _open():
            import sqlite3

            return sqlite3.connect(target, uri=True, timeout=CONNECT_TIMEOUT)

        engine = sa.create_engine("sqlite://", creator=_open)

        @sa.event.listens_for(engine, "connect")
        def _sqlite(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.execute("PRAGMA case_sensitive_like = true")  # as MLflow's store does
            cursor.close()
            import re

            dbapi_connection.create_function(
                "regexp", 2, lambda p, s: s is not None and re.search(p, s) is not None)

        return engine
    if backend == "postgresql":
        args = {"connect_timeout": CONNECT_TIMEOUT,
                "options": "-c default_transaction_read_only=on"}
        return sa.create_engine(url, connect_args=args, pool_pre_ping=False)
    if backend in ("mysql", "mariadb"):
        args = {"connect_timeout": CONNECT_TIMEOUT,
                "init_command": "SET SESSION TRANSACTION READ ONLY"}
        return sa.create_engine(url, connect_args=args)
    raise SchemaError(f"unsupported database {backend!r} in {mask(uri)}")


@contextmanager
def connect(uri: str):
    """A read-only connection inside one transaction, with clear errors."""
    import sqlalchemy as sa

    try:
        engine = read_only_engine(uri)
    except ModuleNotFoundError as e:
        raise SchemaError(f"the driver for {mask(uri)} is not installed ({e.name}); "
                          "install mlfilter[store]") from None
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
            yield conn
            conn.rollback()
    except sa.exc.OperationalError as e:
        raise SchemaError(f"cannot read {mask(uri)}: {_first_line(e)}") from None
    except sa.exc.ProgrammingError as e:
        raise SchemaError(f"{mask(uri)} is not an MLflow database ({_first_line(e)})") from None
    except sa.exc.DBAPIError as e:
        raise SchemaError(f"cannot read {mask(uri)}: {_first_line(e)}") from None
    finally:
        engine.dispose()


def _first_line(e) -> str:
    text = str(getattr(e, "orig", e)).strip().splitlines()
    return mask(text[0]) if text else type(e).__name__


def check_revision(conn, uri: str) -> str:
    """The database's alembic revision; an error unless it is one MLflow has written."""
    import sqlalchemy as sa

    from mlfilter.schema import _revisions

    names = set(sa.inspect(conn).get_table_names())
    if "alembic_version" not in names or "runs" not in names:
        raise SchemaError(f"{mask(uri)} has no MLflow tables (is it an MLflow tracking database?)")
    row = conn.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    revision = row[0] if row else ""
    if revision not in _revisions.REVISIONS:
        raise SchemaError(f"{mask(uri)} has MLflow schema revision {revision!r}, unknown to this "
                          f"mlfilter (which knows MLflow up to {_revisions.MLFLOW_VERSION})")
    return revision


def read_database(uri: str, experiments=None, progress=None) -> Schema:
    import sqlalchemy as sa

    say = progress or (lambda message: None)
    with connect(uri) as conn:
        revision = check_revision(conn, uri)
        t = _tables(sa)
        say("experiments")
        exp_rows = conn.execute(sa.select(t.experiments.c.experiment_id, t.experiments.c.name,
                                          t.experiments.c.lifecycle_stage)).all()
        chosen = _choose(exp_rows, experiments)
        ids = [row[0] for row in chosen]
        schema = Schema(source=mask(uri), mlflow_schema=revision)
        for eid, name, stage in chosen:
            schema.experiments[str(eid)] = ExperimentInfo(str(eid), name, stage)
        runs = t.runs
        in_scope = runs.c.experiment_id.in_(ids)
        say("runs")
        for eid, stage, status, n in conn.execute(
            sa.select(runs.c.experiment_id, runs.c.lifecycle_stage, runs.c.status, sa.func.count())
            .where(in_scope).group_by(runs.c.experiment_id, runs.c.lifecycle_stage, runs.c.status)
        ):
            schema.experiments[str(eid)].runs[f"{stage}/{status}"] = n
        for attr, table in (("params", t.params), ("tags", t.tags)):
            say(attr)
            _key_values(conn, sa, table, runs, in_scope, schema, attr)
        say("metrics")
        _metrics(conn, sa, t, in_scope, schema)
        say("datasets")
        _datasets(conn, sa, t, ids, schema)
        say("experiment tags")
        _experiment_tags(conn, sa, t, ids, schema)
        say("model registry")
        schema.registered_models = _registry(conn, sa, t.registered_models, t.registered_model_tags)
        schema.model_versions = _registry(conn, sa, t.model_versions, t.model_version_tags)
        say("logged models and traces")
        schema.logged_models = _entity_keys(conn, sa, t, ids, "logged")
        schema.traces = _entity_keys(conn, sa, t, ids, "trace")
    return schema


def _choose(rows, experiments):
    if not experiments:
        return rows
    out = []
    for ref in experiments:
        match = [r for r in rows if str(r[0]) == str(ref) or r[1] == ref]
        if not match:
            raise SchemaError(f"no experiment with id or name {ref!r}")
        out.extend(m for m in match if m not in out)
    return out


class _T:
    pass


def _tables(sa):
    """MLflow's tables, as far as the schema needs them (lightweight Core descriptions)."""
    t = _T()
    c = sa.column
    t.experiments = sa.table("experiments", c("experiment_id"), c("name"), c("lifecycle_stage"))
    t.runs = sa.table("runs", c("run_uuid"), c("experiment_id"), c("lifecycle_stage"),
                      c("status"))
    t.params = sa.table("params", c("key"), c("value"), c("run_uuid"))
    t.tags = sa.table("tags", c("key"), c("value"), c("run_uuid"))
    t.latest = sa.table("latest_metrics", c("key"), c("value"), c("is_nan"), c("run_uuid"))
    t.datasets = sa.table("datasets", c("dataset_uuid"), c("experiment_id"), c("name"))
    t.inputs = sa.table("inputs", c("input_uuid"), c("source_id"))
    t.input_tags = sa.table("input_tags", c("input_uuid"), c("name"), c("value"))
    t.experiment_tags = sa.table("experiment_tags", c("key"), c("value"), c("experiment_id"))
    t.registered_models = sa.table("registered_models", c("name"))
    t.registered_model_tags = sa.table("registered_model_tags", c("key"), c("value"), c("name"))
    t.model_versions = sa.table("model_versions", c("name"))
    t.model_version_tags = sa.table("model_version_tags", c("key"), c("value"), c("name"))
    t.logged_params = sa.table("logged_model_params", c("param_key"), c("param_value"),
                               c("experiment_id"))
    t.logged_tags = sa.table("logged_model_tags", c("tag_key"), c("tag_value"), c("experiment_id"))
    t.logged_metrics = sa.table("logged_model_metrics", c("metric_name"), c("metric_value"),
                                c("experiment_id"))
    t.trace_tags = sa.table("trace_tags", c("key"), c("value"), c("request_id"))
    t.trace_metadata = sa.table("trace_request_metadata", c("key"), c("value"), c("request_id"))
    t.trace_info = sa.table("trace_info", c("request_id"), c("experiment_id"), c("status"))
    return t


def _samples(conn, sa, group_cols, value_col, base, where):
    """Up to SAMPLE_SIZE distinct values per group (most frequent first), with ROW_NUMBER."""
    counted = (
        sa.select(*group_cols, value_col.label("v"), sa.func.count().label("n"))
        .select_from(base).where(where).group_by(*group_cols, value_col).subquery()
    )
    keys = [counted.c[col.name] for col in group_cols]
    ranked = sa.select(
        *keys, counted.c.v,
        sa.func.row_number().over(partition_by=keys, order_by=(counted.c.n.desc(), counted.c.v))
        .label("rn"),
    ).subquery()
    rows = conn.execute(
        sa.select(*[ranked.c[col.name] for col in group_cols], ranked.c.v)
        .where(ranked.c.rn <= SAMPLE_SIZE)
    )
    out: dict = {}
    for *group, value in rows:
        if value is not None and len(value) <= MAX_SAMPLED_VALUE:
            out.setdefault(tuple(str(g) for g in group), []).append(value)
    return out


def _key_values(conn, sa, table, runs, in_scope, schema, attr):
    base = table.join(runs, runs.c.run_uuid == table.c.run_uuid)
    active = sa.case((runs.c.lifecycle_stage == "active", table.c.run_uuid))
    rows = conn.execute(
        sa.select(runs.c.experiment_id, table.c.key, sa.func.count(sa.distinct(table.c.run_uuid)),
                  sa.func.count(sa.distinct(active)), sa.func.count(sa.distinct(table.c.value)))
        .select_from(base).where(in_scope).group_by(runs.c.experiment_id, table.c.key)
    )
    for eid, key, n, n_active, distinct in rows:
        getattr(schema.experiments[str(eid)], attr)[key] = KeyInfo(n, n_active, distinct)
    samples = _samples(conn, sa, [runs.c.experiment_id, table.c.key], table.c.value, base,
                       in_scope)
    for (eid, key), values in samples.items():
        info = getattr(schema.experiments[eid], attr).get(key)
        if info is not None:
            info.sample = values
            info.kind = value_kind(values)


def _metrics(conn, sa, t, in_scope, schema):
    m, runs = t.latest, t.runs
    base = m.join(runs, runs.c.run_uuid == m.c.run_uuid)
    is_nan = m.c.is_nan == sa.true()
    finite = sa.case((is_nan, None), else_=m.c.value)
    rows = conn.execute(
        sa.select(runs.c.experiment_id, m.c.key, sa.func.count(),
                  sa.func.sum(sa.case((runs.c.lifecycle_stage == "active", 1), else_=0)),
                  sa.func.min(finite), sa.func.max(finite),
                  sa.func.sum(sa.case((is_nan, 1), else_=0)))
        .select_from(base).where(in_scope).group_by(runs.c.experiment_id, m.c.key)
    )
    for eid, key, n, n_active, lo, hi, nans in rows:
        schema.experiments[str(eid)].metrics[key] = KeyInfo(
            n, int(n_active or 0), kind="float",
            minimum=None if lo is None else float(lo), maximum=None if hi is None else float(hi),
            nan=int(nans or 0))


def _datasets(conn, sa, t, ids, schema):
    d, i, it = t.datasets, t.inputs, t.input_tags
    base = d.outerjoin(i, i.c.source_id == d.c.dataset_uuid).outerjoin(
        it, sa.and_(it.c.input_uuid == i.c.input_uuid, it.c.name == "mlflow.data.context"))
    rows = conn.execute(sa.select(d.c.experiment_id, d.c.name, it.c.value).select_from(base)
                        .where(d.c.experiment_id.in_(ids)).group_by(d.c.experiment_id, d.c.name,
                                                                     it.c.value).limit(10000))
    for eid, name, context in rows:
        contexts = schema.experiments[str(eid)].datasets.setdefault(name, [])
        if context is not None and context not in contexts:
            contexts.append(context)


def _experiment_tags(conn, sa, t, ids, schema):
    et = t.experiment_tags
    for eid, key, n, distinct in conn.execute(
        sa.select(et.c.experiment_id, et.c.key, sa.func.count(), sa.func.count(sa.distinct(et.c.value)))
        .where(et.c.experiment_id.in_(ids)).group_by(et.c.experiment_id, et.c.key)
    ):
        schema.experiments[str(eid)].experiment_tags[key] = KeyInfo(n, n, distinct)
    for (eid, key), values in _samples(conn, sa, [et.c.experiment_id, et.c.key], et.c.value, et,
                                       et.c.experiment_id.in_(ids)).items():
        info = schema.experiments[eid].experiment_tags.get(key)
        if info is not None:
            info.sample, info.kind = values, value_kind(values)


def _registry(conn, sa, entity, tags) -> dict[str, KeyInfo]:
    """`name` (the models' names) and `tags.<key>` of registered models or model versions."""
    out: dict[str, KeyInfo] = {}
    n, distinct = conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(entity.c.name)))
                               .select_from(entity)).one()
    names = [r[0] for r in conn.execute(sa.select(entity.c.name).distinct()
                                         .order_by(entity.c.name).limit(SAMPLE_SIZE))]
    out["name"] = KeyInfo(n, n, distinct, names, value_kind(names))
    for key, count, d in conn.execute(sa.select(tags.c.key, sa.func.count(),
                                                sa.func.count(sa.distinct(tags.c.value)))
                                      .group_by(tags.c.key)):
        out[f"tags.{key}"] = KeyInfo(count, count, d)
    for (key,), values in _samples(conn, sa, [tags.c.key], tags.c.value, tags, sa.true()).items():
        info = out.get(f"tags.{key}")
        if info is not None:
            info.sample, info.kind = values, value_kind(values)
    return out


def _entity_keys(conn, sa, t, ids, which) -> dict[str, dict[str, KeyInfo]]:
    """Keys of logged models (params, tags, metrics) or traces (tags, metadata)."""
    if which == "logged":
        parts = {"params": (t.logged_params, "param_key", "param_value", t.logged_params),
                 "tags": (t.logged_tags, "tag_key", "tag_value", t.logged_tags)}
    else:
        ti = t.trace_info
        parts = {"tags": (t.trace_tags, "key", "value",
                          t.trace_tags.join(ti, ti.c.request_id == t.trace_tags.c.request_id)),
                 "metadata": (t.trace_metadata, "key", "value",
                              t.trace_metadata.join(ti, ti.c.request_id ==
                                                    t.trace_metadata.c.request_id))}
    out: dict[str, dict[str, KeyInfo]] = {}
    for part, (table, key_name, value_name, base) in parts.items():
        key_col, value_col = table.c[key_name], table.c[value_name]
        where = (t.trace_info.c.experiment_id if which == "trace" else table.c.experiment_id).in_(ids)
        infos = out.setdefault(part, {})
        for key, n, d in conn.execute(sa.select(key_col, sa.func.count(),
                                                sa.func.count(sa.distinct(value_col)))
                                      .select_from(base).where(where).group_by(key_col)):
            infos[key] = KeyInfo(n, n, d)
        for (key,), values in _samples(conn, sa, [key_col], value_col, base, where).items():
            if key in infos:
                infos[key].sample, infos[key].kind = values, value_kind(values)
    if which == "logged":
        lm = t.logged_metrics
        out["metrics"] = {
            key: KeyInfo(n, n, kind="float", minimum=lo, maximum=hi)
            for key, n, lo, hi in conn.execute(
                sa.select(lm.c.metric_name, sa.func.count(), sa.func.min(lm.c.metric_value),
                          sa.func.max(lm.c.metric_value))
                .where(lm.c.experiment_id.in_(ids)).group_by(lm.c.metric_name))
        }
    else:
        ti = t.trace_info
        statuses = [r[0] for r in conn.execute(sa.select(ti.c.status).where(
            ti.c.experiment_id.in_(ids)).distinct().limit(SAMPLE_SIZE))]
        out["attributes"] = {"status": KeyInfo(len(statuses), len(statuses), len(statuses),
                                               statuses)}
    return out
