"""The `mlfilter` command: `check` (exit 0 accepted / 1 findings that make MLflow reject /
2 usage), its JSON contract, `--api` names, stdin, `--order-by`, `rules`, `demo`, `version`, and
colour only on a terminal without NO_COLOR (or when asked for).

Most tests call `mlfilter.cli.main(argv)` in-process; a few run the real command."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest

from mlfilter.cli import main
from mlfilter.rules.registry import RULES

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
APIS = ("runs", "experiments", "registered_models", "model_versions", "logged_models", "traces")
DIAGNOSTIC_KEYS = {"code", "severity", "message", "start", "end", "line", "column", "hint", "fix"}


def run(argv, capsys, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def run_json(argv, capsys, **kw):
    code, out, err = run([*argv, "--format", "json"], capsys, **kw)
    return code, json.loads(out)


def cli(*args, stdin: bytes | None = None, env=None, **kw):
    """The real command in a subprocess."""
    proc = subprocess.run([sys.executable, "-m", "mlfilter", *args], input=stdin,
                          capture_output=True, timeout=120, cwd=REPO,
                          env={**os.environ, **(env or {})}, **kw)
    err = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    return proc


# ---- exit codes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, expected", [
    (["check", "params.batch_size = '32'"], 0),
    (["check", ""], 0),
    (["check", "attributes.status = 'COMPLETED'"], 0),  # a warning: MLflow accepts it
    (["check", "metrics.acc = 0.9"], 0),  # info
    (["check", "params.batch_size = 32"], 1),
    (["check", "params.learning_rate 0.001"], 1),
    (["check", " "], 1),
    (["check", "name like 'exp%'", "--api", "experiments"], 1),
    (["check", "name LIKE 'exp%'", "--api", "experiments"], 0),
    (["check", "metrics.a > 1", "--order-by", "metrics.a DESC"], 0),
    (["check", "metrics.a > 1", "--order-by", "metrics.a DOWN"], 1),
    (["check", "params.x = 1", "--order-by", "metrics.a"], 1),
    (["check", "x", "--api", "bogus"], 2),
    (["check"], 2),
    (["check", "x", "--format", "xml"], 2),
    (["check", "x", "--color", "sometimes"], 2),
    (["bogus-command"], 2),
    ([], 2),
    (["rules"], 0),
    (["rules", "MF201"], 0),
    (["rules", "mf201"], 0),
    (["rules", "MF999"], 2),
    (["version"], 0),
])
def test_exit_codes(argv, expected, capsys):
    code, _, _ = run(argv, capsys)
    assert code == expected


def test_text_output_for_the_issue_example(capsys):
    code, out, _ = run(["check", "--color", "never", "params.batch_size = 32"], capsys)
    assert code == 1
    assert out.startswith("error[MF201]: `params.batch_size` holds strings")
    assert "1 | params.batch_size = 32\n  |                     ^^\n" in out
    assert "= fix (safe): quote the value" in out
    assert out.rstrip().endswith("MLflow rejects this filter (runs): 1 error(s), 0 warning(s)")


def test_clean_filter_prints_only_the_summary(capsys):
    code, out, _ = run(["check", "metrics.a > 1"], capsys)
    assert code == 0
    assert out == "MLflow accepts this filter (runs): 0 error(s), 0 warning(s)\n"


# ---- JSON ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "params.batch_size = 32", "params.learning_rate 0.001", "metrics.acc > 0.8 OR params.x = 'a'",
    "metrics.accuracy > '0.8'", "attributes.status = 'COMPLETED'", "metrics.a > 1", "",
    "tags.ключ = 1\nAND metrics.a > 1 AND", "(metrics.a > 1) AND (metrics.b > 1)",
])
def test_json_shape(text, capsys):
    code, data = run_json(["check", text], capsys)
    assert set(data) == {"ok", "diagnostics"}
    assert isinstance(data["ok"], bool)
    assert code == (0 if data["ok"] else 1)
    for d in data["diagnostics"]:
        assert set(d) == DIAGNOSTIC_KEYS
        assert re.fullmatch(r"MF\d{3}", d["code"])
        assert d["severity"] in ("error", "warning", "info")
        assert isinstance(d["message"], str) and d["message"]
        assert isinstance(d["hint"], (str, type(None)))
        for k in ("start", "end", "line", "column"):
            assert isinstance(d[k], int) and not isinstance(d[k], bool)
        assert 0 <= d["start"] <= d["end"] <= len(text)
        assert d["line"] >= 1 and d["column"] >= 1
        fix = d["fix"]
        assert fix is None or (set(fix) == {"start", "end", "replacement"}
                               and 0 <= fix["start"] <= fix["end"] <= len(text)
                               and isinstance(fix["replacement"], str))
    assert data["ok"] == all(d["severity"] != "error" for d in data["diagnostics"])


def test_json_of_the_issue_example(capsys):
    code, data = run_json(["check", "params.batch_size = 32"], capsys)
    assert code == 1
    assert data == {"ok": False, "diagnostics": [{
        "code": "MF201", "severity": "error",
        "message": "`params.batch_size` holds strings: the number `32` must be quoted",
        "start": 20, "end": 22, "line": 1, "column": 21, "hint": "quote it: '32'",
        "fix": {"start": 20, "end": 22, "replacement": "'32'"}}]}


def test_json_line_and_column_count_characters(capsys):
    text = "tags.ключ = 'x'\nAND params.x = 1"
    _, data = run_json(["check", text], capsys)
    (d,) = data["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("MF201", 2, 16)
    assert text[d["start"]:d["end"]] == "1"


def test_json_fix_applies_to_the_text(capsys):
    text = "params.batch_size = 32 AND metrics.accuracy > '0.8'"
    _, data = run_json(["check", text], capsys)
    for d in data["diagnostics"]:
        f = d["fix"]
        fixed = text[:f["start"]] + f["replacement"] + text[f["end"]:]
        assert d["code"] in ("MF201", "MF211")
        assert fixed in ("params.batch_size = '32' AND metrics.accuracy > '0.8'",
                         "params.batch_size = 32 AND metrics.accuracy > 0.8")


def test_json_with_order_by_says_which_input_each_offset_is_in(capsys):
    code, data = run_json(["check", "params.x = 1", "--order-by", "metrics.a",
                           "--order-by", "metrics.a DESC"], capsys)
    assert code == 1 and data["ok"] is False
    assert [(d["code"], d["in"]) for d in data["diagnostics"]] == [("MF201", "filter"),
                                                                  ("MF422", "order_by")]
    for d in data["diagnostics"]:
        assert set(d) == DIAGNOSTIC_KEYS | {"in"}
    d = data["diagnostics"][1]
    assert ("metrics.a\nmetrics.a DESC"[d["start"]:d["end"]], d["line"]) == ("metrics.a DESC", 2)


# ---- --api ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("spelling", ["{}", "{hyphen}", "{upper}", "search_{}", "search-{hyphen}"])
def test_api_names(api, spelling, capsys):
    name = spelling.format(api, hyphen=api.replace("_", "-"), upper=api.upper())
    code, data = run_json(["check", "tags.t = 'x'", "--api", name], capsys)
    assert code == 0, name
    _, other = run_json(["check", "tags.t = 'x'", "--api", api], capsys)
    assert data == other


@pytest.mark.parametrize("text, api, code", [
    ("name like 'exp%'", "experiments", "MF222"),
    ("tags.k IS NULL", "registered-models", "MF230"),
    ("version_number = 1.0", "model-versions", "MF218"),
    ("metrics.acc > '0.5'", "logged-models", "MF232"),
    ("timestamp > 1.5", "traces", "MF223"),
])
def test_api_changes_the_verdict(text, api, code, capsys):
    _, data = run_json(["check", text, "--api", api], capsys)
    assert code in [d["code"] for d in data["diagnostics"]]


def test_unknown_api_is_a_usage_error(capsys):
    code, out, err = run(["check", "x", "--api", "run"], capsys)
    assert code == 2 and out == ""
    assert "unknown API 'run'" in err and "registered_models" in err


# ---- stdin ------------------------------------------------------------------------------------------

def test_dash_reads_stdin(capsys, monkeypatch):
    code, data = run_json(["check", "-"], capsys, stdin=b"params.batch_size = 32\n",
                          monkeypatch=monkeypatch)
    assert code == 1
    assert [(d["code"], d["start"], d["end"]) for d in data["diagnostics"]] == [("MF201", 20, 22)]


def test_stdin_keeps_inner_newlines_and_drops_the_last(capsys, monkeypatch):
    code, data = run_json(["check", "-"], capsys, stdin=b"metrics.a > 1\nAND params.x = 1\r\n",
                          monkeypatch=monkeypatch)
    assert code == 1
    (d,) = data["diagnostics"]
    assert (d["code"], d["line"], d["column"]) == ("MF201", 2, 16)


def test_empty_stdin_is_no_filter(capsys, monkeypatch):
    code, _, _ = run(["check", "-"], capsys, stdin=b"", monkeypatch=monkeypatch)
    assert code == 0


def test_non_utf8_stdin_is_a_diagnostic(capsys, monkeypatch):
    code, data = run_json(["check", "-"], capsys, stdin=b"params.x = '\xff'",
                          monkeypatch=monkeypatch)
    assert code == 1
    assert [d["code"] for d in data["diagnostics"]] == ["MF001"]
    assert "UTF-8" in data["diagnostics"][0]["message"]


def test_non_utf8_stdin_real_command():
    proc = cli("check", "-", stdin=b"tags.t = '\xc3\x28'")
    assert proc.returncode == 1
    assert b"MF001" in proc.stdout


# ---- --order-by -----------------------------------------------------------------------------------------

def test_order_by_repeated(capsys):
    code, out, _ = run(["check", "metrics.a > 1", "--order-by", "start_time",
                        "--order-by", "created", "--color", "never"], capsys)
    assert code == 1
    assert "error[MF422]" in out and "--> order_by:2:1" in out
    assert out.rstrip().endswith("MLflow accepts this filter (runs): 0 error(s), 0 warning(s) ; "
                                 "MLflow fails on this order_by (HTTP 500) (runs): 1 error(s), 0 warning(s)")


def test_order_by_for_another_api(capsys):
    code, data = run_json(["check", "", "--api", "experiments", "--order-by", "name",
                           "--order-by", "name DESC"], capsys)
    assert code == 0  # MF451 is a warning
    assert [d["code"] for d in data["diagnostics"]] == ["MF451"]


# ---- rules, demo, version -----------------------------------------------------------------------------

def test_rules_lists_every_code(capsys):
    code, out, _ = run(["rules"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [r.code for r in RULES]
    for line, rule in zip(lines, RULES):
        assert rule.severity.value in line and rule.name in line and rule.summary in line


def test_rules_code_prints_its_section(capsys):
    from mlfilter.docs import rule_section
    from mlfilter.rules.registry import BY_CODE

    code, out, _ = run(["rules", "MF201"], capsys)
    assert code == 0
    assert out == rule_section(BY_CODE["MF201"]) + "\n"
    assert out.startswith("## MF201 `unquoted-value`")
    assert "params.batch_size = 32" in out and "error[MF201]" in out


def test_unknown_rule_is_a_usage_error(capsys):
    code, out, err = run(["rules", "MF999"], capsys)
    assert code == 2 and out == ""
    assert "unknown code 'MF999'" in err


def test_demo(capsys):
    code, out, _ = run(["demo", "--color", "never"], capsys)
    assert code == 0
    assert "params.batch_size = 32" in out
    assert "error[MF201]" in out
    assert not ANSI.search(out)


def test_demo_shows_what_each_check_command_prints(capsys):
    """Each `$ mlfilter check ...` section of the demo is that command's own output."""
    import shlex

    from mlfilter import demo

    _, out, _ = run(["demo", "--color", "never"], capsys)
    sections = out.split("\n\n# ")[0].split("\n\n$ ")
    checks = [s for s in sections if s.lstrip("$ ").startswith("mlfilter check --api")]
    assert len(checks) == len(demo.EXAMPLES)
    for section in checks:
        command, shown = section.lstrip("$ ").split("\n", 1)
        _, printed, _ = run(shlex.split(command)[1:] + ["--color", "never"], capsys)
        assert shown.rstrip("\n") == printed.rstrip("\n"), command


