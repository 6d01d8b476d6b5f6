"""Rich display, schema keys as attributes, the magic's line and key completion, without a kernel.

The HTML is read back with the standard library's HTML parser, as a browser would read it: the
highlighted element must hold exactly the mistaken text, and hostile content (`<script>`, both
quotes, `&`) must come back as the same text and never as markup. Plain text goes through
IPython's own pretty printer, as a terminal IPython shows it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from IPython.core.completer import CompletionContext
from IPython.core.error import UsageError
from IPython.lib.pretty import pretty

import mlfilter
from mlfilter import F, search_runs
from mlfilter.explain import ExplainRow, Explanation
from mlfilter.jupyter import key_completions, load_schema, parse_magic_line
from mlfilter.schema.model import ExperimentInfo, KeyInfo, Schema

HOSTILE = """<script>alert("x & y's")</script>"""
VALUE = """<script>alert("x & y")</script>"""  # a value that fits in a '...' filter string


class Page(HTMLParser):
    """Tags seen, the visible text, and the text of each element by class."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []
        self.by_class: dict[str, list[str]] = {}
        self._open: list[tuple[str, list[str], list[str]]] = []
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        classes = (dict(attrs).get("class") or "").split()
        self._open.append((tag, classes, []))

    def handle_endtag(self, tag):
        while self._open:
            name, classes, text = self._open.pop()
            for c in classes:
                self.by_class.setdefault(c, []).append("".join(text))
            if self._open:
                self._open[-1][2].extend(text)
            if name == tag:
                break

    def handle_data(self, data):
        if self._open and self._open[-1][0] == "style":
            return
        self.text.append(data)
        if self._open:
            self._open[-1][2].append(data)

    @property
    def visible(self) -> str:
        return "".join(self.text)


def hostile_schema() -> Schema:
    """Two experiments with keys that are not Python names, and values that are markup."""
    a = ExperimentInfo("1", f"exp {HOSTILE}", runs={"active/FINISHED": 3},
                       params={"optimizer": KeyInfo(3, 3, 2, ["adam", HOSTILE], "text")},
                       metrics={"accuracy": KeyInfo(3, 3, 0, [], "float", 0.5, 0.9),
                                "val/loss": KeyInfo(2, 2, 0, [], "float", 0.1, 0.4)},
                       tags={"mlflow.runName": KeyInfo(3, 3, 3, ["a", "b", "c"], "text")})
    b = ExperimentInfo("2", "nlp", runs={"active/FINISHED": 2},
                       metrics={"f1": KeyInfo(2, 2, 0, [], "float", 0.6, 0.7),
                                HOSTILE: KeyInfo(1, 1, 0, [], "float", 1.0, 1.0)},
                       params={"class": KeyInfo(2, 2, 1, ["x"], "text")})
    return Schema(source=f"sqlite:///{HOSTILE}.db", experiments={"1": a, "2": b})


# ---- reports ------------------------------------------------------------------------------------

def test_report_html_highlights_the_mistaken_span_and_shows_message_hint_and_fix():
    page = Page(mlfilter.check("params.batch_size = 32")._repr_html_())
    assert page.by_class["mlfilter-highlight"] == ["32"]
    assert "error[MF201]" in page.visible
    assert "the number `32` must be quoted" in page.visible
    assert "help: quote it: '32'" in page.visible
    assert "fix (safe): quote the value" in page.visible
    # the fixed filter, with what the fix inserts marked
    assert page.by_class["mlfilter-fixed"] == ["params.batch_size = '32'"]
    assert page.by_class["mlfilter-inserted"] == ["'32'"]
    assert page.by_class["mlfilter-rejected"] == [
        "MLflow rejects this filter (runs): 1 error(s), 0 warning(s)"]


def test_report_html_has_one_highlight_per_diagnostic_with_its_severity():
    report = mlfilter.check("params.batch_size = 32 AND metrics.acc > 1 AND")
    page = Page(report._repr_html_())
    assert page.by_class["mlfilter-highlight"] == ["32", "AND"]
    assert page.by_class["mlfilter-error"][-1] != page.by_class["mlfilter-warning"][-1]
    assert "AND" in page.by_class["mlfilter-warning"][0]  # the stray AND is the warning's
    assert "warning[MF301]" in page.visible


