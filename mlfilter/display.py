"""Rich output for notebooks: HTML (`_repr_html_`) and terminal text (`_repr_pretty_`) of reports,
filters, builder expressions and queries, schemas and explain results.

Standard library only, and nothing here runs unless an object is displayed. Every piece of user
content (filters, keys, values, messages that quote them, store URIs) goes through `_e`, which
escapes `<`, `>`, `&` and both quotes, and replaces control characters with a visible mark.
The HTML carries its own small stylesheet (class names all start with `mlfilter`) and still reads
when a viewer strips it: spans are `<mark>` elements and tables are plain tables.
"""

from __future__ import annotations

import html

# Shown as text, not as a raw character: a NUL or an escape sequence in a filter would otherwise
# vanish (or be invalid HTML) and the highlight would seem to point at nothing.
_CONTROL = {i: "\N{REPLACEMENT CHARACTER}" for i in range(32) if chr(i) not in "\n\t"}
_CONTROL[0x7F] = "\N{REPLACEMENT CHARACTER}"

SAMPLE_SHOWN = 8  # sample values shown per key
ROWS_SHOWN = 300  # keys shown per table (the rest are counted)

_STYLE = """<style>
.mlfilter{font-family:var(--jp-code-font-family,ui-monospace,SFMono-Regular,Menlo,Consolas,monospace);
 font-size:13px;line-height:1.45;color:inherit}
.mlfilter pre.mlfilter-source{margin:4px 0 6px;padding:6px 8px;background:rgba(127,127,127,.10);
 border-radius:4px;white-space:pre-wrap;word-break:break-all}
.mlfilter mark.mlfilter-highlight{color:inherit;padding:0 1px;border-radius:2px}
.mlfilter mark.mlfilter-error{background:rgba(220,40,40,.28);border-bottom:2px solid #d22}
.mlfilter mark.mlfilter-warning{background:rgba(230,150,0,.30);border-bottom:2px solid #c70}
.mlfilter mark.mlfilter-info{background:rgba(40,120,230,.25);border-bottom:2px solid #27e}
.mlfilter mark.mlfilter-empty{background:none;border-bottom:none;border-left:2px solid #d22}
.mlfilter .mlfilter-label-error{color:#d22;font-weight:bold}
.mlfilter .mlfilter-label-warning{color:#c70;font-weight:bold}
.mlfilter .mlfilter-label-info{color:#27e;font-weight:bold}
.mlfilter .mlfilter-diagnostic{margin:6px 0 10px}
.mlfilter .mlfilter-where,.mlfilter .mlfilter-muted{opacity:.7}
.mlfilter .mlfilter-hint,.mlfilter .mlfilter-fix,.mlfilter .mlfilter-note{margin-left:1em}
.mlfilter ins.mlfilter-inserted{text-decoration:none;background:rgba(40,170,70,.28);
 border-bottom:2px solid #2a4}
.mlfilter .mlfilter-verdict{font-weight:bold;margin:4px 0}
.mlfilter .mlfilter-accepted{color:#2a4}
.mlfilter .mlfilter-rejected{color:#d22}
.mlfilter .mlfilter-key{color:#27c}
.mlfilter .mlfilter-value{color:#a52}
.mlfilter .mlfilter-op,.mlfilter .mlfilter-keyword{font-weight:bold}
.mlfilter table{border-collapse:collapse;margin:4px 0 8px;font-size:12px}
.mlfilter th,.mlfilter td{border:1px solid rgba(127,127,127,.35);padding:2px 8px;text-align:left;
 vertical-align:top}
.mlfilter td.mlfilter-number{text-align:right}
.mlfilter tr.mlfilter-empties td{background:rgba(220,40,40,.18);font-weight:bold}
.mlfilter code.mlfilter-sample{background:rgba(127,127,127,.12);padding:0 3px;margin-right:3px;
 border-radius:3px;white-space:nowrap}
.mlfilter details summary{cursor:pointer;font-weight:bold;margin:4px 0}
</style>"""


def _e(value) -> str:
    """Escaped text of any value (both quote kinds included), control characters made visible."""
    return html.escape(str(value).translate(_CONTROL), quote=True)


def _box(kind: str, body: str) -> str:
    return f'<div class="mlfilter mlfilter-{kind}">{_STYLE}{body}</div>'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---- reports ------------------------------------------------------------------------------------

