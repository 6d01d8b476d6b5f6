"""The checker's shortcuts change no report.

mlfilter/checker.py takes four shortcuts for speed: the common filter is parsed in one scan
(mlfilter/fastparse.py) instead of lexer -> LALR -> transform; comparisons no rule applies to skip
the rules (mlfilter/rules/plain.py); a filter made only of those gets its report from one scan
of its text, with no AST (plain_query); and a release change that alters only entities the
filter does not use is not re-checked for version hints. Here the same filters are checked with and
without them, for every API, release and database: the reports (verdict, every diagnostic,
span, hint and fix) and the ASTs must be equal. The golden cases below also pin which filters
take the fast parse, so that the shortcuts cannot silently stop being taken.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mlfilter
import strategies as near_valid
from fuzz_strategies import fuzz_filters
from golden_cases import APIS
from hypothesis_settings import examples_settings
from mlfilter import checker, lalr
from mlfilter.fastparse import parse_simple
from mlfilter.lexer import tokenize
from mlfilter.transform import Transformer

TARGETS = [(line, db) for line in ("2.22", "3.17", "3.18")
           for db in ("sqlite", "postgresql", "mysql", "mssql")]
SETTINGS = examples_settings("MLFILTER_EXAMPLES", 150)
SHORTCUTS = ("FAST_PARSE", "SKIP_PLAIN", "SKIP_SAME", "DIRECT")


def full_parse(text: str, api: str = "runs"):
    """The AST from the lexer, the LALR automaton and the transformer (None: no parse)."""
    tokens = tokenize(text)
    try:
        tree = lalr.parse([t for t in tokens if t.type != "WS"], "filter", len(text))
    except lalr.ParseFailure:
        return None
    return Transformer(text).filter(tree, api)


def without_shortcuts(function, *args, **kwargs):
    saved = {name: getattr(checker, name) for name in SHORTCUTS}
    try:
        for name in SHORTCUTS:
            setattr(checker, name, False)
        return function(*args, **kwargs)
    finally:
        for name, value in saved.items():
            setattr(checker, name, value)


@st.composite
def plain_filters(draw, api: str) -> str:
    """Clauses from the API's table, mostly well formed, joined with AND and sometimes OR: the
    shape the shortcuts are for."""
    clauses = draw(st.lists(near_valid.clause(api, near_valid_bias=85), min_size=1, max_size=8))
    out = clauses[0]
    for c in clauses[1:]:
        word = draw(st.sampled_from([" AND ", " and ", "  AND\n", " OR ", " AND "]))
        out += word + c
    return out


def any_filter(api: str):
    return st.one_of(plain_filters(api), near_valid.filters(api), fuzz_filters(api))


def assert_same_report(text, api, line, db):
    fast = mlfilter.check(text, api, mlflow_version=line, backend=db)
    slow = without_shortcuts(mlfilter.check, text, api, mlflow_version=line, backend=db)
    assert fast == slow, (text, api, line, db)
    assert [d.hint for d in fast.diagnostics] == [d.hint for d in slow.diagnostics]


@pytest.mark.parametrize("api", APIS)
@SETTINGS
@given(data=st.data())
def test_the_fast_parse_builds_the_full_parsers_ast(api, data):
    text = data.draw(any_filter(api))
    if not isinstance(text, str):  # (bytes and other values never reach a parser)
        return
    fast = parse_simple(text, api, checker.MAX_NESTING)
    if fast is not None:
        assert fast == full_parse(text, api), text


@pytest.mark.parametrize("api", APIS)
@SETTINGS
@given(data=st.data())
def test_the_shortcuts_change_no_report(api, data):
    text = data.draw(any_filter(api))
    line, db = data.draw(st.sampled_from(TARGETS))
    assert_same_report(text, api, line, db)


# ---- golden cases: what takes the fast parse, and reports that must not move ---------------------

FAST = [
    "metrics.acc > 0.9",
    "metrics.acc > 0.9 AND params.opt = 'adam' and tags.`data version` != \"v2\"",
    "params.lr IS NULL AND tags.x is not null",
    "attributes.run_id NOT IN ('a', \"b\") AND run_id IN ('c')",
    "metrics.loss < 0.5 OR metrics.acc > 0.9",
    "params.learning_rate 0.001",
    "attributes.status = FINISHED",
    "  metrics.a>=-1.5e-3  ",
]
SLOW = [
    "",
    "   ",
    "metrics.a > 1 AND",
    "metrics.a > 1 metrics.b > 2",  # no AND
    "(metrics.a > 1)",
    "NOT metrics.a > 1",
    "tags.from = 'x'",  # a keyword after the dot
    "desc = 'x'",  # a token of its own
    "params.x = 'it''s'",
    "params.x = 'caf\u00e9'",
    "metrics.a == 1",
    "metrics.a > 0x1F",
    "params.`x` IS NOT  NULL",  # (MF221)
    "tags.t IN ('a',)",
    " AND ".join(["run_id NOT IN ('a')"] * 101),  # past the nesting limit's count of NOTs
]


@pytest.mark.parametrize("text", FAST)
def test_plain_filters_take_the_fast_parse(text):
    fast = parse_simple(text, "runs", checker.MAX_NESTING)
    assert fast is not None
    assert fast == full_parse(text)


@pytest.mark.parametrize("text", SLOW)
def test_other_filters_take_the_full_parse(text):
    assert parse_simple(text, "runs", checker.MAX_NESTING) is None


REPORTS = FAST + SLOW + [
    "metrics.acc = 0.9",  # MF304, not plain
    "params.opt LIKE 'adam'",  # MF305
    "params.batch_size = 32",
    "metrics.accuracy > '0.8'",
    "attributes.foo = 'x'",
    "attributes.status = 'DONE'",
    "attributes.start_time > 1700000000",  # seconds (MF303)
    "attributes.start_time > 1700000000000 AND attributes.status = 'RUNNING'",  # plain
    "attributes.status LIKE 'RUN%'",
    "attributes.end_time < 99999999999999999999",  # past 64 bits (MF233)
    "attributes.run_id IN ('a', \"b\") AND run_id NOT IN ('c')",  # plain
    "run_id IN ('a', 1)",  # MF213
    "run_id IN ('A')",  # MF319 on 2.22
    "run_id = ('a')",
    " AND ".join(["run_id NOT IN ('a')"] * 60 + ["run_id NOT IN ('a', 1)"] * 41),  # MF002
    " AND ".join(f"metrics.m{i} > 1" for i in range(70)),  # past SQLite's join limit
    " AND ".join(f"attributes.user_id = 'u{i}'" for i in range(1000)),  # past the WHERE limit
    "datasets.name = 'a' AND metrics.m > 1",  # MF239 on 2.22
]


@pytest.mark.parametrize("text", REPORTS)
@pytest.mark.parametrize("line,db", TARGETS)
def test_reports_are_the_same_either_way(text, line, db):
    assert_same_report(text, "runs", line, db)


def test_a_plain_comparison_skips_the_rules_and_others_do_not():
    from mlfilter.apis import get_api
    from mlfilter.rules.plain import plain_facts

    spec = get_api("runs")
    plain = full_parse("metrics.acc > 0.9 AND params.opt = 'adam'").root.items
    assert [plain_facts(c, spec) for c in plain] == [(1, "metric"), (1, "parameter")]
    for text in ("metrics.acc = 0.9", "params.opt LIKE 'adam'", "attributes.status = 'X'",
                 "params.x = 1", "tags.t = 'a''b'"):
        assert plain_facts(full_parse(text).root, spec) is None, text
