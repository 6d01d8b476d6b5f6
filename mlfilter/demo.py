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


# Searches that MLflow runs, but that cannot match what the demo store holds, and one to explain.
STORE_EXAMPLES = (
    "params.optimizer = 'Adam'",
    "params.learning_rate = '1e-3' AND metrics.accuracy > 0.95",
    "params.accuracy = '0.9'",
    "params.old_flag = '1'",
)
EXPLAIN_EXAMPLE = "params.optimizer = 'adam' AND params.batch_size = '128' AND metrics.accuracy > 0.9"


def run(out, color: bool) -> int:
    _run_checks(out, color)
    _run_store(out, color)
    return 0


def _run_checks(out, color: bool) -> None:
    from mlfilter.checker import check, check_order_by
    from mlfilter.render import render_summary, render_text

    for api, text, order_by in EXAMPLES:
        out.write(f"$ mlfilter check --api {api} {_shell_quote(text)}"
                  + "".join(f" --order-by {_shell_quote(o)}" for o in order_by or ()) + "\n")
        reports = [check(text, api)]
        if order_by:
            reports.append(check_order_by(order_by, api))
        # laid out as `mlfilter check` prints it
        for report in reports:
            rendered = render_text(report, color=color)
            if rendered:
                out.write(rendered + "\n\n")
        out.write(" ; ".join(render_summary(r) for r in reports) + "\n\n")


def _run_store(out, color: bool) -> None:
    """Type checks against the demo store's schema snapshot (no extra needed), then explain on
    the demo store itself (needs mlfilter[store])."""
    import os

    from mlfilter.checker import check
    from mlfilter.render import render_summary, render_text

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    snapshot, db = os.path.join(here, "demo_schema.json"), os.path.join(here, "demo.db")
    out.write("# Type checks against the demo tracking store (mlfilter/data/demo.db)\n\n")
    for text in STORE_EXAMPLES:
        out.write(f"$ mlfilter check --schema demo_schema.json --experiment demo-classifier "
                  f"{_shell_quote(text)}\n")
        report = check(text, "runs", schema=snapshot, experiment_ids=["demo-classifier"])
        rendered = render_text(report, color=color)
        if rendered:
            out.write(rendered + "\n\n")
        out.write(render_summary(report) + "\n\n")
    out.write(f"$ mlfilter explain --store sqlite:///demo.db --experiment demo-classifier "
              f"{_shell_quote(EXPLAIN_EXAMPLE)}\n")
    try:
        from dataclasses import replace

        from mlfilter.explain import explain

        explained = explain(EXPLAIN_EXAMPLE, f"sqlite:///{db}", ["demo-classifier"])
        # the store as the command above names it, not the install's path
        out.write(str(replace(explained, source="sqlite:///demo.db")) + "\n")
    except ImportError:
        out.write("(explain reads the store itself: install mlfilter[store] to run it)\n")
    except Exception as e:  # noqa: BLE001 - a demo shows the problem instead of failing
        from mlfilter.checker import MlfilterError

        if not isinstance(e, MlfilterError):
            raise
        out.write(f"(explain could not run: {e})\n")


def _shell_quote(text: str) -> str:
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
