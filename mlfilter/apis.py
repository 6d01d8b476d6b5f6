"""What each MLflow search API accepts, as data.

The tables describe the newest supported release (mlfilter.versions.NEWEST); CHANGES says, per
release, how older ones differed, and BACKEND_FACTS how the database changes a verdict. `api_for`
applies both and gives the table of one (API, version, backend). The checker reads these tables
and does the branching; a rule never asks which API, version or backend it is.
Sources: mlflow/utils/search_utils.py (SearchUtils and its per-API subclasses: parse-time rules),
mlflow/store/tracking/sqlalchemy_store.py and mlflow/store/model_registry/sqlalchemy_store.py
(store-time comparator checks), mlflow/utils/search_logged_model_utils.py (logged models), and
../shared/mlflow-search-reference.md, all re-checked by the differential tests against a real store.
"""

from __future__ import annotations

from types import MappingProxyType

from mlfilter.records import record, replace

_NO_KEYS = MappingProxyType({})  # the default of a mapping field (shared: it is read-only)

# Comparators, in MLflow's upper-case spelling.
NUMERIC_OPS = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS = frozenset({"IN", "NOT IN"})
NULL_OPS = frozenset({"IS NULL", "IS NOT NULL"})
RLIKE = frozenset({"RLIKE"})
ALL_OPS = NUMERIC_OPS | STRING_OPS | LIST_OPS | NULL_OPS | RLIKE

# Value classes a clause can carry (sqlparse's view): a quoted string ('x' or "x"), an integer or
# float literal, a parenthesised list.
STR, INT, FLOAT, LIST = "string", "int", "float", "list"
NUMBERS = frozenset({INT, FLOAT})


@record
class Target:
    """How MLflow treats the keys of one kind (all params, or the attribute `status`)."""

    values: frozenset[str]  # value classes the parser accepts
    ops: frozenset[str]  # comparators the store runs (with IS [NOT] NULL where allowed)
    kind: str = "string"  # "string" or "number": what the stored values are
    output: str = "strip"  # parser output of a value: "text" (metrics keep the literal's text),
    #                       "number" (int or float), "strip" (quotes dropped)
    op_values: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()  # (ops, value classes)
    int_only: bool = False  # a float literal is rejected by the store
    int_string: bool = False  # a quoted value must read as an integer (`int(value)`)
    time_ms: bool = False  # milliseconds since the epoch
    enum: tuple[str, ...] = ()  # the only values MLflow stores (case matters)
    int64: bool = False  # an integer literal must fit a 64-bit column, else MLflow crashes
    int32: bool = False  # the column is a 32-bit INTEGER (PostgreSQL checks the range)
    never_matches_eq: bool = False  # `=` can never match (traces' span attributes)
    string_as_number: bool = False  # quoted values are accepted and compared as text
    value_format: str | None = None  # a regex a string value must match (trace prompts)
    value_format_hint: str | None = None
    case_sensitive_ops: bool = False  # the store compares the comparator as written
    list_ops_only: bool = True  # a list value is only taken by IN / NOT IN
    drops_non_lowercase: bool = False  # list items that are not all lower case are dropped
    joins: int = 0  # tables the store joins for one such condition (not for IS [NOT] NULL)
    orderable: bool = True  # order_by takes this key
    # `> v` / `>= v` also bound the span search (traces' timestamp): MLflow computes with v,
    # which fails for a string beside a span filter or a numeric bound
    span_bound: bool = False


@record
class Entity:
    """One entity type of an API: its prefixes and its keys (a fixed set, or any key)."""

    name: str  # MLflow's `type` in the parser output
    prefixes: tuple[str, ...]
    target: Target | None = None  # any key (params, tags, metrics)
    keys: MappingProxyType = _NO_KEYS
    pattern_keys: tuple[tuple[str, Target], ...] = ()  # key prefix -> target (span.attributes.)
    # keys of an any-key entity that the store treats specially (traces' analytics metadata)
    reserved_keys: MappingProxyType = _NO_KEYS
    empty_key_ok: bool = True
    # the store, not the parser, checks its keys (while building the query, after every value
    # has been read)
    keys_checked_by_store: bool = False


