"""The rule reference, rendered from the registry (docs/rules.md and `mlfilter rules CODE`)."""

from __future__ import annotations

from mlfilter.rules.registry import RULES, Rule


DEMO_SCHEMA = "demo_schema.json"  # in mlfilter/data: the demo store's snapshot
# Where docs/rules.md is published: editors link each diagnostic to its section there.
RULES_URL = "https://github.com/OWNER/mlfilter/blob/main/docs/rules.md"


def rule_url(code: str) -> str:
    """The link to a code's section of the rule reference (the anchor GitHub gives the section's
    heading, `## MF201 `unquoted-param-value``)."""
    from mlfilter.rules.registry import BY_CODE

    rule = BY_CODE.get(code)
    return f"{RULES_URL}#{code.lower()}-{rule.name}" if rule else RULES_URL


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
        "crashes (HTTP 500), MF24x the database refuses, MF3xx accepted but almost surely wrong,",
        "MF4xx order_by. Which releases and databases each applies to: docs/versions.md.",
        "",
        "| code | name | severity | summary |",
        "|---|---|---|---|",
        *(f"| {r.code} | `{r.name}` | {r.severity.value} | {r.summary} |" for r in RULES),
        "",
    ]
    return "\n".join(head + [rule_section(r) + "\n" for r in RULES])


# ---- docs/versions.md: the version and backend matrix -------------------------------------------

def versions_markdown() -> str:
    """What differs between MLflow releases and databases, from mlfilter/changes.py, and the
    verdict of every rule's bad example on every supported target."""
    from mlfilter.changes import BACKEND_FACTS, CHANGES
    from mlfilter.compat import compat
    from mlfilter.versions import BACKEND_NAMES, BACKENDS, RELEASES, release_tuple

    out = [
        "# MLflow versions and databases",
        "",
        "Generated from `mlfilter/changes.py` and `mlfilter/rules/registry.py` by "
        "`tools/gen_docs.py`; do not edit by hand.",
        "",
        "mlfilter gives the verdict of one MLflow release line on one database: "
        "`check(..., mlflow_version=, backend=)`, `mlfilter check --mlflow-version V --backend B`, "
        "and `mlfilter check --compat` for all of them at once. The default release is "
        "`$MLFILTER_MLFLOW_VERSION`, else the one a store or server reports (`--store`), else the "
        "MLflow installed beside mlfilter, else the newest; the default database is the store's, "
        "else SQLite.",
        "",
        "| release line | tested at | databases |",
        "|---|---|---|",
        *(f"| {line} | {release} | {', '.join(BACKEND_NAMES[b] for b in BACKENDS)} |"
          for line, release in RELEASES.items()),
        "",
        "Verdicts on SQLite, PostgreSQL and MySQL (MariaDB) come from running MLflow on each; "
        "SQL Server's come from MLflow's source and the SQL it compiles, not from a server.",
        "",
        "## What changed, release by release",
        "",
        "`first release` is the first MLflow release with the newer behaviour, found by running "
        "the releases (tests/compat/first_releases.yaml); `last before` the newest release run "
        "that still had the older one.",
        "",
        "| first release | last before | APIs | change | id |",
        "|---|---|---|---|---|",
    ]
    for c in sorted(CHANGES, key=lambda c: (release_tuple(c.since), c.id)):
        first = c.since if c.bisected else f"{c.since} or earlier (not bisected)"
        out.append(f"| {first} | {c.last_before or ''} | {', '.join(c.apis)} | {c.summary} | "
                   f"`{c.id}` |")
    out += ["", "3.11.0 is not on the package index these tests use; its release candidate "
            "3.11.0rc1 already behaves like 3.11.1."]
    out += ["", "## What the database changes", "", "| databases | APIs | fact | id |",
            "|---|---|---|---|"]
    for f in BACKEND_FACTS:
        out.append(f"| {', '.join(BACKEND_NAMES[b] for b in f.backends)} | {', '.join(f.apis)} "
                   f"| {f.summary} | `{f.id}` |")
    lines = list(RELEASES)
    out += ["", "## The rules on every target", "",
            "The verdict MLflow gives each rule's bad example (from docs/rules.md), per release on "
            "SQLite; a database that answers differently is named in the last column. "
            "`ok` accepted, `400` rejected, `500`/`503` crashes, `404` no such search.", "",
            "| code | API | " + " | ".join(RELEASES[x] for x in lines) + " | other databases |",
            "|---|---|" + "---|" * len(lines) + "---|"]
    for rule in RULES:
        if rule.kind in ("lint", "schema", "value"):
            continue
        if rule.kind == "order_by":
            import json

            entries = [json.loads(e) if e.startswith("{") else e for e in rule.bad.split("\n")]
            matrix = compat(api=rule.api, order_by=entries)
        else:
            matrix = compat(rule.bad, rule.api)
        cells = [_cell(matrix.cell(x, "sqlite")) for x in lines]
        others = []
        for b in BACKENDS[1:]:
            row = [_cell(matrix.cell(x, b)) for x in lines]
            if row != cells:
                others.append(f"{BACKEND_NAMES[b]}: " + " / ".join(row))
        out.append(f"| {rule.code} | {rule.api} | " + " | ".join(cells) + " | "
                   + "; ".join(others) + " |")
    return "\n".join(out) + "\n"


def _cell(cell) -> str:
    if cell.verdict == "accepted":
        return "ok"
    return f"{cell.http} {cell.code}"
