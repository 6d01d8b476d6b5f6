"""Schema keys as completions: the run keys a schema holds, and how a filter string or a builder
term call writes them. Shared by the notebook completer (jupyter.py) and the language server."""

from __future__ import annotations

import re

# `F.metric("val/lo` : the term factory, the open quote, the typed part of the key.
TERM_CALL = re.compile(r"""([A-Za-z_][\w.]*)\s*\.\s*(metric|param|tag)\s*\(\s*(?:key\s*=\s*)?"""
                       r"""(?:(")([^"\\\n]*)|(')([^'\\\n]*))\Z""")
# a key being typed inside a filter: `metrics.acc`, `params.`, ``tags.`my k``
FILTER_KEY = re.compile(r"(?<![\w.`])(metrics|metric|params|param|parameters|parameter|tags|tag)"
                        r"\.(`[^`\n]*|[\w.]*)\Z")
PREFIX_ENTITY = {"metrics": "metrics", "metric": "metrics", "params": "params",
                 "param": "params", "parameters": "params", "parameter": "params",
                 "tags": "tags", "tag": "tags"}
ENTITY_OF_TERM = {"metric": "metrics", "param": "params", "tag": "tags"}
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def run_keys(schema, entity: str) -> list[str]:
    """The `metrics`, `params` or `tags` keys of all the schema's experiments, sorted."""
    from mlfilter.schema.model import merged

    return sorted(merged([getattr(e, entity) for e in schema.experiments.values()]))


def filter_key(prefix: str, key: str) -> str | None:
    """`prefix.key` as a filter writes it: in backticks unless it is a plain dotted name; None
    when no spelling can hold it (a key with a backtick)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{prefix}.{key}"
    if "`" not in key:
        return f"{prefix}.`{key}`"
    return None


def fits_quote(key: str, quote: str) -> bool:
    """Whether `key` can be typed as-is inside a string opened with `quote`."""
    return quote not in key and "\\" not in key and "\n" not in key
