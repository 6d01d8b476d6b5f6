"""Hover: on a finding, its rule (what is wrong, why MLflow cares, the link); on a filter string,
how MLflow reads it (`Filter.to_mlflow()`, the conditions MLflow's own parser returns)."""

from __future__ import annotations

import pprint

from lsprotocol import types

from mlfilter.lsp.diagnostics import lsp_range


def _covers(r, line: int, col: int) -> bool:
    """Whether a finding's 1-based range holds the 1-based (line, col); an empty range holds the
    character after it."""
    start, end = (r.line, r.col), (r.end_line, max(r.end_col, r.col + 1) if
                                   r.end_line == r.line else r.end_col)
    return start <= (line, col) <= end


def rule_text(r) -> str:
    """A finding and its rule, in Markdown."""
    from mlfilter.docs import rule_url
    from mlfilter.rules.registry import BY_CODE

    rule = BY_CODE.get(r.code)
    lines = [f"**{r.code}** `{rule.name if rule else r.code}` ({r.severity}): {r.message}"]
    if r.hint:
        lines += ["", f"help: {r.hint}"]
    if rule is not None:
        lines += ["", f"{rule.summary[:1].upper()}{rule.summary[1:]}. {rule.why}"]
    lines += ["", f"[{r.code} in the rule reference]({rule_url(r.code)})"]
    return "\n".join(lines)


def filter_text(argument, config) -> str | None:
    """How MLflow reads the filter argument, in Markdown (None for an order_by entry)."""
    from mlfilter.checker import FilterError, parse
    from mlfilter.versions import BACKEND_NAMES, RELEASES, default_version, resolve_backend

    if argument.kind != "filter":
        return None
    line = config.mlflow_version or default_version()
    backend = resolve_backend(config.backend)
    where = (f"`{argument.call}` ({argument.api}), MLflow {RELEASES.get(line, line)} on "
             f"{BACKEND_NAMES.get(backend, backend)}")
    value = argument.value
    if value is None:
        return (f"{where}: the filter has f-string placeholders, so how MLflow reads it depends "
                "on their values")
    try:
        conditions = parse(value, argument.api, **config.mlflow_target).to_mlflow()
    except FilterError as e:
        first = e.report.diagnostics[0] if e.report.diagnostics else None
        why = f" ({first.code}: {first.message})" if first else ""
        return f"{where}: MLflow rejects this filter{why}"
    except ValueError as e:
        return f"{where}: MLflow rejects this filter ({e})"
    if not conditions:
        return f"{where}: an empty filter, every entity matches"
    shown = pprint.pformat(conditions, width=72, sort_dicts=False)
    return f"How MLflow reads this filter, {where}:\n\n```python\n{shown}\n```"


def hover(analysis, uri: str, offset: int, line: int, col: int, lines,
          encoding: str) -> types.Hover | None:
    """The hover at a character `offset` (1-based `line`, `col`) of the part `uri`."""
    part = analysis.parts.get(uri)
    if part is None:
        return None
    sections, rng = [], None
    for r in part.reported:
        if _covers(r, line, col):
            sections.append(rule_text(r))
            rng = rng or lsp_range(lines, r.line, r.col, r.end_line, r.end_col, encoding)
    if part.base is not None:
        at = part.base + offset
        for argument in analysis.arguments():
            if argument.start <= at < argument.end:
                text = filter_text(argument, analysis.config)
                if text is not None:
                    sections.append(text)
                    if rng is None:
                        a = lines.position(argument.start - part.base, encoding)
                        b = lines.position(argument.end - part.base, encoding)
                        rng = types.Range(types.Position(*a), types.Position(*b))
                break
    if not sections:
        return None
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(sections)),
                       rng)
