"""Which MLflow release and which database a verdict is for.

mlfilter knows three MLflow release lines, each tested against one real release, and four
database backends. Version and backend facts themselves live in mlfilter/apis.py as data (CHANGES
and BACKEND_FACTS); this module only names the targets, resolves a user's spelling of them and
picks the default.
"""

from __future__ import annotations

import os
import re
import sys

from mlfilter.errors import TargetError  # noqa: F401 (also importable from here)

# Release line -> the release the differential tests run. Oldest first.
RELEASES = {"2.22": "2.22.1", "3.17": "3.17.2", "3.18": "3.18.0"}
SUPPORTED = tuple(RELEASES)
NEWEST = SUPPORTED[-1]
BACKENDS = ("sqlite", "postgresql", "mysql", "mssql")
DEFAULT_BACKEND = "sqlite"  # MLflow's own default store (mlflow.db)
BACKEND_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB",
                 "mssql": "SQL Server"}
ENV_VERSION = "MLFILTER_MLFLOW_VERSION"


_RELEASE_TUPLES: dict[str, tuple[int, ...]] = {}


def release_tuple(version: str) -> tuple[int, ...]:
    """'3.17.2' -> (3, 17, 2); pre-release tails ('3.0.0rc1') sort before the release."""
    found = _RELEASE_TUPLES.get(version)
    if found is None:
        if len(_RELEASE_TUPLES) > 1024:
            _RELEASE_TUPLES.clear()
        found = _RELEASE_TUPLES[version] = _release_tuple(version)
    return found


def _release_tuple(version: str) -> tuple[int, ...]:
    nums = []
    for part in version.split("."):
        m = re.match(r"(\d+)(.*)", part)
        if m is None:
            break
        nums.append(int(m.group(1)))
        if m.group(2):
            nums.append(-1)  # 3.0.0rc1 < 3.0.0
            break
    return tuple(nums)


def line_of(version: str) -> str:
    """The release line ('3.17') of a version string."""
    return ".".join(version.split(".")[:2])


def resolve_version(version: str | None) -> str:
    """A supported release line for `version` (None: the default). '3.17.2', '3.17', 'v3.17.0'
    and '3.17.*' all give '3.17'; an unknown line is a TargetError naming the supported ones."""
    if version is None:
        return default_version()
    text = str(version).strip().lower().removeprefix("mlflow").strip(" =v")
    text = text.rstrip(".*")
    if re.fullmatch(r"\d+\.\d+(\.\d+([a-z]+\d*)?)?", text):
        line = line_of(text)
        if line in RELEASES:
            return line
    raise TargetError(f"MLflow version {version!r} is not supported: mlfilter knows "
                      + ", ".join(SUPPORTED) + f" (tested at {', '.join(RELEASES.values())})")


def resolve_backend(backend: str | None) -> str:
    if backend is None:
        return DEFAULT_BACKEND
    key = str(backend).strip().lower()
    key = {"postgres": "postgresql", "pg": "postgresql", "mariadb": "mysql",
           "sqlserver": "mssql", "sql server": "mssql"}.get(key, key)
    if key in BACKENDS:
        return key
    raise TargetError(f"unknown backend {backend!r}: expected one of {', '.join(BACKENDS)}")


def backend_from_uri(uri: str | None) -> str | None:
    """The backend of a store URI ('postgresql+psycopg://...' -> 'postgresql'); None when the
    URI is not a database (a tracking server, a file store) or not given."""
    if not uri:
        return None
    scheme = str(uri).split(":", 1)[0].split("+", 1)[0].lower()
    return {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql",
            "mysql": "mysql", "mariadb": "mysql", "mssql": "mssql"}.get(scheme)


_default: str | None = None


def default_version() -> str:
    """The release line checked when none is given: $MLFILTER_MLFLOW_VERSION, else the line of the
    MLflow installed beside mlfilter (what a local search would run), else the newest supported.
    Found without importing mlflow: the lint path must stay fast."""
    global _default
    env = os.environ.get(ENV_VERSION)
    if env:
        return resolve_version(env)
    if _default is None:
        installed = installed_mlflow()
        _default = line_of(installed) if installed and line_of(installed) in RELEASES else NEWEST
    return _default


def installed_mlflow() -> str | None:
    """The version of the mlflow (or mlflow-skinny) distribution on sys.path, read from its
    .dist-info directory name; None when there is none."""
    pattern = re.compile(r"mlflow(?:_skinny)?-(\d[^-]*)\.dist-info$", re.IGNORECASE)
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name[:6].lower() == "mlflow":
                m = pattern.match(name)
                if m:
                    return m.group(1)
    return None


def nearest_line(version: str) -> str:
    """The supported line closest to a release mlfilter has no tables for: the oldest supported
    release at or after it (its behaviour is the nearest known), else the newest."""
    wanted = release_tuple(version)
    for line, release in RELEASES.items():
        if line_of(version) == line or release_tuple(release) >= wanted:
            return line
    return NEWEST


def line_for_revision(revision: str) -> str | None:
    """The release line that wrote a database at this alembic revision: the oldest supported
    release whose schema head is at or after it. None for a revision MLflow never wrote."""
    from mlfilter.schema._revisions import HEADS, REVISIONS

    if revision not in REVISIONS:
        return None
    position = REVISIONS.index(revision)
    for release in sorted(HEADS, key=release_tuple):
        if REVISIONS.index(HEADS[release]) >= position and line_of(release) in RELEASES:
            return line_of(release)
    return NEWEST
