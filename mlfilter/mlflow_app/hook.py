"""The Flask `before_request` hook that checks every search before MLflow runs it.

A request it finds wrong gets MLflow's own 400 (INVALID_PARAMETER_VALUE) with mlfilter's
diagnostics as the message (over GraphQL: MLflow's GraphQL answer, mlfilter's message as the
refused field's error); every other request goes on to MLflow untouched. Anything that goes
wrong inside mlfilter is logged and the request goes on, unchecked: mlfilter never blocks a search
it could not check.
"""

from __future__ import annotations

import logging
import os
import time

from mlfilter.mlflow_app.routes import graphql_rule, route_table
from mlfilter.mlflow_app.verdict import Checker, Target

MODE_VAR = "MLFILTER_APP_MODE"  # enforce (default) | warn | off
FAIL_ON_VAR = "MLFILTER_APP_FAIL_ON"  # error (default) | warning
MODES = ("enforce", "warn", "off")
HEADER = "X-Mlfilter"  # on the answers mlfilter gives: "rejected"
GRAPHQL = "graphql"  # the route-table entry of MLflow's /graphql

log = logging.getLogger("mlfilter.mlflow_app")


def _setting(var: str, allowed: tuple[str, ...], default: str, fallback: str) -> str:
    value = os.environ.get(var, "").strip().lower() or default
    if value not in allowed:
        log.error("%s=%r is not one of %s; using %r", var, value, ", ".join(allowed),
                  fallback)
        return fallback
    return value


class SearchHook:
    """Called by Flask before each request (after auth's hook when basic-auth is on)."""

    def __init__(self, target: Target, mode: str, fail_on: str, static_prefix: str = ""):
        self.checker = Checker(target)
        self.mode, self.fail_on = mode, fail_on
        self.routes: dict = route_table(static_prefix)
        self.routes.update({(graphql_rule(static_prefix), m): GRAPHQL for m in ("GET", "POST")})

    def __call__(self):
        if self.mode == "off":
            return None
        from flask import request

        rule = request.url_rule  # None when nothing matched: MLflow answers 404/405 itself
        route = rule is not None and self.routes.get((rule.rule, request.method))
        if not route:
            return None
        try:
            if route == GRAPHQL:
                return self._check_graphql(request)
            return self._check(request, route)
        except Exception:  # noqa: BLE001 - a failure of mlfilter must never block a search
            log.exception("internal error while checking %s %s; the request goes to "
                          "MLflow unchecked", request.method, request.path)
            return None

    def _check(self, request, route):
        from mlfilter.mlflow_app.request import read_search

        started = time.perf_counter()
        search = read_search(request, route)
        if search is None:  # no JSON object, or one MLflow refuses on its own
            return None
        judged = self._judge(search)
        if judged is None:
            return None
        blocks, message = judged
        where = f"{request.method} {request.path}"
        if self._refuses(blocks, where, message, started):
            return error_response(message)
        return None

    def _judge(self, search, graphql: bool = False) -> tuple[bool, str] | None:
        """(blocks, message) for a search with diagnostics; None for a clean one."""
        verdict = self.checker.verdict(search)
        if not verdict.reports:
            return None
        blocks = verdict.blocks(self.fail_on)
        return blocks, self.checker.message(verdict, self.fail_on if blocks else "warning",
                                            graphql=graphql)

    def _refuses(self, blocks: bool, where: str, message: str, started: float) -> bool:
        """Log the diagnostics; True when the search is to be refused (enforce mode)."""
        took = (time.perf_counter() - started) * 1000
        if blocks and self.mode == "enforce":
            log.info("refused %s (%.2f ms):\n%s", where, took, message)
            return True
        level = logging.WARNING if blocks else logging.INFO
        log.log(level, "%s passed on%s:\n%s", where, " (warn mode)" if blocks else "",
                message)
        return False

    def _check_graphql(self, request):
        """Each search field of a GraphQL request; refused fields get mlfilter's message in
        MLflow's GraphQL answer, the other fields their usual data."""
        from graphql import GraphQLError

        from mlfilter.mlflow_app.graphql_search import NotReadable, read_graphql, refusal

        started = time.perf_counter()
        try:
            found_searches = read_graphql(request)
        except (NotReadable, GraphQLError) as e:
            # MLflow answers this one itself (a syntax error, an invalid document...)
            log.info("%s %s not checked: %s", request.method, request.path, e)
            return None
        refused = {}
        for found in found_searches.searches:
            judged = self._judge(found.search, graphql=True)
            if judged is None:
                continue
            where = f"{request.method} {request.path} field {found.key!r} ({found.field.field})"
            blocks, message = judged
            if self._refuses(blocks, where, message, started):
                refused[found.key] = message
        return refusal(found_searches, refused, HEADER) if refused else None


