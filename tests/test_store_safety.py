"""Store access is read-only, and a store that cannot be read gives one clear message.

Read-only, proven three ways:
- SQLite: the database file's bytes (and the directory's listing) are the same before and after
  schema extraction, check --store and explain.
- PostgreSQL and MariaDB: the commands run as a login the test creates with SELECT (and, on
  PostgreSQL, USAGE on the schema) only. Any write would fail with a permission error and the
  command would exit 2; they succeed with the same output as the owner gets. A control test
  shows that login really cannot write. (We chose privileges over server statement logs: both
  servers here log to files the tests cannot read, and PostgreSQL has no pg_stat_statements.)
- Every backend: every statement SQLAlchemy sends during extraction and explain is captured
  in-process and is a SELECT.

Failures: a closed port, a server that accepts and never answers, a wrong URI, a database
without MLflow's tables, one of an unknown schema revision. Each gives exit status 2, one line
on stderr starting with "mlfilter: ", no traceback, nothing on stdout, and the command returns
well within the subprocess timeout (an anti-hang guard, not a timing assertion). Passwords and
tokens in URIs are masked in every message and output.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess

import pytest
import stores

from mlfilter.schema import Schema, SchemaError
from mlfilter.schema.model import mask

pytestmark = pytest.mark.mlflow
HANG_GUARD = 90  # seconds; connect timeouts are 5 s (databases), 10 s (HTTP); shared, busy CPUs
FILTER = ("params.optimizer = 'Adam' AND metrics.accuracy > 0.9 AND tags.stage LIKE 'p%' AND "
          "datasets.context = 'training' AND attributes.run_name ILIKE 'base%' AND "
          "tags.archived IS NULL")


def _commands(uri):
    return [["schema", "dump", "--store", uri],
            ["check", FILTER, "--store", uri, "--experiment", "store-vision"],
            ["explain", FILTER, "--store", uri, "--view-type", "all"]]


def _one_clear_line(result, *fragments):
    """result: a CompletedProcess, or (status, stdout, stderr) of an in-process run."""
    status, out, err = (result if isinstance(result, tuple)
                        else (result.returncode, result.stdout, result.stderr))
    assert status == 2, (status, out, err)
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlfilter: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ---- SQLite: the bytes do not change ---------------------------------------------------------

def test_sqlite_file_is_unchanged(sqlite_store, tmp_path, capfd):
    source, _ = sqlite_store
    home = tmp_path / "store"
    home.mkdir()
    shutil.copyfile(source.removeprefix("sqlite:///"), home / "mlflow.db")
    uri = f"sqlite:///{home / 'mlflow.db'}"
    before = stores.tree_digest(home)
    for args in _commands(uri):
        status, _, err = stores.cli(capfd, *args)
        assert status in (0, 1), (args, err)
    Schema.from_store(uri)
    with stores.quiet_mlflow():
        from mlfilter.explain import explain

        explain(FILTER, uri)
    assert stores.tree_digest(home) == before  # same bytes, no journal or WAL left behind


def test_sqlite_store_cannot_be_written_through_mlfilters_engine(sqlite_store, tmp_path):
    """The engine mlfilter reads with refuses writes (mode=ro, query_only): a second guard."""
    import sqlalchemy as sa

    from mlfilter.schema.store import read_only_engine

    shutil.copyfile(sqlite_store[0].removeprefix("sqlite:///"), tmp_path / "m.db")
    engine = read_only_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.connect() as conn, pytest.raises(sa.exc.OperationalError, match="readonly"):
        conn.execute(sa.text("UPDATE runs SET name = 'x'"))
    engine.dispose()


# ---- PostgreSQL and MariaDB: a login that may only read --------------------------------------

@pytest.fixture(params=["postgresql", "mariadb"])
def server_store(request):
    return request.getfixturevalue({"postgresql": "postgres_store",
                                    "mariadb": "mariadb_store"}[request.param])


def test_reader_login_cannot_write(server_store):
    """The control: the test's reader login really is refused writes."""
    import sqlalchemy as sa

    _, _, reader = server_store
    engine = sa.create_engine(reader)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM runs")).scalar() > 0
            with pytest.raises(sa.exc.DBAPIError, match="(?i)denied"):
                conn.execute(sa.text("UPDATE runs SET name = 'x'"))
                conn.commit()
            conn.rollback()
            with pytest.raises(sa.exc.DBAPIError, match="(?i)denied"):
                conn.execute(sa.text("CREATE TABLE mlfilter_probe (x INT)"))
                conn.commit()
    finally:
        engine.dispose()


