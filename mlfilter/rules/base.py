"""What every rule module shares: the diagnostic sink, value classes and small fix helpers."""

from __future__ import annotations

from mlfilter import ast
from mlfilter.diagnostics import Applicability, Diagnostic, Edit, Fix, Span
from mlfilter.rules.registry import default_stage, severity


class Sink:
    """Collects diagnostics; severity comes from the registry, never from the rule."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def __call__(self, code, span, message, hint=None, fix=None, notes=(), stage=None) -> None:
        self.items.append(Diagnostic(code, severity(code), span, message, hint, fix, tuple(notes),
                                     stage or default_stage(code)))


def value_class(v: ast.Operand | None) -> str:
    """sqlparse's class of a value token: string, int, float, hex, list, word or null."""
    if isinstance(v, ast.String):
        return "string"
    if isinstance(v, ast.Number):
        return {"INT": "int", "FLOAT": "float"}.get(v.kind, "hex")
    if isinstance(v, ast.ListValue):
        return "list"
    if isinstance(v, ast.Null):
        return "null"
    if isinstance(v, ast.Arith):
        return "expr"
    return "word"


def replace(title: str, span: Span, text: str, applicability=Applicability.SAFE) -> Fix:
    return Fix(title, (Edit(span, text),), applicability)


def quote(text: str) -> str | None:
    """A quoted form MLflow reads back as exactly `text`, or None if there is none."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return None


def literal_list(text: str):
    """MLflow reads a list with Python's ast.literal_eval (SearchUtils._parse_list_from_sql_token).
    Returns (tuple or None, problem or None)."""
    import ast as pyast

    try:
        parsed = pyast.literal_eval(text)
    except SyntaxError:
        return None, "ill-formed"  # MLflow answers 400
    except (ValueError, TypeError, MemoryError, RecursionError):
        return None, "malformed"  # not a literal (a bare word): MLflow crashes with a 500
    parsed = parsed if isinstance(parsed, tuple) else (parsed,)
    if not parsed:
        return parsed, "empty"
    if not all(isinstance(x, str) for x in parsed):
        return parsed, "not-strings"
    return parsed, None


def mlflow_op_text(op: ast.Operator) -> str:
    """The comparator text MLflow's parser keeps: as written, except the keywords it builds."""
    canonical = op.canonical
    if canonical in ("NOT IN", "IS NULL", "IS NOT NULL"):
        return canonical
    return op.text


def did_you_mean(word: str, options, cutoff: float = 0.6) -> str | None:
    """The closest option (case-insensitive first), or None."""
    options = list(options)
    for o in options:
        if o.lower() == word.lower():
            return o
    import difflib  # only on the error path

    match = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return match[0] if match else None