@record
class OrderBy:
    """order_by rules of an API (string entries, except logged models)."""

    entities: tuple[str, ...]  # entity names that can be ordered by
    attribute_keys: frozenset[str]
    duplicates_crash: bool  # two entries on one column make MLflow crash (500)
    same_column: tuple[frozenset[str], ...] = ()  # aliases of one column, for duplicates
    entity_prefixes: bool = True  # `attribute.name` is read (registered models: no prefixes)
    dicts: bool = False  # logged models take dicts
    crash_keys: frozenset[str] = frozenset()  # keys MLflow accepts and then crashes on (500)


@record
class Api:
    name: str
    mlflow_call: str
    parser: str  # "search_utils" (sqlparse + SearchUtils) or "logged_models"
    entities: tuple[Entity, ...]
    bare_entity: str  # entity of a key written without prefix
    prefix_backticks: bool  # `metrics`.x: the prefix may be backticked
    attribute_key_as_written: bool  # registry: the key is checked before quotes are removed
    upper_ops_in_output: bool  # registry parsers upper-case the comparator
    nulls_crash: bool = False  # any IS [NOT] NULL makes the parser crash (500), whatever the key
    # Keys MLflow rewrites after parsing (traces): lower-cased key -> (new type or None, new key).
    rewrites: MappingProxyType = _NO_KEYS
    rewrite_skips: tuple[str, ...] = ()  # entity types the rewrite leaves alone
    # Bare keys sqlparse reads as keywords but MLflow still accepts, with the value class they need.
    keyword_keys: MappingProxyType = _NO_KEYS
    order_by: OrderBy | None = None
    max_results: int | None = None
    view_type: bool = False
    available: bool = True  # the release has this search API at all
    strict_lists: bool = False  # lists must be single-quoted strings and commas, nothing else
    # a dataset condition beside another joined condition makes the store build a broken join
    dataset_join_crash: bool = False
    logged_model_status: str = "enum"  # "enum": status names are validated and mapped to the
    #                                     integer column; "text": compared as text, never match
    # The target these facts are for (set by api_for).
    version: str = "3.18.0"
    backend: str = "sqlite"
    # Tables one SELECT may join (the searched table is one of them); None: no limit. Past it
    # the database refuses the query (SQLite: MLflow answers 503).
    join_limit: int | None = 64
    # What the database does with an integer literal outside 64 bits: "crash" (SQLite: Python
    # int too large, HTTP 500), "reject" (PostgreSQL: bigint out of range, 400) or "ok".
    int64_overflow: str = "crash"
    rlike: bool = True  # the database has a regex match MLflow can use for RLIKE
    invalid_regex: str = "ok"  # an RLIKE pattern the database cannot compile: ok|reject|crash
    rejects_nul: bool = False  # text values cannot hold NUL (PostgreSQL)
    rejects_string_for_integer: bool = False  # no implicit cast of a string to an integer column
    rejects_infinite: bool = False  # the driver refuses inf and nan parameters (MySQL)
    rejects_trailing_escape: bool = False  # a LIKE pattern may not end with a lone backslash
    # A list with = or != is bound as one parameter: "rejects" (SQLite cannot bind a tuple),
    # "compares" (PostgreSQL compares with the row value), "single-item" (MySQL: one item only)
    list_equality: str = "rejects"
    # MLflow writes comparisons as raw SQL from the column's table and type (MySQL's BINARY
    # path): a logged model's relationship (`tags`) then has no type and MLflow crashes
    raw_sql_comparisons: bool = False
    ilike_ascii_only: bool = True  # ILIKE is lower() LIKE lower(), and lower() folds ASCII only
    # Some key comparisons (IS NULL subqueries, logged-model keys, assessment names) use the
    # column's collation, which ignores case and trailing spaces (MySQL, SQL Server)
    keys_ignore_case: bool = False
    # SQLite's expression tree depth (1000) allows this many conditions in the WHERE clause of
    # this API's query (the others go to joins); None: no such limit.
    max_where_conditions: int | None = None

    def entity_for_prefix(self, prefix: str) -> Entity | None:
        for entity in self.entities:
            if prefix in entity.prefixes:
                return entity
        return None

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)

    @property
    def all_prefixes(self) -> tuple[str, ...]:
        return tuple(p for e in self.entities for p in e.prefixes)


def _keys(**targets: Target) -> MappingProxyType:
    return MappingProxyType(targets)


# ---- search_runs: SearchUtils, SqlAlchemyStore._search_runs ---------------------------------
_METRIC = Target(NUMBERS, NUMERIC_OPS, kind="number", output="text", joins=1)
_PARAM_OR_TAG = Target(frozenset({STR}), STRING_OPS | NULL_OPS, joins=1)
_RUN_STRING = Target(frozenset({STR}), STRING_OPS)
_RUN_NAME = Target(frozenset({STR}), STRING_OPS, joins=1)  # a join on the mlflow.runName tag
_RUN_TIME = Target(NUMBERS, NUMERIC_OPS, kind="number", output="number", time_ms=True, int64=True)
_RUN_STATUS = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")

RUNS = Api(
    name="runs",
    max_where_conditions=996,
    mlflow_call="search_runs",
    parser="search_utils",
    entities=(
        Entity("metric", ("metric", "metrics"), target=_METRIC),
        Entity("parameter", ("parameter", "parameters", "param", "params"), target=_PARAM_OR_TAG),
        Entity("tag", ("tag", "tags"), target=_PARAM_OR_TAG),
        Entity(
            "attribute",
            ("attribute", "attributes", "attr", "run"),
            keys=_keys(
                run_id=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS),
                run_name=_RUN_NAME,
                **{"run name": _RUN_NAME, "Run name": _RUN_NAME, "Run Name": _RUN_NAME},
                status=Target(frozenset({STR}), STRING_OPS, enum=_RUN_STATUS),
                user_id=_RUN_STRING,
                artifact_uri=_RUN_STRING,
                start_time=_RUN_TIME,
                end_time=_RUN_TIME,
                created=_RUN_TIME,
                Created=_RUN_TIME,
            ),
        ),
        Entity(
            "dataset",
            ("dataset", "datasets"),
            # a dataset condition joins datasets and inputs (and input tags for the context)
            keys=_keys(
                name=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS, joins=2),
                digest=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS, joins=2),
                context=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS, joins=3),
            ),
        ),
    ),
    bare_entity="attribute",
    prefix_backticks=True,
    attribute_key_as_written=False,
    upper_ops_in_output=False,
    order_by=OrderBy(
        entities=("metric", "parameter", "tag", "attribute"),
        attribute_keys=frozenset(
            "run_id run_name status user_id start_time end_time artifact_uri created Created".split()
        ),
        duplicates_crash=True,
        same_column=(frozenset({"start_time", "created", "Created"}),),
    ),
    max_results=50000,
    view_type=True,
)

# ---- search_experiments: SearchExperimentsUtils, _get_search_experiments_filter_clauses ------
_EXP_TIME = Target(
    NUMBERS, NUMERIC_OPS, kind="number", output="number", int_only=True, time_ms=True, int64=True
)
EXPERIMENTS = Api(
    name="experiments",
    max_where_conditions=997,
    mlflow_call="search_experiments",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=Target(frozenset({STR}), STRING_OPS | NULL_OPS,
                                                      joins=1)),
        Entity(
            "attribute",
            ("attribute", "attributes"),
            keys=_keys(
                name=Target(frozenset({STR}), STRING_OPS),
                experiment_id=Target(frozenset({STR, LIST}), frozenset({"=", "!="}) | LIST_OPS,
                                     int_string=True, int64=True, int32=True),
                creation_time=_EXP_TIME,
                last_update_time=_EXP_TIME,
            ),
        ),
    ),
    bare_entity="attribute",
    prefix_backticks=False,
    attribute_key_as_written=False,
    upper_ops_in_output=False,
    order_by=OrderBy(
        entities=("attribute",),
        attribute_keys=frozenset({"name", "experiment_id", "creation_time", "last_update_time"}),
        duplicates_crash=False,
    ),
    max_results=50000,
    view_type=True,
)

