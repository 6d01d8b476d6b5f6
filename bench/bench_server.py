#!/usr/bin/env python
"""Added latency of `mlflow server --app-name mlfilter` against the plain `mlflow server`.

Two real servers (one uvicorn worker each) on copies of one SQLite store made by MLflow's client
(tests/stores.py: build_store: runs, registered models and versions, logged models, traces).
The same accepted searches, over every search route, go to both through keep-alive HTTP
connections; each repetition sends every request to both servers, alternating which goes first.
Printed per request and overall: the median latency of each server, the median of the paired
differences (the added latency, ms) and the median of the paired ratios (mlfilter / plain).
Requests the plugin refuses are timed apart: it answers them without running the search.

A second table times the check alone, in this process: the plugin's hook on a real Flask request
(reading the request as MLflow does, then mlfilter's verdict), first call and cached.

    .venv/bin/python bench/bench_server.py            # ~2 minutes (servers start, 30 reps)
    .venv/bin/python bench/bench_server.py --reps 100

It prints numbers and never fails on them (no test asserts timings). Goal: under 1 ms added at
the median.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


def requests_for(logged):
    vision, nlp = logged.experiments["vision"], logged.experiments["nlp"]
    ids = list(logged.experiments.values())
    loc = [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": nlp}}]
    accepted = [
        ("runs filter+order", "POST", "/api/2.0/mlflow/runs/search",
         {"experiment_ids": ids, "filter": "metrics.accuracy > 0.5 AND params.optimizer = 'adam'",
          "order_by": ["metrics.accuracy DESC"], "max_results": 50}, None),
        ("runs (UI route)", "POST", "/ajax-api/2.0/mlflow/runs/search",
         {"experiment_ids": [vision], "filter": "tags.team = 'vision'", "max_results": 100}, None),
        ("runs no filter", "POST", "/api/2.0/mlflow/runs/search",
         {"experiment_ids": ids, "max_results": 20}, None),
        ("experiments", "POST", "/api/2.0/mlflow/experiments/search",
         {"filter": "name LIKE 'store-%'", "max_results": 10}, None),
        ("registered models", "GET", "/api/2.0/mlflow/registered-models/search", None,
         {"filter": "name LIKE '%bert%'"}),
        ("model versions", "GET", "/api/2.0/mlflow/model-versions/search", None,
         {"filter": "name = 'vision-classifier'"}),
        ("logged models", "POST", "/api/2.0/mlflow/logged-models/search",
         {"experiment_ids": [vision], "filter": "params.epochs = '10'"}, None),
        ("traces", "POST", "/api/3.0/mlflow/traces/search",
         {"locations": loc, "filter": "tags.env = 'prod'"}, None),
    ]
    refused = [
        ("runs unquoted", "POST", "/api/2.0/mlflow/runs/search",
         {"experiment_ids": ids, "filter": "params.batch_size = 32"}, None),
        ("runs OR", "POST", "/api/2.0/mlflow/runs/search",
         {"experiment_ids": ids, "filter": "metrics.a > 1 OR params.b = 'c'"}, None),
    ]
    return accepted, refused


class Client:
    def __init__(self, url):
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)

    def send(self, method, path, body, query) -> tuple[float, int, bytes]:
        target = path + ("?" + urlencode(query, doseq=True) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        start = time.perf_counter()
        self.conn.request(method, target, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        return (time.perf_counter() - start) * 1000, response.status, payload


def time_pairs(clients, cases, reps):
    """{name: ([plain ms], [plugin ms])}, alternating which server goes first."""
    out = {c[0]: ([], []) for c in cases}
    for rep in range(reps):
        for name, method, path, body, query in cases:
            order = (0, 1) if rep % 2 == 0 else (1, 0)
            for side in order:
                ms, status, _ = clients[side].send(method, path, body, query)
                out[name][side].append(ms)
    return out


def summary(rows, title):
    print(f"\n{title}")
    print(f"{'request':22} {'plain ms':>9} {'mlfilter ms':>12} {'added ms':>9} {'ratio':>6}")
    added_all, ratios_all, plain_all, plugin_all = [], [], [], []
    for name, (plain, plugin) in rows.items():
        diffs = [b - a for a, b in zip(plain, plugin)]
        ratios = [b / a for a, b in zip(plain, plugin)]
        added_all += diffs
        ratios_all += ratios
        plain_all += plain
        plugin_all += plugin
        print(f"{name:22} {statistics.median(plain):9.2f} {statistics.median(plugin):12.2f} "
              f"{statistics.median(diffs):9.2f} {statistics.median(ratios):6.2f}")
    # over all requests: medians of the latencies, of the paired differences and of the ratios
    print(f"{'all':22} {statistics.median(plain_all):9.2f} {statistics.median(plugin_all):12.2f} "
          f"{statistics.median(added_all):9.2f} {statistics.median(ratios_all):6.2f}")


def in_process(cases, reps):
    """The hook's own cost on a real Flask request context, in µs: first call, then cached."""
    from flask import Flask

    from mlfilter.mlflow_app.hook import SearchHook
    from mlfilter.mlflow_app.verdict import Target

    app = Flask("bench")
    for path, method in {(c[2], c[1]) for c in cases}:
        app.add_url_rule(path, f"{method} {path}", lambda: "", methods=[method])
    print(f"\nthe check alone, in this process (µs; median of {reps})")
    print(f"{'request':22} {'first':>8} {'cached':>8}")
    for name, method, path, body, query in cases:
        hook = SearchHook(Target("3.17.2", "3.17", "sqlite", "sqlite"), "enforce", "error")
        times = []
        for _ in range(reps + 1):
            with app.test_request_context(path, method=method, json=body, query_string=query):
                start = time.perf_counter()
                hook()
                times.append((time.perf_counter() - start) * 1e6)
        print(f"{name:22} {times[0]:8.0f} {statistics.median(times[1:]):8.0f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=30)
    args = parser.parse_args()
    import mlflow

    import mlflow_app_servers as servers
    import stores

    home = Path(tempfile.mkdtemp(prefix="bench-server-"))
    print(f"MLflow {mlflow.__version__}, Python {sys.version.split()[0]}; store in {home}")
    started = time.perf_counter()
    with stores.quiet_mlflow():
        logged = stores.build_store(f"sqlite:///{home / 'store.db'}", str(home / "artifacts"))
    print(f"store: {len(logged.runs)} runs, built in {time.perf_counter() - started:.0f} s")
    running = []
    try:
        for name, app in (("plain", None), ("mlfilter", "mlfilter")):
            where = home / name
            running.append(servers.start(where, servers.copy_store(logged.uri, where), app))
        clients = [Client(s["url"]) for s in running]
        accepted, refused = requests_for(logged)
        for case in accepted:  # warm both up; the plugin must pass each one on
            answers = [c.send(*case[1:]) for c in clients]
            assert all(a[1] == 200 for a in answers), (case[0], answers)
        for case in refused:
            assert clients[1].send(*case[1:])[1] == 400, case[0]
        summary(time_pairs(clients, accepted, args.reps),
                f"accepted searches (passed on to MLflow); median of {args.reps} pairs")
        summary(time_pairs(clients, refused, args.reps),
                "searches MLflow rejects (the plugin answers without searching)")
    finally:
        for server in running:
            stores.stop_mlflow_server(server)
    in_process(accepted + refused, max(args.reps, 50))


if __name__ == "__main__":
    main()