def report_html(report) -> str:
    from mlfilter.render import render_summary

    label = report.kind
    parts = []
    verdict = "accepted" if report.ok else "rejected"
    parts.append(f'<div class="mlfilter-verdict mlfilter-{verdict}">{_e(render_summary(report))}'
                 "</div>")
    if not report.diagnostics:
        parts.append(f'<pre class="mlfilter-source">{_e(report.source)}</pre>')
    for d in report.diagnostics:
        sev = d.severity.value
        line, col = report.line_col(min(d.span.start, len(report.source)))
        block = [f'<div class="mlfilter-diagnostic mlfilter-{sev}" data-code="{_e(d.code)}">',
                 f'<div class="mlfilter-head"><span class="mlfilter-label-{sev}">'
                 f"{_e(sev)}[{_e(d.code)}]</span>: {_e(d.message)}</div>",
                 f'<div class="mlfilter-where">--&gt; {_e(label)}:{line}:{col}</div>',
                 f'<pre class="mlfilter-source">{_highlighted(report.source, d)}</pre>']
        if d.hint:
            block.append(f'<div class="mlfilter-hint"><b>help:</b> {_e(d.hint)}</div>')
        if d.fix is not None:
            block.append(f'<div class="mlfilter-fix"><b>fix ({_e(d.fix.applicability.value)}):'
                         f"</b> {_e(d.fix.title)}</div>")
            block.append(f'<pre class="mlfilter-source mlfilter-fixed">'
                         f"{_fixed(report.source, d.fix)}</pre>")
        for note in d.notes:
            block.append(f'<div class="mlfilter-note"><b>note:</b> {_e(note)}</div>')
        block.append("</div>")
        parts.append("".join(block))
    return _box("report", "".join(parts))


def _highlighted(source: str, d) -> str:
    """The source with the diagnostic's span in a <mark>; an empty span is a visible bar."""
    start = max(0, min(d.span.start, len(source)))
    end = max(start, min(d.span.end, len(source)))
    sev = d.severity.value
    title = _e(f"{d.code}: {d.message}")
    if start == end:
        mark = (f'<mark class="mlfilter-highlight mlfilter-{sev} mlfilter-empty" '
                f'title="{title}">\N{ZERO WIDTH SPACE}</mark>')
    else:
        mark = (f'<mark class="mlfilter-highlight mlfilter-{sev}" title="{title}">'
                f"{_e(source[start:end])}</mark>")
    return _e(source[:start]) + mark + _e(source[end:])


def _fixed(source: str, fix) -> str:
    """The source with one fix applied, the inserted text marked."""
    out, pos = [], 0
    for edit in sorted(fix.edits, key=lambda e: (e.span.start, e.span.end)):
        start = max(pos, min(edit.span.start, len(source)))
        out.append(_e(source[pos:start]))
        if edit.replacement:
            out.append(f'<ins class="mlfilter-inserted">{_e(edit.replacement)}</ins>')
        pos = max(start, min(edit.span.end, len(source)))
    out.append(_e(source[pos:]))
    return "".join(out)


def report_text(report) -> str:
    from mlfilter.render import render_summary, render_text

    summary = render_summary(report)
    if not report.diagnostics:
        return f"{report.kind}: {report.source}\n{summary}"
    return f"{render_text(report)}\n\n{summary}"


# ---- filters and builder expressions ------------------------------------------------------------

def _code_spans(filt) -> list[tuple[int, int, str]]:
    """(start, end, css class) of keys, operators and values, in source order."""
    from mlfilter import ast

    out = []
    for c in ast.iter_comparisons(filt.root):
        out.append((c.left.span.start, c.left.span.end, "mlfilter-key"))
        if c.op is not None:
            out.append((c.op.span.start, c.op.span.end, "mlfilter-op"))
        if c.right is not None:
            out.append((c.right.span.start, c.right.span.end, "mlfilter-value"))
    out.sort()
    return out


def code_html(filt) -> str:
    """A filter's text as written, its keys, operators and values coloured."""
    import re

    text = filt.text
    out, pos = [], 0

    def gap(s: str) -> str:
        return re.sub(r"\b(AND|OR|NOT)\b", r'<span class="mlfilter-keyword">\1</span>', _e(s),
                      flags=re.IGNORECASE)

    for start, end, css in _code_spans(filt):
        if start < pos or end > len(text):
            continue
        out.append(gap(text[pos:start]))
        out.append(f'<span class="{css}">{_e(text[start:end])}</span>')
        pos = end
    out.append(gap(text[pos:]))
    return f'<pre class="mlfilter-source">{"".join(out)}</pre>'