def test_report_html_of_a_multi_line_filter_points_into_the_second_line():
    page = Page(mlfilter.check("params.optimizer = 'adam'\n  AND metrics.accuracy > '0.9'")
                ._repr_html_())
    assert page.by_class["mlfilter-highlight"] == ["'0.9'"]
    assert "filter:2:26" in page.visible


def test_an_empty_span_is_still_marked():
    report = mlfilter.check("(metrics.a > 1")  # the missing `)` goes at the very end
    assert report.diagnostics[0].span.start == report.diagnostics[0].span.end == 14
    markup = report._repr_html_()
    assert 'class="mlfilter-highlight mlfilter-error mlfilter-empty"' in markup
    assert Page(markup).by_class["mlfilter-highlight"] == ["\N{ZERO WIDTH SPACE}"]


def test_an_accepted_filter_says_so_and_shows_the_filter():
    page = Page(mlfilter.check("metrics.acc > 0.9")._repr_html_())
    assert page.by_class["mlfilter-accepted"] == [
        "MLflow accepts this filter (runs): 0 error(s), 0 warning(s)"]
    assert page.by_class["mlfilter-source"] == ["metrics.acc > 0.9"]
    assert "mlfilter-highlight" not in page.by_class


def test_hostile_filter_text_is_escaped_in_the_report():
    text = f"tags.note = '{VALUE}' AND params.bs = 32"
    markup = mlfilter.check(text)._repr_html_()
    page = Page(markup)
    assert "script" not in page.tags
    assert text in page.visible
    assert page.by_class["mlfilter-highlight"] == ["32"]
    assert "&lt;script&gt;" in markup and "&amp;" in markup and "&quot;" in markup


def test_control_characters_show_as_a_visible_mark_not_raw():
    markup = mlfilter.check("tags.x = \x00")._repr_html_()
    assert "\x00" not in markup
    assert Page(markup).by_class["mlfilter-highlight"] == ["\N{REPLACEMENT CHARACTER}"]


def test_report_plain_text_is_the_command_lines_rendering_with_the_verdict():
    report = mlfilter.check("params.batch_size = 32")
    assert pretty(report) == str(report) + "\n\nMLflow rejects this filter (runs): 1 error(s), " \
                                           "0 warning(s)"
    assert pretty(mlfilter.check("metrics.a > 1")) == (
        "filter: metrics.a > 1\nMLflow accepts this filter (runs): 0 error(s), 0 warning(s)")


def test_order_by_report_html_highlights_the_entry():
    page = Page(mlfilter.check_order_by(["metrics.a", "metrics.a DESC"])._repr_html_())
    assert page.by_class["mlfilter-highlight"] == ["metrics.a DESC"]
    assert "order_by:2:1" in page.visible


# ---- filters, builder expressions, queries ------------------------------------------------------

def test_filter_html_colours_the_code_and_shows_what_mlflow_reads():
    filt = mlfilter.parse(f"metrics.acc > 0.9 AND tags.note = '{VALUE}'")
    page = Page(filt._repr_html_())
    assert "script" not in page.tags
    assert page.by_class["mlfilter-key"] == ["metrics.acc", "tags.note"]
    assert page.by_class["mlfilter-value"] == ["0.9", f"'{VALUE}'"]
    assert page.by_class["mlfilter-keyword"] == ["AND"]
    assert "what MLflow reads:" in page.visible and repr(VALUE) in page.visible
    assert pretty(filt).splitlines()[1:] == ["  metric 'acc' > '0.9'",
                                             f"  tag 'note' = {VALUE!r}"]


