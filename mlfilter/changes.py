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
        "dataset-lists", ("runs",), "3.0.0",
        "IN and NOT IN lists on dataset keys",
        (keys_edit("dataset", "*", **_NO_LISTS),),
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
         keys_edit("attribute", ("request_id", "status", "name", "run_id"),
                   ops=frozenset({"=", "!="}) | LIST_OPS)),
    ),
)

BACKEND_FACTS: tuple[BackendFact, ...] = (
    BackendFact(
        "join-limit", ("mysql",), ("runs", "experiments", "registered_models", "model_versions",
                                   "logged_models", "traces"),
        "MySQL and MariaDB join at most 61 tables in one query",
        (api_edit(join_limit=61),),
    ),
    BackendFact(
        "no-join-limit", ("postgresql", "mssql"), ("runs", "experiments", "registered_models",
                                                     "model_versions", "logged_models", "traces"),
        "PostgreSQL and SQL Server have no small limit on joined tables",
        (api_edit(join_limit=None),),
    ),
    BackendFact(
        "mssql-no-rlike", ("mssql",), ("traces",),
        "MLflow refuses RLIKE on SQL Server",
        (api_edit(rlike=False),),
    ),
)

