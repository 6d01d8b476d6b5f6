"""The examples of README.md and docs/*.md are tests: each page's ```console and ```python
blocks run, in order, and must show what they print (tools/doc_examples.py says how). After a
deliberate change, `python tools/doc_examples.py --update [FILE ...]` rewrites the outputs.

Also here: the runner itself catches what it should (a synthetic page), shell sessions are never
left in blocks that do not run, and the configuration blocks are ones mlfilter reads. (The
README's set-up commands: tests/test_readme_setup.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import doc_blocks  # noqa: E402
import doc_claims  # noqa: E402
import doc_examples  # noqa: E402

pytest.importorskip("mlflow")
pytestmark = pytest.mark.mlflow
PAGES = doc_examples.pages()


def _id(page: Path) -> str:
    return doc_examples.page_name(page)


def _blocks(page: Path) -> list[doc_blocks.Block]:
    return doc_blocks.blocks(page.read_text("utf-8"))


@pytest.fixture(scope="session")
def docs_server(shared_dir):
    """The pages' `http://127.0.0.1:5000`: `mlflow server --app-name mlfilter` on a copy of the
    demo store, one for all pages and workers."""
    import stores

    home = shared_dir / "docs-server"
    with stores.shared(home, "server", lambda: doc_examples.start_server(home),
                       stores.stop_mlflow_server) as server:
        yield server["url"]


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_examples_show_what_they_print(page, tmp_path, request):
    server = request.getfixturevalue("docs_server") if doc_examples.needs_server(page) else None
    workdir = tmp_path / "work"
    workdir.mkdir()
    result = doc_examples.run_page(page, workdir, server)
    assert result.ran == [b.line for b in _blocks(page) if b.runnable]
    assert not result.problems, (
        "\n\n".join(result.problems) + "\n\nAfter a deliberate change of output: "
        f"python tools/doc_examples.py --update {_id(page)}")


def test_every_page_is_covered():
    names = {_id(p) for p in PAGES}
    assert {"README.md", "docs/lint.md", "docs/store.md", "docs/server.md"} <= names
    assert names == {"README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))}


SESSION = re.compile(r"^\$ ", re.M)


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_shell_sessions_and_code_are_in_blocks_that_run(page):
    """A `$ command` shown in a block that does not run, or a python block under another name,
    would never be checked: they must be ```console / ```python (or marked as not run)."""
    text = page.read_text("utf-8")
    assert doc_blocks.indented_sessions(text) == [], "use a ```console block"
    for block in doc_blocks.blocks(text):
        where = f"{_id(page)}:{block.line}"
        assert block.lang not in ("py", "python3", "pycon", "ipython", "shell-session"), where
        if block.lang not in ("console", "python") and not block.is_output:
            assert not SESSION.search(block.body), f"{where}: a shell session in ```{block.lang}"
        if block.skip is not None or block.file is not None:
            assert block.lang in doc_blocks.RUNNABLE, f"{where}: a marker on a ```{block.lang}"
            assert block.skip is None or len(block.skip.split()) >= 3, f"{where}: say why"


def test_indented_shell_sessions_are_found():
    text = ("Text\n\n    $ mlfilter check x\n    out\n\n- item:\n\n      $ mlfilter y\n\n"
            "```console\n$ ok\n```\n\n    code, not a session\n")
    assert doc_blocks.indented_sessions(text) == [3, 8]


def test_only_the_examples_that_truly_cannot_run_are_skipped():
    skipped = {(_id(p), b.lang, b.body.splitlines()[0]) for p in PAGES for b in _blocks(p)
               if b.skip is not None}
    assert skipped == {
        ("docs/lint.md", "console", '$ git commit -m "train"'),
        ("docs/robustness.md", "console", "$ MLFILTER_FUZZ=long MLFILTER_FUZZ_EXAMPLES=3000 "
                                          "python -m pytest tests/test_fuzz.py -k \"check_and_parse"
                                          " or parse_tree or fixes_reach or check_order_by or "
                                          "from_string or safely_fixed or shell_split\""),
        ("docs/lint.md", "python", 'mlflow.search_runs(filter_string="params.bs = 32")  '
                                   '# noqa: MF201'),
    }


# ---- the runner catches mistakes -------------------------------------------------------------

BROKEN = '''# A page with mistakes

```console
$ echo one
one
$ echo two; echo three
two
...
$ printf 'a\\nb\\n'
a
c
```

```python
x = [1, 2, 3]
x            # [1, ...]
x            # [2, ...]
len(x)       # 3: the number of items
int("z")     # raises ValueError
int("1")     # raises ValueError
{"a": 1, "b": 2}  # {"a": 1, ...}
{"a": 1, "b": 2}  # {"a": 1}
x == [1, 2, 3]    # is it?  (prose, not a claim)
print("hello")
```

```text
hello
```

```python
>>> 1 + 1
3
```

_Not run by the docs tests: it would fail, and it is marked._

```console
$ false
anything
```

```python
raise RuntimeError("stop")
```
'''


def test_the_runner_reports_each_mistake_and_update_fixes_the_outputs(tmp_path):
    page = tmp_path / "broken.md"
    page.write_text(BROKEN)
    (tmp_path / "work").mkdir()
    result = doc_examples.run_page(page, tmp_path / "work")
    assert result.ran == [3, 14, 31, 43]  # not the marked block
    text = "\n\n".join(result.problems)
    assert len(result.diffs) == 1 and len(result.failures) == 5, text
    assert "broken.md:3: $ printf" in text and "-c\n+b" in text  # `...` matched the rest
    assert "broken.md:17: expected [2, ...]" in text
    assert "broken.md:20: expected ValueError, but it gave 1" in text
    assert "broken.md:22: expected {\"a\": 1}" in text
    assert "Expected:\n    3\nGot:\n    2" in text
    assert "broken.md:44: raised" in text and "RuntimeError: stop" in text

    assert doc_examples.main([str(page), "--update"]) == 1  # the claims are left to a person
    assert "a\nb\n```" in page.read_text() and "c\n```" not in page.read_text()
    (tmp_path / "again").mkdir()
    again = doc_examples.run_page(page, tmp_path / "again")
    def unplaced(failures):  # the console block got longer: a blank line between commands
        return [re.sub(r"line \d+|broken\.md:\d+", "", f) for f in failures]

    assert not again.diffs and unplaced(again.failures) == unplaced(result.failures)


def test_a_page_shows_files_that_are_its_example_files():
    [block] = [b for b in _blocks(ROOT / "docs" / "lint.md") if b.file is not None]
    assert block.file == "train.py"
    assert (ROOT / "docs" / "examples" / "lint" / "train.py").read_text() == block.body
    mismatch = doc_examples.Result(ROOT / "docs" / "lint.md")
    block.body += "# an edit\n"
    doc_examples._compare_file(ROOT / "docs" / "lint.md", block, mismatch)
    assert "differs from" in mismatch.failures[0]


@pytest.mark.parametrize("comment, value, claimed", [
    ("False", 0, False),
    ("[1, ...]", [1], True),
    ("[..., 3]", [1, 2, 3], True),
    ("[1, ...]", (1, 2), False),
    ('{"code": "MF202", ...}', {"code": "MF202", "span": [0, 1]}, True),
    ('{"code": "MF202"}', {"code": "MF202", "span": [0, 1]}, False),
    ("'a': a string", "a", True),
    ("2.0", 2, True),
])
def test_claims_compare_literals_with_wildcards(comment, value, claimed):
    found, problems = doc_claims.claims(f"x  # {comment}\n")
    assert not problems
    assert doc_claims.matches(found[1].value, value) is claimed


def test_what_is_a_claim():
    code = ("a  # the rendering\nb  # raises KeyError: when missing\nc  # says:\n"
            "# [1,\n#  2]\nd = 1  # 4\ne  # 5: prose after\n# not a literal:\n#  [1\n")
    found, problems = doc_claims.claims(code)
    assert sorted(found) == [2, 3, 7]
    assert found[2].raises == "KeyError" and found[3].value == [1, 2] and found[7].value == 5
    code = "f  # what it gives:\n# nothing literal\n"
    assert doc_claims.claims(code)[1] == [
        "line 1: the comment lines after `# what it gives:` are not a literal"]


# ---- configuration blocks: ones that mlfilter and pre-commit read ----------------------------

def _config_blocks(lang: str, marker: str) -> list[tuple[str, str]]:
    return [(f"{_id(p)}:{b.line}", b.body) for p in PAGES for b in _blocks(p)
            if b.lang == lang and marker in b.body]


def test_pre_commit_configurations_name_the_hook_this_repository_has():
    import yaml

    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    shown = _config_blocks("yaml", "repos:")
    assert len(shown) == 2, shown
    for where, body in shown:
        [repo] = yaml.safe_load(body)["repos"]
        assert {h["id"] for h in repo["hooks"]} <= hooks, where


def test_the_settings_shown_are_settings_mlfilter_reads(tmp_path):
    from mlfilter import config

    [(where, body)] = _config_blocks("toml", "[tool.mlfilter]")
    (tmp_path / "pyproject.toml").write_text(body)
    shutil.copyfile(doc_examples.DEMO_SCHEMA, tmp_path / "schema.json")
    settings = config.load(start=str(tmp_path))
    assert settings.path == str(tmp_path / "pyproject.toml"), where
    assert settings.ignore == ("MF304", "MF9") and settings.schema == "schema.json"
    assert settings.load_schema() is not None


def test_the_lint_json_shown_is_a_diagnostic_lint_gives(tmp_path):
    [block] = [b for b in _blocks(ROOT / "docs" / "lint.md") if b.lang == "json"]
    shutil.copytree(doc_examples.example_dir(ROOT / "docs" / "lint.md"), tmp_path / "lint")
    done = subprocess.run(["mlfilter", "lint", "--format", "json", "train.py"],
                          cwd=tmp_path / "lint", capture_output=True, text=True,
                          env=doc_examples.environment())
    assert json.loads(block.body) in json.loads(done.stdout)["diagnostics"]
