"""Ask a real MLflow store of a given version and backend about search requests.

``VersionOracle(version, backend)`` runs ``tests/mlflow_oracle.py --serve`` as a worker process
with the interpreter ``mlflow_versions.ensure_python(version)`` gives (the test venv for 3.17.2, a
cached venv otherwise) on ``sqlite``, ``postgresql`` or ``mysql`` (MariaDB). The worker builds the
oracle's fixture store (MLflow creating its own tables; on a server, in a fresh database that it
drops when it exits) and answers one JSON line per request.

``labels(requests)`` takes requests ``{"api": A, "filter": F}`` or ``{"api": A, "order_by": [...]}``
and returns one :class:`VersionVerdict` per request, in order. Requests go to the worker as one
pipelined batch; each answer has its own time limit (``timeout`` seconds, default 60,
MLFILTER_ORACLE_TIMEOUT): a request that gets no answer in time is labelled status "timeout", the
worker is killed (its database dropped from here) and a new one answers the rest. A worker that
exits mid-batch labels that request "died" (with its stderr tail) and is replaced likewise.

Answers are cached on disk, one JSON-lines file per (MLflow version, backend, hash of
tests/mlflow_oracle.py and of the venv recipe) under ``<cache>/labels/`` (``<cache>`` is
MLFILTER_VENV_CACHE, default ``~/.cache/mlfilter/venvs``), so a rerun asks the worker only about
new requests (and starts no worker when everything is cached). "timeout" and "died" are never
cached. Set MLFILTER_ORACLE_CACHE=0 to neither read nor write it. The ``n`` of a cached answer is
that of the store the first run built (the fixture's timestamps are relative to its build time).

``get_version_oracle(version, backend)`` returns one VersionOracle per (version, backend) per
process, closed at exit. Worker logs (stderr) go to ``<cache>/logs/``.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import mlflow_versions
from mlflow_oracle import APIS, BACKENDS, Verdict

ORACLE_SCRIPT = Path(__file__).resolve().parent / "mlflow_oracle.py"
VERSIONS = ("2.22.1", "3.17.2", "3.18.0")
CACHEABLE = ("ok", "rejected", "crash", "unsupported")


@dataclass(frozen=True)
class VersionVerdict(Verdict):
    """A Verdict from a given MLflow version and backend.

    status: ok | rejected | crash | unsupported (as from the in-process oracle), or "timeout"
    (no answer in time) or "died" (the worker exited while answering).
    """

    mlflow_version: str | None = None
    backend: str | None = None
    cached: bool = field(default=False, compare=False)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in
                ("status", "http", "message", "exc_type", "n", "error_code", "mlflow_version")}


class OracleWorkerError(RuntimeError):
    """The worker could not start (or the protocol broke); the message has its stderr tail."""


def request_key(request: dict) -> str:
    """The canonical text of a request (its cache key, with the version and backend)."""
    if not isinstance(request, dict) or request.get("api") not in APIS:
        raise ValueError(f"a request needs an api in {APIS}: {request!r:.200}")
    kinds = [k for k in ("filter", "order_by") if k in request]
    if len(kinds) != 1 or set(request) - {"api", "filter", "order_by"}:
        raise ValueError(f"a request has api and exactly one of filter/order_by: {request!r:.200}")
    return json.dumps({"api": request["api"], kinds[0]: request[kinds[0]]}, sort_keys=True)


def _oracle_hash(version: str) -> str:
    h = hashlib.sha256(ORACLE_SCRIPT.read_bytes())
    if version != mlflow_versions.TEST_VENV_VERSION:
        h.update(mlflow_versions.venv_dir(version).name.encode())
    return h.hexdigest()[:16]


class LabelCache:
    """Answers on disk: JSON lines ``{"key": ..., "verdict": {...}}``, appended under a lock."""

    def __init__(self, version: str, backend: str, root: Path | None = None):
        root = (root or mlflow_versions.cache_dir() / "labels") / version
        self.path = root / f"{backend}-{_oracle_hash(version)}.jsonl"
        self._data: dict[str, dict] | None = None

    def _load(self) -> dict[str, dict]:
        if self._data is None:
            self._data = {}
            with contextlib.suppress(FileNotFoundError):
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        try:
                            entry = json.loads(line)
                            self._data[entry["key"]] = entry["verdict"]
                        except (ValueError, KeyError, TypeError):
                            continue  # a torn line: ignore it
        return self._data

    def get(self, key: str) -> dict | None:
        return self._load().get(key)

    def put_many(self, items: Iterable[tuple[str, dict]]) -> None:
        items = [(k, v) for k, v in items if v.get("status") in CACHEABLE]
        if not items:
            return
        data = self._load()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = "".join(json.dumps({"key": k, "verdict": v}) + "\n" for k, v in items)
        with open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.write(text)
                f.flush()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
        data.update(items)


class _Worker:
    """One `mlflow_oracle.py --serve` process and a line reader with deadlines."""

    def __init__(self, python: Path, backend: str, log_path: Path, start_timeout: float):
        self.backend = backend
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "wb")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MLFLOW_", "PYTEST_", "PYTHON", "VIRTUAL_ENV"))}
        # a fixed hash seed: MLflow's messages show sets, whose order then stays the same from
        # run to run (and cached answers equal fresh ones); -s: no user site-packages
        env["PYTHONHASHSEED"] = "0"
        self.proc = subprocess.Popen(
            [str(python), "-s", str(ORACLE_SCRIPT), "--serve", "--backend", backend],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, env=env,
            cwd=str(log_path.parent), start_new_session=True)
        self._buf = b""
        self.database: str | None = None
        self.directory: str | None = None
        line = self.readline(start_timeout)
        if line is None or line == b"":
            self.kill()
            what = "no ready line" if line is None else "exited"
            raise OracleWorkerError(
                f"{python} {ORACLE_SCRIPT.name} --serve --backend {backend}: {what} within "
                f"{start_timeout:.0f} s (exit {self.proc.returncode}); stderr tail:\n"
                f"{self.stderr_tail()}")
        try:
            self.ready = json.loads(line)
        except ValueError:
            self.kill()
            raise OracleWorkerError(f"worker printed {line[:300]!r} instead of its ready line; "
                                    f"stderr tail:\n{self.stderr_tail()}") from None
        if not self.ready.get("ready"):
            self.close()
            raise OracleWorkerError(
                f"the {backend} store for {python} could not be built: {self.ready.get('error')}"
                f"\n{self.ready.get('traceback', '')}\nstderr tail:\n{self.stderr_tail()}")
        if backend != "sqlite":
            self.database = self.ready.get("database")
        self.directory = self.ready.get("dir")  # the worker's temporary directory

    def stderr_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):  # (only the worker writes to the log)
            text = self.log_path.read_text(errors="replace")
            return "\n".join(text.strip().splitlines()[-lines:])
        return ""

    def readline(self, timeout: float) -> bytes | None:
        """The next line (without newline); b"" at EOF; None when `timeout` passes first."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                return None
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b""
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return line

    def send_all(self, lines: list[bytes]) -> threading.Thread:
        """Write the lines from a thread (the reader keeps draining answers meanwhile)."""
        def write():
            try:
                for chunk in lines:
                    self.proc.stdin.write(chunk)
                self.proc.stdin.flush()
            except (OSError, ValueError):  # the worker is gone: the reader sees EOF
                pass

        t = threading.Thread(target=write, daemon=True)
        t.start()
        return t

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, grace: float = 60) -> None:
        """EOF on stdin: the worker drops its database and exits; escalate if it does not."""
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        self._finish()

    def kill(self) -> None:
        """SIGTERM (the worker cleans up), then SIGKILL; drop its database from here if needed."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self._finish()

    def _finish(self) -> None:
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        with contextlib.suppress(OSError):
            self._log.close()
        # killed before its cleanup could run (or it failed): drop the database from here
        if self.database and self.proc.returncode != 0:
            from mlflow_oracle import drop_database

            with contextlib.suppress(Exception):
                drop_database(self.backend, self.database)
            self.database = None
        if self.directory and self.proc.returncode != 0:
            if Path(self.directory).name.startswith("mlfilter-serve-"):
                shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


class VersionOracle:
    """A real MLflow store of one version on one backend, in a worker process (started lazily)."""

    def __init__(self, version: str, backend: str = "sqlite", *, timeout: float | None = None,
                 start_timeout: float | None = None, cache: bool | str | Path | None = None):
        """``cache``: True (the default cache, unless MLFILTER_ORACLE_CACHE=0), False (none), or
        a directory to keep the label files in instead of ``<cache>/labels``."""
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
        self.version = version
        self.backend = backend
        self.timeout = float(timeout or os.environ.get("MLFILTER_ORACLE_TIMEOUT", "60"))
        self.start_timeout = float(
            start_timeout or os.environ.get("MLFILTER_ORACLE_START_TIMEOUT", "600"))
        if cache is None:
            cache = os.environ.get("MLFILTER_ORACLE_CACHE", "1") not in ("0", "")
        if isinstance(cache, (str, Path)):
            self.cache = LabelCache(version, backend, Path(cache))
        else:
            self.cache = LabelCache(version, backend) if cache else None
        self._worker: _Worker | None = None
        self._lock = threading.RLock()
        self.max_failures = 3  # workers in a row that time out or die: then raise
        self.starts = 0  # workers started (1 + restarts)
        self.asked = 0  # requests sent to a worker (not answered from the cache)

    # ---------------------------------------------------------------- worker
    @property
    def python(self) -> Path:
        return mlflow_versions.ensure_python(self.version)

    def _ensure_worker(self) -> _Worker:
        if self._worker is None or not self._worker.alive():
            if self._worker is not None:
                self._worker.kill()
            python = self.python
            self.starts += 1
            log = (mlflow_versions.cache_dir() / "logs" /
                   f"{self.version}-{self.backend}-{os.getpid()}-{self.starts}.log")
            self._worker = _Worker(python, self.backend, log, self.start_timeout)
            if self._worker.ready.get("mlflow_version") != self.version:
                found = self._worker.ready.get("mlflow_version")
                self._worker.close()
                self._worker = None
                raise OracleWorkerError(f"{python} runs MLflow {found}, not {self.version}")
        return self._worker

    @property
    def info(self) -> dict:
        """The worker's ready line (starts a worker)."""
        with self._lock:
            return dict(self._ensure_worker().ready)

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.close()
                self._worker = None

    def __enter__(self) -> VersionOracle:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- requests
    def _verdict(self, answer: dict, cached: bool = False) -> VersionVerdict:
        return VersionVerdict(
            status=answer.get("status"), http=answer.get("http"), message=answer.get("message"),
            exc_type=answer.get("exc_type"), n=answer.get("n"),
            error_code=answer.get("error_code"),
            mlflow_version=answer.get("mlflow_version", self.version), backend=self.backend,
            cached=cached)

    def labels(self, requests: Iterable[dict]) -> list[VersionVerdict]:
        """One verdict per request, in order (cached answers first, the rest from a worker)."""
        requests = list(requests)
        keys = [request_key(r) for r in requests]
        found: dict[str, VersionVerdict] = {}
        pending: dict[str, None] = {}  # ordered set
        for key in keys:
            if key in found or key in pending:
                continue
            hit = self.cache.get(key) if self.cache else None
            if hit is not None:
                found[key] = self._verdict(hit, cached=True)
            else:
                pending[key] = None
        if pending:
            with self._lock:
                # answers reach the cache as they come (an interrupted batch keeps its part)
                answers = self._ask(list(pending), self.cache.put_many if self.cache else None)
            for key, answer in answers.items():
                found[key] = self._verdict(answer)
        return [found[k] for k in keys]

    def label(self, request: dict) -> VersionVerdict:
        return self.labels([request])[0]

    def filter_verdict(self, api: str, filter_string: Any) -> VersionVerdict:
        return self.label({"api": api, "filter": filter_string})

    def order_by_verdict(self, api: str, order_by: list) -> VersionVerdict:
        return self.label({"api": api, "order_by": list(order_by)})

    def _ask(self, keys: list[str], save=None, save_every: int = 200) -> dict[str, dict]:
        """Answers for these request keys from workers (restarted after a timeout or death);
        ``save(items)`` gets the (key, answer) pairs every ``save_every`` answers and at the end."""
        answers: dict[str, dict] = {}
        unsaved: list[tuple[str, dict]] = []
        try:
            self._ask_into(keys, answers, unsaved, save, save_every)
        except BaseException:
            # answers still in the pipe would be read as the next call's: start afresh
            if self._worker is not None:
                self._worker.kill()
                self._worker = None
            raise
        finally:
            if save is not None and unsaved:
                save(unsaved)
        return answers

    def _ask_into(self, keys, answers, unsaved, save, save_every) -> None:
        todo = list(keys)
        failures = 0  # workers in a row that timed out or died before answering anything
        while todo:
            if failures >= self.max_failures:
                raise OracleWorkerError(
                    f"MLflow {self.version} on {self.backend}: {failures} workers in a row timed "
                    f"out or died without answering; last: {answers[last_failed]['message']}")
            worker = self._ensure_worker()
            lines = []
            for i, key in enumerate(todo):
                request = json.loads(key)
                request["id"] = i
                lines.append((json.dumps(request) + "\n").encode("ascii"))
            writer = worker.send_all(lines)
            self.asked += len(todo)
            done = 0
            for i, key in enumerate(todo):
                line = worker.readline(self.timeout)
                if line is None:
                    answers[key] = {"status": "timeout", "mlflow_version": self.version,
                                    "message": f"no answer within {self.timeout:g} s "
                                               f"(worker killed and restarted)"}
                    worker.kill()
                    done = i + 1
                    break
                if line == b"":
                    worker.kill()
                    answers[key] = {"status": "died", "mlflow_version": self.version,
                                    "message": f"the worker exited (code {worker.proc.returncode})"
                                               f" while answering; stderr tail:\n"
                                               f"{worker.stderr_tail(10)}"}
                    done = i + 1
                    break
                try:
                    answer = json.loads(line)
                except ValueError:
                    worker.kill()
                    raise OracleWorkerError(f"worker answered {line[:300]!r}; stderr tail:\n"
                                            f"{worker.stderr_tail()}") from None
                if answer.get("status") == "error" or answer.get("id") != i:
                    worker.kill()
                    raise OracleWorkerError(f"protocol error for {key}: {answer}")
                answer.pop("id")
                answers[key] = answer
                done = i + 1
                if save is not None:
                    unsaved.append((key, answer))
                    if len(unsaved) >= save_every:
                        save(list(unsaved))
                        unsaved.clear()
            writer.join(timeout=30)
            if done and answers[todo[done - 1]]["status"] in ("timeout", "died"):
                failures = failures + 1 if done == 1 else 1
                last_failed = todo[done - 1]
            else:
                failures = 0
            todo = todo[done:]

    def ask_raw(self, requests: Iterable[dict]) -> list[VersionVerdict]:
        """Like labels() without the cache, and worker ops allowed besides searches:
        ``{"op": "sleep", "seconds": S}`` (a request that hangs) and ``{"op": "exit"}`` (a worker
        that dies without cleaning up). For tests of the timeout and restart handling."""
        keys = [json.dumps(r, sort_keys=True) for r in requests]
        if len(set(keys)) != len(keys):
            raise ValueError("ask_raw takes distinct requests")
        with self._lock:
            answers = self._ask(keys)
        return [self._verdict(answers[k]) for k in keys]


