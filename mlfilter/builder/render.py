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


class BuildError(ValueError):
    """The builder cannot express what was asked, or the search API would reject it."""


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
    raise BuildError(f"MLflow cannot express the key {key!r}: it holds every quote character")


def string_text(value: str, single_quotes_only: bool = False) -> str:
    """A quoted string MLflow reads back as `value`."""
    if not isinstance(value, str):
        raise BuildError(f"expected a string value, not {type(value).__name__}")
    if value.endswith("\\"):
        # `'abc\'` would be read as an escaped quote that does not end the string.
        raise BuildError(f"MLflow cannot express a value ending with a backslash: {value!r}")
    if "'" not in value:
        return f"'{value}'"
    if single_quotes_only:
        raise BuildError(f"search_logged_models cannot express a value holding a single quote: "
                         f"{value!r} (it keeps double quotes as part of the value)")
    if '"' not in value:
        return f'"{value}"'
    raise BuildError(f"MLflow cannot express a value holding both quote characters: {value!r}")


def number_text(value) -> str:
    """A number literal sqlparse reads as a number (no `+`, no `nan`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BuildError(f"expected a number, not {value!r}")
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        raise BuildError("MLflow cannot compare with NaN")
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
        out.append(string_text(item, single_quotes_only) if "\\" not in item else repr(item))
    return "(" + ", ".join(out) + ("," if len(out) == 1 else "") + ")"


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