def test_predicate_html_shows_its_filter_and_that_or_needs_several_searches():
    p = (F.metric("acc") > 0.9) & ((F.param("opt") == VALUE) | (F.param("lr") == 0.01))
    page = Page(p._repr_html_())
    assert "script" not in page.tags
    assert page.by_class["mlfilter-source"] == [str(p)]
    assert "several searches" in page.visible
    assert "several searches" not in Page((F.metric("a") > 1)._repr_html_()).visible
    assert pretty(p) == str(p)


def test_term_and_order_html():
    page = Page(F.metric("val/loss")._repr_html_())
    assert page.by_class["mlfilter-key"] == ["metrics.`val/loss`"]
    assert "F.metric('val/loss')" in page.visible
    assert Page(F.metric("acc").desc()._repr_html_()).by_class["mlfilter-key"] == [
        "metrics.acc DESC"]


def test_query_html_and_text_list_each_search_and_the_options():
    q = (search_runs(experiment_ids=["1"])
         .where((F.metric("acc") > 0.9) & ((F.param("opt") == "adam") | (F.param("x") == VALUE)))
         .order_by(F.metric("acc").desc()).view("all").limit(10))
    page = Page(q._repr_html_())
    assert "script" not in page.tags
    for f in q.filters():
        assert f in page.visible
    assert "2 searches" in page.visible
    assert "['metrics.acc DESC']" in page.visible and "ALL" in page.visible
    assert pretty(q).splitlines() == [
        "search_runs(experiment_ids=['1']): 2 searches (MLflow has no OR), merged by .run()",
        f"  1. {q.filters()[0]!r}", f"  2. {q.filters()[1]!r}",
        "  order_by: ['metrics.acc DESC']", "  run_view_type: ALL", "  max_results: 10"]


# ---- schemas and keys ---------------------------------------------------------------------------