def test_commands_work_with_a_read_only_login(server_store, capfd):
    owner, _, reader = server_store
    for args_owner, args_reader in zip(_commands(owner), _commands(reader)):
        mine = stores.cli(capfd, *args_owner)
        theirs = stores.cli(capfd, *args_reader)
        assert theirs[0] == mine[0] and theirs[0] in (0, 1), theirs[2]
        assert theirs[2] == "", theirs[2]
        if args_owner[0] == "schema":
            a, b = json.loads(mine[1]), json.loads(theirs[1])
            a.pop("source"), b.pop("source")
            assert a == b
        else:
            assert theirs[1].replace(mask(reader), "URI") == mine[1].replace(mask(owner), "URI")


# ---- every backend: only SELECTs are sent ----------------------------------------------------

@pytest.mark.parametrize("store", ["sqlite", "postgresql", "mariadb"], indirect=True)
def test_only_select_statements_are_sent(store):
    import sqlalchemy as sa

    from mlfilter.explain import explain

    uri, _ = store
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", capture)
    try:
        schema = Schema.from_store(uri)
        with stores.quiet_mlflow():
            explain(FILTER, uri, None, "all")
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", capture)
    assert schema.experiments and len(sent) > 20
    allowed = re.compile(r"\s*(SELECT|SHOW|SET TRANSACTION READ ONLY|SET SESSION TRANSACTION "
                         r"READ ONLY)\b", re.IGNORECASE)
    others = [s for s in sent if not allowed.match(s)]
    assert others == []


# ---- stores that cannot be read: one clear message, exit 2, no hang ---------------------------

def _every_command(uri, *fragments, capfd=None):
    """Each command on `uri` fails with one clear line. With capfd, in this process (faster:
    MLflow is imported once); without, as a separate process under the anti-hang guard."""
    if capfd is not None:
        for args in _commands(uri):
            _one_clear_line(stores.cli(capfd, *args), *fragments)
        return
    try:
        procs = stores.run_cli_many(_commands(uri), timeout=HANG_GUARD)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"`{' '.join(e.cmd[1:4])}` on {uri} did not return within {HANG_GUARD} s")
    for proc in procs:
        _one_clear_line(proc, *fragments)


@pytest.mark.parametrize("scheme", ["postgresql://postgres@127.0.0.1:{port}/mlflow",
                                    "mysql+pymysql://root@127.0.0.1:{port}/mlflow",
                                    "http://127.0.0.1:{port}"])
def test_closed_port(scheme):
    uri = scheme.format(port=stores.closed_port())
    _every_command(uri, f"cannot read {uri}", "efused")


@pytest.mark.parametrize("scheme", ["postgresql://postgres@127.0.0.1:{port}/mlflow",
                                    "mysql+pymysql://root@127.0.0.1:{port}/mlflow",
                                    "http://127.0.0.1:{port}"])
def test_a_server_that_never_answers(scheme):
    with stores.silent_server() as port:
        uri = scheme.format(port=port)
        _every_command(uri, f"cannot read {uri}")


@pytest.mark.parametrize("uri,fragment", [
    ("sqlite:////nonexistent/dir/mlflow.db", "no SQLite database at /nonexistent/dir/mlflow.db"),
    ("sqlite://", "an in-memory SQLite database holds no MLflow store"),
    ("nosuchscheme://host/db", "unsupported store URI 'nosuchscheme://host/db'"),
    ("mlflow.db", "unsupported store URI 'mlflow.db'"),
    ("postgres://u:pw@127.0.0.1:5432/db", "unsupported store URI 'postgres://u:***@"),
    ("postgresql://postgres@127.0.0.1:5432/mlfilter_no_such_database",
     'database "mlfilter_no_such_database" does not exist'),
    ("mysql+pymysql://root@127.0.0.1:3306/mlfilter_no_such_database",
     "Unknown database 'mlfilter_no_such_database'"),
])
def test_wrong_uri(uri, fragment, capfd):
    if uri.startswith(("postgresql", "mysql")):
        reason = stores.server_available("postgresql" if uri.startswith("p") else "mysql")
        if reason:
            pytest.skip(reason)
    _every_command(uri, fragment, capfd=capfd)


def test_explain_needs_the_store_not_a_snapshot(tmp_path, capfd):
    result = stores.cli(capfd, "explain", "params.a = 'b'", "--store", str(tmp_path / "s.json"))
    _one_clear_line(result, "not a schema snapshot")


def test_a_file_that_is_not_a_database(tmp_path, capfd):
    path = tmp_path / "notes.db"
    path.write_text("just text, not SQLite\n" * 100)
    _every_command(f"sqlite:///{path}", "file is not a database", capfd=capfd)


def test_sqlite_without_mlflow_tables(tmp_path, capfd):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE runs_of_something_else (x INTEGER)")
    con.commit()
    con.close()
    _every_command(f"sqlite:///{path}", "has no MLflow tables", capfd=capfd)


@pytest.mark.parametrize("kind", ["postgresql", "mysql"])
def test_server_database_without_mlflow_tables(kind, capfd):
    reason = stores.server_available(kind)
    if reason:
        pytest.skip(reason)
    name = stores.fresh_name("mlfilter_empty")
    uri = stores.create_database(kind, name)
    try:
        _every_command(uri, "has no MLflow tables", capfd=capfd)
    finally:
        stores.drop_database(kind, name)


