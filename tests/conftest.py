import os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/snapshots/*.txt from mlfilter's current output instead of comparing",
    )


# ---- real tracking stores (tests/stores.py): built once per test run, dropped after -----------
# Shared by the pytest-xdist workers of a run: the first worker that needs a store builds it, the
# last one done with it drops it (tests only read stores).


import pytest as _pytest


@_pytest.fixture(scope="session")
def shared_dir(tmp_path_factory, worker_id):
    """A directory all workers of this run see (the workers' common base temp)."""
    root = tmp_path_factory.getbasetemp()
    return root.parent if worker_id != "master" else root


@_pytest.fixture(scope="session")
def sqlite_store(shared_dir):
    """(uri, Logged): a SQLite store filled by MLflow's client."""
    import stores

    home = shared_dir / "sqlite-store"

    def create():
        return stores.build_store(f"sqlite:///{home / 'mlflow.db'}", str(home / "artifacts"))

    with stores.shared(home, "store", create) as logged:
        yield logged.uri, logged


def _server_store(kind, shared_dir):
    """(uri, Logged, reader uri) of a fresh database filled by MLflow's client, plus a login
    that may only read it."""
    import stores

    reason = stores.server_available(kind)
    if reason is not None:
        _pytest.skip(reason)

    def create():
        name = stores.fresh_name()
        uri = stores.create_database(kind, name)
        reader = f"{name}_ro"
        try:
            logged = stores.build_store(uri, str(shared_dir / f"{kind}-artifacts"))
            reader_uri = stores.create_reader(kind, name, reader)
        except BaseException:
            stores.drop_database(kind, name, roles=[reader])
            raise
        return {"name": name, "reader": reader, "value": (uri, logged, reader_uri)}

    def destroy(made):
        stores.drop_database(kind, made["name"], roles=[made["reader"]])

    with stores.shared(shared_dir / f"{kind}-store", "store", create, destroy) as made:
        yield made["value"]


@_pytest.fixture(scope="session")
def postgres_store(shared_dir):
    yield from _server_store("postgresql", shared_dir)


@_pytest.fixture(scope="session")
def mariadb_store(shared_dir):
    yield from _server_store("mysql", shared_dir)


@_pytest.fixture(scope="session")
def store(request):
    """(uri, Logged) of the backend a test names by indirect parametrization."""
    fixture = {"sqlite": "sqlite_store", "postgresql": "postgres_store",
               "mariadb": "mariadb_store"}[request.param]
    value = request.getfixturevalue(fixture)
    return value[0], value[1]


@_pytest.fixture(scope="session")
def tracking_server(sqlite_store, shared_dir):
    """(url, Logged): a real `mlflow server` process on 127.0.0.1 (a free port), backed by a
    copy of the SQLite store (same runs, same ids); stopped after the run."""
    import shutil

    import stores

    uri, logged = sqlite_store
    home = shared_dir / "tracking-server"

    def create():
        home.mkdir(exist_ok=True)
        shutil.copyfile(uri.removeprefix("sqlite:///"), home / "mlflow.db")
        return stores.start_mlflow_server(f"sqlite:///{home / 'mlflow.db'}", str(home))

    with stores.shared(home, "server", create, stores.stop_mlflow_server) as server:
        yield server["url"], logged


# ---- a real `mlflow server` for the builder's REST tests ----------------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` (this venv's) on a free 127.0.0.1 port with a fresh SQLite store;
    yields its base URL, stops it (and its workers) at the end of the session."""
    import shutil
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    pytest.importorskip("mlflow")
    directory = tmp_path_factory.mktemp("mlflow-server")
    exe = os.path.join(os.path.dirname(sys.executable), "mlflow")
    if not os.path.exists(exe):
        exe = shutil.which("mlflow")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(directory / "server.log", "wb")
    proc = subprocess.Popen(
        [exe, "server", "--backend-store-uri", f"sqlite:///{directory / 'mlflow.db'}",
         "--default-artifact-root", str(directory / "artifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited: {(directory / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mlflow server did not answer /health within 120 s")
            time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the workers it started
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        except ProcessLookupError:  # already gone
            proc.wait(timeout=10)
        log.close()


# ---- `mlflow server --app-name mlfilter` (issue 13; tests/mlflow_app_servers.py) --------------

@pytest.fixture(scope="session")
def mlfilter_server(sqlite_store, shared_dir):
    """(url, Logged, log path): `mlflow server --app-name mlfilter` (uvicorn, enforce mode) on a
    copy of the SQLite store, so it holds what `tracking_server` holds."""
    import mlflow_app_servers as servers
    import stores

    uri, logged = sqlite_store
    home = shared_dir / "mlfilter-server"
    with stores.shared(home, "server", lambda: servers.start(
            home, servers.copy_store(uri, home), "mlfilter"), stores.stop_mlflow_server) as s:
        yield s["url"], logged, s["log"]


@pytest.fixture(scope="session")
def mlfilter_warn_server(sqlite_store, shared_dir):
    """(url, log path): the plugin under gunicorn (a Flask app, not FastAPI) in warn mode."""
    import mlflow_app_servers as servers
    import stores

    home = shared_dir / "mlfilter-warn-server"
    with stores.shared(home, "server", lambda: servers.start(
            home, servers.copy_store(sqlite_store[0], home), "mlfilter",
            env={"MLFILTER_APP_MODE": "warn"},
            args=("--gunicorn-opts", "--timeout 120 --graceful-timeout 2")),
            stores.stop_mlflow_server) as s:
        yield s["url"], s["log"]


@pytest.fixture(scope="session")
def mlfilter_auth_server(sqlite_store, shared_dir):
    """(url, log path): `mlflow server --app-name mlfilter-basic-auth` on a copy of the SQLite
    store (a copy needs no migrations: a quicker start than a fresh store)."""
    import mlflow_app_servers as servers
    import stores

    home = shared_dir / "mlfilter-auth-server"
    with stores.shared(home, "server", lambda: servers.start(
            home, servers.copy_store(sqlite_store[0], home), "mlfilter-basic-auth",
            env=servers.auth_env(home)), stores.stop_mlflow_server) as s:
        yield s["url"], s["log"]
