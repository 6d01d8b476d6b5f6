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
QUERY_TIMEOUT = 600  # seconds without a byte from a MySQL server, once connected (PyMySQL)
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
        pymysql = url.get_driver_name() == "pymysql"
        if pymysql:
            # PyMySQL's connect_timeout bounds the TCP connect only: a server that accepts and
            # never answers would hang the handshake forever. Bound the handshake's reads too,
            # then give queries (aggregates over a big store) a longer bound once connected.
            args["read_timeout"] = args["write_timeout"] = CONNECT_TIMEOUT
        engine = sa.create_engine(url, connect_args=args)
        if pymysql:
            @sa.event.listens_for(engine, "connect")
            def _query_timeouts(dbapi_connection, _record):
                if hasattr(dbapi_connection, "_read_timeout"):
                    dbapi_connection._read_timeout = QUERY_TIMEOUT
                    dbapi_connection._write_timeout = QUERY_TIMEOUT
        return engine
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
        t.x = _exact_for(conn, sa)
        say("experiments")
        exp_rows = conn.execute(sa.select(t.experiments.c.experiment_id, t.experiments.c.name,
                                          t.experiments.c.lifecycle_stage)).all()
        chosen = _choose(exp_rows, experiments)
        ids = [row[0] for row in chosen]
        from mlfilter.versions import line_for_revision

        schema = Schema(source=mask(uri), mlflow_schema=revision,
                        mlflow_version=line_for_revision(revision) or "")
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
            _key_values(conn, sa, table, runs, in_scope, schema, attr, t.x)
        say("metrics")
        _metrics(conn, sa, t, in_scope, schema)
        say("datasets")
        _datasets(conn, sa, t, ids, schema)
        say("experiment tags")
        _experiment_tags(conn, sa, t, ids, schema)
        say("model registry")
        schema.registered_models = _registry(conn, sa, t.registered_models,
                                             t.registered_model_tags, t.x)
        schema.model_versions = _registry(conn, sa, t.model_versions, t.model_version_tags, t.x)
        say("logged models and traces")
        present = set(sa.inspect(conn).get_table_names())  # older releases lack some tables
        if {"logged_model_params", "logged_model_tags", "logged_model_metrics"} <= present:
            schema.logged_models = _entity_keys(conn, sa, t, ids, "logged")
        if {"trace_info", "trace_tags", "trace_request_metadata"} <= present:
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


def _exact_for(conn, sa):
    """MySQL and MariaDB compare (and GROUP BY, COUNT DISTINCT) strings with case-insensitive,
    space-padded collations, where 'adam', 'Adam' and 'adam ' are one value; MLflow's search
    compares them with BINARY, so the schema must too. Elsewhere a column is used as is."""
    if conn.dialect.name in ("mysql", "mariadb"):
        return lambda col: sa.func.binary(col)
    return lambda col: col


