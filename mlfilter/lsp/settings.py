"""What the server lints with: `[tool.mlfilter]` of the pyproject.toml nearest each document (as
`mlfilter lint` finds it), re-read when it changes, and the editor's own settings (a tracking
store to read keys from, the debounce delay).

The editor's settings come as initializationOptions or as the `mlfilter` section of
workspace/didChangeConfiguration:

    {"store": "sqlite:///mlflow.db", "experiments": ["1", "demo"], "debounce": 50}

A store is read once, in the background, and only when one is named: that is the only time the
server imports SQLAlchemy or MLflow.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

DEFAULT_DEBOUNCE_MS = 50


@dataclass(frozen=True)
class EditorSettings:
    store: str | None = None
    experiments: tuple[str, ...] | None = None
    debounce_ms: int = DEFAULT_DEBOUNCE_MS

    @classmethod
    def from_options(cls, options) -> tuple[EditorSettings, list[str]]:
        """Settings from the editor's JSON, and a message for each value that cannot be used."""
        problems: list[str] = []
        if isinstance(options, dict) and isinstance(options.get("mlfilter"), dict):
            options = options["mlfilter"]
        if not isinstance(options, dict):
            return cls(), problems
        store = options.get("store")
        if store is not None and not (isinstance(store, str) and store.strip()):
            problems.append("`store` must be a tracking store URI (sqlite:///mlflow.db, "
                            "postgresql://..., http://...)")
            store = None
        experiments = options.get("experiments")
        if experiments is not None:
            if isinstance(experiments, (str, int)):
                experiments = [experiments]
            if isinstance(experiments, list) and all(isinstance(e, (str, int)) for e in experiments):
                experiments = tuple(str(e) for e in experiments)
            else:
                problems.append("`experiments` must be a list of experiment ids or names")
                experiments = None
        debounce = options.get("debounce", DEFAULT_DEBOUNCE_MS)
        if not isinstance(debounce, (int, float)) or isinstance(debounce, bool) or debounce < 0:
            problems.append("`debounce` must be a number of milliseconds (0 or more)")
            debounce = DEFAULT_DEBOUNCE_MS
        return cls(store.strip() if store else None, experiments, int(debounce)), problems


class StoreSchema:
    """The schema of the store the editor named, read once in a background thread."""

    def __init__(self, uri: str, experiments, on_done):
        self.uri = uri
        self.schema = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._read, args=(experiments, on_done),
                                        name="mlfilter-store", daemon=True)
        self._thread.start()

    def _read(self, experiments, on_done) -> None:
        try:
            from mlfilter.schema import Schema

            self.schema = Schema.from_store(self.uri, list(experiments) if experiments else None)
        except Exception as e:  # a store that is down, a bad URI: say so, lint without it
            from mlfilter.schema.model import mask

            self.error = f"cannot read the store {mask(self.uri)}: {mask(str(e))}"
        on_done(self)


class Settings:
    """Config per document, cached by folder and re-read when its pyproject.toml changes."""

    def __init__(self, roots: list[str]):
        self.roots = roots
        self.editor = EditorSettings()
        self.store: StoreSchema | None = None
        self._by_dir: dict[str, tuple] = {}  # folder -> (Config, error, (path, mtime) or None)
        self._lock = threading.Lock()

    def reload(self) -> None:
        """Forget every settings file read: the next lint reads them again."""
        with self._lock:
            self._by_dir.clear()

    def folder_of(self, path: str | None) -> str:
        if path:
            return os.path.dirname(os.path.abspath(path))
        return self.roots[0] if self.roots else os.getcwd()

    def config_for(self, path: str | None):
        """(Config, error message or None) for a document at `path` (None: not a file)."""
        from mlfilter import config as settings

        folder = self.folder_of(path)
        with self._lock:
            cached = self._by_dir.get(folder)
        if cached is not None and _stamp(cached[2]) == cached[2]:
            return cached[0], cached[1]
        error = None
        try:
            config = settings.load(None, start=folder)
            config.load_schema()  # a snapshot that cannot be read is reported like a bad key
        except settings.ConfigError as e:
            config, error = settings.Config(root=folder), str(e)
            found = settings.find_config(folder)
            stamp = _stamp((found, None)) if found else None
        else:
            stamp = _stamp((config.path, None)) if config.path else None
        config = self._with_store(config)
        with self._lock:
            self._by_dir[folder] = (config, error, stamp)
        return config, error

    def _with_store(self, config):
        store = self.store
        if store is None or store.schema is None:
            return config
        schema = store.schema
        return config.with_schema(schema).override(
            mlflow_version=config.mlflow_version or schema.mlflow_line,
            backend=config.backend or schema.backend)


def _stamp(entry):
    """(path, mtime) of a settings file now; a file that went away has mtime None."""
    if entry is None:
        return None
    path = entry[0]
    try:
        return path, os.stat(path).st_mtime_ns
    except OSError:
        return path, None
