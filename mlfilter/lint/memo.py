"""The checker's reports, remembered by what they are a function of: a code base repeats its
filters, and an editor lints the same file again on every keystroke (only the filter that was
edited is checked again). Bounded; the oldest entries go first."""

from __future__ import annotations

_MEMO: dict = {}
MEMO_SIZE = 4096


def memoized(checkfn, values: list, memo, target: dict):
    """checkfn(values), remembered by (kind, API, schema, values, MLflow target); `memo` is
    (kind, API, schema), or None not to remember. Reports are frozen, so one can be shared."""
    if memo is None:
        return checkfn(values)
    from mlfilter.versions import default_version

    kind, api, schema = memo
    key = (kind, api, id(schema), tuple(values), target.get("mlflow_version") or
           default_version(), target.get("backend"))
    try:
        hit = _MEMO.get(key)
    except TypeError:  # a dict among logged-model order_by entries
        return checkfn(values)
    if hit is not None and hit[0] is schema:
        return hit[1]
    report = checkfn(values)
    if len(_MEMO) >= MEMO_SIZE:
        for old in list(_MEMO)[: MEMO_SIZE // 4]:
            del _MEMO[old]
    _MEMO[key] = (schema, report)
    return report