def test_version(capsys):
    import mlfilter

    code, out, _ = run(["version"], capsys)
    assert code == 0
    assert out.startswith(f"mlfilter {mlfilter.__version__} (MLflow 2.22.1, 3.17.2, 3.18.0; default ")


def test_no_command_prints_help(capsys):
    code, out, _ = run([], capsys)
    assert code == 2
    assert "check" in out and "rules" in out and "demo" in out


# ---- colour ---------------------------------------------------------------------------------------------

BAD = "params.batch_size = 32"


def test_not_a_tty_gives_no_colour(capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    _, out, _ = run(["check", BAD], capsys)
    assert "error[MF201]" in out and not ANSI.search(out)
    _, out, _ = run(["demo"], capsys)
    assert not ANSI.search(out)


def test_color_always_gives_colour(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(["check", BAD, "--color", "always"], capsys)
    assert ANSI.search(out)
    assert ANSI.sub("", out) == run(["check", BAD, "--color", "never"], capsys)[1]
    _, out, _ = run(["demo", "--color", "always"], capsys)
    assert ANSI.search(out)


def test_json_never_has_colour(capsys):
    _, out, _ = run(["check", BAD, "--color", "always", "--format", "json"], capsys)
    assert not ANSI.search(out)


def _on_a_tty(args, env):
    """The real command with its stdout on a pseudo-terminal."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "mlfilter", *args], stdout=follower,
                              stderr=subprocess.PIPE, timeout=120, cwd=REPO, env=env)
        os.close(follower)
        follower = None
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert b"Traceback" not in proc.stderr
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def _env(**changes):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(changes)
    return env


def test_tty_gives_colour():
    code, out = _on_a_tty(["check", BAD], _env(TERM="xterm"))
    assert code == 1 and ANSI.search(out)


@pytest.mark.parametrize("env", [{"NO_COLOR": "1", "TERM": "xterm"}, {"TERM": "dumb"}],
                         ids=["NO_COLOR", "TERM=dumb"])
def test_tty_without_colour(env):
    code, out = _on_a_tty(["check", BAD], _env(**env))
    assert code == 1 and "error[MF201]" in out and not ANSI.search(out)


def test_no_color_and_pipe_real_command():
    proc = cli("check", BAD, env={"NO_COLOR": "1"})
    assert proc.returncode == 1 and not ANSI.search(proc.stdout.decode())
    proc = cli("check", BAD, "--color", "always", env={"NO_COLOR": "1"})
    assert ANSI.search(proc.stdout.decode())


# ---- the real command --------------------------------------------------------------------------------------

def test_real_command_end_to_end():
    proc = cli("check", "params.learning_rate 0.001", "--format", "json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert [(d["code"], d["start"], d["end"]) for d in data["diagnostics"]] == [("MF102", 21, 26)]
    proc = cli("rules")
    assert proc.returncode == 0 and proc.stdout.decode().count("\n") == len(RULES)
    proc = cli("demo")
    assert proc.returncode == 0 and b"params.batch_size = 32" in proc.stdout


def test_usage_errors_go_to_stderr():
    proc = cli("check", "x", "--api", "bogus")
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"unknown API" in proc.stderr


def test_ascii_only_stdout():
    proc = subprocess.run([sys.executable, "-m", "mlfilter", "check", "tags.ключ = 1"],
                          capture_output=True, timeout=120, cwd=REPO,
                          env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1


@pytest.mark.parametrize("args", [["rules"], ["rules", "MF201"], ["demo"],
                                  ["check", "params.x = 32"], ["version"]],
                         ids=["rules", "rules-code", "demo", "check", "version"])
def test_closed_stdout(args):
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: every write gets EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "mlfilter", *args], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=120, cwd=REPO)
    finally:
        os.close(write_end)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")[-500:]
