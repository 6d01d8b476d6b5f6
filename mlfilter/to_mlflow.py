"""AST -> exactly the list of dicts MLflow's own parser returns for the API, value types included
(metric values stay strings, numeric attributes become int or float, lists become tuples)."""

from __future__ import annotations

from mlfilter import ast
from mlfilter.apis import NULL_OPS, get_api
from mlfilter.resolve import resolve, rewritten
from mlfilter.rules.base import Sink, literal_list, mlflow_op_text, too_long_for_int


def to_mlflow(f: ast.Filter) -> list[dict]:
    """Raises FilterError for a tree MLflow's parser has no reading of (OR, NOT, parentheses,
    a condition without comparator or value: what `parse_tree` builds and `parse` refuses)."""
    api = get_api(f.api)
    out = []
    from mlfilter.grouping import effective_comparisons

    if not _flat(f.root):
        raise _rejected(f)
    for c in effective_comparisons(f):
        if c.op is None or (c.right is None and c.op.canonical not in NULL_OPS):
            raise _rejected(f)
        if api.parser == "logged_models":
            from mlfilter.rules.logged_models import check_logged_model_comparison

            parsed = check_logged_model_comparison(c, api, Sink())
            if parsed is None:
                raise _rejected(f)
            kind, key, op, value = parsed
            out.append({"type": kind, "key": key, "comparator": op, "value": value})
            continue
        res = resolve(api, c.left.text)
        if res.target is None or (isinstance(c.right, ast.Number) and c.right.kind == "INT"
                                  and too_long_for_int(c.right.text)):
            raise _rejected(f)  # an unknown key, or an integer MLflow's int() refuses
        op = mlflow_op_text(c.op)
        if api.upper_ops_in_output:
            op = op.upper()
        kind, key, _ = rewritten(api, res.entity, res.key)
        try:
            value = _value(c.right, res.target)
        except _NoReading:
            raise _rejected(f) from None
        out.append({"type": kind, "key": key, "comparator": op, "value": value})
    return out


def _value(v, target):
    if v is None:
        return None
    if isinstance(v, ast.ListValue):
        return literal_list(v.text)[0]
    if isinstance(v, ast.String):
        return v.inner
    if isinstance(v, ast.Number) and target.output == "text":
        return v.text
    if isinstance(v, ast.Number) and target.output == "number" and v.kind in ("INT", "FLOAT"):
        return int(v.text) if v.kind == "INT" else float(v.text)
    raise _NoReading  # a word, NULL, an expression, or a number where MLflow wants a string


class _NoReading(Exception):
    """MLflow's parser rejects this value for this key: it returns no reading."""


def _flat(node) -> bool:
    """Only conditions joined with AND: the shape MLflow reads."""
    if isinstance(node, ast.And):
        return all(isinstance(item, ast.Comparison) for item in node.items)
    return node is None or isinstance(node, ast.Comparison)


def _rejected(f: ast.Filter):
    """The FilterError MLflow's verdict on the filter gives (what MLflow says instead of
    returning a parse)."""
    from mlfilter.checker import check
    from mlfilter.errors import FilterError, MlfilterError

    report = check(f.text, f.api)
    if report.ok:  # the tables and this conversion disagree: a bug of mlfilter's
        return MlfilterError(f"cannot give MLflow's parse of {f.text[:200]!r}")
    return FilterError(report)
