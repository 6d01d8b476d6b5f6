"""The rule reference, rendered from the registry (docs/rules.md and `mlfilter rules CODE`)."""

from __future__ import annotations

from mlfilter.rules.registry import RULES, Rule


DEMO_SCHEMA = "demo_schema.json"  # in mlfilter/data: the demo store's snapshot


def example_target(rule: Rule, good: bool = False) -> dict:
    """The MLflow release and database an example is checked for: the bad one for the rule's
    own (by default the release mlfilter's core is pinned to, on SQLite); the good one, the
    fix, on the newest release when the rule is about an older one (MF225 is fixed by
    upgrading)."""
    from mlfilter._target import MLFLOW_TARGET
    from mlfilter.versions import NEWEST, line_of

    pinned = line_of(MLFLOW_TARGET)
    if good:
        return {"mlflow_version": NEWEST if rule.mlflow_version else pinned, "backend": None}
    return {"mlflow_version": rule.mlflow_version or pinned, "backend": rule.backend}


def example_report(rule: Rule, text: str, good: bool = False):
    """The report of one of a rule's examples, as the docs and the registry tests see it."""
    import os

    from mlfilter.checker import check, check_order_by

    target = example_target(rule, good)
    if rule.kind == "schema":
        snapshot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", DEMO_SCHEMA)
        experiment = "demo-classifier" if good else rule.experiment
        return check(text, rule.api, schema=snapshot, experiment_ids=[experiment], **target)
    if rule.kind == "value":
        import ast

        return check(ast.literal_eval(text), rule.api, **target)
    if rule.kind == "order_by":
        import json

        entries = [json.loads(e) if e.startswith("{") else e for e in text.split("\n")]
        return check_order_by(entries, rule.api, **target)
    return check(text, rule.api, **target)


def rule_section(rule: Rule) -> str:
    from mlfilter.render import render_text

    if rule.kind == "lint":  # the examples are Python source: show what `mlfilter lint` prints
        from mlfilter.lint import lint_example

        rendered = lint_example(rule.bad)
    else:
        bad = example_report(rule, rule.bad)
        shown = [d for d in bad.diagnostics if d.code == rule.code]
        rendered = render_text(type(bad)(bad.source, bad.api, tuple(shown), bad.kind), color=False)
    what = {"order_by": "order_by", "lint": "source"}.get(rule.kind, "filter")
    lines = [
        f"## {rule.code} `{rule.name}`",
        "",
        f"**{rule.severity.value}** · {rule.summary} · API in the examples: `{rule.api}`"
        + (f" · MLflow {rule.mlflow_version}" if rule.mlflow_version else "")
        + (f" · on {rule.backend}" if rule.backend else "")
        + (f" · checked against the demo store, experiment `{rule.experiment}`"
           if rule.kind == "schema" else ""),
        "",
        rule.why,
        "",
        f"Bad {what}:",
        "",
        "```",
        *(rule.bad.split("\n") if rule.kind in ("order_by", "lint") else [_printable(rule.bad)]),
        "```",
        "",
        f"Good {what}:",
        "",
        "```",
        *(rule.good.split("\n") if rule.kind in ("order_by", "lint") else [_printable(rule.good)]),
        "```",
        "",
        "What mlfilter says about the bad one:",
        "",
        "```",
        rendered,
        "```",
    ]
    return "\n".join(lines)


def _printable(text: str) -> str:
    return text if text.isprintable() else ascii(text)[1:-1]


def rules_markdown() -> str:
    head = [
        "# Rule reference",
        "",
        "Generated from `mlfilter/rules/registry.py` by `tools/gen_docs.py`; do not edit by hand.",
        "Codes: MF0xx input, MF1xx syntax, MF2xx rejected by MLflow (HTTP 400), MF23x MLflow",
        "crashes (HTTP 500), MF3xx accepted but almost surely wrong, MF4xx order_by.",
        "",
        "| code | name | severity | summary |",
        "|---|---|---|---|",
        *(f"| {r.code} | `{r.name}` | {r.severity.value} | {r.summary} |" for r in RULES),
        "",
    ]
    return "\n".join(head + [rule_section(r) + "\n" for r in RULES])