def test_schema_html_lists_keys_by_entity_with_kinds_samples_and_experiments():
    schema = hostile_schema()
    markup = schema._repr_html_()
    page = Page(markup)
    assert "script" not in page.tags
    visible = page.visible
    for title in ("run params (2 keys)", "run metrics (4 keys)", "run tags (1 key)"):
        assert title in visible
    assert "val/loss" in visible and HOSTILE in visible and repr(HOSTILE) in visible
    assert "sqlite:///" + HOSTILE in visible
    assert "&lt;script&gt;" in markup and "&quot;" in markup and "&amp;" in markup

    def row(key: str) -> list[str]:  # the cells of a key's row
        [found] = re.findall(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', markup)
        return [Page(cell).visible for cell in re.findall(r"<td[^>]*>(.*?)</td>", found)]

    # key, kind, runs, the experiments that logged it, sample values (metrics: their range)
    assert row("accuracy") == ["accuracy", "float", "3", f"exp {HOSTILE}", "0.5 .. 0.9"]
    assert row("f1") == ["f1", "float", "2", "nlp", "0.6 .. 0.7"]
    assert row("optimizer") == ["optimizer", "text", "3", f"exp {HOSTILE}",
                                f"'adam'{HOSTILE!r}"]


def test_schema_plain_text_reads_as_a_table_per_entity():
    text = pretty(hostile_schema())
    lines = text.splitlines()
    assert lines[0] == f"schema of sqlite:///{HOSTILE}.db: 2 experiments"
    assert "run metrics (4 keys)" in lines
    assert any(line.split()[:3] == ["optimizer", "text", "'adam',"] for line in lines)
    assert any(line.split()[:2] == ["val/loss", "float"] and "0.1 .. 0.4" in line
               for line in lines)


def test_schema_keys_are_builder_terms_by_attribute_and_by_item():
    schema = hostile_schema()
    assert repr(schema.metrics.accuracy) == repr(F.metric("accuracy"))
    assert str(schema.metrics.accuracy > 0.9) == "metrics.accuracy > 0.9"
    assert str(schema.metrics["val/loss"] < 0.3) == "metrics.`val/loss` < 0.3"
    assert str(schema.params.optimizer == "adam") == "params.optimizer = 'adam'"
    assert str(schema.tags["mlflow.runName"] == "a") == "tags.mlflow.runName = 'a'"
    assert str(schema.params["class"] == "x") == "params.class = 'x'"  # a keyword: item only


def test_schema_keys_merge_every_experiment_and_complete_only_python_names():
    keys = hostile_schema().metrics
    assert list(keys) == sorted(["accuracy", "val/loss", "f1", HOSTILE])
    assert dir(keys) == ["accuracy", "f1"]  # what `schema.metrics.<TAB>` offers
    assert keys._ipython_key_completions_() == list(keys)  # what `schema.metrics["<TAB>` offers
    assert "f1" in keys and "nope" not in keys and len(keys) == 4
    assert dir(hostile_schema().params) == ["optimizer"]  # `class` is a keyword


def test_a_missing_key_says_so_and_suggests_close_ones():
    keys = hostile_schema().metrics
    with pytest.raises(AttributeError, match=r"no metric 'acc' was logged in .*did you mean "
                                             r"'accuracy'"):
        keys.acc
    with pytest.raises(KeyError, match="no metric 'val/los' was logged"):
        keys["val/los"]
    assert not hasattr(keys, "_repr_markdown_")  # display hooks are never keys


def test_keys_html_shows_how_to_reach_each_key():
    page = Page(hostile_schema().metrics._repr_html_())
    assert "script" not in page.tags
    # in the order of the keys (`<` sorts first)
    assert page.by_class["mlfilter-key"] == [f"[{HOSTILE!r}]", ".accuracy", ".f1", "['val/loss']"]


def test_a_schema_limited_to_experiments_keeps_only_their_keys(tmp_path):
    path = tmp_path / "schema.json"
    hostile_schema().dump(path)
    only_nlp = load_schema(str(path), ["nlp"])
    assert list(only_nlp.metrics) == sorted(["f1", HOSTILE])
    assert list(load_schema(hostile_schema(), ["1", "nlp"]).metrics) == list(
        hostile_schema().metrics)
    with pytest.raises(mlfilter.MlfilterError, match="no experiment 'nope'"):
        load_schema(hostile_schema(), ["nope"])


# ---- explain ------------------------------------------------------------------------------------

def test_explanation_html_marks_the_row_that_empties_the_result():
    rows = (ExplainRow("params.optimizer = 'adam'", 22, 22),
            ExplainRow(f"tags.x = '{VALUE}'", 0, 0),
            ExplainRow("metrics.accuracy > 0.9", 8, 0))
    e = Explanation("the filter", rows, 40, "sqlite:///x.db")
    page = Page(e._repr_html_())
    assert "script" not in page.tags
    emptied = page.by_class["mlfilter-empties"]
    assert len(emptied) == 1 and emptied[0].startswith(f"tags.x = '{VALUE}'00")
    assert "empties the result" in emptied[0]
    assert "runs searched: 40" in page.visible
    assert pretty(e) == str(e)


# ---- the magic's line ---------------------------------------------------------------------------

def test_the_magic_line_keeps_the_filter_verbatim_after_the_options():
    command, opts, text = parse_magic_line(
        """--api runs --store "sqlite:///a b.db" --experiment 1 --experiment=nlp """
        """params.x = '{y}' AND tags.z = "$HOME" """)
    assert command == "check"
    assert opts == {"api": "runs", "store": "sqlite:///a b.db", "experiments": ["1", "nlp"]}
    assert text == """params.x = '{y}' AND tags.z = "$HOME" """


def test_explain_is_a_subcommand_and_a_double_dash_ends_the_options():
    assert parse_magic_line("explain --store s.db params.a = 'b'") == (
        "explain", {"experiments": [], "store": "s.db"}, "params.a = 'b'")
    assert parse_magic_line("-- explain = 1")[2] == "explain = 1"


@pytest.mark.parametrize("line, message", [
    ("--bogus x params.a = 'b'", "unknown option --bogus: %mlfilter takes --api"),
    ("--api", "--api needs a value, for example --api runs"),
    ("--api runs --api traces x", "--api is given twice"),
    ("--store 'sqlite:///x params.a = 1", "unterminated quote"),
    ("-x = 1", "put -- before a filter that starts with '-'"),
])
def test_a_bad_magic_line_is_a_usage_error_that_says_what_to_do(line, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_magic_line(line)


# ---- completion (IPython's CompletionContext, no kernel) ----------------------------------------

def _context(text: str) -> CompletionContext:
    lines = text.split("\n")
    return CompletionContext(token="", full_text=text, cursor_position=len(lines[-1]),
                             cursor_line=len(lines) - 1, limit=None)


@pytest.fixture
def active(monkeypatch):
    from mlfilter import jupyter

    monkeypatch.setattr(jupyter, "_active", hostile_schema())


def test_term_calls_complete_the_active_schemas_keys_after_the_quote(active):
    ns = {"F": F}
    assert key_completions(_context('F.metric("'), ns) == (
        sorted(["accuracy", "f1", "val/loss"]), "")  # the hostile key holds a `"`
    assert key_completions(_context("x = F.metric('val"), ns) == (["val/loss"], "val")
    assert key_completions(_context('F.param(key="op'), ns) == (["optimizer"], "op")
    assert key_completions(_context('mlfilter.F.tag("ml'), {"mlfilter": mlfilter}) == (
        ["mlflow.runName"], "ml")


def test_term_completion_is_only_for_the_builders_f(active):
    assert key_completions(_context('F.metric("ac'), {"F": object()}) is None
    assert key_completions(_context('run.metric("ac'), {}) is None


def test_no_active_schema_no_key_completion(monkeypatch):
    from mlfilter import jupyter

    monkeypatch.setattr(jupyter, "_active", None)
    assert key_completions(_context('F.metric("ac'), {"F": F}) is None


def test_schema_keys_complete_by_attribute_and_by_item():
    ns = {"schema": hostile_schema()}
    assert key_completions(_context("schema.metrics."), ns) == (["accuracy", "f1"], "")
    assert key_completions(_context('schema.metrics["v'), ns) == (["val/loss"], "v")
    assert key_completions(_context("schema.params['"), ns) == (["class", "optimizer"], "")
    assert key_completions(_context("schema.experiments."), ns) is None


def test_magic_lines_complete_keys_as_a_filter_writes_them(active):
    assert key_completions(_context("%mlfilter metrics.v"), {}) == (
        ["metrics.`val/loss`"], "metrics.v")
    assert key_completions(_context("%mlfilter params.class = 'x' AND params.o"), {}) == (
        ["params.optimizer"], "params.o")
    assert key_completions(_context("%%mlfilter --api runs\nmetrics.a"), {}) == (
        ["metrics.accuracy"], "metrics.a")
    assert key_completions(_context("print('metrics.a"), {}) is None


def test_a_magic_line_with_schema_completes_from_that_snapshot(tmp_path, monkeypatch):
    from mlfilter import jupyter

    monkeypatch.setattr(jupyter, "_active", None)
    path = tmp_path / "s.json"
    hostile_schema().dump(path)
    assert key_completions(_context(f"%mlfilter --schema {path} tags.ml"), {}) == (
        ["tags.mlflow.runName"], "tags.ml")


# ---- the lint path stays light ------------------------------------------------------------------

def test_displaying_and_the_extension_entry_point_import_no_ipython():
    script = """
import sys, mlfilter
from mlfilter.schema import Schema
r = mlfilter.check("params.batch_size = 32")
r._repr_html_(); mlfilter.parse("metrics.a > 1")._repr_html_()
assert callable(mlfilter.load_ipython_extension) and callable(mlfilter.use_schema)
s = Schema.load(sys.argv[1]); s._repr_html_(); s.metrics.accuracy > 0.5
print([m for m in ("IPython", "ipykernel", "jupyter_client", "mlflow", "pandas", "numpy",
                   "sqlalchemy") if m in sys.modules])
"""
    schema = Path(__file__).resolve().parent.parent / "mlfilter" / "data" / "demo_schema.json"
    out = subprocess.run([sys.executable, "-c", script, str(schema)], capture_output=True,
                         text=True, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []
