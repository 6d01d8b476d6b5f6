"""The one table of diagnostic codes: code, name, severity, summary, why, and examples.

Ranges: MF0xx input, MF1xx syntax, MF2xx rejected by MLflow (400), MF23x MLflow crashes (500),
MF3xx accepted but almost surely wrong, MF4xx order_by, MF6xx source scanning and MF9xx tooling
(both `mlfilter lint`). A published code is never reused.
docs/rules.md is generated from this table (tools/gen_docs.py) and the tests check that every
`bad` example triggers its code and every `good` one is clean.
"""

from __future__ import annotations

from mlfilter.diagnostics import Severity
from mlfilter.records import record

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO


@record
class Rule:
    code: str
    name: str
    severity: Severity
    summary: str
    why: str
    bad: str
    good: str
    api: str = "runs"
    kind: str = "filter"  # or "order_by", or "lint" (MF6xx, MF9xx: examples are Python source),
    #                       "schema" (MF5xx: checked against the demo store's snapshot), or
    #                       "value" (the examples are Python literals passed to check())
    experiment: str = "demo-classifier"  # for "schema" examples: the demo experiment searched
    http: int | None = None  # an error's HTTP status from MLflow (None: 400)
    mlflow_version: str | None = None  # the release line the examples are for (None: any)
    backend: str | None = None  # the database the examples are for (None: SQLite)