def filter_html(filt) -> str:
    parts = [f'<div class="mlfilter-muted">filter ({_e(filt.api)})</div>', code_html(filt)]
    try:
        read = filt.to_mlflow()
    except Exception:  # a tree with errors in it (parse_tree): there is nothing MLflow reads
        read = None
    if read:
        rows = "".join(
            f"<tr><td>{_e(c.get('type', ''))}</td><td>{_e(c.get('key', ''))}</td>"
            f"<td>{_e(c.get('comparator', ''))}</td><td>{_e(_show_value(c.get('value')))}</td></tr>"
            for c in read)
        parts.append('<div class="mlfilter-muted">what MLflow reads:</div>'
                     "<table><tr><th>type</th><th>key</th><th>comparator</th><th>value</th></tr>"
                     f"{rows}</table>")
    return _box("filter", "".join(parts))


def _show_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(repr(v) for v in value) + ")"
    return repr(value) if isinstance(value, str) else str(value)


def filter_text(filt) -> str:
    lines = [f"filter ({filt.api}): {filt.text}"]
    try:
        read = filt.to_mlflow()
    except Exception:
        read = []
    for c in read:
        lines.append(f"  {c.get('type')} {c.get('key')!r} {c.get('comparator')} "
                     f"{_show_value(c.get('value'))}")
    return "\n".join(lines)


def _needs_union(node) -> bool:
    from mlfilter import ast

    stack = [node.root] if node.root is not None else []
    while stack:
        n = stack.pop()
        if isinstance(n, (ast.Or, ast.Not)):
            return True
        if isinstance(n, ast.And):
            stack.extend(n.items)
        elif isinstance(n, ast.Group):
            stack.append(n.item)
    return False


def predicate_html(p) -> str:
    parts = [code_html(p.node)]
    if _needs_union(p.node):
        parts.append('<div class="mlfilter-muted">MLflow has no OR or NOT: a query runs this as '
                     "several searches and merges them (see <code>.filters()</code>)</div>")
    return _box("predicate", "".join(parts))


def predicate_text(p) -> str:
    return p.text


def term_html(term) -> str:
    return _box("term", f'<code class="mlfilter-key">{_e(term.text)}</code> '
                        f'<span class="mlfilter-muted">({_e(term.kind)} key {_e(repr(term.key))},'
                        f" {_e(repr(term))})</span>")


def order_html(order) -> str:
    return _box("order", f'<code class="mlfilter-key">{_e(str(order))}</code>')


# ---- queries ------------------------------------------------------------------------------------

def _scope(q) -> str:
    s = q.spec
    if q.scope_names and not q.scope:
        return f"experiment_names={list(q.scope_names)!r}"
    if s.scope is not None:
        return f"experiment_ids={[str(x) for x in q.scope]!r}"
    return ""


_VIEW = {1: "ACTIVE_ONLY", 2: "DELETED_ONLY", 3: "ALL"}


def _query_extras(q) -> list[tuple[str, str]]:
    out = []
    if q.orders:
        out.append(("order_by", repr(list(q.orders))))
    if q.view_type is not None:
        out.append((q.spec.view_kw or "view_type", _VIEW.get(q.view_type, str(q.view_type))))
    if q.max_results is not None:
        out.append(("max_results", str(q.max_results)))
    return out


def query_html(q) -> str:
    filters = q.filters()
    head = (f'<div><b>search_{_e(q.spec.api)}</b>(<span class="mlfilter-muted">{_e(_scope(q))}'
            "</span>)</div>")
    if len(filters) > 1:
        note = (f'<div class="mlfilter-muted">MLflow has no OR: <code>.run()</code> runs these '
                f"{len(filters)} searches and merges their results</div>")
    else:
        note = ""
    rows = "".join(f'<tr><td class="mlfilter-number">{i}</td><td><code>{_e(f) or "&#39;&#39;"}'
                   "</code></td></tr>" for i, f in enumerate(filters, 1))
    table = f"<table><tr><th>#</th><th>filter_string</th></tr>{rows}</table>"
    extras = "".join(f"<div><b>{_e(k)}:</b> <code>{_e(v)}</code></div>" for k, v in _query_extras(q))
    return _box("query", head + note + table + extras)