# ---- search_registered_models / search_model_versions: SearchModelUtils and
# SearchModelVersionUtils.
_REGISTRY_TAG = Target(frozenset({STR}), STRING_OPS)
REGISTERED_MODELS = Api(
    name="registered_models",
    max_where_conditions=995,
    mlflow_call="search_registered_models",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=_REGISTRY_TAG),
        Entity(
            "attribute",
            ("attribute",),
            keys=_keys(name=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS)),
        ),
    ),
    bare_entity="attribute",
    prefix_backticks=False,
    attribute_key_as_written=True,
    upper_ops_in_output=True,
    order_by=OrderBy(
        entities=(),
        attribute_keys=frozenset({"name", "timestamp", "last_updated_timestamp"}),
        duplicates_crash=True,
        same_column=(frozenset({"timestamp", "last_updated_timestamp"}),),
        entity_prefixes=False,
    ),
    max_results=1000,
)

MODEL_VERSIONS = Api(
    name="model_versions",
    max_where_conditions=994,
    mlflow_call="search_model_versions",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=_REGISTRY_TAG),
        Entity(
            "attribute",
            ("attribute",),
            keys=_keys(
                name=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS),
                run_id=Target(frozenset({STR, LIST}), STRING_OPS | LIST_OPS),
                source_path=Target(frozenset({STR}), STRING_OPS),
                version_number=Target(
                    frozenset({STR, INT, FLOAT}), NUMERIC_OPS, kind="number", output="number",
                    int_only=True, int_string=True, int64=True, int32=True,
                ),
            ),
        ),
    ),
    bare_entity="attribute",
    prefix_backticks=False,
    attribute_key_as_written=True,
    upper_ops_in_output=True,
    order_by=OrderBy(
        entities=("attribute",),
        attribute_keys=frozenset(
            {"name", "version_number", "creation_timestamp", "last_updated_timestamp"}
        ),
        duplicates_crash=True,
    ),
    max_results=200000,
)

