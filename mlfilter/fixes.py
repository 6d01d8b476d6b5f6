"""Apply fixes: non-overlapping edits, right to left, safe ones unless asked otherwise."""

from __future__ import annotations

from mlfilter.diagnostics import Applicability, Edit


def apply_fixes(text: str, diagnostics, unsafe: bool = False) -> str:
    """`text` with the fixes of `diagnostics` applied. Overlapping edits are skipped (the first,
    by position, wins); run again to apply the rest."""
    edits: list[Edit] = []
    for d in diagnostics:
        if d.fix is None or (d.fix.applicability is Applicability.UNSAFE and not unsafe):
            continue
        edits.extend(d.fix.edits)
    edits.sort(key=lambda e: (e.span.start, e.span.end))
    chosen: list[Edit] = []
    last_end = -1
    for e in edits:
        if e.span.start >= last_end or (e.span.start == e.span.end == last_end):
            chosen.append(e)
            last_end = max(last_end, e.span.end)
    for e in reversed(chosen):
        text = text[: e.span.start] + e.replacement + text[e.span.end :]
    return text


# Fixes are written to reach their fixed point in a round or two; the cap only keeps a rule
# that ever undid another's fix from looping (the property tests check fix(fix(x)) == fix(x)).
MAX_ROUNDS = 20


def fix_filter(filter_string: str, api: str = "runs", unsafe: bool = False,
               max_rounds: int = MAX_ROUNDS, mlflow_version: str | None = None,
               backend: str | None = None) -> str:
    """Check and fix until nothing changes (fixes can uncover further fixes). UTF-8 bytes are
    fixed as the text they hold; None (no filter) stays None; anything else that is not text
    raises FilterError (MF001)."""
    from mlfilter.checker import check

    if filter_string is None:
        return None
    text = filter_string
    if not isinstance(text, str):
        from mlfilter.errors import FilterError

        report = check(text, api, mlflow_version=mlflow_version, backend=backend)
        if any(d.code == "MF001" for d in report.diagnostics):
            raise FilterError(report)
        text = report.source
    for _ in range(max_rounds):
        report = check(text, api, mlflow_version=mlflow_version, backend=backend)
        fixed = apply_fixes(text, report.diagnostics, unsafe=unsafe)
        if fixed == text:
            break
        text = fixed
    return text


__all__ = ["apply_fixes", "fix_filter"]
