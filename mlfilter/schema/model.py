"""What a tracking store holds, as plain data: keys, value kinds, counts, bounded samples.

No heavy imports here: a schema snapshot (JSON) is loaded and used on the lint path. Reading a
store lives in mlfilter/schema/store.py (SQLAlchemy) and server.py (MLflow client).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

FORMAT_VERSION = 1
SAMPLE_SIZE = 50  # distinct values kept per key; a key with more is "not fully sampled"


@dataclass
class KeyInfo:
    """One param, tag or metric key (per experiment, or per registry/trace entity)."""

    entities: int = 0  # how many runs (models, traces...) have it
    active: int = 0  # of those, how many are not deleted
    distinct: int = 0  # distinct values (params, tags)
    sample: list[str] = field(default_factory=list)  # up to SAMPLE_SIZE distinct values
    kind: str = "text"  # "integer", "float", "bool", "text" (from the sample)
    minimum: float | None = None  # metrics: range of the latest values (NaN excluded)
    maximum: float | None = None
    nan: int = 0  # metrics: runs whose latest value is NaN

    @property
    def complete(self) -> bool:
        """True when the sample holds every distinct value."""
        return self.distinct <= len(self.sample)


@dataclass
class ExperimentInfo:
    experiment_id: str
    name: str
    lifecycle_stage: str = "active"
    runs: dict[str, int] = field(default_factory=dict)  # "<lifecycle>/<status>" -> count
    params: dict[str, KeyInfo] = field(default_factory=dict)
    metrics: dict[str, KeyInfo] = field(default_factory=dict)
    tags: dict[str, KeyInfo] = field(default_factory=dict)
    datasets: dict[str, list[str]] = field(default_factory=dict)  # name -> contexts
    experiment_tags: dict[str, KeyInfo] = field(default_factory=dict)
    complete: bool = True  # False: only the newest runs were read (a tracking server's MAX_RUNS)


@dataclass
class Schema:
    """A tracking store's keys and values, per experiment, plus registry and traces."""

    source: str = ""  # where it was read (credentials masked)
    mlflow_schema: str = ""  # the database's alembic revision, when read from a database
    mlflow_version: str = ""  # the MLflow found there: a server's release, or the release line
    #                           that wrote the database's schema revision
    experiments: dict[str, ExperimentInfo] = field(default_factory=dict)
    registered_models: dict[str, KeyInfo] = field(default_factory=dict)  # "name" and tags
    model_versions: dict[str, KeyInfo] = field(default_factory=dict)
    logged_models: dict[str, dict[str, KeyInfo]] = field(default_factory=dict)  # params/...
    traces: dict[str, dict[str, KeyInfo]] = field(default_factory=dict)  # tags/metadata

    # ---- loading and saving -------------------------------------------------------------------
    @classmethod
    def load(cls, path) -> Schema:
        from mlfilter.schema.errors import SchemaError

        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except OSError as e:
            raise SchemaError(f"cannot read the schema snapshot {path}: {e.strerror}") from None
        except (ValueError, UnicodeDecodeError) as e:
            raise SchemaError(f"{path} is not a schema snapshot (invalid JSON: {e})") from None
        return cls.from_dict(data, str(path))

    def dump(self, path) -> None:
        import os
        import tempfile

        text = json.dumps(self.to_dict(), indent=1, sort_keys=True, ensure_ascii=False)
        directory = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".schema-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a snapshot is a normal file
        os.replace(tmp, path)

    def to_dict(self) -> dict:
        return {"format": "mlfilter-schema", "version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict, where: str = "the snapshot") -> Schema:
        from mlfilter.schema.errors import SchemaError

        if not isinstance(data, dict) or data.get("format") != "mlfilter-schema":
            raise SchemaError(f"{where} is not an mlfilter schema snapshot")
        if data.get("version") != FORMAT_VERSION:
            raise SchemaError(f"{where} has snapshot format version {data.get('version')!r}; this "
                              f"mlfilter reads version {FORMAT_VERSION}: dump it again")
        try:
            return cls(
                source=data.get("source", ""),
                mlflow_schema=data.get("mlflow_schema", ""),
                mlflow_version=data.get("mlflow_version", ""),
                experiments={k: _experiment(v) for k, v in data.get("experiments", {}).items()},
                registered_models=_keys(data.get("registered_models", {})),
                model_versions=_keys(data.get("model_versions", {})),
                logged_models={k: _keys(v) for k, v in data.get("logged_models", {}).items()},
                traces={k: _keys(v) for k, v in data.get("traces", {}).items()},
            )
        except (TypeError, KeyError, AttributeError) as e:
            raise SchemaError(f"{where} is damaged: {e}") from None

    @classmethod
    def from_store(cls, uri: str, experiments=None, progress=None) -> Schema:
        """Read a tracking store: a database URI (sqlite:///, postgresql://, mysql+pymysql://)
        through SQLAlchemy, or a tracking server (http://, https://) through the MLflow client."""
        kind = store_kind(uri)
        if kind == "server":
            from mlfilter.schema.server import read_server

            return read_server(uri, experiments, progress)
        if kind == "database":
            from mlfilter.schema.store import read_database

            return read_database(uri, experiments, progress)
        return cls.load(uri)

    # ---- the target found in the store -------------------------------------------------------------
    @property
    def mlflow_line(self) -> str | None:
        """The supported release line closest to the MLflow found in the store (None: unknown)."""
        from mlfilter.versions import nearest_line

        return nearest_line(self.mlflow_version) if self.mlflow_version else None

    @property
    def backend(self) -> str | None:
        """The store's database, when it was read from one."""
        from mlfilter.versions import backend_from_uri

        return backend_from_uri(self.source)

    # ---- views --------------------------------------------------------------------------------
    @property
    def metrics(self):
        """Run metric keys as builder terms, all experiments merged: `schema.metrics.acc`,
        `schema.metrics["val/loss"]` (tab-completes; see mlfilter/jupyter.py)."""
        from mlfilter.jupyter import schema_keys

        return schema_keys(self, "metrics")

    @property
    def params(self):
        """Run param keys as builder terms: `schema.params.lr` is `F.param("lr")`."""
        from mlfilter.jupyter import schema_keys

        return schema_keys(self, "params")

    @property
    def tags(self):
        """Run tag keys as builder terms: `schema.tags["mlflow.runName"]`."""
        from mlfilter.jupyter import schema_keys

        return schema_keys(self, "tags")

    def _repr_html_(self) -> str:  # notebooks (mlfilter/display.py)
        from mlfilter.display import schema_html

        return schema_html(self)

    def _repr_pretty_(self, p, cycle) -> None:  # IPython in a terminal
        from mlfilter.display import pretty, schema_text

        pretty(schema_text(self), p, cycle)

    def select(self, experiment_ids=None) -> list[ExperimentInfo]:
        """The experiments searched: ids or names; None means all."""
        from mlfilter.schema.errors import SchemaError

        if not experiment_ids:
            return list(self.experiments.values())
        out = []
        for ref in experiment_ids:
            ref = str(ref)
            exp = self.experiments.get(ref) or next(
                (e for e in self.experiments.values() if e.name == ref), None)
            if exp is None:
                raise SchemaError(f"no experiment {ref!r} in {self.source or 'the schema'}")
            out.append(exp)
        return out


def store_kind(uri) -> str:
    """"server" (http, https), "database" (a SQLAlchemy URI MLflow supports) or "snapshot" (a
    .json file); a SchemaError for anything else."""
    from mlfilter.schema.errors import SchemaError

    scheme = uri.split(":", 1)[0].lower() if isinstance(uri, str) and ":" in uri else ""
    if scheme in ("http", "https"):
        return "server"
    if scheme.split("+", 1)[0] in ("sqlite", "postgresql", "mysql", "mariadb",
                                   "mssql"):
        return "database"
    if isinstance(uri, str) and uri.endswith(".json"):
        return "snapshot"
    raise SchemaError(f"unsupported store URI {mask(uri)!r}: use sqlite:///path, "
                      "postgresql://..., mysql+pymysql://..., http(s)://server, or a .json "
                      "snapshot")


def merged(infos: list[dict[str, KeyInfo]]) -> dict[str, KeyInfo]:
    """Key infos of several experiments combined (samples united, counts added)."""
    out: dict[str, KeyInfo] = {}
    for info in infos:
        for key, k in info.items():
            if key not in out:
                out[key] = KeyInfo(**{**asdict(k), "sample": list(k.sample)})
                continue
            m = out[key]
            m.entities += k.entities
            m.active += k.active
            union = list(dict.fromkeys(m.sample + k.sample))
            m.distinct = max(m.distinct + k.distinct - (len(m.sample) + len(k.sample) - len(union)),
                             len(union))
            m.sample = union[: max(SAMPLE_SIZE, len(union))]
            m.kind = m.kind if m.kind == k.kind else "text"
            m.nan += k.nan
            for attr, pick in (("minimum", min), ("maximum", max)):
                values = [v for v in (getattr(m, attr), getattr(k, attr)) if v is not None]
                setattr(m, attr, pick(values) if values else None)
    return out


def value_kind(values: list[str]) -> str:
    """integer-like, float-like, bool-like or free text, from a sample of values."""
    if not values:
        return "text"
    if all(v.lower() in ("true", "false") for v in values):
        return "bool"
    try:
        if all(float(v) == int(v) for v in values):
            return "integer"
    except ValueError:
        pass
    try:
        for v in values:
            float(v)
        return "float"
    except ValueError:
        return "text"


def mask(uri) -> str:
    """A URI with any password or token replaced by ***."""
    import re

    text = str(uri)
    # user:password@ (a password may hold '/', ':' and more: SQLAlchemy splits at the '@')
    text = re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)
    return re.sub(r"(?i)((?:password|passwd|pwd|token|secret|api[_-]?key)=)[^&;\s'\"]*", r"\1***",
                  text)


def _keys(data: dict) -> dict[str, KeyInfo]:
    return {k: KeyInfo(**v) for k, v in data.items()}


def _experiment(data: dict) -> ExperimentInfo:
    return ExperimentInfo(
        experiment_id=data["experiment_id"],
        name=data["name"],
        lifecycle_stage=data.get("lifecycle_stage", "active"),
        runs=dict(data.get("runs", {})),
        params=_keys(data.get("params", {})),
        metrics=_keys(data.get("metrics", {})),
        tags=_keys(data.get("tags", {})),
        datasets={k: list(v) for k, v in data.get("datasets", {}).items()},
        experiment_tags=_keys(data.get("experiment_tags", {})),
        complete=bool(data.get("complete", True)),
    )