RULES: tuple[Rule, ...] = (
    # ---- MF0xx: input ---------------------------------------------------------------------
    Rule("MF001", "not-a-string", E, "the filter is not a string",
         "MLflow takes a filter string (or None for no filter).", "b'\\xff'", "'metrics.acc > 0.9'",
         kind="value"),
    Rule("MF002", "nesting-too-deep", E, "parentheses or NOTs nest too deeply to be a filter",
         "MLflow has no parentheses at all; input nested this deeply is not a filter.",
         "(" * 300 + "metrics.a > 1" + ")" * 300, "metrics.a > 1"),
    Rule("MF003", "invalid-unicode", E, "the filter holds a lone surrogate, which is not valid Unicode",
         "Such text cannot be encoded for the database or sent over HTTP: MLflow fails on it.",
         "params.x = '\ud800'", "params.x = 'a'", http=500),
    # ---- MF1xx: syntax --------------------------------------------------------------------
    Rule("MF006", "too-many-tokens", E, "a filter too long for MLflow's SQL parser",
         "sqlparse gives up on statements of more than 10,000 tokens and MLflow rejects them.",
         " AND ".join(["metrics.a > 1"] * 1200), "metrics.a > 1"),
    Rule("MF101", "unterminated-string", E, "a quote or backtick is never closed",
         "The rest of the filter becomes part of the string.", "params.x = 'abc", "params.x = 'abc'"),
    Rule("MF102", "missing-comparator", E, "a condition has no comparator (or no value)",
         "Each condition is `key comparator value`.", "params.learning_rate 0.001",
         "params.learning_rate = '0.001'"),
    Rule("MF103", "unexpected-token", E, "a word or symbol where it cannot stand",
         "MLflow filters are `key comparator value` conditions joined with AND.",
         "metrics.acc > > 0.9", "metrics.acc > 0.9"),
    Rule("MF104", "missing-value", E, "a comparator or keyword with nothing after it",
         "A condition needs a value to compare with.", "metrics.acc >", "metrics.acc > 0.9"),
    Rule("MF105", "missing-and", E, "two conditions without AND between them",
         "Without AND, MLflow's parser merges an IN or IS NULL condition into the one before it.",
         "run_id IN ('a') params.b IS NULL", "run_id IN ('a') AND params.b IS NULL"),
    Rule("MF005", "blank-filter", E, "a filter of only whitespace",
         "MLflow takes an empty string or None as no filter, but rejects whitespace.", " ", ""),
    Rule("MF106", "comment", E, "an SQL comment in a filter",
         "MLflow rejects comments (`--`, `#`, `/* */`).", "metrics.a > 1 -- best", "metrics.a > 1"),
    Rule("MF107", "semicolon", E, "a `;` in a filter",
         "MLflow reads `;` as the end of a statement and takes only one statement.",
         "metrics.a > 1;", "metrics.a > 1"),
    Rule("MF108", "unbalanced-parenthesis", E, "a parenthesis without its partner",
         "Every `(` needs a `)`.", "run_id IN ('a'", "run_id IN ('a')"),
    Rule("MF109", "between", E, "BETWEEN is not supported",
         "MLflow has no BETWEEN; two conditions express it.", "metrics.a BETWEEN 0 AND 1",
         "metrics.a >= 0 AND metrics.a <= 1"),
    Rule("MF110", "invalid-character", E, "a character MLflow does not read outside quotes",
         "Keys with `-`, `/`, spaces and the like must be in backticks; `&&`, `||`, `+` are not "
         "operators here.", "metrics.train/loss < 1", "metrics.`train/loss` < 1"),
    # ---- MF2xx: MLflow rejects (400) ------------------------------------------------------
    Rule("MF201", "unquoted-value", E, "a string value without quotes",
         "Params, tags and string attributes hold strings, and MLflow takes only quoted strings "
         "for them (a number, even one that looks right, is rejected).", "params.batch_size = 32",
         "params.batch_size = '32'"),
    Rule("MF202", "or-not-supported", E, "OR is not supported",
         "MLflow's search has no OR: run one search per alternative and merge the results, or use "
         "mlfilter's builder, which does that.", "metrics.acc > 0.8 OR params.x = 'a'",
         "metrics.acc > 0.8"),
    Rule("MF203", "not-not-supported", E, "NOT is not supported",
         "MLflow's search has no NOT; use the opposite comparator (`!=`, `NOT IN`, `IS NULL`).",
         "NOT params.x = 'a'", "params.x != 'a'"),
    Rule("MF204", "parentheses-not-supported", E, "parentheses around conditions are not supported",
         "MLflow reads only a flat list of conditions joined with AND.", "(metrics.a > 1)",
         "metrics.a > 1"),
    Rule("MF205", "double-equals", E, "`==` is not a comparator in MLflow", "SQL equality is `=`.",
         "params.x == 'a'", "params.x = 'a'"),
    Rule("MF206", "angle-not-equal", E, "`<>` is not a comparator in MLflow", "Use `!=`.",
         "params.x <> 'a'", "params.x != 'a'"),
    Rule("MF207", "unknown-comparator", E, "a comparator MLflow does not know",
         "MLflow knows =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS [NOT] NULL (and RLIKE for "
         "traces).", "params.x NOT LIKE 'a%'", "params.x LIKE 'a%'"),
    Rule("MF208", "comparator-not-allowed", E, "a comparator this key does not take",
         "Each kind of key takes its own comparators: numbers take <, >; strings take LIKE.",
         "params.lr > '0.01'", "params.lr = '0.01'"),
    Rule("MF209", "unknown-entity", E, "an entity prefix this API does not know (prefixes are "
         "case-sensitive)", "The part before the first dot says what is compared: metrics, "
         "params, tags, attributes...", "metric_s.acc > 0.9", "metrics.acc > 0.9"),
    Rule("MF210", "unknown-attribute", E, "an attribute key this API does not know",
         "Attributes are a fixed, case-sensitive set per API.", "Status = 'FINISHED'",
         "status = 'FINISHED'"),
    Rule("MF211", "number-expected", E, "a number is expected",
         "Metrics and numeric attributes compare with number literals; a quoted number is a "
         "string to MLflow.", "metrics.accuracy > '0.8'", "metrics.accuracy > 0.8"),
    Rule("MF212", "list-not-allowed", E, "this key does not take a list (IN / NOT IN)",
         "Only some keys take lists: run_id for runs, experiment_id for experiments...",
         "status IN ('FINISHED')", "status = 'FINISHED'"),
    Rule("MF213", "bad-list", E, "a list MLflow cannot read",
         "Lists hold one or more quoted strings.", "run_id IN ()", "run_id IN ('a')"),
    Rule("MF214", "is-null-not-allowed", E, "IS [NOT] NULL is not supported for this key",
         "MLflow tests presence only where a key can be missing (params and tags of runs...).",
         "metrics.acc IS NULL", "params.lr IS NULL"),
    Rule("MF215", "keyword-key", E, "a key MLflow's SQL parser reads as a keyword",
         "sqlparse reads words such as `text`, `version`, `from` as SQL keywords, not names; "
         "backticks make them names.", "tags.from = 'x'", "tags.`from` = 'x'"),
    Rule("MF216", "quoted-key-not-allowed", E, "this API does not take a quoted key or prefix here",
         "Some parsers check the key before removing quotes.", "`name` = 'm'", "name = 'm'",
         api="registered_models"),
    Rule("MF217", "key-not-first", E, "a condition must start with its key",
         "MLflow reads `key comparator value` only.", "'a' = params.x", "params.x = 'a'"),
    Rule("MF218", "integer-expected", E, "an integer is expected",
         "This key is an integer column; MLflow rejects other numbers.", "creation_time > 1.5",
         "creation_time > 1", api="experiments"),
    Rule("MF219", "invalid-value", E, "a value MLflow rejects for this key",
         "Some keys check their values (experiment ids are integers, prompts are name/version).",
         "experiment_id = 'abc'", "experiment_id = '1'", api="experiments"),
    Rule("MF220", "empty-key", E, "an empty key", "A key name is needed after the prefix.",
         "feedback. = 'x'", "feedback.rating = 'x'", api="traces"),
    Rule("MF221", "null-spacing", E, "`IS NOT NULL` must be written with single spaces",
         "MLflow compares the keyword text `NOT NULL` exactly.", "params.x IS NOT  NULL",
         "params.x IS NOT NULL"),
    Rule("MF222", "comparator-case", E, "this API needs the comparator in upper case",
         "MLflow 3.17 and older compare the experiment comparator as written (3.18 upper-cases "
         "it).", "name like 'exp%'", "name LIKE 'exp%'", api="experiments", mlflow_version="3.17"),
    Rule("MF223", "timestamp-keyword", E, "bare `timestamp` takes only an integer",
         "sqlparse reads `timestamp` as a type name; MLflow only repairs `timestamp <op> <integer>`.",
         "timestamp > 1.5", "timestamp_ms > 1.5", api="traces"),
    Rule("MF224", "list-value-mismatch", E, "a list with a comparator other than IN / NOT IN, "
         "or IN without a list", "Only IN and NOT IN compare with a list.", "run_id = ('a')",
         "run_id IN ('a')"),
    Rule("MF225", "api-not-in-version", E, "this search API does not exist in the target release",
         "search_logged_models came with MLflow 3; a 2.x server has no such endpoint.",
         "name = 'm' AND tags.t = 'v'", "name = 'm'", api="logged_models", http=404,
         mlflow_version="2.22"),
    # ---- MF23x: MLflow crashes (500) ------------------------------------------------------
    Rule("MF230", "crash-is-null", E, "MLflow crashes on IS [NOT] NULL here (HTTP 500)",
         "MLflow 3.x before 3.18 fails with a ValueError in the registry parsers on IS NULL.",
         "tags.k IS NULL", "tags.k = 'v'", api="registered_models", http=500,
         mlflow_version="3.17"),
    Rule("MF231", "crash-unknown-column", E, "MLflow crashes on an unknown logged-model key (HTTP 500)",
         "The logged-model store looks the key up as a table column and fails.", "foo = 'x'",
         "name = 'x'", api="logged_models", http=500),
    Rule("MF232", "crash-not-a-number", E, "MLflow crashes converting this value to a number (HTTP 500)",
         "The logged-model parser calls float() on the value as written.", "metrics.acc > '0.5'",
         "metrics.acc > 0.5", api="logged_models", http=500),
    Rule("MF233", "crash-integer-overflow", E, "an integer too large for the database (HTTP 500)",
         "Integers beyond 64 bits cannot be bound to the integer column.",
         "start_time < 99999999999999999999999", "start_time < 9999999999999", http=500),
    Rule("MF234", "crash-bad-value", E, "MLflow crashes on this value (HTTP 500)",
         "MLflow reads lists with Python's literal_eval, which fails on bare words.",
         "name IN (a, b)", "name IN ('a', 'b')", api="logged_models", http=500),
    Rule("MF235", "too-many-joins", E, "more joined conditions than the database allows "
         "(HTTP 503 on SQLite)",
         "Each metric, param, tag or dataset condition joins a table; SQLite joins at most 64 "
         "tables in a query (MLflow answers 503), MySQL and MariaDB 61.",
         " AND ".join(f"metrics.m{i} > 0" for i in range(64)), "metrics.m0 > 0", http=503),
    Rule("MF236", "crash-integer-too-long", E, "an integer with more digits than Python's "
         "int() reads (HTTP 500)", "MLflow's parser turns an integer attribute's value into a "
         "Python int; Python refuses decimal strings of more than 4,300 digits, whatever the "
         "database.", "start_time > " + "1" * 4301, "start_time > 1700000000000", http=500),
    Rule("MF237", "crash-span-time-bound", E, "a quoted timestamp bound MLflow computes with "
         "(HTTP 500)", "search_traces uses the largest `timestamp_ms >` bound to prune spans; "
         "with a quoted value it subtracts from a string.", "timestamp_ms > '0' AND span.name = 'a'",
         "timestamp_ms > 0 AND span.name = 'a'", api="traces", http=500),
    Rule("MF238", "crash-expression-depth", E, "more conditions than SQLite's expression depth "
         "allows (HTTP 503)", "SQLite builds the WHERE clause as a tree at most 1000 deep; MLflow's "
         "query uses a few levels, each condition without a join one more.",
         " AND ".join(["start_time > 0"] * 997), "start_time > 0", http=503),
    Rule("MF239", "crash-dataset-join", E, "a dataset condition beside another joined "
         "condition, which MLflow 2.x cannot join (HTTP 503)", "MLflow 2.22 joins the dataset "
         "table on the alias of the previous join: `no such column: anon_1.destination_id`.",
         "metrics.loss < 1 AND dataset.name = 'ds1'", "dataset.name = 'ds1'", http=503,
         mlflow_version="2.22"),
    # ---- MF24x: the database decides (backend-specific) -----------------------------------
    Rule("MF240", "rlike-not-on-backend", E, "RLIKE on a database MLflow has no regex match for",
         "MLflow refuses RLIKE on SQL Server.", "tags.env RLIKE '^pr'", "tags.env LIKE 'pr%'",
         api="traces", backend="mssql"),
    Rule("MF241", "string-for-integer-column", E, "a string compared with an integer column, on "
         "a database that does not cast it", "SQLite compares them anyway; PostgreSQL has no "
         "operator between bigint and character varying and MLflow answers 400.",
         "timestamp_ms > '0'", "timestamp_ms > 0", api="traces", backend="postgresql"),
    Rule("MF242", "nul-on-backend", E, "a NUL character in text, on a database that refuses it",
         "PostgreSQL text cannot hold NUL (0x00): the search fails with HTTP 400.",
         "params.x = 'a\x00b'", "params.x = 'ab'", backend="postgresql"),
    Rule("MF243", "integer-out-of-range", E, "an integer beyond 64 bits, on a database that "
         "refuses it", "PostgreSQL answers `bigint out of range` (HTTP 400); SQLite crashes "
         "(MF233) and MySQL compares it as a decimal.", "start_time < 99999999999999999999999",
         "start_time < 9999999999999", backend="postgresql"),
    Rule("MF244", "infinite-on-backend", E, "an infinite or NaN number, on a database driver "
         "that refuses it", "A float literal beyond 1.8e308 is infinite; the MySQL driver "
         "refuses inf and nan (HTTP 400).", "metrics.loss < 1e400", "metrics.loss < 1e300",
         backend="mysql"),
    Rule("MF246", "invalid-regex-on-backend", E, "an RLIKE pattern the database cannot compile",
         "PostgreSQL rejects it (HTTP 400); MySQL fails (HTTP 500). SQLite silently matches "
         "nothing (MF316).", "tags.env RLIKE '('", "tags.env RLIKE '\\('", api="traces",
         backend="postgresql"),
    # ---- MF3xx: accepted but almost surely wrong -----------------------------------------
    Rule("MF301", "stray-and", W, "an AND that joins nothing",
         "MLflow ignores it, but it usually means a condition went missing.", "metrics.a > 1 AND",
         "metrics.a > 1"),
    Rule("MF302", "status-value", W, "a status value MLflow never stores (case matters)",
         "Run statuses are RUNNING, SCHEDULED, FINISHED, FAILED, KILLED; anything else matches "
         "nothing.", "attributes.status = 'COMPLETED'", "attributes.status = 'FINISHED'"),
    Rule("MF303", "seconds-not-ms", W, "a time that looks like seconds; MLflow stores milliseconds",
         "Times are milliseconds since the epoch, so seconds select 1970.",
         "start_time > 1700000000", "start_time > 1700000000000"),
    Rule("MF304", "float-equality", I, "exact `=` on a metric",
         "Metrics are floats; `=` rarely matches what was logged.", "metrics.acc = 0.9",
         "metrics.acc >= 0.9"),
    Rule("MF305", "like-without-wildcard", W, "LIKE without `%` or `_` is just `=`",
         "Without a wildcard, LIKE matches the exact value only.", "params.model LIKE 'cnn'",
         "params.model LIKE 'cnn%'"),
    Rule("MF306", "like-backslash", W, "a backslash in a LIKE pattern",
         "MLflow emits no ESCAPE clause: the backslash escapes on PostgreSQL and MySQL but is a "
         "plain character on SQLite.", "tags.note LIKE '50\\% off'", "tags.note LIKE '50%'"),
    Rule("MF307", "quotes-kept", W, "quotes or backslashes that MLflow keeps in the value",
         "MLflow has no escapes: `'it''s'` means the text it''s.", "params.q = 'it''s'",
         "params.q = \"it's\""),
    Rule("MF308", "span-attribute-equality", W, "`=` on a span attribute never matches",
         "MLflow compares span attributes as JSON text, so equality fails; LIKE works.",
         "span.attributes.model = 'gpt'", "span.attributes.model LIKE '%gpt%'", api="traces"),
    Rule("MF309", "number-as-text", W, "a quoted number compared with a numeric column",
         "The comparison is made on text on SQLite (and fails on PostgreSQL).",
         "timestamp_ms > '0'", "timestamp_ms > 0", api="traces"),
    Rule("MF310", "never-matches", W, "a condition that can never match",
         "MLflow accepts it, but no stored value can satisfy it.", "status = 'READY'",
         "name = 'm'", api="logged_models"),
    Rule("MF311", "key-rewritten", I, "MLflow reads this key as another filter",
         "Trace search rewrites `name`, `run_id`, `prompt`, `text` whatever the prefix.",
         "feedback.name = 'x'", "feedback.rating = 'x'", api="traces"),
    Rule("MF312", "double-quotes-kept", W, "logged-model filters keep double quotes in the value",
         "The logged-model parser strips only single quotes, so \"x\" searches for the quotes.",
         'name = "m"', "name = 'm'", api="logged_models"),
    Rule("MF313", "unquoted-value-accepted", W, "an unquoted value (the logged-model parser takes it)",
         "It works here but nowhere else; quote it.", "params.p = 1", "params.p = '1'",
         api="logged_models"),
    Rule("MF314", "missing-and-accepted", W, "two comparisons side by side without AND",
         "MLflow reads them as joined by AND, but the filter is easy to misread.",
         "metrics.a > 1 metrics.b > 2", "metrics.a > 1 AND metrics.b > 2"),
    Rule("MF315", "condition-swallowed", W, "a condition merged into the key of the next one",
         "Without AND before an IN or IS NULL condition, MLflow's parser makes the previous "
         "comparison part of its key: the filter tests a key that does not exist.",
         "tags.a = 'x' tags.b IS NULL", "tags.a = 'x' AND tags.b IS NULL"),
    Rule("MF316", "invalid-regex", W, "an RLIKE pattern that is not a valid regular expression",
         "On SQLite MLflow's regexp function then matches nothing, without an error.",
         "tags.env RLIKE '['", "tags.env RLIKE '^prod'", api="traces"),
    Rule("MF317", "odd-key", W, "a key with spaces or empty parts around its dots",
         "MLflow keeps them in the key (`tags. team` is the tag \" team\"), so it matches nothing.",
         "tags. team = 'ml'", "tags.team = 'ml'"),
    # ---- MF5xx: compared with a tracking store (needs a schema) ----------------------------
    Rule("MF501", "key-never-logged", W, "a key no searched entity has, so nothing matches",
         "MLflow runs the search, and it returns nothing.", "params.accuracy = '0.9'",
         "metrics.accuracy > 0.9", kind="schema"),
    Rule("MF502", "value-never-logged", W, "a value never logged for this param or tag",
         "Values are compared exactly: 'Adam' is not 'adam', '32' is not '32.0'.",
         "params.optimizer = 'Adam'", "params.optimizer = 'adam'", kind="schema"),
    Rule("MF503", "like-matches-nothing", W, "a LIKE pattern that matches no logged value",
         "LIKE is case-sensitive in MLflow, on every database.", "params.optimizer LIKE 'A%'",
         "params.optimizer ILIKE 'a%'", kind="schema"),
    Rule("MF504", "threshold-matches-none", W, "a metric threshold no run passes",
         "The latest logged values are all on the other side.", "metrics.accuracy > 0.99",
         "metrics.accuracy > 0.9", kind="schema"),
    Rule("MF505", "threshold-matches-all", I, "a metric threshold every run passes",
         "The condition only requires the metric to be logged.", "metrics.accuracy > 0",
         "metrics.accuracy > 0.9", kind="schema"),
    Rule("MF506", "only-deleted", W, "a key only deleted runs have, under the active-only view",
         "Active-only searches skip deleted runs.", "params.old_flag = '1'",
         "params.optimizer = 'adam'", kind="schema"),
    Rule("MF507", "run-name-unknown", W, "a run name no run has",
         "Run names are compared exactly.", "run_name = 'CNN-adam-10'", "run_name = 'cnn-adam-10'",
         kind="schema"),
    Rule("MF319", "list-items-dropped", W, "list items MLflow 2.x silently drops",
         "MLflow 2.x keeps only the items of a run id or dataset list that are all lower case "
         "(a guard for MySQL's case-insensitive IN), so the others never match.",
         "dataset.name IN ('Train', 'test')", "dataset.name IN ('train', 'test')",
         mlflow_version="2.22"),
    Rule("MF320", "like-trailing-escape", W, "a LIKE pattern ending with a lone backslash, on a "
         "database that may refuse it", "PostgreSQL reads `\\` as LIKE's escape character and "
         "fails (HTTP 400) as soon as matching a value reaches the end of the pattern; whether "
         "that happens depends on the values stored.", "tags.path LIKE '%\\'",
         "tags.path LIKE '%\\\\'", backend="postgresql"),
    Rule("MF321", "list-with-equals", W, "a list compared with = or !=, on a database that "
         "takes it as one value", "PostgreSQL (and MySQL for one item) compares the column with "
         "the whole list as a row value; SQLite refuses it (MF224).", "run_id = ('a',)",
         "run_id IN ('a')", backend="postgresql"),
    Rule("MF322", "ilike-ascii-only", W, "ILIKE with non-ASCII letters on SQLite",
         "SQLite's lower() folds only ASCII, so `ILIKE 'КЛЮЧ'` does not match `ключ` there "
         "(PostgreSQL and MySQL fold every letter).", "tags.k ILIKE 'КЛЮЧ%'",
         "tags.k ILIKE 'key%'"),
    Rule("MF323", "key-without-case", W, "a key MySQL compares without case here",
         "MLflow compares some keys (IS NULL, logged-model params, tags and metrics, assessment "
         "names) with a plain `=`, which MySQL's collation makes case- and "
         "trailing-space-insensitive: `tags.TEAM IS NULL` also tests `team`.",
         "tags.TEAM IS NOT NULL", "tags.team IS NOT NULL", backend="mysql"),
    Rule("MF508", "unknown-experiment", W, "an experiment the schema does not hold",
         "Its keys cannot be checked.", "params.optimizer = 'adam'", "params.optimizer = 'adam'",
         kind="schema", experiment="demo-vision"),
    Rule("MF318", "nul-character", W, "a NUL character inside a value",
         "SQLite stores it, but PostgreSQL rejects NUL in text, so the search fails there.",
         "params.x = 'a\x00b'", "params.x = 'ab'"),
    # ---- MF4xx: order_by -------------------------------------------------------------------
    Rule("MF401", "order-by-syntax", E, "an order_by entry MLflow cannot parse",
         "Entries are `key`, `key ASC` or `key DESC`, one per list item.", "metrics.a DESC NULLS LAST",
         "metrics.a DESC", kind="order_by"),
    Rule("MF402", "order-by-direction", E, "an order_by direction other than ASC or DESC",
         "Only ASC and DESC follow the key.", "metrics.a DOWN", "metrics.a DESC", kind="order_by"),
    Rule("MF421", "order-by-unknown-key", E, "an order_by key this API cannot order by",
         "Each API orders by its own set of keys.", "dataset.name", "metrics.acc", kind="order_by"),
    Rule("MF422", "order-by-duplicate", E, "the same field twice in order_by: MLflow crashes (HTTP 500)",
         "MLflow refuses duplicate order_by fields with an internal error.",
         "start_time\ncreated", "start_time", kind="order_by", http=500),
    Rule("MF423", "order-by-type", E, "an order_by entry of the wrong type",
         "Logged models take dicts {\"field_name\": ..., \"ascending\": ...}; the others take strings.",
         "name", '{"field_name": "name"}', api="logged_models", kind="order_by"),
    Rule("MF424", "order-by-crash", E, "an order_by key MLflow accepts and then crashes on (HTTP 500)",
         "MLflow 3.17 and older cannot order traces by end time.", "end_time", "timestamp_ms",
         api="traces", kind="order_by", http=500, mlflow_version="3.17"),
    Rule("MF452", "order-by-ascending-type", W, "`ascending` that is not a boolean",
         "The store only tests whether it is true, so \"no\" sorts ascending.",
         '{"field_name": "name", "ascending": "no"}', '{"field_name": "name", "ascending": false}',
         api="logged_models", kind="order_by"),
    Rule("MF451", "order-by-repeated", W, "the same field twice in order_by (the second is ignored)",
         "The later entry has no effect.", "name\nname DESC", "name", api="experiments",
         kind="order_by"),
    # ---- MF6xx: source scanning (`mlfilter lint`; the examples are Python source) -----------
    Rule("MF601", "unquoted-placeholder", E, "an f-string placeholder stands unquoted where a "
         "quoted string is needed",
         "The value is pasted into the filter as it is: `f\"params.bs = {bs}\"` becomes "
         "`params.bs = 32`, which MLflow rejects.",
         'import mlflow\nmlflow.search_runs(filter_string=f"params.bs = {bs}")',
         'import mlflow\nmlflow.search_runs(filter_string=f"params.bs = \'{bs}\'")', kind="lint"),
    Rule("MF602", "order-by-not-a-list", E, "order_by is a string, not a list",
         "MLflow iterates over order_by, so a string is read one character at a time.",
         'import mlflow\nmlflow.search_runs(order_by="metrics.acc DESC")',
         'import mlflow\nmlflow.search_runs(order_by=["metrics.acc DESC"])', kind="lint"),
    Rule("MF603", "unknown-view-type", E, "a view type that does not exist",
         "ViewType has ACTIVE_ONLY, DELETED_ONLY and ALL; anything else fails before the search "
         "(AttributeError, or an exception from ViewType.from_string).",
         "import mlflow\nfrom mlflow.entities import ViewType\n"
         "mlflow.search_runs(run_view_type=ViewType.DELETED)",
         "import mlflow\nfrom mlflow.entities import ViewType\n"
         "mlflow.search_runs(run_view_type=ViewType.DELETED_ONLY)", kind="lint"),
    Rule("MF604", "view-type-value", W, "a view type value MLflow silently treats as matching "
         "nothing",
         "The Python API takes ViewType.ACTIVE_ONLY (1), DELETED_ONLY (2) or ALL (3); another "
         "number or a string such as \"ALL\" returns no results, without an error.",
         'import mlflow\nmlflow.search_runs(run_view_type="ALL")',
         "import mlflow\nfrom mlflow.entities import ViewType\n"
         "mlflow.search_runs(run_view_type=ViewType.ALL)", kind="lint"),
    Rule("MF605", "max-results-rejected", E, "a max_results MLflow rejects",
         "MlflowClient hands max_results to the store, which takes 1 to 50,000 results for runs, "
         "experiments and traces, at most 1,000 registered models and 1 to 200,000 model "
         "versions.",
         "from mlflow import MlflowClient\nMlflowClient().search_runs(['1'], max_results=100_000)",
         "from mlflow import MlflowClient\nMlflowClient().search_runs(['1'], max_results=50_000)",
         kind="lint"),
    Rule("MF606", "max-results-empty", W, "a max_results that makes the search return nothing",
         "Zero or a negative max_results is accepted but returns no results.",
         "import mlflow\nmlflow.search_runs(max_results=0)",
         "import mlflow\nmlflow.search_runs(max_results=10)", kind="lint"),
    # ---- MF9xx: tooling (`mlfilter lint`) -----------------------------------------------------
    Rule("MF901", "malformed-noqa", W, "a `# noqa` comment mlfilter cannot read",
         "After `# noqa:` come codes or prefixes such as MF201 or MF2, separated by commas or "
         "spaces; a misspelt code suppresses nothing.",
         'import mlflow\nmlflow.search_runs(filter_string="params.bs = 32")  # noqa: MF2O1',
         'import mlflow\nmlflow.search_runs(filter_string="params.bs = 32")  # noqa: MF201',
         kind="lint"),
    Rule("MF902", "unused-noqa", W, "a `# noqa` for mlfilter codes that suppresses nothing",
         "What it silenced is gone (or was never on this line); now it only hides future "
         "problems.",
         "import mlflow\nmlflow.search_runs(filter_string=\"params.bs = '32'\")  # noqa: MF201",
         "import mlflow\nmlflow.search_runs(filter_string=\"params.bs = '32'\")", kind="lint"),
    Rule("MF910", "unreadable-file", W, "a path that cannot be read (missing, or no permission)",
         "The file is not linted; the other files are.",
         "# a path that does not exist, or that mlfilter may not read", "# a readable file",
         kind="lint"),
    Rule("MF911", "not-text", W, "a file that is not text in its declared encoding",
         "Binary files and files that do not decode (UTF-8 unless a coding line says otherwise) "
         "are not linted.", "# bytes such as 0xff that are not UTF-8", "# UTF-8 text",
         kind="lint"),
    Rule("MF912", "file-too-large", W, "a file larger than the size limit (10 MB by default)",
         "Such files are skipped to keep the hook fast; raise `max-file-size` to lint them.",
         "# a 20 MB file", "# a file under the limit", kind="lint"),
    Rule("MF913", "syntax-error", W, "Python that does not parse",
         "A file (or notebook cell) with a syntax error is not linted.",
         "import mlflow\nmlflow.search_runs(filter_string=\"params.bs = 32\"",
         "import mlflow\nmlflow.search_runs(filter_string=\"params.bs = '32'\")", kind="lint"),
    Rule("MF914", "invalid-notebook", W, "a notebook that is not valid nbformat JSON",
         "Invalid JSON, or no `cells` list: the notebook is not linted.",
         '{"cells": 1}', '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
         kind="lint"),
)

BY_CODE = {r.code: r for r in RULES}
RETIRED: dict[str, str] = {}  # retired code -> replacement; codes are never reused


def severity(code: str) -> Severity:
    return BY_CODE[code].severity


# Errors the database raises when the query runs; MLflow meets every other problem first.
EXECUTION_CODES = frozenset({"MF233", "MF235", "MF238", "MF239", "MF241", "MF242", "MF243",
                             "MF244", "MF246"})


# Comparators are checked by the store while it builds the query, after the parser has read
# every condition: a parse error (or crash) later in the filter comes first.
STORE_CODES = frozenset({"MF205", "MF206", "MF207", "MF208", "MF222"})


def default_stage(code: str) -> str:
    if code in EXECUTION_CODES:
        return "execution"
    return "store" if code in STORE_CODES else "parse"


def http_status(code: str) -> int:
    """The HTTP status MLflow answers when this error is the first it meets."""
    return BY_CODE[code].http or 400