def test_unknown_schema_revision(sqlite_store, tmp_path, capfd):
    shutil.copyfile(sqlite_store[0].removeprefix("sqlite:///"), tmp_path / "future.db")
    con = sqlite3.connect(tmp_path / "future.db")
    con.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    con.commit()
    con.close()
    _every_command(f"sqlite:///{tmp_path / 'future.db'}",
                   "has MLflow schema revision 'ffffffffffff', unknown to this mlfilter",
                   capfd=capfd)


def test_http_server_that_is_not_mlflow(tmp_path, capfd):
    """A web server that answers 404 to MLflow's API."""
    import http.server
    import threading

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_error(404)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        _every_command(f"http://127.0.0.1:{server.server_address[1]}", "cannot read http://",
                       capfd=capfd)
    finally:
        server.shutdown()
        server.server_close()


# ---- secrets are never printed -----------------------------------------------------------------

SECRET = "s3cret"


@pytest.mark.parametrize("uri", [
    "postgresql://user:s3cret@127.0.0.1:1/db",
    "http://user:s3cret@127.0.0.1:1",
    "postgresql://user@127.0.0.1:1/db?password=s3cret",
    "postgresql://user:s3cret@127.0.0.1:{port}/db",
    "postgresql://user@127.0.0.1:{port}/db?password=s3cret",
    "mysql+pymysql://root:s3cret@127.0.0.1:{port}/db",
    "mysql+pymysql://root@127.0.0.1:{port}/db?password=s3cret&charset=utf8mb4",
    "http://user:s3cret@127.0.0.1:{port}",
    "https://127.0.0.1:{port}/?token=s3cret",
    "postgresql://user:pa/s3cret@127.0.0.1:{port}/db",
])
def test_secrets_are_masked_in_errors(uri, capfd):
    """Database URIs in this process (all output captured at the file-descriptor level), HTTP
    ones as separate processes too: MLflow's client logs its own messages."""
    uri = uri.format(port=stores.closed_port())
    for args in _commands(uri):
        result = stores.cli(capfd, *args)
        line = _one_clear_line(result)
        assert SECRET not in result[1] + result[2]
        assert "***" in line
    if uri.startswith("http"):
        for proc in stores.run_cli_many(_commands(uri), timeout=HANG_GUARD):
            assert SECRET not in proc.stderr + proc.stdout
            _one_clear_line(proc, "***")


def test_secrets_are_masked_in_outputs(postgres_store, tracking_server, tmp_path):
    """Stores that accept a password they do not need (trust auth, no auth): the commands
    succeed, and their outputs, the snapshot included, hold the masked URI."""
    owner, _, _ = postgres_store
    url, _ = tracking_server
    uris = [owner.replace("postgres@", f"postgres:{SECRET}@"),
            url.replace("http://", f"http://user:{SECRET}@")]
    for uri in uris:
        snapshot = tmp_path / "s.json"
        commands = (["schema", "dump", "--store", uri, "-o", str(snapshot)],
                    ["explain", FILTER, "--store", uri],
                    ["explain", FILTER, "--store", uri, "--format", "json"],
                    ["check", FILTER, "--store", uri, "--format", "json"])
        for args, proc in zip(commands, stores.run_cli_many(commands, timeout=180)):
            assert proc.returncode in (0, 1), proc.stderr
            assert SECRET not in proc.stdout + proc.stderr, args
            assert mask(uri) in proc.stdout or args[0] != "explain"
        assert SECRET not in snapshot.read_text()
        assert Schema.load(snapshot).source == mask(uri) and "***" in mask(uri)


@pytest.mark.parametrize("text,masked", [
    ("postgresql://u:p@h/db", "postgresql://u:***@h/db"),
    ("postgresql://u:p/q:r@h:5432/db", "postgresql://u:***@h:5432/db"),
    ("mysql+pymysql://root:@h/db", "mysql+pymysql://root:***@h/db"),
    ("postgresql://u@h/db?sslmode=require&password=p", "postgresql://u@h/db?sslmode=require&password=***"),
    ("http://h/?api_key=k&x=1", "http://h/?api_key=***&x=1"),
    ("failed: 'https://h/?token=abc' (timeout)", "failed: 'https://h/?token=***' (timeout)"),
    ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
    ("http://h:5000/api/2.0", "http://h:5000/api/2.0"),
])
def test_mask(text, masked):
    assert mask(text) == masked


def test_schema_error_from_python_api_is_masked():
    uri = f"postgresql://user:{SECRET}@127.0.0.1:{stores.closed_port()}/db"
    with pytest.raises(SchemaError) as info:
        Schema.from_store(uri)
    assert SECRET not in str(info.value) and "user:***@" in str(info.value)
