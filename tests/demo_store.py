"""The demo tracking store (mlfilter/data/demo.db) opened with MLflow's own SqlAlchemyStore, to
count what a search really returns. The schema golden cases (MF5xx) are checked against it: a
warning that says "matches nothing" must match nothing there.

The database is copied to a temporary directory first: the packaged file is never written.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEMO_DB = REPO / "mlfilter" / "data" / "demo.db"
DEMO_SCHEMA = REPO / "mlfilter" / "data" / "demo_schema.json"

_LOCK = threading.Lock()
_STORE = None


@contextlib.contextmanager
def _quiet():
    saved = os.environ.pop("PYTEST_CURRENT_TEST", None)  # MLflow's test-only session tripwire
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved


def _store():
    global _STORE
    with _LOCK:
        if _STORE is None:
            directory = tempfile.mkdtemp(prefix="mlfilter-demo-")
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            shutil.copy(DEMO_DB, os.path.join(directory, "demo.db"))
            with _quiet():
                from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

                _STORE = SqlAlchemyStore(f"sqlite:///{directory}/demo.db",
                                         Path(directory, "artifacts").as_uri())
        return _STORE


def count_runs(filter_string: str, experiments: list[str] | None, view_type: str | None) -> int:
    """How many runs search_runs returns (experiments by name or id; all when None)."""
    from mlflow.entities import ViewType

    store = _store()
    with _LOCK, _quiet():
        if experiments is None:
            ids = [e.experiment_id for e in store.search_experiments(ViewType.ALL, 1000)]
        else:
            ids = []
            for e in experiments:
                found = store.get_experiment_by_name(e)
                ids.append(found.experiment_id if found is not None else e)
        view = ViewType.from_string((view_type or "active_only").lower())
        return len(store.search_runs(ids, filter_string, view, max_results=50_000))
