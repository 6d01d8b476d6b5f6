"""Python values -> filter text that MLflow reads back as exactly those values.

MLflow has no escapes: it drops the first and last characters of a quoted value, and reads
lists with Python's ast.literal_eval. So each value gets the one spelling that survives that
(checked afterwards by re-parsing, see terms.Predicate), or a BuildError if it has none.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

from mlfilter._sqlparse_words import AFTER_DOT_KEYWORDS, KEYWORDS
from mlfilter.errors import MlfilterError


class BuildError(MlfilterError, ValueError):
    """The builder cannot express what was asked, or the search API would reject it."""


BuildError.__module__ = "mlfilter"  # the name users import


_PLAIN_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def key_text(prefix: str | None, key: str) -> str:
    """`prefix.key` with the key quoted the way MLflow unquotes it (one pair of backticks or of
    quotes is removed after the prefix), or the bare key when `prefix` is None."""
    if not isinstance(key, str):
        raise BuildError(f"a key must be a string, not {type(key).__name__}")
    if key == "":
        raise BuildError("a key cannot be empty")
    segments = key.split(".")
    plain = all(_PLAIN_SEGMENT.match(s) for s in segments) and \
        not any(s.upper() in AFTER_DOT_KEYWORDS for s in segments)
    if prefix is None:
        if plain and "." not in key and key.upper() not in KEYWORDS:
            return key
        raise BuildError(f"the key {key!r} needs a prefix to be quoted")
    if plain:
        return f"{prefix}.{key}"
    for quote in ("`", '"', "'"):
        if quote not in key:
            return f"{prefix}.{quote}{key}{quote}"
    raise BuildError(f"MLflow cannot express the key {key!r}: it holds every quote character "
                     "(`, \" and '), and MLflow unquotes keys without escapes; no filter can name "
                     "it: rename the key, or filter the results yourself")


def order_key_text(prefix: str | None, key: str) -> str:
    """An order_by key MLflow reads back as `key`, ASC or DESC.

    MLflow runs an order_by entry through shlex (backticks turned into double quotes) and keeps
    shlex's reading of the key when a direction follows; then it strips the entry and one pair
    of quotes around the key. So: backticks for keys without `"`, backticks, `\\\\` or a final
    backslash; single quotes for other keys without `'` or backtick; nothing else.
    (An entry stands alone, so a trailing backslash before the closing quote is harmless.)
    """
    text = key_text(prefix, key)
    if prefix is None or text == f"{prefix}.{key}":
        return text
    problem = None
    if key != key.rstrip():
        problem = "it ends with whitespace, which MLflow strips"
    elif len(key) >= 2 and key[0] == key[-1] and key[0] in "'\"`":
        problem = "MLflow removes the quotes around it"
    elif "`" in key:
        problem = "MLflow reads a backtick in order_by as a double quote"
    elif '"' not in key and "\\\\" not in key and not key.endswith("\\"):
        return f"{prefix}.`{key}`"  # in double quotes shlex unescapes only \\ and \"
    elif "'" not in key:
        return f"{prefix}.'{key}'"  # shlex keeps single-quoted text as it is
    else:
        problem = "in order_by a key holding a single quote cannot also hold a double quote, " \
            "two backslashes in a row or a final backslash"
    raise BuildError(f"MLflow cannot order by the key {key!r}: {problem}; order the results "
                     "yourself, or rename the key")


def string_text(value: str, single_quotes_only: bool = False) -> str:
    """A quoted string MLflow reads back as `value`."""
    if not isinstance(value, str):
        raise BuildError(f"expected a string value, not {type(value).__name__}")
    if value.endswith("\\"):
        # `'abc\'` would be read as an escaped quote that does not end the string.
        raise BuildError(f"MLflow cannot express a value ending with a backslash: {value!r} "
                         "(MLflow's SQL parser reads backslash-quote as an escaped quote); match it "
                         "with LIKE and `_` for the backslash, or filter the results yourself")
    if "'" not in value:
        return f"'{value}'"
    if single_quotes_only:
        raise BuildError(f"search_logged_models cannot express a value holding a single quote: "
                         f"{value!r} (it keeps double quotes as part of the value)")
    if '"' not in value:
        return f'"{value}"'
    raise BuildError(f"MLflow cannot express a value holding both quote characters: {value!r} "
                     "(MLflow has no escapes); use .isin([value]) where the key takes a list, or "
                     "match it with LIKE and `_` for one of the quotes")


def number_text(value) -> str:
    """A number literal sqlparse reads as a number (no `+`, no `nan`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BuildError(f"expected a number, not {value!r}")
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        raise BuildError("MLflow cannot compare with NaN (no literal reads as NaN); drop the "
                         "condition, or filter the results yourself")
    if math.isinf(value):
        return "1e400" if value > 0 else "-1e400"  # MLflow's float() reads these as ±inf
    text = repr(value)
    if "e" in text or "E" in text:
        mantissa, exponent = text.lower().split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def list_text(values, single_quotes_only: bool = False) -> str:
    """A parenthesised list that Python's ast.literal_eval reads back as these strings."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise BuildError(f"expected a list of strings, not {values!r}")
    items = list(values)
    if not items:
        raise BuildError("MLflow rejects an empty list; use a condition that is always false, "
                         "or skip the search")
    out = []
    for item in items:
        if not isinstance(item, str):
            raise BuildError(f"MLflow lists hold only strings, not {item!r} (quote numbers)")
        out.append(_python_string(item))
    return "(" + ", ".join(out) + ("," if len(out) == 1 else "") + ")"


def _python_string(value: str) -> str:
    """A single-quoted Python literal (MLflow reads lists with ast.literal_eval) in which no
    backslash precedes a quote: sqlparse takes `\\'` for an escaped quote and can then split the
    list in the wrong place. So `\\` is written `\\x5c`, `'` is `\\x27`, and unprintable
    characters get Python's escapes: any string can be a list item."""
    out = []
    for ch in value:
        if ch == "\\":
            out.append("\\x5c")
        elif ch == "'":
            out.append("\\x27")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])  # \n, \t, \x00, \u200b
    return "'" + "".join(out) + "'"


def param_value(value) -> str:
    """Params and tags are strings in MLflow; numbers and bools become what MLflow stores."""
    if isinstance(value, bool) or isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise BuildError(f"param and tag values are strings, not {type(value).__name__}")


def epoch_ms(value):
    """datetime -> milliseconds since the epoch (naive datetimes are local time, as in Python)."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp()
                   * 1000)
    return value
