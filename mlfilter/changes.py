"""Version and backend facts, as data: how MLflow releases and databases differ from the tables of
mlfilter/apis.py (which describe the newest supported release on SQLite).

Each Change names the first release with the newer behaviour (`since`, found by running releases:
tests/compat/first_releases.yaml) and edits the tables back into the older behaviour. Each
BackendFact edits them for one database. Sources: the 2.22.1, 3.17.2 and 3.18.0 sources, section 8
of ../shared/mlflow-search-reference.md, and the version and backend differential tests.
"""

from __future__ import annotations

from types import MappingProxyType

from mlfilter.apis import (
    LIST,
    LIST_OPS,
    NULL_OPS,
    TRACES,
    BackendFact,
    Change,
    Without,
    api_edit,
    drop_entity,
    drop_keys,
    entity_edit,
    keys_edit,
    order_by_edit,
)

_REGISTRY = ("registered_models", "model_versions")
_SEARCH_UTILS = ("runs", "experiments", "registered_models", "model_versions", "traces")
_NO_NULLS = Without(NULL_OPS)
_NO_LISTS = dict(values=Without(frozenset({LIST})), ops=Without(LIST_OPS))

CHANGES: tuple[Change, ...] = (
    # ---- 3.17.2 -> 3.18.0 -------------------------------------------------------------------
    Change(
        "experiments-attributes-prefix", ("experiments",), "3.18.0",
        "the `attributes.` prefix on experiment keys",
        (entity_edit("attribute", prefixes=("attribute",)),),
        last_before="3.17.2",
    ),
    Change(
        "experiments-lower-case-comparators", ("experiments",), "3.18.0",
        "lower-case comparators (`like`, `ilike`, `in`) on experiment attributes and tags",
        (keys_edit("tag", "*", case_sensitive_ops=True),
         keys_edit("attribute", ("name", "experiment_id"), case_sensitive_ops=True)),
        last_before="3.17.2",
    ),
    Change(
        "registry-is-null-400", _REGISTRY, "3.18.0",
        "IS [NOT] NULL on registered models and model versions is a clean 400, not a crash",
        (api_edit(nulls_crash=True),),
        last_before="3.17.2", accepts=False,
    ),
    Change(
        "logged-models-status", ("logged_models",), "3.18.0",
        "logged-model `status` filters are checked against the status names and match",
        (api_edit(logged_model_status="text"),),
        last_before="3.17.2", accepts=False,
    ),
    Change(
        "traces-order-by-end-time", ("traces",), "3.18.0",
        "ordering traces by `end_time` (timestamp plus execution time)",
        (order_by_edit(crash_keys=frozenset({"end_time", "end_time_ms"})),),
        last_before="3.17.2",
    ),
    # ---- 2.22.1 -> 3.x ------------------------------------------------------------------------
    # `since` below is the first 3.x release found by tests/compat/bisect_releases.py.
    Change(
        "is-null", _SEARCH_UTILS, "3.0.0",
        "IS NULL and IS NOT NULL",
        tuple(keys_edit(e, "*", ops=_NO_NULLS)
              for e in ("parameter", "tag", "attribute", "request_metadata", "metric"))
        + (api_edit(nulls_crash=False),),
    ),
    Change(
        "lists-beyond-run-id", ("experiments", "registered_models", "model_versions"), "3.0.0",
        "IN and NOT IN lists on keys other than `run_id`",
        (keys_edit("attribute", ("name", "experiment_id"), **_NO_LISTS),),
    ),
    Change(
        "experiments-experiment-id", ("experiments",), "3.0.0",
        "filtering experiments by `experiment_id`",
        (drop_keys("attribute", "experiment_id"),),
    ),
    Change(
        "logged-models", ("logged_models",), "3.0.0",
        "search_logged_models",
        (api_edit(available=False),),
    ),
    Change(
        "traces-new-keys", ("traces",), "3.0.0",
        "span, feedback, expectation and issue filters, and the trace keys `end_time`, "
        "`client_request_id`, `prompt` and `text`",
        (drop_entity("span"), drop_entity("feedback"), drop_entity("expectation"),
         drop_entity("issue"),
         drop_keys("attribute", "client_request_id", "end_time", "end_time_ms", "prompt", "text"),
         keys_edit("attribute", ("timestamp", "timestamp_ms"), span_bound=False),
         api_edit(rewrites=MappingProxyType({k: v for k, v in TRACES.rewrites.items()
                                             if k in ("name", "run_id", "timestamp",
                                                      "execution_time")})),
         order_by_edit(attribute_keys=Without(frozenset({"end_time", "end_time_ms"})),
                       crash_keys=frozenset())),
    ),
    Change(
        "traces-more-comparators", ("traces",), "3.0.0",
        "LIKE, ILIKE and RLIKE on trace tags, metadata and string attributes",
        (keys_edit("tag", "*", ops=frozenset({"=", "!="})),
         keys_edit("request_metadata", "*", ops=frozenset({"=", "!="})),
         keys_edit("attribute", ("request_id", "status"), ops=frozenset({"=", "!="}) | LIST_OPS),
         # rewritten to a tag and a metadata key, which take only = and !=
         keys_edit("attribute", ("name", "run_id"), ops=frozenset({"=", "!="}))),
    ),
    Change(
        "traces-analytics-metadata", ("traces",), "3.0.0",
        "the metadata `mlflow.trace.tokenUsage` and `mlflow.trace.cost` are columns of the "
        "trace table: only =, != and IS [NOT] NULL, and no ordering by them",
        (entity_edit("request_metadata", reserved_keys=MappingProxyType({})),),
        accepts=False,
    ),
    Change(
        "numbers-parsed", ("runs", "experiments", "model_versions"), "3.0.0",
        "numeric attribute values are read as numbers: a float is refused for an integer "
        "column and an integer beyond 64 bits crashes the store",
        (keys_edit("attribute", ("start_time", "end_time", "created", "Created"), int64=False),
         keys_edit("attribute", ("creation_time", "last_update_time"), int_only=False,
                   int64=False),
         # an unquoted integer still reaches the column as one (and overflows)
         keys_edit("attribute", ("version_number",), int_only=False, int_string=False)),
        accepts=False,
    ),
    Change(
        "dataset-with-other-joins", ("runs",), "3.17.2",
        "a dataset condition beside a metric, param, tag or run-name condition",
        (api_edit(dataset_join_crash=True),),
        last_before="2.22.1", bisected=False,
    ),
    Change(
        "model-versions-run-id-not-in", ("model_versions",), "3.0.0",
        "`run_id NOT IN (...)` on model versions",
        (keys_edit("attribute", ("run_id",), ops=Without(frozenset({"NOT IN"}))),),
    ),
    Change(
        "lists-parsed-as-python", _SEARCH_UTILS, "3.0.0",
        "lists read as Python literals: double quotes and a trailing comma are accepted, and "
        "no item is dropped",
        (api_edit(strict_lists=True),),
    ),
    Change(
        "list-items-kept", ("runs", "model_versions"), "3.0.0",
        "run id and dataset lists keep items that are not all lower case",
        (keys_edit("attribute", ("run_id",), drops_non_lowercase=True),
         keys_edit("dataset", "*", drops_non_lowercase=True)),
    ),
)

