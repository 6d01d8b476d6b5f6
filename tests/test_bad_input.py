"""Hostile input gets a diagnostic or a clear message: never a traceback, never a hang.

Empty, whitespace-only, 1 MB long, 10,000 nested parentheses, NUL bytes, lone surrogates,
non-UTF-8 bytes and non-string arguments, through the library and through the `mlfilter` command
(a real subprocess, with a timeout). No timing is asserted: bench/bench_linear.py measures that
time grows linearly with the input. The generated campaign is tests/test_fuzz.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlfilter
from golden_cases import APIS

MB = 1 << 20
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

HOSTILE = {
    "empty": "",
    "space": " ",
    "whitespace": " \t\r\n\x0b\x0c ",
    "one_mb_valid_chain": " AND ".join(["metrics.a > 1"] * (MB // 18)),
    "one_mb_one_string": "params.x = '" + "a" * MB + "'",
    "one_mb_garbage": "#$%^&*,. ;" * (MB // 10),
    "one_mb_unclosed_quote": "params.x = '" + "a" * MB,
    "one_mb_quotes": "'" * MB,
    "one_mb_block_comment_openers": "/*" * (MB // 2),
    "one_mb_key": "params." + "a" * MB + " = 'x'",
    "parentheses_10000": "(" * 10_000 + "metrics.a > 1" + ")" * 10_000,
    "unclosed_parentheses_10000": "(" * 10_000,
    "closing_parentheses_10000": ")" * 10_000,
    "nots_10000": "NOT " * 10_000 + "metrics.a > 1",
    "nul_alone": "\x00",
    "nul_in_value": "params.x = 'a\x00b'",
    "nul_in_key": "params.\x00 = 'a'",
    "nuls_1000": "\x00" * 1000,
    "lone_high_surrogate": "params.x = '\ud800'",
    "lone_low_surrogate": "\udfff",
    "surrogate_in_key": "tags.\udc80 = 'x'",
    "control_characters": "".join(chr(i) for i in range(32)) + "\x7f",
    "bidi_and_zero_width": "params.x\u200b = '\u202ea'",
    "byte_order_mark": "\ufeffmetrics.a > 1",
    "only_and": "AND",
    "only_quotes": "'\"`",
}
NON_STRINGS = {
    "int": 5,
    "float": 1.5,
    "true": True,
    "list": ["metrics.a > 1"],
    "dict": {"metrics.a": 1},
    "tuple": ("metrics.a > 1",),
    "object": object(),
    "bytearray": bytearray(b"metrics.a > 1"),
    "memoryview": memoryview(b"metrics.a > 1"),
}
BAD_BYTES = {
    "invalid_utf8": b"params.x = '\xff'",
    "truncated_utf8": b"tags.k = '\xd0'",
    "latin1": "params.x = 'caf\xe9'".encode("latin-1"),
    "utf16": "metrics.a > 1".encode("utf-16"),
    "nul_bytes": b"\x00\x00",
}


def _assert_sane(report, source: str | None = None):
    """Spans inside the text, JSON-able, renders; returns the report."""
    assert isinstance(report, mlfilter.Report)
    if source is not None:
        assert report.source == source
    for d in report.diagnostics:
        assert 0 <= d.span.start <= d.span.end <= len(report.source), d
        assert d.message
        if d.fix is not None:
            for e in d.fix.edits:
                assert 0 <= e.span.start <= e.span.end <= len(report.source), d
    json.dumps(report.to_dict())
    str(report)
    return report


# ---- the library ----------------------------------------------------------------------------------

# 1 MB inputs take a second or two each: through the two parser families only
LIBRARY_CASES = [pytest.param(text, api, id=f"{name}-{api}") for name, text in HOSTILE.items()
                 for api in (("runs", "logged_models") if name.startswith("one_mb") else APIS)]


@pytest.mark.parametrize("text, api", LIBRARY_CASES)
def test_library_never_raises_on_hostile_text(text, api):
    report = _assert_sane(mlfilter.check(text, api), text)
    if text.strip() and text != "AND":
        assert report.diagnostics or report.ok


@pytest.mark.parametrize("name, expected", [
    ("empty", []),
    ("space", ["MF005 0..1"]),
    ("one_mb_valid_chain", ["MF006 0..%d" % len(HOSTILE["one_mb_valid_chain"])]),
    ("one_mb_one_string", []),
    # over 10,000 sqlparse tokens: MLflow's parser gives up before anything else (MF006)
    ("parentheses_10000", ["MF006 0..20013"]),
    ("nots_10000", ["MF006 0..40013"]),
    # 10,000 tokens exactly: read, and nested too deeply
    ("unclosed_parentheses_10000", ["MF002 100..101"]),
    ("closing_parentheses_10000", ["MF108 0..1"]),
    ("byte_order_mark", ["MF110 0..1"]),
    ("lone_high_surrogate", ["MF003 12..13"]),
    ("nul_in_value", ["MF318 11..16"]),
])
def test_hostile_text_gets_the_right_diagnostic(name, expected):
    report = mlfilter.check(HOSTILE[name])
    assert [f"{d.code} {d.span.start}..{d.span.end}" for d in report.diagnostics] == expected


@pytest.mark.parametrize("value", list(NON_STRINGS.values()), ids=list(NON_STRINGS))
def test_non_string_argument_is_mf001(value):
    report = _assert_sane(mlfilter.check(value))
    assert [d.code for d in report.diagnostics] == ["MF001"]
    assert type(value).__name__ in report.diagnostics[0].message
    with pytest.raises(mlfilter.FilterError) as info:
        mlfilter.parse(value)
    assert isinstance(info.value, ValueError)
    assert info.value.diagnostics[0].code == "MF001"


def test_none_is_no_filter():
    assert mlfilter.check(None).ok
    assert mlfilter.check(None).diagnostics == ()
    assert mlfilter.parse(None).to_mlflow() == []


@pytest.mark.parametrize("value", list(BAD_BYTES.values()), ids=list(BAD_BYTES))
def test_bytes_are_decoded_or_mf001(value):
    report = _assert_sane(mlfilter.check(value))
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        assert [d.code for d in report.diagnostics] == ["MF001"]
        assert "UTF-8" in report.diagnostics[0].message
    else:
        assert report.source == text


@pytest.mark.parametrize("text", [t for n, t in HOSTILE.items() if not n.startswith("one_mb")],
                         ids=[n for n in HOSTILE if not n.startswith("one_mb")])
def test_parse_raises_only_filter_error(text):
    try:
        mlfilter.parse(text)
    except mlfilter.FilterError as e:
        assert e.diagnostics and str(e).startswith(e.diagnostics[0].code)


@pytest.mark.parametrize("api", ["bogus", "", "RUNS ", 5])
def test_unknown_api_is_a_clear_value_error(api):
    if isinstance(api, str) and api.strip().lower() == "runs":
        assert mlfilter.check("metrics.a > 1", api).ok
        return
    with pytest.raises((ValueError, TypeError)) as info:
        mlfilter.check("metrics.a > 1", api)
    assert "runs" in str(info.value) or "api" in str(info.value).lower()


@pytest.mark.parametrize("order_by", [
    None, [], "metrics.a", {"field_name": "name"}, 5, 1.5, object(), [None], [5, None, b"x"],
    ["\x00"], ["\ud800"], [""], [" "], ["metrics.a " + "DESC " * 10_000], ["(" * 10_000],
    ["a" * MB], [{}] * 1000, [{"field_name": {"nested": [1, 2]}}], [[["deep"]]],
], ids=lambda v: type(v).__name__ + str(len(v) if hasattr(v, "__len__") else ""))
@pytest.mark.parametrize("api", APIS)
def test_order_by_never_raises(order_by, api):
    _assert_sane(mlfilter.check_order_by(order_by, api))


# ---- linear time: measured by bench/bench_linear.py (the tests assert no timings) -----------

# ---- hypothesis ---------------------------------------------------------------------------------------

SETTINGS = settings(max_examples=int(os.environ.get("MLFILTER_EXAMPLES", "300")), deadline=None,
                    database=None, suppress_health_check=list(HealthCheck),
                    derandomize=bool(os.environ.get("CI")))
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=80)
FILTERISH = st.lists(st.sampled_from([
    "metrics.a", "params.x", "tags.`k`", "status", "name", "=", "!=", ">", "LIKE", "IN", "IS",
    "NOT", "NULL", "AND", "OR", "(", ")", "'a'", '"b"', "`c", "'", "1", "-1e5", ",", ";", "--",
    "/*", "*/", "#", "\x00", "\ud800", " ", "\t", "\n", ".", "ключ",
]), max_size=20).map("".join)


@SETTINGS
@given(text=st.one_of(ANY_TEXT, FILTERISH), api=st.sampled_from(APIS))
def test_any_text_gives_a_sane_report(text, api):
    report = _assert_sane(mlfilter.check(text, api), text)
    if report.ok:
        try:
            mlfilter.parse(text, api).to_mlflow()
        except mlfilter.FilterError as e:  # pragma: no cover - the failure message is the point
            pytest.fail(f"check says ok, parse raises {e}")


@SETTINGS
@given(data=st.binary(max_size=80), api=st.sampled_from(APIS))
def test_any_bytes_give_a_sane_report(data, api):
    report = _assert_sane(mlfilter.check(data, api))
    try:
        assert report.source == data.decode("utf-8")
    except UnicodeDecodeError:
        assert [d.code for d in report.diagnostics] == ["MF001"]


@SETTINGS
@given(text=st.one_of(ANY_TEXT, FILTERISH), api=st.sampled_from(APIS))
def test_fixing_any_text_never_raises(text, api):
    fixed = mlfilter.fix_filter(text, api)
    assert isinstance(fixed, str)
    _assert_sane(mlfilter.check(fixed, api), fixed)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3),
    max_leaves=6,
)
ORDER_ENTRY = st.one_of(
    ANY_TEXT,
    FILTERISH,
    st.dictionaries(st.sampled_from(["field_name", "ascending", "dataset_name", "dataset_digest"])
                    | ANY_TEXT, JSONISH, max_size=4),
    JSONISH,
)


@SETTINGS
@given(order_by=st.one_of(st.lists(ORDER_ENTRY, max_size=5), ORDER_ENTRY),
       api=st.sampled_from(APIS))
def test_any_order_by_gives_a_sane_report(order_by, api):
    _assert_sane(mlfilter.check_order_by(order_by, api))


# ---- the command ------------------------------------------------------------------------------------

def _run(args, stdin: bytes | None = None, env=None):
    proc = subprocess.run([sys.executable, "-m", "mlfilter", *args], input=stdin,
                          capture_output=True, timeout=120, cwd=REPO,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert proc.returncode in (0, 1, 2), (proc.returncode, err)
    return proc


CLI_STDIN = {
    "empty": (b"", 0),
    "whitespace": (b" \t ", 1),
    "one_mb_chain": (" AND ".join(["metrics.a > 1"] * (MB // 18)).encode(), 1),
    "one_mb_string": b"params.x = '" + b"a" * MB + b"'",
    "parentheses_10000": (b"(" * 10_000 + b"metrics.a > 1" + b")" * 10_000, 1),
    "nul": (b"params.x = 'a\x00b'", 0),
    "non_utf8": (b"params.x = '\xff\xfe'", 1),
    "utf16": ("metrics.a > 1".encode("utf-16"), 1),
    "surrogate_utf8_bytes": (b"params.x = '\xed\xa0\x80'", 1),  # CESU-style encoded surrogate
}
CLI_STDIN["one_mb_string"] = (CLI_STDIN["one_mb_string"], 0)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("name", list(CLI_STDIN))
def test_cli_on_hostile_stdin(name, fmt):
    data, code = CLI_STDIN[name]
    proc = _run(["check", "-", "--format", fmt], stdin=data)
    assert proc.returncode == code, proc.stdout[-2000:]
    if fmt == "json":
        out = json.loads(proc.stdout)
        assert out["ok"] == (code == 0)


@pytest.mark.parametrize("arg", [
    b"", b" ", b"params.x = '\xff'", "params.x = 'ключ'".encode(), b"(" * 10_000,
    b"metrics.a > 1 " + b"AND metrics.a > 1 " * 5000,
])
def test_cli_on_hostile_arguments(arg):
    proc = subprocess.run([sys.executable.encode(), b"-m", b"mlfilter", b"check", b"--", arg],
                          capture_output=True, timeout=120, cwd=REPO,
                          env={**os.environ, "NO_COLOR": "1"})
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1)


@pytest.mark.parametrize("args", [
    ["check", "x", "--api", "bogus"], ["check"], ["rules", "MF999"], ["nonsense"], [],
    ["check", "x", "--format", "xml"], ["check", "x", "--color", "sometimes"],
])
def test_cli_usage_errors_are_clear(args):
    proc = _run(args)
    assert proc.returncode == 2
    assert proc.stderr.strip() or proc.stdout.strip()


def test_cli_order_by_hostile_entries():
    proc = _run(["check", "", "--order-by", "", "--order-by", "(" * 5000,
                 "--order-by", "metrics.a DESC NULLS LAST", "--format", "json"])
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["ok"] is False


# ---- the real store -----------------------------------------------------------------------------------

SURROGATE_CRASH = "MLflow fails with HTTP 500 encoding a lone surrogate in a value, but MF003 does " \
    "not say it crashes"
STORE_CASES = [
    pytest.param(text, api, id=f"{name}-{api}", marks=[])
    for name, text in HOSTILE.items() if not name.startswith("one_mb")  # sqlparse takes ~20 s per MB
    for api in APIS
]


@pytest.mark.mlflow
@pytest.mark.parametrize("text, api", STORE_CASES)
def test_hostile_text_verdict_is_mlflows(text, api):
    pytest.importorskip("mlflow")
    from golden_cases import verdict_problems
    from mlflow_oracle import get_oracle

    verdict = get_oracle().filter_verdict(api, text)
    report = mlfilter.check(text, api)
    assert verdict_problems(report, verdict.status) == [], f"MLflow {verdict.short()[:300]}\n{report}"