def query_text(q) -> str:
    filters = q.filters()
    n = len(filters)
    head = f"search_{q.spec.api}({_scope(q)})"
    if n > 1:
        head += f": {n} searches (MLflow has no OR), merged by .run()"
    lines = [head] + [f"  {i}. {f!r}" for i, f in enumerate(filters, 1)]
    lines += [f"  {k}: {v}" for k, v in _query_extras(q)]
    return "\n".join(lines)


# ---- schemas ------------------------------------------------------------------------------------

_RUN_ENTITIES = (("params", "params"), ("metrics", "metrics"), ("tags", "tags"))


def _runs(exp) -> int:
    return sum(exp.runs.values())


def _key_tables(schema):
    """(title, {key: KeyInfo}, {key: experiment names} or None, metric?, what is counted) for
    each entity the schema has keys of."""
    from mlfilter.schema.model import merged

    exps = list(schema.experiments.values())
    out = []
    for title, attr in _RUN_ENTITIES:
        keys = merged([getattr(e, attr) for e in exps])
        where = {k: [e.name for e in exps if k in getattr(e, attr)] for k in keys}
        out.append((f"run {title}", keys, where, attr == "metrics", "runs"))
    exp_tags = merged([e.experiment_tags for e in exps])
    if exp_tags:
        out.append(("experiment tags", exp_tags,
                    {k: [e.name for e in exps if k in e.experiment_tags] for k in exp_tags}, False,
                    "experiments"))
    for title, keys, count in (("registered models", schema.registered_models, "models"),
                               ("model versions", schema.model_versions, "versions")):
        if keys:
            out.append((title, keys, None, False, count))
    for group, title in ((schema.logged_models, "logged models"), (schema.traces, "traces")):
        for entity, keys in sorted(group.items()):
            if keys:
                out.append((f"{title}: {entity}", keys, None, entity == "metrics",
                            title.split()[-1]))
    return out


def _values(info, metric: bool) -> str:
    if metric:
        if info.minimum is None:
            text = "no finite values"
        else:
            text = f"{_num(info.minimum)} .. {_num(info.maximum)}"
        return text + (f" ({info.nan} NaN)" if info.nan else "")
    shown = info.sample[:SAMPLE_SHOWN]
    text = ", ".join(repr(v) for v in shown)
    more = max(info.distinct, len(info.sample)) - len(shown)
    return text + (f", ... {more} more" if more > 0 else "")


def _num(x) -> str:
    return f"{x:.6g}"


def _values_html(info, metric: bool) -> str:
    if metric:
        return _e(_values(info, True))
    shown = info.sample[:SAMPLE_SHOWN]
    chips = "".join(f'<code class="mlfilter-sample">{_e(repr(v))}</code>' for v in shown)
    more = max(info.distinct, len(info.sample)) - len(shown)
    return chips + (f'<span class="mlfilter-muted">... {more} more</span>' if more > 0 else "")


def schema_html(schema) -> str:
    exps = list(schema.experiments.values())
    parts = [f"<div><b>schema</b> of <code>{_e(schema.source or 'a tracking store')}</code></div>"]
    if exps:
        rows = "".join(f"<tr><td>{_e(e.experiment_id)}</td><td>{_e(e.name)}</td>"
                       f'<td class="mlfilter-number">{_runs(e)}</td><td>{_e(e.lifecycle_stage)}'
                       "</td></tr>" for e in exps)
        parts.append("<table><tr><th>experiment id</th><th>name</th><th>runs</th><th>stage</th>"
                     f"</tr>{rows}</table>")
    for title, keys, where, metric, counted in _key_tables(schema):
        heads = ["key", "kind", counted, "values" if not metric else "range of latest values"]
        if where is not None:
            heads.insert(3, "experiments")
        rows = []
        for key in sorted(keys)[:ROWS_SHOWN]:
            info = keys[key]
            cells = [f'<td><code class="mlfilter-key">{_e(key)}</code></td>',
                     f"<td>{_e('float' if metric else info.kind)}</td>",
                     f'<td class="mlfilter-number">{info.entities}</td>']
            if where is not None:
                cells.append(f"<td>{_e(', '.join(where[key]))}</td>")
            cells.append(f"<td>{_values_html(info, metric)}</td>")
            rows.append(f'<tr data-key="{_e(key)}">{"".join(cells)}</tr>')
        more = len(keys) - ROWS_SHOWN
        if more > 0:
            rows.append(f'<tr><td colspan="{len(heads)}" class="mlfilter-muted">... and {more} '
                        "more keys</td></tr>")
        head = "".join(f"<th>{h}</th>" for h in heads)
        body = f"<table><tr>{head}</tr>{''.join(rows)}</table>" if keys else \
            '<div class="mlfilter-muted">none logged</div>'
        parts.append(f"<details open><summary>{_e(title)} ({_plural(len(keys), 'key')})</summary>"
                     f"{body}</details>")
    return _box("schema", "".join(parts))


