"""`mlfilter demo`: typical mistaken searches, checked (no store or server needed)."""

from __future__ import annotations

# (api, filter, order_by): mistakes people make, each with what MLflow does.
EXAMPLES: tuple[tuple[str, str, list[str] | None], ...] = (
    ("runs", "params.batch_size = 32", None),
    ("runs", "params.learning_rate 0.001", None),
    ("runs", "attributes.status = 'COMPLETED'", None),
    ("runs", "metrics.acc > 0.8 OR params.optimizer = 'adam'", None),
    ("runs", "metrics.accuracy > '0.8'", None),
    ("runs", "metric.loss < 0.5 AND start_time > 1700000000", None),
    ("runs", "tags.mlflow.runName LIKE 'baseline'", ["metrics.loss", "metrics.loss DESC"]),
    ("experiments", "name like 'prod-%'", None),
    ("registered_models", "tags.stage IS NULL", None),
    ("logged_models", "metrics.score > '0.5' AND name = \"classifier\"", None),
    ("traces", "span.attributes.model = 'gpt-4o'", None),
)


def run(out, color: bool) -> int:
    from mlfilter.checker import check, check_order_by
    from mlfilter.render import render_summary, render_text

    for api, text, order_by in EXAMPLES:
        out.write(f"$ mlfilter check --api {api} {_shell_quote(text)}"
                  + "".join(f" --order-by {_shell_quote(o)}" for o in order_by or ()) + "\n")
        reports = [check(text, api)]
        if order_by:
            reports.append(check_order_by(order_by, api))
        for report in reports:
            rendered = render_text(report, color=color)
            if rendered:
                out.write(rendered + "\n")
        out.write(render_summary(reports[0]) if len(reports) == 1 else
                  f"{render_summary(reports[0])}; {render_summary(reports[1])}")
        out.write("\n\n")
    return 0


def _shell_quote(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
