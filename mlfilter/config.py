"""`[tool.mlfilter]` in pyproject.toml: the settings of `mlfilter lint`, validated.

    [tool.mlfilter]
    select = ["MF"]              # codes or prefixes to report (default: all)
    ignore = ["MF304", "MF9"]    # codes or prefixes not to report
    fail-on = "warning"          # lowest severity that fails: error, warning or info
    api = "runs"                 # API of `mlfilter.check(text)` calls that do not say
    exclude = ["legacy/", "*_generated.py"]   # gitignore-style, relative to this file
    respect-gitignore = true
    max-file-size = 10_000_000   # bytes; larger files are skipped (MF912)
    schema = "schema.json"       # type-check filters against this snapshot (mlfilter schema dump)
    mlflow-version = "3.17"      # the MLflow release the searches run on (default: see docs)
    backend = "postgresql"       # the tracking store's database (default: sqlite)

Command-line flags override these. Keys may be written with `-` or `_`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from mlfilter.errors import ConfigError  # noqa: F401 (also importable from here)

SEVERITIES = ("error", "warning", "info")
_CODE = re.compile(r"MF[0-9]{0,3}")


_SCHEMAS: dict = {}


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None  # None: every code
    ignore: tuple[str, ...] = ()
    fail_on: str = "warning"
    api: str = "runs"
    schema: str | None = None
    mlflow_version: str | None = None  # a supported release line, or None for the default
    backend: str | None = None
    exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    max_file_size: int = 10_000_000
    root: str = field(default_factory=os.getcwd)  # exclude patterns are relative to it
    path: str | None = None  # the file the settings came from
    store_schema: object = field(default=None, compare=False, repr=False)  # a store already read

    def with_schema(self, schema) -> Config:
        """These settings, type-checking against `schema` (a store an editor named) instead of
        the configured snapshot."""
        return replace(self, store_schema=schema)

    def load_schema(self):
        """The configured schema snapshot (relative paths are from the settings file's folder),
        loaded once per process and again when the file changes; None when none is configured."""
        if self.store_schema is not None:
            return self.store_schema
        if self.schema is None:
            return None
        path = os.path.join(self.root, self.schema)
        try:
            stamp = os.stat(path).st_mtime_ns
        except OSError:
            stamp = None  # Schema.load says why it cannot be read
        cached = _SCHEMAS.get(path)
        if cached is None or cached[0] != stamp:
            from mlfilter.schema.errors import SchemaError
            from mlfilter.schema.model import Schema  # plain JSON: no heavy import

            try:
                cached = _SCHEMAS[path] = (stamp, Schema.load(path))
            except SchemaError as e:
                raise ConfigError(f"{self.path or 'settings'}: schema: {e}") from None
        return cached[1]

    @property
    def mlflow_target(self) -> dict:
        return {"mlflow_version": self.mlflow_version, "backend": self.backend}

    def enabled(self, code: str) -> bool:
        if self.select is not None and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)

    def fails(self, severity: str) -> bool:
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.fail_on)

    def override(self, **changes) -> Config:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _load_toml(path: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror or e})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None


def find_config(start: str | None = None) -> str | None:
    """The nearest pyproject.toml at or above `start` that has a [tool.mlfilter] table."""
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, "pyproject.toml")
        try:
            with open(candidate, "rb") as f:
                if b"[tool.mlfilter" in f.read():
                    return candidate
        except OSError:
            pass
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def load(path: str | None = None, start: str | None = None) -> Config:
    """Settings from `path` (a pyproject.toml, or a TOML file of these keys at the top level), or
    from the nearest pyproject.toml with a [tool.mlfilter] table; defaults when there is none."""
    if path is None:
        path = find_config(start)
        if path is None:
            return Config(root=os.path.abspath(start or os.getcwd()))
    elif not os.path.isfile(path):
        raise ConfigError(f"{path}: no such file")
    data = _load_toml(path)
    table = data.get("tool", {}).get("mlfilter") if isinstance(data.get("tool"), dict) else None
    if table is None:
        table = {} if os.path.basename(path) == "pyproject.toml" else data
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.mlfilter] must be a table")
    return parse_table(table, path)


def _codes(value, where: str) -> tuple[str, ...]:
    from mlfilter.rules.registry import BY_CODE

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of codes such as [\"MF201\", \"MF3\"]")
    out = []
    for v in value:
        code = v.strip().upper()
        if not _CODE.fullmatch(code):
            raise ConfigError(f"{where}: `{v}` is not an mlfilter code or prefix (MF201, MF2)")
        if len(code) == 5 and code not in BY_CODE:
            raise ConfigError(f"{where}: `{v}` is not an mlfilter code (see `mlfilter rules`)")
        out.append(code)
    return tuple(out)


def codes_option(value: str, where: str) -> tuple[str, ...]:
    """A comma-separated command-line list of codes."""
    return _codes([v for v in value.split(",") if v.strip()], where)


def check_fail_on(value, where: str) -> str:
    if value not in SEVERITIES:
        raise ConfigError(f"{where}: expected one of {', '.join(SEVERITIES)}, not {value!r}")
    return value


def check_api(value, where: str) -> str:
    from mlfilter.apis import get_api

    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected an API name such as \"runs\"")
    try:
        return get_api(value).name
    except ValueError as e:
        raise ConfigError(f"{where}: {e}") from None


def check_target(key: str, value, where: str) -> str:
    from mlfilter.versions import TargetError, resolve_backend, resolve_version

    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string such as \"3.17\"" if key == "mlflow-version"
                          else f"{where}: expected sqlite, postgresql, mysql or mssql")
    try:
        return resolve_version(value) if key == "mlflow-version" else resolve_backend(value)
    except TargetError as e:
        raise ConfigError(f"{where}: {e}") from None


def parse_table(table: dict, path: str) -> Config:
    known = {"select", "ignore", "fail-on", "api", "schema", "exclude", "respect-gitignore",
             "max-file-size", "mlflow-version", "backend"}
    values: dict = {}
    for raw_key, value in table.items():
        key = raw_key.replace("_", "-")
        where = f"{path}: [tool.mlfilter] {raw_key}"
        if key not in known:
            import difflib

            close = difflib.get_close_matches(key, sorted(known), n=1)
            raise ConfigError(f"{path}: [tool.mlfilter] has no key `{raw_key}`"
                              + (f" (did you mean `{close[0]}`?)" if close else ""))
        if key in ("select", "ignore"):
            values[key] = _codes(value, where)
        elif key == "fail-on":
            values["fail_on"] = check_fail_on(value, where)
        elif key == "api":
            values["api"] = check_api(value, where)
        elif key == "schema":
            if not isinstance(value, str):
                raise ConfigError(f"{where}: expected a path")
            values["schema"] = value
        elif key in ("mlflow-version", "backend"):
            values[key.replace("-", "_")] = check_target(key, value, where)
        elif key == "exclude":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: expected a list of patterns")
            values["exclude"] = tuple(value)
        elif key == "respect-gitignore":
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false")
            values["respect_gitignore"] = value
        elif key == "max-file-size":
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{where}: expected a positive number of bytes")
            values["max_file_size"] = value
    return Config(root=os.path.dirname(os.path.abspath(path)), path=path, **values)
