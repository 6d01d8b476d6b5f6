"""What each MLflow search API accepts, as data (MLflow 3.17.2, see mlfilter/_target.py).

The checker reads these tables and does the branching; a rule never asks which API it is.
Sources: mlflow/utils/search_utils.py (SearchUtils and its per-API subclasses: parse-time rules),
mlflow/store/tracking/sqlalchemy_store.py and mlflow/store/model_registry/sqlalchemy_store.py
(store-time comparator checks), mlflow/utils/search_logged_model_utils.py (logged models), and
../shared/mlflow-search-reference.md, all re-checked by the differential tests against a real store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

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


@dataclass(frozen=True)
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
    never_matches_eq: bool = False  # `=` can never match (traces' span attributes)
    string_as_number: bool = False  # quoted values are accepted and compared as text
    value_format: str | None = None  # a regex a string value must match (trace prompts)
    value_format_hint: str | None = None
    case_sensitive_ops: bool = False  # the store compares the comparator as written
    list_ops_only: bool = True  # a list value is only taken by IN / NOT IN
    joins: int = 0  # tables the store joins for one such condition (not for IS [NOT] NULL)


@dataclass(frozen=True)
class Entity:
    """One entity type of an API: its prefixes and its keys (a fixed set, or any key)."""

    name: str  # MLflow's `type` in the parser output
    prefixes: tuple[str, ...]
    target: Target | None = None  # any key (params, tags, metrics)
    keys: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    pattern_keys: tuple[tuple[str, Target], ...] = ()  # key prefix -> target (span.attributes.)
    empty_key_ok: bool = True


@dataclass(frozen=True)
class OrderBy:
    """order_by rules of an API (string entries, except logged models)."""

    entities: tuple[str, ...]  # entity names that can be ordered by
    attribute_keys: frozenset[str]
    duplicates_crash: bool  # two entries on one column make MLflow crash (500)
    same_column: tuple[frozenset[str], ...] = ()  # aliases of one column, for duplicates
    entity_prefixes: bool = True  # `attribute.name` is read (registered models: no prefixes)
    dicts: bool = False  # logged models take dicts
    crash_keys: frozenset[str] = frozenset()  # keys MLflow accepts and then crashes on (500)


@dataclass(frozen=True)
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
    rewrites: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    rewrite_skips: tuple[str, ...] = ()  # entity types the rewrite leaves alone
    # Bare keys sqlparse reads as keywords but MLflow still accepts, with the value class they need.
    keyword_keys: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    order_by: OrderBy | None = None
    max_results: int | None = None
    view_type: bool = False
    # SQLite joins at most 64 tables in one SELECT; the searched table is one of them. Past
    # that, MLflow answers 503 ("at most 64 tables in a join"). (MySQL allows 61; PostgreSQL
    # has no such limit.)
    sqlite_join_limit: int = 64

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
# MLflow 3.17.2 compares comparators as written here: lower-case `like` is rejected.
_EXP_TIME = Target(
    NUMBERS, NUMERIC_OPS, kind="number", output="number", int_only=True, time_ms=True, int64=True
)
EXPERIMENTS = Api(
    name="experiments",
    mlflow_call="search_experiments",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=Target(frozenset({STR}), STRING_OPS | NULL_OPS,
                                                      case_sensitive_ops=True, joins=1)),
        Entity(
            "attribute",
            ("attribute",),
            keys=_keys(
                name=Target(frozenset({STR}), STRING_OPS, case_sensitive_ops=True),
                experiment_id=Target(frozenset({STR, LIST}), frozenset({"=", "!="}) | LIST_OPS,
                                     int_string=True, case_sensitive_ops=True, int64=True),
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
# SearchModelVersionUtils. 3.17.2's parsers unpack three tokens, so IS NULL crashes (ValueError).
_REGISTRY_TAG = Target(frozenset({STR}), STRING_OPS)
REGISTERED_MODELS = Api(
    name="registered_models",
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
    nulls_crash=True,
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
                    int_only=True, int_string=True, int64=True,
                ),
            ),
        ),
    ),
    bare_entity="attribute",
    prefix_backticks=False,
    attribute_key_as_written=True,
    upper_ops_in_output=True,
    nulls_crash=True,
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
    mlflow_call="search_traces",
    parser="search_utils",
    entities=(
        Entity("tag", ("tag", "tags"), target=_TRACE_TAG),
        Entity("request_metadata", ("request_metadata", "metadata"),
               target=Target(frozenset({STR}), _TRACE_STR_OPS | NULL_OPS, joins=1)),
        Entity(
            "attribute",
            ("attribute", "attributes", "trace"),
            keys=_keys(
                request_id=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS),
                client_request_id=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS),
                status=Target(frozenset({STR, LIST}), _TRACE_STR_OPS | LIST_OPS,
                              enum=("OK", "ERROR", "IN_PROGRESS", "STATE_UNSPECIFIED")),
                timestamp=_TRACE_TIME,
                timestamp_ms=_TRACE_TIME,
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
        Entity("feedback", ("feedback",), target=_ASSESSMENT, empty_key_ok=False),
        Entity("expectation", ("expectation",), target=_ASSESSMENT, empty_key_ok=False),
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
        # 3.17.2's trace table has no end_time_ms column to order by
        crash_keys=frozenset({"end_time", "end_time_ms"}),
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
LOGGED_MODEL_STRING_OPS = ("=", "!=", "LIKE", "ILIKE", "IN", "NOT IN")
LOGGED_MODEL_NUMERIC_OPS = ("<", "<=", ">", ">=", "=", "!=")
LOGGED_MODELS = Api(
    name="logged_models",
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


def get_api(name: str) -> Api:
    """Look an API up by name; hyphens and a `search_` prefix are accepted."""
    key = str(name).strip().lower().replace("-", "_")
    key = key.removeprefix("search_")
    if key in APIS:
        return APIS[key]
    raise ValueError(f"unknown API {name!r}: expected one of {', '.join(APIS)}")
