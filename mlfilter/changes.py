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
    BackendFact,
    Change,
    Plus,
    Without,
    api_edit,
    drop_entity,
    drop_keys,
    entity_edit,
    keys_edit,
    order_by_edit,
    patterns_edit,
)

_REGISTRY = ("registered_models", "model_versions")
_SEARCH_UTILS = ("runs", "experiments", "registered_models", "model_versions", "traces")
_NO_NULLS = Without(NULL_OPS)
_NO_PATTERNS = Without(frozenset({"LIKE", "ILIKE", "RLIKE"}))
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
    # ---- 2.22.1 -> 3.17.2 -----------------------------------------------------------------------
    # `since` and `last_before` below were found by running every final release in between
    # (tests/compat/bisect_releases.py, tests/compat/first_releases.yaml); a change marked
    # bisected=False was seen in 2.22.1 and 3.17.2 only, and `since` is then 3.17.2.
    Change(
        "logged-models", ("logged_models",), "3.0.0",
        "search_logged_models",
        (api_edit(available=False),),
        last_before="2.22.5",
    ),
    Change(
        "traces-span-filters", ("traces",), "3.4.0",
        "`span.name` filters",
        (drop_entity("span"),),
        last_before="3.3.2",
    ),
    Change(
        "traces-span-fields", ("traces",), "3.6.0",
        "`span.type`, `span.status`, `span.content` and `span.attributes.<name>` filters",
        (drop_keys("span", "type", "status", "content"), entity_edit("span", pattern_keys=())),
        last_before="3.5.1",
    ),
    Change(
        "traces-new-keys", ("traces",), "3.6.0",
        "feedback and expectation filters, and the trace keys `end_time`, `client_request_id` "
        "and `text`",
        (drop_entity("feedback"), drop_entity("expectation"),
         drop_keys("attribute", "client_request_id", "end_time", "end_time_ms", "text"),
         api_edit(rewrites=Without(frozenset({"text", "end_time"}))),
         order_by_edit(attribute_keys=Without(frozenset({"end_time", "end_time_ms"})),
                       crash_keys=frozenset())),
        last_before="3.5.1",
    ),
    Change(
        "traces-more-comparators", ("traces",), "3.6.0",
        "LIKE, ILIKE and RLIKE on trace tags, metadata and string attributes",
        (keys_edit("tag", "*", ops=_NO_PATTERNS),
         keys_edit("request_metadata", "*", ops=_NO_PATTERNS),
         keys_edit("attribute", ("request_id", "status", "name", "run_id"), ops=_NO_PATTERNS)),
        last_before="3.5.1",
    ),
    Change(
        "traces-prompt", ("traces",), "3.7.0",
        "the trace key `prompt` (linked prompts)",
        (drop_keys("attribute", "prompt"), api_edit(rewrites=Without(frozenset({"prompt"})))),
        last_before="3.6.0",
    ),
    Change(
        "traces-metadata-is-null", ("traces",), "3.9.0",
        "IS NULL and IS NOT NULL on trace metadata (and `run_id`, which is metadata)",
        (keys_edit("request_metadata", "*", ops=_NO_NULLS),
         keys_edit("attribute", ("run_id",), ops=_NO_NULLS)),
        last_before="3.8.1",
    ),
    Change(
        "traces-assessment-is-null", ("traces",), "3.10.0",
        "IS NULL and IS NOT NULL on feedback and expectation names",
        (keys_edit("feedback", "*", ops=_NO_NULLS), keys_edit("expectation", "*", ops=_NO_NULLS)),
        last_before="3.9.0",
    ),
    Change(
        "experiments-is-null", ("experiments",), "3.10.1",
        "IS NULL and IS NOT NULL on experiment tags",
        (keys_edit("tag", "*", ops=_NO_NULLS),),
        last_before="3.10.0",
    ),
    Change(
        "is-null", ("runs", "traces"), "3.11.1",
        "IS NULL and IS NOT NULL on run params and tags, trace tags and the trace name",
        (keys_edit("parameter", "*", ops=_NO_NULLS), keys_edit("tag", "*", ops=_NO_NULLS),
         keys_edit("attribute", ("name",), ops=_NO_NULLS)),
        last_before="3.10.1",
    ),
    Change(
        "registry-is-null-crash", ("registered_models", "model_versions"), "3.11.1",
        "IS [NOT] NULL on registered models and model versions crashes the parser (HTTP 500) "
        "instead of a 400",
        (api_edit(nulls_crash=False),),
        last_before="3.10.1", accepts=False,
    ),
    Change(
        "traces-issue", ("traces",), "3.11.1",
        "`issue.id` filters on traces",
        (drop_entity("issue"),),
        last_before="3.10.1",
    ),
    Change(
        "lists-beyond-run-id", ("experiments", "registered_models", "model_versions"), "3.17.0",
        "IN and NOT IN lists on `name` (registry) and `experiment_id` (experiments)",
        (keys_edit("attribute", ("name", "experiment_id"), **_NO_LISTS),),
        last_before="3.16.1",
    ),
    Change(
        "experiments-experiment-id", ("experiments",), "3.17.0",
        "filtering experiments by `experiment_id`",
        (drop_keys("attribute", "experiment_id"),),
        last_before="3.16.1",
    ),
    Change(
        "numbers-parsed", ("runs",), "3.17.0",
        "run time values are read as numbers: an integer beyond 64 bits crashes the store",
        (keys_edit("attribute", ("start_time", "end_time", "created", "Created"), int64=False),),
        last_before="3.16.1", accepts=False,
    ),
    Change(
        "experiment-times-checked", ("experiments",), "3.17.0",
        "experiment times must be integers (`creation_time > 0.5` is refused, and an integer "
        "beyond 64 bits crashes the store)",
        (keys_edit("attribute", ("creation_time", "last_update_time"), int_only=False,
                   int64=False),),
        last_before="3.16.1", accepts=False,
    ),
    Change(
        "version-numbers-checked", ("model_versions",), "3.17.2",
        "version numbers must be integers (`version_number >= 1.5` and `= 'abc'` are refused)",
        # an unquoted integer still reaches the column as one (and overflows)
        (keys_edit("attribute", ("version_number",), int_only=False, int_string=False),),
        last_before="2.22.1", accepts=False, bisected=False,
    ),
    Change(
        "traces-span-time-bound", ("traces",), "3.17.2",
        "a `timestamp_ms >` bound also prunes the span search, so a quoted one fails beside a "
        "span filter or a numeric bound",
        (keys_edit("attribute", ("timestamp", "timestamp_ms"), span_bound=False),),
        last_before="2.22.1", accepts=False, bisected=False,
    ),
    Change(
        "traces-analytics-metadata", ("traces",), "3.17.2",
        "the metadata `mlflow.trace.tokenUsage` and `mlflow.trace.cost` are columns of the "
        "trace table: only =, != and IS [NOT] NULL, and no ordering by them",
        (entity_edit("request_metadata", reserved_keys=MappingProxyType({})),),
        last_before="2.22.1", accepts=False, bisected=False,
    ),
    Change(
        "dataset-with-other-joins", ("runs",), "3.17.2",
        "a dataset condition beside a metric, param, tag or run-name condition",
        (api_edit(dataset_join_crash=True),),
        last_before="2.22.1", bisected=False,
    ),
    Change(
        "model-versions-run-id-not-in", ("model_versions",), "3.17.2",
        "`run_id NOT IN (...)` on model versions",
        (keys_edit("attribute", ("run_id",), ops=Without(frozenset({"NOT IN"}))),),
        last_before="2.22.1", bisected=False,
    ),
    Change(
        "lists-parsed-as-python", _SEARCH_UTILS, "3.17.2",
        "lists read as Python literals: double quotes and a one-item trailing comma are "
        "accepted",
        (api_edit(strict_lists=True),),
        last_before="2.22.1", bisected=False,
    ),
    Change(
        "list-items-kept", ("runs", "model_versions"), "3.17.2",
        "run id and dataset lists keep items that are not all lower case",
        (keys_edit("attribute", ("run_id",), drops_non_lowercase=True),
         keys_edit("dataset", "*", drops_non_lowercase=True)),
        last_before="2.22.1", bisected=False,
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
        "mysql-span-attribute-lists", ("mysql",), ("traces",),
        "on MySQL, MLflow writes IN and NOT IN on span attributes as raw SQL, which runs",
        (patterns_edit("span", ops=Plus(LIST_OPS)),),
    ),
    BackendFact(
        "mysql-raw-comparisons", ("mysql",), ("logged_models",),
        "on MySQL, comparing a logged model's `tags`, `params` or `metrics` collection itself "
        "crashes (HTTP 500) instead of a 400",
        (api_edit(raw_sql_comparisons=True),),
    ),
    BackendFact(
        "unicode-ilike", ("postgresql", "mysql", "mssql"), _EVERY,
        "ILIKE folds the case of every letter (SQLite's lower() folds only ASCII)",
        (api_edit(ilike_ascii_only=False),),
    ),
    BackendFact(
        "keys-ignore-case", ("mysql", "mssql"), _EVERY,
        "some key comparisons (IS NULL, logged-model keys, assessment names) ignore case and "
        "trailing spaces (MariaDB run; SQL Server from its default collation)",
        (api_edit(keys_ignore_case=True),),
    ),
    BackendFact(
        "mssql-no-rlike", ("mssql",), ("traces",),
        "MLflow refuses RLIKE on SQL Server",
        (api_edit(rlike=False),),
    ),
)
