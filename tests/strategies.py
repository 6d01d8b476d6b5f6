"""Hypothesis strategies for MLflow search filter strings and order_by lists.

``filters(api)`` draws filter strings for one search API and ``order_bys(api)`` draws order_by
lists.  Both are weighted toward *near-valid* input: most draws are built from the API's real
entity prefixes (all aliases), keys, comparators and value shapes, then a minority of them get
one or two targeted mutations (wrong prefix/key case, SQL-keyword keys, bad quoting, unknown
comparators, odd numbers, OR / parentheses / NOT / ';' / comments, odd whitespace ...).
A small share is free-form token soup.

API names: runs, experiments, registered_models, model_versions, logged_models, traces.
This module deliberately imports nothing from ``mlfilter``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

APIS = (
    "runs",
    "experiments",
    "registered_models",
    "model_versions",
    "logged_models",
    "traces",
)

# ----------------------------------------------------------------------------- comparators
NUM_OPS = ("=", "!=", "<", "<=", ">", ">=")
EQ_OPS = ("=", "!=")
LIKE_OPS = ("LIKE", "ILIKE")
LIST_OPS = ("IN", "NOT IN")
NULL_OPS = ("IS NULL", "IS NOT NULL")
ALL_OPS = NUM_OPS + LIKE_OPS + LIST_OPS + NULL_OPS + ("RLIKE",)
BAD_OPS = ("==", "<>", "!", "=<", "=>", "NOT LIKE", "NOT ILIKE", "REGEXP", "BETWEEN", "IS", "~")

# ----------------------------------------------------------------------------- values
# numbers that MLflow reads as numbers, and near-misses that it does not
GOOD_NUMBERS = (
    "0", "1", "32", "-1", "5", "0.5", ".5", "5.", "1e-3", "1E5", "-2.5", "1700000000000",
    "0.01", "100", "1e400", "-0",
)
BAD_NUMBERS = (
    "+1", "0x10", "1_000", "nan", "inf", "NaN", "-inf", "NULL", "null", "TRUE", "1e", "1.2.3",
    "99999999999999999999999", "- 1", "1,5", "'1'", '"0.5"', "`1`", "1f",
)
GOOD_INTS = ("0", "1", "2", "3", "-1", "1700000000000", "42")
STRING_NOISE = (
    "''", '""', "'it''s'", "'it\\'s'", '"it\'s"', "'50%'", "'50\\% off'", "'%'", "'_'",
    "'ключ'", "' spaced '", "'a' 'b'", "`x`", "FINISHED", "model-a", "x", "'x", "x'",
    "'\"'", "'a\"b'", "'NULL'", "NULL", "'(a)'",
)
LIST_NOISE = (
    "()", "( )", "(1, 2)", "('a', 2)", "('a',,)", "(,)", "('a' 'b')", "['a']", "'a', 'b'",
    "(a, b)", "(('a',),)", "('a', None)", "(\"a\")", "('a',)", "('a')", "(NULL)", "('a', \"b\",)",
    "('a'; 'b')",
)


@dataclass(frozen=True)
class Kind:
    """One kind of filterable thing: entity prefixes, keys, and what it accepts."""

    name: str
    prefixes: tuple[str, ...]  # valid prefix spellings ('' = no prefix)
    keys: tuple[str, ...]  # raw keys (rendered with quoting when needed)
    values: tuple[str, ...]  # rendered values that fit (strings quoted, numbers bare)
    ops: tuple[str, ...]  # comparators valid for these keys (excluding list ops)
    list_ok: bool = False  # IN / NOT IN with a list of quoted strings
    bad_prefixes: tuple[str, ...] = ()
    weight: int = 1


def _q(*vals: str) -> tuple[str, ...]:
    return tuple(f"'{v}'" for v in vals)


STR_KV = EQ_OPS + LIKE_OPS

SPEC: dict[str, list[Kind]] = {
    "runs": [
        Kind("metric", ("metric", "metrics"), ("loss", "acc", "big", "neg", "score", "my loss", "missing"),
             GOOD_NUMBERS, NUM_OPS, bad_prefixes=("Metrics", "METRICS", "m", "metricz"), weight=3),
        Kind("param", ("param", "params", "parameter", "parameters"),
             ("lr", "batch_size", "model", "quote", "status", "timestamp", "version", "name", "key", "missing"),
             _q("0.01", "0.1", "32", "cnn", "0.0%", "%", "") + ('"it\'s"', '"0.01"'), STR_KV + NULL_OPS,
             bad_prefixes=("Params", "parm", "p"), weight=3),
        Kind("tag", ("tag", "tags"),
             ("team", "note", "mlflow.runName", "mlflow.user", "my key", "a-b", "ключ", "select", "order", "env"),
             _q("ml", "data", "50% off", "50%", "alpha-run", "prod", "M%", "") + ('"ml"',), STR_KV + NULL_OPS,
             bad_prefixes=("Tags", "TAG", "tagz"), weight=3),
        Kind("attr_str", ("", "", "attr", "attribute", "attributes", "run"),
             ("run_id", "run_name", "status", "user_id", "artifact_uri", "run name", "Run name", "Run Name"),
             _q("FINISHED", "RUNNING", "FAILED", "alpha-run", "user1", "%run%", "a%", "finished") + ('"Beta"',),
             STR_KV, bad_prefixes=("Attributes", "attrs", "runs"), weight=3),
        Kind("attr_list", ("", "attr", "attributes", "run"), ("run_id",),
             _q("abc", "0123456789abcdef"), STR_KV, list_ok=True),
        Kind("attr_num", ("", "", "attr", "attribute", "attributes", "run"),
             ("start_time", "end_time", "created", "Created"),
             GOOD_NUMBERS, NUM_OPS, bad_prefixes=("Run",), weight=2),
        Kind("dataset", ("dataset", "datasets"), ("name", "digest", "context"),
             _q("ds1", "d1", "training", "ds%", "eval"), STR_KV, list_ok=True, bad_prefixes=("Dataset", "data")),
    ],
    "experiments": [
        Kind("attr_str", ("", "", "attribute"), ("name",),
             _q("exp-A", "exp-B", "exp-%", "EXP-%", "Default", "") + ('"exp-A"',), ("=", "!=", "LIKE", "ILIKE"),
             bad_prefixes=("attributes", "attr", "Attribute", "run"), weight=3),
        Kind("attr_id", ("", "attribute"), ("experiment_id",), _q("0", "1", "2", "3"), EQ_OPS, list_ok=True,
             bad_prefixes=("attributes",), weight=2),
        Kind("attr_num", ("", "", "attribute"), ("creation_time", "last_update_time"),
             GOOD_INTS, NUM_OPS, bad_prefixes=("attributes",), weight=2),
        Kind("tag", ("tag", "tags"), ("team", "Env", "mlflow.note.content", "missing", "my key", "select"),
             _q("ml", "Prod", "old", "m%", "") + ('"ml"',), STR_KV + NULL_OPS,
             bad_prefixes=("Tags", "params", "metrics"), weight=3),
    ],
    "registered_models": [
        Kind("attr_str", ("", "", "attribute"), ("name",),
             _q("model-a", "Model-B", "model%", "MODEL-A", "") + ('"model-a"',), STR_KV, list_ok=True,
             bad_prefixes=("attributes", "attr", "model"), weight=3),
        Kind("tag", ("tag", "tags"), ("k", "team", "mlflow.prompt.is_prompt", "missing", "my key"),
             _q("v", "ml", "false", "true", "v%", "") + ('"v"',), STR_KV,
             bad_prefixes=("Tags", "tagz"), weight=3),
    ],
    "model_versions": [
        Kind("attr_str", ("", "", "attribute"), ("name", "run_id", "source_path"),
             _q("model-a", "Model-B", "s3://bucket/m2", "s3://%", "%", "/local/path", "") + ('"model-a"',),
             STR_KV, bad_prefixes=("attributes", "attr", "version"), weight=3),
        Kind("attr_list", ("", "attribute"), ("name", "run_id"), _q("model-a", "x"), STR_KV, list_ok=True),
        Kind("attr_num", ("", "", "attribute"), ("version_number",),
             GOOD_INTS[:5] + _q("1", "2"), NUM_OPS, bad_prefixes=("attributes",), weight=2),
        Kind("tag", ("tag", "tags"), ("t", "missing", "my key", "mlflow.prompt.is_prompt"),
             _q("x", "y", "x%", "") + ('"x"',), STR_KV, bad_prefixes=("Tags",), weight=2),
    ],
    "logged_models": [
        Kind("attr_str", ("", "", "", "attributes"),
             ("name", "model_id", "model_type", "source_run_id", "lifecycle_stage", "artifact_location",
              "status_message", "experiment_id"),
             _q("lm-one", "lm-two", "agent", "active", "lm-%", "1", "") + ("lm-one", "agent", "1"),
             STR_KV, list_ok=True, bad_prefixes=("attribute", "attr", "Attributes"), weight=4),
        Kind("attr_status", ("",), ("status",), _q("READY", "PENDING", "FAILED", "UNSPECIFIED"), EQ_OPS,
             list_ok=True),
        Kind("attr_num", ("", ""), ("creation_time", "creation_timestamp", "creation_timestamp_ms",
                                    "last_updated_timestamp", "last_updated_timestamp_ms"),
             GOOD_NUMBERS + ("nan", "inf", "1_0"), NUM_OPS, bad_prefixes=("attributes",), weight=2),
        Kind("metric", ("metrics",), ("score", "acc", "my score"), GOOD_NUMBERS + ("nan", "inf", "-inf"), NUM_OPS,
             bad_prefixes=("metric", "Metrics", "METRICS"), weight=3),
        Kind("param", ("params",), ("p", "missing"), _q("1", "2", "%") + ("1", "x"), STR_KV, list_ok=True,
             bad_prefixes=("param", "parameters", "Params"), weight=2),
        Kind("tag", ("tags",), ("k", "stage", "mlflow.user"), _q("v", "prod", "v%") + ("v",), STR_KV,
             list_ok=True, bad_prefixes=("tag", "Tags"), weight=2),
    ],
    "traces": [
        Kind("attr_str", ("", "", "attribute", "attributes", "trace"), ("request_id", "client_request_id", "status"),
             _q("OK", "ERROR", "IN_PROGRESS", "ok", "tr-%", "^O", "") + ('"OK"',), STR_KV + ("RLIKE",),
             list_ok=True, bad_prefixes=("attr", "Trace", "run"), weight=3),
        Kind("attr_num", ("", "", "attribute", "attributes", "trace"),
             ("timestamp", "timestamp_ms", "execution_time", "execution_time_ms", "end_time", "end_time_ms"),
             GOOD_NUMBERS, NUM_OPS, bad_prefixes=("attr", "Trace"), weight=3),
        Kind("attr_rewritten", ("", "", "trace", "attributes"), ("name", "run_id"),
             _q("root-span", "second", "%span%", "x", "^r") + ('"second"',), STR_KV + ("RLIKE",) + NULL_OPS,
             weight=2),
        Kind("attr_text", ("trace", "attributes", ""), ("text",), _q("%hello%", "%bye%", "%"), LIKE_OPS),
        Kind("attr_prompt", ("", "trace"), ("prompt",), ('"p/1"', "'p/1'", "'p'"), ("=",)),
        Kind("tag", ("tag", "tags"), ("env", "mlflow.traceName", "missing", "my key", "select"),
             _q("prod", "dev", "pr%", "^p", "") + ('"prod"',), STR_KV + ("RLIKE",) + NULL_OPS,
             bad_prefixes=("Tags", "TAGS"), weight=3),
        Kind("metadata", ("metadata", "request_metadata"), ("mlflow.sourceRun", "mlflow.trace.user", "foo"),
             _q("x", "%", "abc%"), STR_KV + ("RLIKE",) + NULL_OPS, bad_prefixes=("meta", "Metadata"), weight=2),
        Kind("span", ("span",), ("name", "type", "status", "attributes.model", "attributes.mlflow.spanType"),
             _q("child", "LLM", "CHAIN", "OK", "%gpt%", "root%") + ('"child"',), STR_KV + ("RLIKE",),
             list_ok=True, bad_prefixes=("spans", "Span"), weight=3),
        Kind("span_content", ("span",), ("content",), _q("%hello%", "%hi%"), LIKE_OPS),
        Kind("assess_str", ("feedback", "expectation"), ("quality", "verdict", "expected"),
             _q("good", "hi", "g%"), STR_KV + ("RLIKE",) + NULL_OPS, bad_prefixes=("feedbacks", "assessment"),
             weight=2),
        Kind("assess_num", ("feedback", "expectation"), ("quality",), GOOD_NUMBERS, ("<", "<=", ">", ">=")),
        Kind("issue", ("issue",), ("id",), _q("iss-1", "abc"), ("=",), bad_prefixes=("issues",)),
    ],
}

# attribute-key near-misses (wrong case, typos, SQL keywords) per API
NEAR_MISS_KEYS: dict[str, tuple[str, ...]] = {
    "runs": ("Status", "STATUS", "runid", "run_Name", "experiment_id", "lifecycle_stage", "timestamp",
             "version", "source", "text", "from", "select", "order", "name", "start-time", "startTime",
             "created_time", "metrics"),
    "experiments": ("Name", "NAME", "experimentid", "experiment_ID", "lifecycle_stage", "artifact_location",
                    "creation_timestamp", "last_updated_time", "timestamp", "from", "select", "order", "id"),
    "registered_models": ("Name", "creation_timestamp", "last_updated_timestamp", "description", "run_id",
                          "version", "source", "timestamp", "from", "select", "order", "names"),
    "model_versions": ("version", "source", "Version_number", "current_stage", "creation_timestamp",
                       "last_updated_timestamp", "status", "timestamp", "from", "select", "order", "sourcepath"),
    "logged_models": ("foo", "last_updated_time", "Name", "NAME", "model-id", "tags", "timestamp", "from",
                      "select", "order", "version", "source"),
    "traces": ("TIMESTAMP", "Timestamp", "trace_id", "experiment_id", "requestid", "Status", "execution",
               "from", "select", "order", "source", "version", "duration"),
}

WS = (" ",) * 10 + ("", "  ", "\t", "\n", " \t ")


def _recase(draw, word: str) -> str:
    mode = draw(st.integers(0, 9))
    if mode <= 5:
        return word
    if mode == 6:
        return word.lower()
    if mode == 7:
        return word.title()
    if mode == 8:
        return word.upper()
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flips))


def _render_op(draw, op: str) -> str:
    if op.isalpha() or " " in op:
        op = _recase(draw, op)
        if " " in op and draw(st.integers(0, 9)) == 0:  # IS  NOT NULL, NOT  IN ...
            op = op.replace(" ", draw(st.sampled_from(["  ", "\t", " \n "])), 1)
    return op


def _needs_quote(key: str) -> bool:
    return not key.replace("_", "a").replace(".", "a").isalnum() or key.lower() in {
        "select", "order", "from", "version", "source", "text",
    }


def _render_key(draw, prefix: str, key: str, mutate: bool) -> str:
    """Render prefix + key; unless mutate, use a quoting that keeps it valid."""
    quotes = ("`", "`", '"', "'")
    style = draw(st.integers(0, 9))
    if _needs_quote(key) and not mutate:
        q = draw(st.sampled_from(quotes[:3]))
        k = f"{q}{key}{q}"
    elif style <= 6:
        k = key
    elif style <= 8 or not mutate:
        q = draw(st.sampled_from(quotes))
        k = f"{q}{key}{q}"
    else:
        k = key
    if not prefix:
        return k
    pstyle = draw(st.integers(0, 19))
    if pstyle == 0:
        return f"`{prefix}`.{k}"
    if mutate and pstyle == 1:  # quoting the whole dotted name
        q = draw(st.sampled_from(quotes))
        return f"{q}{prefix}.{key}{q}"
    return f"{prefix}.{k}"


def _list_value(draw, kind: Kind) -> str:
    strs = [v for v in kind.values if v.startswith(("'", '"'))] or ["'a'"]
    items = draw(st.lists(st.sampled_from(strs), min_size=1, max_size=3))
    if draw(st.integers(0, 4)) == 0:  # mixed quotes
        items = [f'"{i[1:-1]}"' if i.startswith("'") and "'" not in i[1:-1] and '"' not in i else i
                 for i in items]
    sep = draw(st.sampled_from([", ", ",", " , ", ",\n"]))
    trailing = "," if draw(st.integers(0, 5)) == 0 else ""
    return "(" + sep.join(items) + trailing + ")"


def _any_value(draw) -> str:
    return draw(st.sampled_from(GOOD_NUMBERS + BAD_NUMBERS + STRING_NOISE + LIST_NOISE))


@st.composite
def clause(draw, api: str, near_valid_bias: int = 70) -> str:
    """One clause; ``near_valid_bias`` percent of them are built without mutation."""
    kinds = SPEC[api]
    kind = draw(st.sampled_from([k for k in kinds for _ in range(k.weight)]))
    mutate = draw(st.integers(0, 99)) >= near_valid_bias
    what = set()
    if mutate:
        what = set(draw(st.lists(
            st.sampled_from(["prefix", "key", "op", "value", "value", "quote", "space"]),
            min_size=1, max_size=2)))

    # prefix
    prefix = draw(st.sampled_from(kind.prefixes))
    if "prefix" in what:
        opts = kind.bad_prefixes + ("", "tags", "metrics", "params", "attributes", "attribute", "run", "trace")
        prefix = draw(st.sampled_from(opts))
    # key
    key = draw(st.sampled_from(kind.keys))
    if "key" in what:
        key = draw(st.sampled_from(NEAR_MISS_KEYS[api] + ("", " ", "a b", "a-b", "x.y", "ключ", "1abc",
                                                         "0x1a", "0xffloss", "1e5", "2E-3x", "0xg")))
    key_text = _render_key(draw, prefix, key, mutate="quote" in what)

    # comparator + value
    ops = list(kind.ops) + (list(LIST_OPS) if kind.list_ok else [])
    op = draw(st.sampled_from(ops))
    if "op" in what:
        op = draw(st.sampled_from(ALL_OPS + BAD_OPS))
    if op in LIST_OPS and "value" not in what:
        value = _list_value(draw, kind)
    elif op in NULL_OPS or op.upper().startswith("IS"):
        value = ""
    else:
        value = draw(st.sampled_from(kind.values))
    if "value" in what:
        value = _any_value(draw)
    op_text = _render_op(draw, op)

    if "space" in what:
        a = draw(st.sampled_from(WS))
        b = draw(st.sampled_from(WS))
    else:
        a = draw(st.sampled_from(WS[:12] + ("",) * 2))
        b = draw(st.sampled_from(WS[:12] + ("",) * 2))
    if op_text.isalpha() or " " in op_text or "\t" in op_text or "\n" in op_text:
        # keywords need whitespace on both sides (unless a mutation asked otherwise)
        a = a or " "
        b = b or " "
    if value == "":
        return f"{key_text}{a}{op_text}"
    return f"{key_text}{a}{op_text}{b}{value}"


def _and(draw) -> str:
    word = _recase(draw, "AND")
    left = draw(st.sampled_from((" ",) * 8 + ("  ", "\n", "\t")))
    right = draw(st.sampled_from((" ",) * 8 + ("  ", "\n", "\t")))
    return f"{left}{word}{right}"


GARBAGE_TOKENS = (
    "AND", "OR", "NOT", "(", ")", ";", "--", "/*", "*/", "=", "<", "LIKE", "IN", "IS", "NULL", "'x'",
    '"y"', "`z`", "1", "-1", "1e5", "metrics.loss", "params.lr", "tags.t", "name", "status",
    "timestamp", ",", ".", "*", "%", "select", "from", "where", "ключ", "\t", "\n",
)


@st.composite
def filters(draw, api: str) -> str:
    """A filter string for ``api``: mostly near-valid, with structural and lexical mutations."""
    if api not in SPEC:
        raise ValueError(f"unknown api {api!r}")
    mode = draw(st.integers(0, 99))
    if mode < 3:  # empty-ish
        return draw(st.sampled_from(["", " ", "\n", "AND", " AND "]))
    if mode < 7:  # free-form soup
        toks = draw(st.lists(st.sampled_from(GARBAGE_TOKENS), min_size=1, max_size=7))
        return " ".join(toks)

    n = draw(st.integers(1, 3))
    bias = 80 if mode < 55 else 55
    clauses = [draw(clause(api, bias)) for _ in range(n)]
    text = clauses[0]
    for c in clauses[1:]:
        j = draw(st.integers(0, 99))
        if j < 88:
            sep = _and(draw)
        elif j < 91:
            sep = " " + _recase(draw, "OR") + " "
        elif j < 94:
            sep = _and(draw) + _recase(draw, "AND") + " "  # AND AND
        elif j < 96:
            sep = " "  # missing conjunction
        elif j < 98:
            sep = "; "
        else:
            sep = ", "
        text = f"{text}{sep}{c}"

    # structural decorations
    s = draw(st.integers(0, 99))
    if s < 4:
        text = f"{_recase(draw, 'AND')} {text}"
    elif s < 8:
        text = f"{text} {_recase(draw, 'AND')}"
    elif s < 11:
        text = f"({text})"
    elif s < 13:
        text = f"{_recase(draw, 'NOT')} {text}"
    elif s < 15:
        text = f"{text};"
    elif s < 17:
        text = f"{text} -- comment"
    elif s < 18:
        text = f"{text} /* c */"
    elif s < 20:
        text = draw(st.sampled_from([" ", "\n", "\t", "  "])) + text + draw(st.sampled_from([" ", "\n", ""]))
    return text


# ----------------------------------------------------------------------------- order_by
ORDER_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # api: (valid keys, near-miss keys)
    "runs": (
        ("metrics.loss", "metric.acc", "metrics.`my loss`", "params.lr", "param.model", "parameters.lr",
         "tags.team", "tag.note", "tags.`mlflow.runName`", "start_time", "end_time", "run_id", "run_name",
         "status", "user_id", "artifact_uri", "created", "Created", "attributes.start_time", "attr.status",
         "run.end_time", "attribute.run_name", "`metrics.loss`", '"params.lr"'),
        ("experiment_id", "`Run name`", "dataset.name", "timestamp", "Metrics.loss", "metrics.my loss",
         "Status", "name", "metrics", "metrics.", "tags.from", "lifecycle_stage", "metrics.0x1a",
         "params.1e5", "metrics.0xffloss", "tags.a.0x1"),
    ),
    "experiments": (
        ("name", "experiment_id", "creation_time", "last_update_time", "attribute.name",
         "attribute.creation_time", "`name`", '"experiment_id"'),
        ("attributes.name", "tags.team", "Name", "last_updated_time", "creation_timestamp", "attr.name",
         "lifecycle_stage", "params.x"),
    ),
    "registered_models": (
        ("name", "timestamp", "last_updated_timestamp", "`name`", '"timestamp"'),
        ("creation_timestamp", "attribute.name", "tags.k", "Name", "last_updated_time", "version"),
    ),
    "model_versions": (
        ("name", "version_number", "creation_timestamp", "last_updated_timestamp", "attribute.name",
         "`version_number`"),
        ("version", "run_id", "timestamp", "tags.t", "source_path", "Version_number", "current_stage"),
    ),
    "traces": (
        ("experiment_id", "timestamp", "timestamp_ms", "execution_time", "execution_time_ms", "end_time",
         "end_time_ms", "status", "request_id", "name", "run_id", "tags.env", "tag.env",
         "metadata.mlflow.sourceRun", "request_metadata.foo", "attributes.timestamp_ms", "trace.status",
         "`timestamp_ms`"),
        ("client_request_id", "span.name", "TIMESTAMP", "Timestamp", "trace_id", "feedback.quality",
         "attr.status", "tags", "prompt", "text"),
    ),
}
DIRECTIONS = ("ASC", "DESC", "asc", "desc", "Desc", "aSc")
BAD_DIRECTIONS = ("DESCENDING", "ascending", "UP", "DESC DESC", "DESC NULLS LAST", "NULLS FIRST", "ASC,")


@st.composite
def _order_entry(draw, api: str) -> str:
    good, bad = ORDER_KEYS[api]
    near = draw(st.integers(0, 99)) < 25
    key = draw(st.sampled_from(bad if near and draw(st.booleans()) else good))
    d = draw(st.integers(0, 99))
    if d < 40:
        entry = key
    elif d < 85 or not near:
        entry = f"{key}{draw(st.sampled_from([' ', ' ', '  ', chr(9)]))}{draw(st.sampled_from(DIRECTIONS))}"
    elif d < 93:
        entry = f"{key} {draw(st.sampled_from(BAD_DIRECTIONS))}"
    else:
        other = draw(st.sampled_from(good))
        entry = f"{key}, {other}"
    if near and draw(st.integers(0, 9)) == 0:
        entry = draw(st.sampled_from([" ", "\n"])) + entry + draw(st.sampled_from([" ", ""]))
    return entry


LM_FIELDS = (
    "name", "creation_time", "creation_timestamp", "creation_timestamp_ms", "last_updated_timestamp",
    "last_updated_timestamp_ms", "status", "model_id", "model_type", "experiment_id", "source_run_id",
    "metrics.score", "metrics.acc", "metrics.missing",
)
LM_BAD_FIELDS = (
    "last_updated_time", "params.p", "tags.k", "name DESC", "foo", "Name", "metric.score", "", "attributes.name",
)


@st.composite
def _lm_order_entry(draw):
    r = draw(st.integers(0, 99))
    if r < 6:  # a plain string instead of a dict (the store crashes on it)
        return draw(st.sampled_from(["name", "name DESC", "metrics.score"]))
    bad = r >= 78
    entry: dict = {"field_name": draw(st.sampled_from(LM_BAD_FIELDS if bad else LM_FIELDS))}
    a = draw(st.integers(0, 9))
    if a < 7:
        entry["ascending"] = draw(st.booleans())
    elif a == 7:
        entry["ascending"] = draw(st.sampled_from(["yes", 0, 1, None]))
    if draw(st.integers(0, 4)) == 0:
        entry["dataset_name"] = draw(st.sampled_from(["ds1", "missing", None]))
        if draw(st.booleans()):
            entry["dataset_digest"] = draw(st.sampled_from(["d1", "zz", None]))
    if bad and draw(st.integers(0, 9)) == 0:
        entry.pop("field_name")
    return entry


@st.composite
def order_bys(draw, api: str) -> list:
    """An order_by list for ``api`` (strings; dicts for logged_models, sometimes strings)."""
    if api not in SPEC:
        raise ValueError(f"unknown api {api!r}")
    n = draw(st.sampled_from((0,) + (1,) * 11 + (2,) * 6 + (3,) * 2))
    if api == "logged_models":
        items = [draw(_lm_order_entry()) for _ in range(n)]
    else:
        items = [draw(_order_entry(api)) for _ in range(n)]
    if items and draw(st.integers(0, 9)) == 0:  # duplicate an entry (maybe with another direction)
        dup = items[0]
        if isinstance(dup, str) and draw(st.booleans()):
            dup = dup.split()[0] + " " + draw(st.sampled_from(DIRECTIONS)) if dup.split() else dup
        items.append(dup)
    return items