def close_many(oracles: Iterable[VersionOracle]) -> None:
    """Close several oracles at once: every worker gets its EOF first, then each is waited for
    (their databases are dropped in parallel)."""
    oracles = list(oracles)
    for o in oracles:
        worker = o._worker
        if worker is not None:
            with contextlib.suppress(OSError, ValueError):
                worker.proc.stdin.close()
    for o in oracles:
        with contextlib.suppress(Exception):
            o.close()


_ORACLES: dict[tuple[str, str], VersionOracle] = {}
_ORACLES_LOCK = threading.Lock()


def get_version_oracle(version: str, backend: str = "sqlite") -> VersionOracle:
    """One VersionOracle per (version, backend) in this process; all closed at exit."""
    with _ORACLES_LOCK:
        key = (version, backend)
        if key not in _ORACLES:
            if not _ORACLES:
                atexit.register(close_all)
            _ORACLES[key] = VersionOracle(version, backend)
        return _ORACLES[key]


def close_all() -> None:
    with _ORACLES_LOCK:
        close_many(_ORACLES.values())
        _ORACLES.clear()


def main(argv: list[str] | None = None) -> int:
    """`python tests/version_oracle.py VERSION BACKEND API [FILTER] [--order-by JSON]`."""
    import argparse
    import sys

    p = argparse.ArgumentParser(description="Label one search request with a given MLflow.")
    p.add_argument("version")
    p.add_argument("backend", choices=BACKENDS)
    p.add_argument("api", choices=APIS)
    p.add_argument("filter", nargs="?", default=None)
    p.add_argument("--order-by", help="JSON list of order_by entries")
    a = p.parse_args(sys.argv[1:] if argv is None else argv)
    with VersionOracle(a.version, a.backend) as o:
        if a.order_by is not None:
            v = o.order_by_verdict(a.api, json.loads(a.order_by))
        else:
            v = o.filter_verdict(a.api, a.filter)
        print(json.dumps({**v.as_dict(), "backend": v.backend, "cached": v.cached}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