def schema_text(schema) -> str:
    exps = list(schema.experiments.values())
    lines = [f"schema of {schema.source or 'a tracking store'}: "
             f"{_plural(len(exps), 'experiment')}"]
    for e in exps:
        lines.append(f"  {e.experiment_id}  {e.name}  ({_plural(_runs(e), 'run')})")
    for title, keys, _where, metric, _counted in _key_tables(schema):
        lines.append(f"{title} ({_plural(len(keys), 'key')})")
        width = min(32, max([len(k) for k in keys] or [0]))
        for key in sorted(keys)[:ROWS_SHOWN]:
            info = keys[key]
            kind = "float" if metric else info.kind
            lines.append(f"  {key:<{width}}  {kind:<7}  {_values(info, metric)}")
        if len(keys) > ROWS_SHOWN:
            lines.append(f"  ... and {len(keys) - ROWS_SHOWN} more keys")
    return "\n".join(lines)


def keys_html(keys) -> str:
    """A notebook view of `schema.metrics` (and params, tags): the keys and how to use them."""
    metric = keys._mlfilter_entity == "metrics"
    rows = []
    for key in sorted(keys._mlfilter_infos)[:ROWS_SHOWN]:
        info = keys._mlfilter_infos[key]
        rows.append(f'<tr><td><code class="mlfilter-key">{_e(keys._access(key))}</code></td>'
                    f"<td>{_e('float' if metric else info.kind)}</td>"
                    f"<td>{_values_html(info, metric)}</td></tr>")
    head = (f"<div><b>{_e(keys._mlfilter_entity)}</b> of <code>{_e(keys._mlfilter_where)}</code> "
            f"({_plural(len(keys._mlfilter_infos), 'key')})</div>")
    return _box("keys", head + "<table><tr><th>access</th><th>kind</th><th>values</th></tr>"
                + "".join(rows) + "</table>")


# ---- explain ------------------------------------------------------------------------------------

def explanation_html(e) -> str:
    from mlfilter.explain import _n

    total = "?" if e.total is None else _n(e.total, e.at_least)
    emptied = e.emptied_by
    parts = [f"<div><b>runs searched:</b> {_e(total)} "
             f'<span class="mlfilter-muted">({_e(e.source)})</span></div>',
             f'<pre class="mlfilter-source">{_e(e.filter)}</pre>']
    rows = []
    for row in e.rows:
        empties = row.clause == emptied
        css = ' class="mlfilter-empties"' if empties else ""
        mark = "&larr; empties the result" if empties else ""
        rows.append(f"<tr{css}><td><code>{_e(row.clause)}</code></td>"
                    f'<td class="mlfilter-number">{_e(_n(row.alone, e.at_least))}</td>'
                    f'<td class="mlfilter-number">{_e(_n(row.remaining, e.at_least))}</td>'
                    f"<td>{mark}</td></tr>")
    parts.append("<table><tr><th>condition</th><th>alone</th><th>remaining</th><th></th></tr>"
                 f"{''.join(rows)}</table>")
    parts.extend(f'<div class="mlfilter-note"><b>note:</b> {_e(n)}</div>' for n in e.notes)
    return _box("explain", "".join(parts))


# ---- IPython's pretty printer -------------------------------------------------------------------

def pretty(text: str, p, cycle: bool) -> None:
    """Write `text` through IPython's pretty printer, one `p.break_()` per line so that
    indentation inside containers stays right."""
    if cycle:
        p.text("...")
        return
    for i, line in enumerate(text.split("\n")):
        if i:
            p.break_()
        p.text(line)