def _text(value):
    """A value read through BINARY comes back as bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return value


def _key_stats(conn, sa, groups, key, value, base, where, active=None) -> dict:
    """{(group..., key): KeyInfo} in one query: entities (rows: a key has one value per run,
    model or trace), active ones, distinct values and up to SAMPLE_SIZE of them (most frequent
    first), from one GROUP BY (group..., key, value) and window functions over its result.
    String columns come wrapped by _exact_for; `active` is 1 for an active entity, else 0."""
    names = [f"g{i}" for i in range(len(groups))]
    counted = (
        sa.select(*[g.label(n) for g, n in zip(groups, names)], key.label("k"), value.label("v"),
                  sa.func.count().label("n"),
                  sa.func.sum(sa.literal_column("1") if active is None else active).label("na"))
        .select_from(base).where(where).group_by(*groups, key, value).subquery()
    )
    part = [counted.c[n] for n in names] + [counted.c.k]
    not_null = sa.case((counted.c.v.is_(None), 0), else_=1)
    ranked = sa.select(
        *part, counted.c.v,
        sa.func.row_number().over(partition_by=part, order_by=(counted.c.n.desc(), counted.c.v))
        .label("rn"),
        sa.func.sum(not_null).over(partition_by=part).label("d"),
        sa.func.sum(counted.c.n).over(partition_by=part).label("tot"),
        sa.func.sum(counted.c.na).over(partition_by=part).label("act"),
    ).subquery()
    out: dict = {}
    rows = conn.execute(
        sa.select(*[ranked.c[n] for n in names], ranked.c.k, ranked.c.v, ranked.c.d,
                  ranked.c.tot, ranked.c.act).where(ranked.c.rn <= SAMPLE_SIZE))
    for *group, k, v, distinct, total, n_active in rows:
        ident = (*(str(g) for g in group), _text(k))
        info = out.get(ident)
        if info is None:
            info = out[ident] = KeyInfo(int(total), int(n_active), int(distinct))
        v = _text(v)
        if v is not None and len(v) <= MAX_SAMPLED_VALUE:
            info.sample.append(v)
    for info in out.values():
        info.kind = value_kind(info.sample)
    return out


def _key_values(conn, sa, table, runs, in_scope, schema, attr, x):
    base = table.join(runs, runs.c.run_uuid == table.c.run_uuid)
    active = sa.case((runs.c.lifecycle_stage == "active", 1), else_=0)
    stats = _key_stats(conn, sa, [runs.c.experiment_id], x(table.c.key), x(table.c.value), base,
                       in_scope, active)
    for (eid, key), info in stats.items():
        getattr(schema.experiments[eid], attr)[key] = info


def _metrics(conn, sa, t, in_scope, schema):
    m, runs = t.latest, t.runs
    base = m.join(runs, runs.c.run_uuid == m.c.run_uuid)
    is_nan = m.c.is_nan == sa.true()
    finite = sa.case((is_nan, None), else_=m.c.value)
    key = t.x(m.c.key)
    rows = conn.execute(
        sa.select(runs.c.experiment_id, key, sa.func.count(),
                  sa.func.sum(sa.case((runs.c.lifecycle_stage == "active", 1), else_=0)),
                  sa.func.min(finite), sa.func.max(finite),
                  sa.func.sum(sa.case((is_nan, 1), else_=0)))
        .select_from(base).where(in_scope).group_by(runs.c.experiment_id, key)
    )
    for eid, key_name, n, n_active, lo, hi, nans in rows:
        schema.experiments[str(eid)].metrics[_text(key_name)] = KeyInfo(
            n, int(n_active or 0), kind="float",
            minimum=None if lo is None else float(lo), maximum=None if hi is None else float(hi),
            nan=int(nans or 0))


def _datasets(conn, sa, t, ids, schema):
    d, i, it = t.datasets, t.inputs, t.input_tags
    base = d.outerjoin(i, i.c.source_id == d.c.dataset_uuid).outerjoin(
        it, sa.and_(it.c.input_uuid == i.c.input_uuid, it.c.name == "mlflow.data.context"))
    name_col, context_col = t.x(d.c.name), t.x(it.c.value)
    rows = conn.execute(sa.select(d.c.experiment_id, name_col, context_col).select_from(base)
                        .where(d.c.experiment_id.in_(ids))
                        .group_by(d.c.experiment_id, name_col, context_col).limit(10000))
    for eid, name, context in rows:
        name, context = _text(name), _text(context)
        contexts = schema.experiments[str(eid)].datasets.setdefault(name, [])
        if context is not None and context not in contexts:
            contexts.append(context)


def _experiment_tags(conn, sa, t, ids, schema):
    et = t.experiment_tags
    stats = _key_stats(conn, sa, [et.c.experiment_id], t.x(et.c.key), t.x(et.c.value), et,
                       et.c.experiment_id.in_(ids))
    for (eid, key), info in stats.items():
        schema.experiments[eid].experiment_tags[key] = info


def _registry(conn, sa, entity, tags, x) -> dict[str, KeyInfo]:
    """`name` (the models' names) and `tags.<key>` of registered models or model versions."""
    out: dict[str, KeyInfo] = {}
    name = x(entity.c.name)
    n, distinct = conn.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(name)))
                               .select_from(entity)).one()
    names = [_text(r[0]) for r in conn.execute(sa.select(name).distinct()
                                                .order_by(name).limit(SAMPLE_SIZE))]
    out["name"] = KeyInfo(n, n, distinct, names, value_kind(names))
    for (key,), info in _key_stats(conn, sa, [], x(tags.c.key), x(tags.c.value), tags,
                                   sa.true()).items():
        out[f"tags.{key}"] = info
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
        key_col, value_col = t.x(table.c[key_name]), t.x(table.c[value_name])
        where = (t.trace_info.c.experiment_id if which == "trace" else table.c.experiment_id).in_(ids)
        out[part] = {key: info for (key,), info in
                     _key_stats(conn, sa, [], key_col, value_col, base, where).items()}
    if which == "logged":
        lm = t.logged_metrics
        metric_name = t.x(lm.c.metric_name)
        out["metrics"] = {
            _text(key): KeyInfo(n, n, kind="float", minimum=lo, maximum=hi)
            for key, n, lo, hi in conn.execute(
                sa.select(metric_name, sa.func.count(), sa.func.min(lm.c.metric_value),
                          sa.func.max(lm.c.metric_value))
                .where(lm.c.experiment_id.in_(ids)).group_by(metric_name))
        }
    else:
        ti = t.trace_info
        statuses = [r[0] for r in conn.execute(sa.select(ti.c.status).where(
            ti.c.experiment_id.in_(ids)).distinct().limit(SAMPLE_SIZE))]
        out["attributes"] = {"status": KeyInfo(len(statuses), len(statuses), len(statuses),
                                               statuses)}
    return out
