"""mlfilter inside MLflow's tracking server: `mlflow server --app-name mlfilter`.

Two factories for MLflow's `mlflow.app` entry point (the one basic-auth uses), each returning the
app MLflow's chosen web server runs: the FastAPI wrapper under uvicorn (MLflow 3's default), the
Flask app under gunicorn and waitress. `mlfilter-basic-auth` is basic-auth's app with the check
added after its own: MLflow takes one --app-name, so the two are composed here.
See docs/server.md. Nothing on mlfilter's lint path imports this package.
"""

from __future__ import annotations

import os


def _served(flask_app):
    # MLflow tells its workers which server runs them (mlflow/server/__init__.py, _run_server);
    # uvicorn needs an ASGI app, as basic-auth's create_app returns.
    if os.environ.get("_MLFLOW_SGI_NAME") == "uvicorn":
        from mlflow.server.fastapi_app import create_fastapi_app

        return create_fastapi_app(flask_app)
    return flask_app


def create_app():
    """`mlflow server --app-name mlfilter`: MLflow's server, every search checked first."""
    from mlflow.server import app

    from mlfilter.mlflow_app.hook import install

    install(app)
    return _served(app)


def create_app_with_basic_auth():
    """`mlflow server --app-name mlfilter-basic-auth`: basic-auth, then mlfilter's check (a
    search from someone not signed in is refused by basic-auth before mlfilter reads it)."""
    from mlflow.server import app
    from mlflow.server.auth import create_app as basic_auth

    from mlfilter.mlflow_app.hook import install

    served = basic_auth(app)  # registers its before_request hook first
    install(app)
    return served
