"""Settings of `mlfilter lint`: [tool.mlfilter] in pyproject.toml, the flags that override it,
which files are read (exclude patterns, .gitignore compared with git itself), and the exit
status."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlfilter.cli import main
from mlfilter.config import Config, ConfigError, load
from mlfilter.lint.files import discover

BAD = 'import mlflow\nmlflow.search_runs(filter_string="params.a = 1")\n'  # MF201, error
WARN = "import mlflow\nmlflow.search_runs(filter_string=\"params.a LIKE 'x'\")\n"  # MF305, warning
INFO = 'import mlflow\nmlflow.search_runs(filter_string="metrics.a = 1")\n'  # MF304, info


def _lint(cwd: Path, *argv: str, capsys) -> tuple[int, str, str]:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        status = main(["lint", *argv])
    finally:
        os.chdir(old)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _codes(out: str) -> list[str]:
    return [line.split(": ", 2)[1].split()[0] for line in out.splitlines()
            if not line.startswith(("Found ", "Fixed "))]


@pytest.mark.parametrize("content, argv, status", [
    (BAD, [], 1), (WARN, [], 1), (INFO, [], 0),
    (WARN, ["--fail-on", "error"], 0), (INFO, ["--fail-on", "info"], 1),
    (BAD, ["--ignore", "MF201"], 0), (BAD, ["--ignore", "MF2"], 0),
    (BAD, ["--select", "MF3"], 0), (WARN, ["--select", "MF3,MF201"], 1),
])
def test_exit_status_follows_fail_on_and_selection(tmp_path, capsys, content, argv, status):
    (tmp_path / "t.py").write_text(content)
    assert _lint(tmp_path, *argv, capsys=capsys)[0] == status


def test_pyproject_settings_are_found_above_and_flags_override(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.mlfilter]\nignore = ["MF201"]\nfail_on = "error"\n'
        'api = "experiments"\nschema = "schema.json"\n')
    # the configured snapshot must exist (an unreadable one is a usage error)
    (tmp_path / "schema.json").write_bytes(
        (Path(__file__).resolve().parent.parent / "mlfilter" / "data" / "demo_schema.json")
        .read_bytes())
    sub = tmp_path / "pkg" / "sub"
    sub.mkdir(parents=True)
    (sub / "pyproject.toml").write_text('[project]\nname = "inner, without settings"\n')
    (sub / "t.py").write_text(BAD + WARN.split("\n", 1)[1]
                              + "import mlfilter\nmlfilter.check(\"name like 'x%'\")\n")
    config = load(start=str(sub))
    assert config.path == str(tmp_path / "pyproject.toml")
    assert (config.ignore, config.fail_on, config.api, config.schema) == (
        ("MF201",), "error", "experiments", "schema.json")
    status, out, _ = _lint(sub, capsys=capsys)
    # MF201 ignored; MF305 is a warning (below fail-on); mlfilter.check() uses the configured API
    # ... and the configured snapshot type-checks the literal filters (MF501: a key the demo
    # store never logged)
    assert (status, _codes(out)) == (1, ["MF501", "MF305", "MF222"])
    status, out, _ = _lint(sub, "--ignore", "MF3", "--api", "runs", "--fail-on", "warning",
                           capsys=capsys)
    assert (status, _codes(out)) == (1, ["MF201", "MF501", "MF210"])


def test_config_file_given_explicitly(tmp_path, capsys):
    (tmp_path / "t.py").write_text(BAD)
    (tmp_path / "mine.toml").write_text('ignore = ["MF2"]\n')
    assert _lint(tmp_path, "--config", "mine.toml", capsys=capsys)[0] == 0


@pytest.mark.parametrize("toml, message", [
    ("[tool.mlfilter]\nselct = [\"MF2\"]\n", "has no key `selct` (did you mean `select`?)"),
    ("[tool.mlfilter]\nignore = [\"MF2O1\"]\n", "`MF2O1` is not an mlfilter code or prefix"),
    ("[tool.mlfilter]\nignore = [\"MF299\"]\n", "`MF299` is not an mlfilter code"),
    ("[tool.mlfilter]\nfail-on = \"fatal\"\n", "expected one of error, warning, info"),
    ("[tool.mlfilter]\napi = \"models\"\n", "unknown API 'models'"),
    ("[tool.mlfilter]\nexclude = 3\n", "expected a list of patterns"),
    ("[tool.mlfilter]\nmax-file-size = -1\n", "expected a positive number of bytes"),
    ("[tool.mlfilter]\nrespect-gitignore = \"yes\"\n", "expected true or false"),
    ("[tool.mlfilter\nignore = 1\n", "not valid TOML"),
])
def test_bad_settings_are_a_usage_error(tmp_path, capsys, toml, message):
    (tmp_path / "pyproject.toml").write_text(toml)
    (tmp_path / "t.py").write_text(BAD)
    status, out, err = _lint(tmp_path, capsys=capsys)
    assert status == 2 and out == ""
    assert err.startswith("mlfilter: error: ") and message in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--config", "missing.toml"], "missing.toml: no such file"),
    (["--select", "XX1"], "`XX1` is not an mlfilter code or prefix"),
    (["--fail-on", "never"], "invalid choice"),
    (["--format", "xml"], "invalid choice"),
])
def test_bad_flags_are_a_usage_error(tmp_path, capsys, argv, message):
    status, out, err = _lint(tmp_path, *argv, capsys=capsys)
    assert status == 2 and message in err


def test_exclude_patterns_from_settings_and_flags(tmp_path, capsys):
    for rel in ("a.py", "gen/b.py", "src/c_generated.py", "src/d.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(BAD)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mlfilter]\nexclude = ["gen/", "*_generated.py"]\n')
    status, out, _ = _lint(tmp_path, capsys=capsys)
    assert sorted(line.split(":")[0] for line in out.splitlines()[:-1]) == ["a.py", "src/d.py"]
    # a file named on the command line is skipped when a pattern matches it (pre-commit)
    status, out, _ = _lint(tmp_path, "gen/b.py", "src/d.py", capsys=capsys)
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == ["src/d.py"]
    # --exclude replaces the configured list
    status, out, _ = _lint(tmp_path, "--exclude", "src", capsys=capsys)
    assert sorted(line.split(":")[0] for line in out.splitlines()[:-1]) == ["a.py", "gen/b.py"]


def test_default_excluded_directories_are_not_walked(tmp_path, capsys):
    for rel in (".venv/lib/x.py", "node_modules/y.py", "__pycache__/z.py", "ok/w.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(BAD)
    status, out, _ = _lint(tmp_path, capsys=capsys)
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == ["ok/w.py"]
    # but a file in one is linted when named
    status, out, _ = _lint(tmp_path, ".venv/lib/x.py", capsys=capsys)
    assert status == 1


# ---- .gitignore, compared with git ------------------------------------------------------------

TREE = ["a.py", "b.py", "x.ipynb", "doc/a.py", "doc/b/a.py", "doc/b/c/d.py", "b/a.py", "b/c/a.py",
        "c/b/a.py", "c/deep/er/x.py", "a b/c.py", "sub/doc/a.py", "sub/x/b.py", "[x].py"]

git = shutil.which("git")
needs_git = pytest.mark.skipif(git is None, reason="git is not installed")


def _git_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(HOME=str(home), GIT_CONFIG_NOSYSTEM="1", XDG_CONFIG_HOME=str(home))
    return env


def _make_repo(root: Path, ignores: dict[str, str]) -> None:
    for rel in TREE:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    subprocess.run([git, "init", "-q", str(root)], check=True, env=_git_env(root.parent))
    for rel, text in ignores.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def _git_view(root: Path) -> set[str]:
    proc = subprocess.run([git, "ls-files", "--others", "--exclude-standard", "-z"], cwd=root,
                          capture_output=True, check=True, env=_git_env(root.parent))
    files = proc.stdout.decode().split("\0")
    return {f for f in files if f.endswith((".py", ".ipynb"))}


def _our_view(root: Path) -> set[str]:
    config = Config(root=str(root))
    return {os.path.relpath(path, root).replace(os.sep, "/")
            for path, _, _ in discover([str(root)], config)}


CASES = {
    "plain names": {".gitignore": "a.py\n"},
    "directory only": {".gitignore": "b/\n"},
    "anchored": {".gitignore": "/a.py\n/doc/b\n"},
    "inner slash anchors": {".gitignore": "b/a.py\n"},
    "stars": {".gitignore": "*.ipynb\ndoc/*/a.py\n"},
    "double star": {".gitignore": "**/c/*.py\ndoc/**/d.py\nc/**\n"},
    "negation": {".gitignore": "*.py\n!b.py\n!doc/\n"},
    "negation inside an ignored directory stays ignored": {".gitignore": "doc/\n!doc/a.py\n"},
    "nested file wins": {".gitignore": "*.py\n", "sub/.gitignore": "!*.py\nb.py\n"},
    "info/exclude": {".git/info/exclude": "c/\n"},
    "comments, escapes, spaces": {".gitignore": "# a.py\n\\#x.py\na\\ b/\nb.py   \n"},
    "classes": {".gitignore": "[ab].py\n\\[x\\].py\n"},
    "question mark": {".gitignore": "?.py\n"},
}


@needs_git
@pytest.mark.parametrize("ignores", CASES.values(), ids=CASES.keys())
def test_gitignore_agrees_with_git(tmp_path, ignores):
    root = tmp_path / "repo"
    _make_repo(root, ignores)
    assert _our_view(root) == _git_view(root)


SEGMENTS = st.sampled_from(["a.py", "b", "c", "doc", "*", "**", "?.py", "[ab].py", "d.py", "x",
                            "*.py", "b*", "deep"])


@st.composite
def patterns(draw):
    segments = draw(st.lists(SEGMENTS, min_size=1, max_size=3))
    text = "/".join(segments)
    if draw(st.booleans()):
        text = "/" + text
    if draw(st.booleans()):
        text += "/"
    if draw(st.integers(0, 3)) == 0:
        text = "!" + text
    return text


@needs_git
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(patterns(), min_size=1, max_size=4), st.lists(patterns(), max_size=2))
def test_random_gitignores_agree_with_git(tmp_path_factory, root_patterns, nested_patterns):
    root = tmp_path_factory.mktemp("repo")
    ignores = {".gitignore": "\n".join(root_patterns) + "\n"}
    if nested_patterns:
        ignores["doc/.gitignore"] = "\n".join(nested_patterns) + "\n"
    _make_repo(root, ignores)
    assert _our_view(root) == _git_view(root), ignores


def test_gitignore_can_be_switched_off(tmp_path, capsys):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("t.py\n")
    (tmp_path / "t.py").write_text(BAD)
    assert _lint(tmp_path, capsys=capsys)[0] == 0
    (tmp_path / "pyproject.toml").write_text("[tool.mlfilter]\nrespect-gitignore = false\n")
    assert _lint(tmp_path, capsys=capsys)[0] == 1


def test_config_dataclass_rejects_nothing_silently():
    with pytest.raises(ConfigError):
        from mlfilter.config import parse_table

        parse_table({"select": [1]}, "pyproject.toml")
