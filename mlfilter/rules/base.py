"""What every rule module shares: the diagnostic sink, value classes and small fix helpers."""

from __future__ import annotations

import re

from mlfilter import ast
from mlfilter.diagnostics import Applicability, Diagnostic, Edit, Fix, Span, brief
from mlfilter.rules.registry import default_stage, severity


class Sink:
    """Collects diagnostics; severity comes from the registry, never from the rule."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def __call__(self, code, span, message, hint=None, fix=None, notes=(), stage=None) -> None:
        self.items.append(Diagnostic(code, severity(code), span, brief(message),
                                     None if hint is None else brief(hint), fix, tuple(notes),
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


# CPython's int() refuses a decimal string of more than 4,300 digits (sys.int_info.
# default_max_str_digits, Python 3.11+); MLflow's server runs with that default, so a longer
# integer fails wherever MLflow calls int(). Below 640 digits the limit is never checked.
INT_MAX_STR_DIGITS = 4300
_UNCHECKED_DIGITS = 640
_INT_TEXT = re.compile(r"\s*[+-]?\d+(?:_\d+)*\s*\Z")  # what int() reads in base 10


def int_digits(text: str) -> int:
    """How many digits int() counts in `text` (0 when it is not an integer)."""
    if not _INT_TEXT.match(text):
        return 0
    body = text.strip()
    return len(body) - (body[0] in "+-") - body.count("_")


def too_long_for_int(text: str) -> bool:
    """Whether MLflow's int() of `text` fails for its length alone."""
    return len(text) > INT_MAX_STR_DIGITS and int_digits(text) > INT_MAX_STR_DIGITS


def read_int(text: str) -> int | None:
    """The integer int() reads from `text`, or None; whatever its length or this process's
    limit. Beyond 640 significant digits it is clamped to +-10**640, which is past every column's
    range and keeps its order against every smaller number (converting exactly is quadratic)."""
    if len(text) <= _UNCHECKED_DIGITS:
        try:
            return int(text)
        except ValueError:
            return None
    if not _INT_TEXT.match(text):
        return None
    body = text.strip()
    sign = -1 if body[0] == "-" else 1
    digits = body.lstrip("+-").replace("_", "").lstrip("0") or "0"
    if len(digits) > _UNCHECKED_DIGITS:
        return sign * 10**_UNCHECKED_DIGITS
    return sign * int(digits)


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


_GUESSES: dict = {}


def did_you_mean(word: str, options, cutoff: float = 0.6) -> str | None:
    """The closest option (case-insensitive first), or None (memoized: difflib is slow)."""
    options = tuple(options)
    if len(word) > 200:  # (a giant key is not kept)
        return _did_you_mean(word, options, cutoff)
    key = (word, options, cutoff)
    if key not in _GUESSES:
        if len(_GUESSES) >= 1024:
            _GUESSES.clear()
        _GUESSES[key] = _did_you_mean(word, options, cutoff)
    return _GUESSES[key]


def _did_you_mean(word: str, options, cutoff: float) -> str | None:
    for o in options:
        if o.lower() == word.lower():
            return o
    import difflib  # only on the error path

    match = difflib.get_close_matches(word, options, n=1, cutoff=cutoff)
    return match[0] if match else None