_EVERY = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")

BACKEND_FACTS: tuple[BackendFact, ...] = (
    BackendFact(
        "join-limit", ("mysql",), _EVERY,
        "MySQL and MariaDB join at most 61 tables in one query (error 1116, HTTP 500)",
        (api_edit(join_limit=61),),
    ),
    BackendFact(
        "no-join-limit", ("postgresql", "mssql"), _EVERY,
        "PostgreSQL and SQL Server have no small limit on joined tables",
        (api_edit(join_limit=None),),
    ),
    BackendFact(
        "expression-depth", ("postgresql", "mysql", "mssql"), _EVERY,
        "only SQLite limits the depth of the WHERE expression (1000)",
        (api_edit(max_where_conditions=None),),
    ),
    BackendFact(
        "integer-overflow-rejected", ("postgresql",), _EVERY,
        "PostgreSQL refuses an integer beyond 64 bits (bigint out of range, HTTP 400)",
        (api_edit(int64_overflow="reject"),),
    ),
    BackendFact(
        "integer-overflow-compared", ("mysql",), _EVERY,
        "MySQL compares an integer beyond 64 bits as a decimal",
        (api_edit(int64_overflow="ok"),),
    ),
    BackendFact(
        "string-for-integer", ("postgresql",), ("traces", "logged_models"),
        "PostgreSQL has no operator between an integer column and a string (HTTP 400)",
        (api_edit(rejects_string_for_integer=True),),
    ),
    BackendFact(
        "nul-in-text", ("postgresql",), _EVERY,
        "PostgreSQL text cannot hold NUL characters (HTTP 400)",
        (api_edit(rejects_nul=True),),
    ),
    BackendFact(
        "like-trailing-escape", ("postgresql",), _EVERY,
        "PostgreSQL fails (HTTP 400) on a LIKE pattern ending in its escape character `\\` when "
        "matching a value reaches that end",
        (api_edit(rejects_trailing_escape=True),),
    ),
    BackendFact(
        "infinite-values", ("mysql",), _EVERY,
        "the MySQL driver refuses inf and nan values (HTTP 400)",
        (api_edit(rejects_infinite=True),),
    ),
    BackendFact(
        "regex-rejected", ("postgresql",), ("traces",),
        "PostgreSQL refuses an RLIKE pattern it cannot compile (HTTP 400)",
        (api_edit(invalid_regex="reject"),),
    ),
    BackendFact(
        "regex-crash", ("mysql",), ("traces",),
        "MySQL fails on an RLIKE pattern it cannot compile (HTTP 500)",
        (api_edit(invalid_regex="crash"),),
    ),
    BackendFact(
        "list-equality-compares", ("postgresql",), _EVERY,
        "PostgreSQL compares a column with a list bound by = or != as one row value",
        (api_edit(list_equality="compares"),),
    ),
    BackendFact(
        "list-equality-single-item", ("mysql",), _EVERY,
        "MySQL compares a column with a one-item list bound by = or !=, and fails on more "
        "(operand should contain 1 column, HTTP 503)",
        (api_edit(list_equality="single-item"),),
    ),
    BackendFact(
        "mssql-no-rlike", ("mssql",), ("traces",),
        "MLflow refuses RLIKE on SQL Server",
        (api_edit(rlike=False),),
    ),
)