# ---- search_traces: SearchTraceUtils, SqlAlchemyStore.search_traces ---------------------------
_TRACE_STR_OPS = STRING_OPS | RLIKE
_TRACE_TIME = Target(
    NUMBERS | {STR}, NUMERIC_OPS, kind="number", output="number", time_ms=True,
    string_as_number=True, int64=True,
)
_TRACE_START = replace(_TRACE_TIME, span_bound=True)
_TRACE_TAG = Target(frozenset({STR, LIST}), _TRACE_STR_OPS | NULL_OPS, joins=1)
_ASSESSMENT = Target(
    frozenset({STR}) | NUMBERS,
    _TRACE_STR_OPS | NULL_OPS | {"<", "<=", ">", ">="},
    output="number",
    op_values=((_TRACE_STR_OPS, frozenset({STR})), (frozenset({"<", "<=", ">", ">="}), NUMBERS)),
    joins=1,
    int64=True,
)
# SearchTraceUtils.is_span compares the comparator as written: `like` is rejected for spans.
_SPAN_FIELD = Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS, case_sensitive_ops=True)
TRACES = Api(
    name="traces",
    max_where_conditions=997,
    mlflow_call="search_traces",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=_TRACE_TAG),
        Entity("request_metadata", ("request_metadata", "metadata"),
               target=Target(frozenset({STR}), _TRACE_STR_OPS | NULL_OPS, joins=1),
               # token usage and cost live in columns of the trace table (a JSON value is
               # compared item by item): only equality and presence, and no ordering
               reserved_keys=_keys(**{k: Target(frozenset({STR}), frozenset({"=", "!="}) | NULL_OPS,
                                                orderable=False)
                                      for k in ("mlflow.trace.tokenUsage", "mlflow.trace.cost")})),
        Entity(
            "attribute",
            ("attribute", "attributes", "trace"),
            keys=_keys(
                request_id=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS),
                client_request_id=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS),
                status=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS,
                              enum=("OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED")),
                timestamp=_TRACE_START,
                timestamp_ms=_TRACE_START,
                execution_time=_TRACE_TIME,
                execution_time_ms=_TRACE_TIME,
                end_time=_TRACE_TIME,
                end_time_ms=_TRACE_TIME,
                # rewritten to a tag, metadata or span filter (see `rewrites`)
                name=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | NULL_OPS),
                run_id=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | NULL_OPS),
                prompt=Target(frozenset({STR}), frozenset({"="}), value_format=r"[^/]+/[^/]+",
                              value_format_hint='prompt = "name/version"', joins=1),
                text=Target(frozenset({STR}), frozenset({"LIKE", "ILIKE"})),
            ),
        ),
        Entity(
            "span",
            ("span",),
            keys_checked_by_store=True,
            keys=_keys(
                name=_SPAN_FIELD,
                type=_SPAN_FIELD,
                status=_SPAN_FIELD,
                content=Target(frozenset({STR, LIST}), frozenset({"LIKE", "ILIKE"}),
                               case_sensitive_ops=True),
            ),
            # The store turns span attributes into a LIKE pattern: IN fails, a list with `=` is
            # accepted (and, like any `=` here, never matches).
            pattern_keys=(("attributes.", Target(frozenset({STR, LIST}), _TRACE_STR_OPS,
                                                 never_matches_eq=True, case_sensitive_ops=True,
                                                 list_ops_only=False)),),
        ),
        Entity("feedback", ("feedback",), target=_ASSESSMENT, empty_key_ok=False,
               keys_checked_by_store=True),
        Entity("expectation", ("expectation",), target=_ASSESSMENT, empty_key_ok=False,
               keys_checked_by_store=True),
        Entity("issue", ("issue",), keys=_keys(id=Target(frozenset({STR}), frozenset({"="})))),
    ),
    bare_entity="attribute",
    prefix_backticks=True,
    attribute_key_as_written=False,
    upper_ops_in_output=False,
    rewrites=MappingProxyType(
        {
            "name": ("tag", "mlflow.traceName"),
            "prompt": ("tag", "mlflow.linkedPrompts"),
            "run_id": ("request_metadata", "mlflow.sourceRun"),
            "text": ("span", "content"),
            "timestamp": (None, "timestamp_ms"),
            "execution_time": (None, "execution_time_ms"),
            "end_time": (None, "end_time_ms"),
        }
    ),
    rewrite_skips=("span",),
    keyword_keys=MappingProxyType({"timestamp": INT}),
    order_by=OrderBy(
        entities=("attribute", "tag", "request_metadata"),
        attribute_keys=frozenset(
            "experiment_id timestamp timestamp_ms execution_time execution_time_ms end_time "
            "end_time_ms status request_id name run_id".split()
        ),
        duplicates_crash=True,
        same_column=(
            frozenset({"timestamp", "timestamp_ms"}),
            frozenset({"execution_time", "execution_time_ms"}),
            frozenset({"end_time", "end_time_ms"}),
        ),
    ),
    max_results=50000,
)

