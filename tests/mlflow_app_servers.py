"""Real `mlflow server` processes with mlfilter's plugin (issue 13), for tests and bench/.

Each server is started once per test run and shared by the pytest-xdist workers (stores.shared);
each runs one worker on a copy of the test store (or, with basic-auth, a fresh store), and its
log is kept beside its database.
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import stores

ADMIN, PASSWORD = "admin", "mlfilter-Test-pw-1"


def copy_store(uri: str, home: Path) -> str:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(uri.removeprefix("sqlite:///"), home / "mlflow.db")
    return f"sqlite:///{home / 'mlflow.db'}"


def start(home: Path, backend_uri: str, app: str | None, env=None, args=()) -> dict:
    extra = [*(("--app-name", app) if app else ()), *args]
    return stores.start_mlflow_server(backend_uri, str(home / "artifacts"), args=extra, env=env)


def auth_env(home: Path) -> dict:
    """basic-auth's settings: its user database in `home`, a secret key, an admin password."""
    home.mkdir(parents=True, exist_ok=True)
    ini = home / "basic_auth.ini"
    ini.write_text("[mlflow]\ndefault_permission = READ\n"
                   f"database_uri = sqlite:///{home / 'basic_auth.db'}\n"
                   f"admin_username = {ADMIN}\n"
                   "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    return {"MLFLOW_AUTH_CONFIG_PATH": str(ini), "MLFLOW_FLASK_SERVER_SECRET_KEY": "mlfilter-test",
            "MLFLOW_AUTH_ADMIN_PASSWORD": PASSWORD}


class Answer:
    """An HTTP answer: status, headers, the body's bytes and (when JSON) its data."""

    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None

    @property
    def by_mlfilter(self) -> bool:
        return self.headers.get("X-Mlfilter") == "rejected"

    @property
    def message(self) -> str:
        return (self.json or {}).get("message", "") if isinstance(self.json, dict) else ""

    def __repr__(self):
        return f"Answer({self.status}, {self.body[:300]!r})"


def send(url: str, method: str, path: str, body=None, query=None, raw: bytes | None = None,
         auth=None, content_type: str = "application/json") -> Answer:
    """One raw HTTP request: `body` is sent as JSON, `raw` as it is, `query` as query args."""
    import base64
    from urllib.parse import urlencode

    target = url + path + ("?" + urlencode(query, doseq=True) if query else "")
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(target, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return Answer(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, e.read())