def error_response(message: str):
    """MLflow's own error answer: {"error_code": "INVALID_PARAMETER_VALUE", "message": ...}."""
    from flask import Response
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE

    body = MlflowException(message, error_code=INVALID_PARAMETER_VALUE).serialize_as_json()
    response = Response(body, status=400, mimetype="application/json")
    response.headers[HEADER] = "rejected"
    return response


def server_target() -> Target:
    """The server's own MLflow release, and the databases of its backend and registry stores
    (MLflow's `mlflow server` hands them to its workers in environment variables)."""
    from mlflow.server.constants import BACKEND_STORE_URI_ENV_VAR, REGISTRY_STORE_URI_ENV_VAR
    from mlflow.version import VERSION

    from mlfilter.versions import TargetError, backend_from_uri, nearest_line, resolve_version

    try:
        line = resolve_version(VERSION)
    except TargetError:
        line = nearest_line(VERSION)
        log.warning("no tables for MLflow %s; checking as MLflow %s", VERSION, line)
    tracking = os.environ.get(BACKEND_STORE_URI_ENV_VAR) or ""
    registry = os.environ.get(REGISTRY_STORE_URI_ENV_VAR) or tracking
    return Target(VERSION, line, _backend(tracking, backend_from_uri),
                  _backend(registry, backend_from_uri))


def _backend(uri: str, backend_from_uri) -> str:
    return backend_from_uri(uri) or ("sqlite" if not uri else "other")


def install(app) -> SearchHook | None:
    """Add the hook to MLflow's Flask app (once), with the mode from the environment."""
    if "mlfilter" in app.extensions:
        return app.extensions["mlfilter"]
    _log_to_stderr()
    from mlflow.server.handlers import STATIC_PREFIX_ENV_VAR

    mode = _setting(MODE_VAR, MODES, "enforce", "warn")
    fail_on = _setting(FAIL_ON_VAR, ("error", "warning"), "error", "error")
    target = server_target()
    if "other" in (target.backend, target.registry_backend) and mode == "enforce":
        # mlfilter knows MLflow's SQL stores; a file or remote store behaves otherwise
        log.warning("the backend store is not a database mlfilter knows; only logging "
                    "(warn mode)")
        mode = "warn"
        target = Target(target.release, target.line, _known(target.backend),
                        _known(target.registry_backend))
    hook = SearchHook(target, mode, fail_on, os.environ.get(STATIC_PREFIX_ENV_VAR, ""))
    app.before_request(hook)
    app.extensions["mlfilter"] = hook
    from mlfilter.versions import BACKEND_NAMES

    log.info("checking searches for MLflow %s on %s (%s mode)", target.release,
             BACKEND_NAMES.get(target.backend, target.backend), mode)
    return hook


def _known(backend: str) -> str:
    return "sqlite" if backend == "other" else backend


def _log_to_stderr() -> None:
    """MLflow's server configures only its own loggers: give ours a handler of its own."""
    if log.handlers:
        return
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