# ---- search_logged_models: search_logged_model_utils.parse_filter_string -----------------------
# A different, looser parser: see mlfilter/rules/logged_models.py. Keys are SqlLoggedModel columns.
LOGGED_MODEL_COLUMNS = MappingProxyType(
    {
        "model_id": "string",
        "experiment_id": "integer",
        "name": "string",
        "artifact_location": "string",
        "creation_timestamp_ms": "number",
        "last_updated_timestamp_ms": "number",
        "status": "integer",
        "lifecycle_stage": "string",
        "model_type": "string",
        "source_run_id": "string",
        "status_message": "string",
    }
)
# Other attributes of the SqlLoggedModel class: MLflow looks keys up with getattr, so these are
# found too. Comparing the relationships with = or != is refused by SQLAlchemy (400), anything
# else on them crashes; the plain class attributes compare as false and match nothing.
LOGGED_MODEL_RELATIONSHIPS = frozenset({"tags", "params", "metrics", "experiment"})
LOGGED_MODEL_NEVER_MATCH = frozenset(
    {"metadata", "registry", "ALIASES", "__tablename__", "is_numeric", "to_mlflow_entity"}
)
LOGGED_MODEL_ALIASES = MappingProxyType(
    {
        "creation_time": "creation_timestamp_ms",
        "creation_timestamp": "creation_timestamp_ms",
        "last_updated_timestamp": "last_updated_timestamp_ms",
    }
)
LOGGED_MODEL_STATUSES = ("UNSPECIFIED", "PENDING", "READY", "FAILED")  # LoggedModelStatus values
LOGGED_MODEL_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
LOGGED_MODEL_NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
LOGGED_MODELS = Api(
    name="logged_models",
    max_where_conditions=996,
    mlflow_call="search_logged_models",
    parser="logged_models",
    entities=(
        Entity("attributes", ("attributes",), keys=MappingProxyType({})),
        Entity("metrics", ("metrics",), target=Target(NUMBERS, frozenset(LOGGED_MODEL_NUMERIC_OPS),
                                                      kind="number", joins=1)),
        Entity("params", ("params",), target=Target(frozenset({STR}),
                                                    frozenset(LOGGED_MODEL_STRING_OPS), joins=1)),
        Entity("tags", ("tags",), target=Target(frozenset({STR}),
                                                frozenset(LOGGED_MODEL_STRING_OPS), joins=1)),
    ),
    bare_entity="attributes",
    prefix_backticks=False,
    attribute_key_as_written=False,
    upper_ops_in_output=True,
    order_by=OrderBy(
        entities=("metrics",),
        # SqlAlchemyStore._apply_order_by_search_logged_models: any column, or an alias of one
        attribute_keys=frozenset(LOGGED_MODEL_COLUMNS) | frozenset(LOGGED_MODEL_ALIASES),
        duplicates_crash=False,
        dicts=True,
    ),
    max_results=None,
)

APIS = MappingProxyType(
    {a.name: a for a in (RUNS, EXPERIMENTS, REGISTERED_MODELS, MODEL_VERSIONS, LOGGED_MODELS, TRACES)}
)


def api_name(name: str) -> str:
    """The table name of an API; hyphens and a `search_` prefix are accepted."""
    key = str(name).strip().lower().replace("-", "_")
    key = key.removeprefix("search_")
    if key in APIS:
        return key
    raise ValueError(f"unknown API {name!r}: expected one of {', '.join(APIS)}")


def get_api(name: str, mlflow_version: str | None = None, backend: str | None = None) -> Api:
    """The table of one API for one MLflow release line and database (None: the defaults of
    mlfilter.versions)."""
    from mlfilter.versions import resolve_backend, resolve_version

    return api_for(api_name(name), resolve_version(mlflow_version), resolve_backend(backend))


# ---- versions and backends: how the tables above differ by release and by database ----------

@record
class Edit:
    """One edit of a table. `entity` None edits the Api (or, with `order_by`, its OrderBy);
    `keys` None edits the Entity itself, "*" every target of the entity (its keys and its
    any-key target), a tuple those keys. `fields` are set; a field given as Without(...) loses
    those members. `drop` removes the keys (or, with keys None, the entity)."""

    entity: str | None = None
    keys: tuple[str, ...] | str | None = None
    fields: tuple[tuple[str, object], ...] = ()
    drop: bool = False
    order_by: bool = False
    patterns: bool = False  # edit only the entity's pattern keys (`span.attributes.<name>`)

    def apply(self, api: Api) -> Api:
        if self.entity is None:
            if self.order_by:
                return replace(api, order_by=_set(api.order_by, self.fields))
            return _set(api, self.fields)
        entities = []
        for e in api.entities:
            if e.name != self.entity:
                entities.append(e)
            elif self.patterns:
                entities.append(replace(e, pattern_keys=tuple(
                    (h, _set(t, self.fields)) for h, t in e.pattern_keys)))
            elif self.keys is None:
                if not self.drop:
                    entities.append(_set(e, self.fields))
            else:
                entities.append(self._edit_keys(e))
        return replace(api, entities=tuple(entities))

    def _edit_keys(self, e: Entity) -> Entity:
        chosen = set(e.keys) if self.keys == "*" else set(self.keys)
        if self.drop:
            return replace(e, keys=MappingProxyType({k: t for k, t in e.keys.items()
                                                     if k not in chosen}))
        keys = MappingProxyType({k: _set(t, self.fields) if k in chosen else t
                                 for k, t in e.keys.items()})
        target = e.target
        if self.keys == "*" and target is not None:
            target = _set(target, self.fields)
        patterns = e.pattern_keys
        if self.keys == "*":
            patterns = tuple((h, _set(t, self.fields)) for h, t in patterns)
        return replace(e, keys=keys, target=target, pattern_keys=patterns)


@record
class Without:
    """A field value of an Edit: the current set minus these members."""

    items: frozenset


@record
class Plus:
    """A field value of an Edit: the current set and these members."""

    items: frozenset


def _set(obj, fields):
    changes = {}
    for name, value in fields:
        if isinstance(value, Plus):
            value = frozenset(getattr(obj, name)) | value.items
        elif isinstance(value, Without):
            current = getattr(obj, name)
            if isinstance(current, MappingProxyType):
                value = MappingProxyType({k: v for k, v in current.items() if k not in value.items})
            else:
                value = frozenset(current) - value.items
        changes[name] = value
    return replace(obj, **changes)


def api_edit(**fields) -> Edit:
    return Edit(fields=tuple(fields.items()))


def order_by_edit(**fields) -> Edit:
    return Edit(fields=tuple(fields.items()), order_by=True)


def entity_edit(entity: str, **fields) -> Edit:
    return Edit(entity, fields=tuple(fields.items()))


def keys_edit(entity: str, keys, **fields) -> Edit:
    return Edit(entity, keys if keys == "*" else tuple(keys), tuple(fields.items()))


def patterns_edit(entity: str, **fields) -> Edit:
    return Edit(entity, fields=tuple(fields.items()), patterns=True)


def drop_keys(entity: str, *keys: str) -> Edit:
    return Edit(entity, tuple(keys), drop=True)


def drop_entity(entity: str) -> Edit:
    return Edit(entity, drop=True)


@record
class Change:
    """What one MLflow release changed in a search API. The tables above hold the newer
    behaviour; `before` edits them into the older one, for every release before `since`."""

    id: str
    apis: tuple[str, ...]
    since: str  # the first release with the newer behaviour (found by the tests' bisection)
    summary: str  # the newer behaviour, in a few words, for hints and docs
    before: tuple[Edit, ...]
    last_before: str | None = None  # the newest release with the older behaviour that was run
    accepts: bool = True  # the newer behaviour accepts more (False: it rejects or crashes more)
    # False: `since` is only the oldest supported release known to have it; the releases in
    # between were not run for this change
    bisected: bool = True


@record
class BackendFact:
    """How one database changes a verdict, as edits of the tables."""

    id: str
    backends: tuple[str, ...]
    apis: tuple[str, ...]
    summary: str
    edits: tuple[Edit, ...]


_ALL = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")
_SEARCH_UTILS = tuple(a for a in _ALL if a != "logged_models")

_cache: dict = {}


def api_for(name: str, line: str, backend: str, flip: str | None = None) -> Api:
    """The table of API `name` for an MLflow release line ('3.17') and a backend. `flip` names
    one Change to take the other way (to find which change a verdict depends on)."""
    from mlfilter.versions import RELEASES

    return api_at(name, RELEASES[line], backend, flip)


def api_at(name: str, release: str, backend: str, flip: str | None = None) -> Api:
    """The table of API `name` as the changes describe any release (also one between two
    supported ones, to find the first release that accepts a filter)."""
    key = (name, release, backend, flip)
    api = _cache.get(key)
    if api is None:
        from mlfilter.changes import BACKEND_FACTS, CHANGES
        from mlfilter.versions import release_tuple

        api = APIS[name]
        # newest changes first: each `before` is written against the tables as they were after it
        for change in sorted(CHANGES, key=lambda c: release_tuple(c.since), reverse=True):
            older = release_tuple(release) < release_tuple(change.since)
            if name in change.apis and older != (change.id == flip):
                for edit in change.before:
                    api = edit.apply(api)
        for fact in BACKEND_FACTS:
            if name in fact.apis and backend in fact.backends:
                for edit in fact.edits:
                    api = edit.apply(api)
        api = replace(api, version=release, backend=backend)
        _cache[key] = api
    return api
