"""MF4xx: order_by entries, per API (SearchUtils._parse_order_by_string and the stores)."""

from __future__ import annotations

from mlfilter import ast, lalr
from mlfilter.apis import Api
from mlfilter.diagnostics import Applicability, Span
from mlfilter.lexer import Token, number_after_dot, tokenize
from mlfilter.resolve import resolve, rewritten, trim_backticks
from mlfilter.rules.base import Sink, did_you_mean, replace
from mlfilter.transform import Transformer


def check_order_entry(text: str, api: Api, base: int, emit: Sink):
    """One string entry at offset `base` of the rendered source. Returns (type, key) or None."""
    tokens = tokenize(text)
    shifted = lambda s, e: Span(base + s, base + e)  # noqa: E731
    if not text.strip():
        emit("MF401", shifted(0, len(text)), "an empty order_by entry", "remove it")
        return None
    if text != text.strip():
        # MLflow does not strip entries: sqlparse then sees more than one token.
        emit("MF401", shifted(0, len(text)), f"the order_by entry {text!r} has spaces around it",
             "remove the leading and trailing spaces",
             replace("strip the spaces", shifted(0, len(text)), text.strip()))
        return None
    glued = number_after_dot(tokens)
    if glued == 0 and len(tokens) == 3 and tokens[2].type == "DIRECTION":
        # `metrics.0x1a DESC`: sqlparse groups the number with the direction, then with the
        # name before it, into one identifier; MLflow reads the key as written.
        name, number = tokens[0], tokens[1]
        tokens = [Token("NAME", name.text + number.text, name.start, number.end,
                        name.parts[:-1] + (number.text,), name.keyword), tokens[2]]
    elif glued is not None:
        from mlfilter.syntax_errors import number_after_dot as glued_number

        d = glued_number(tokens, glued, text)
        emit("MF401", shifted(d.span.start, d.span.end), d.message, d.hint,
             d.fix and replace(d.fix.title, shifted(d.span.start, d.span.end),
                               d.fix.edits[0].replacement))
        return None
    try:
        tree = lalr.parse(tokens, "order_entry", len(text))
    except lalr.ParseFailure as failure:
        tok = failure.token
        span = shifted(tok.start, tok.end) if tok.type != "$END" else shifted(0, len(text))
        hint = "an entry is `key`, `key ASC` or `key DESC`; put each key in its own list item" \
            if tok.type == "COMMA" else "an entry is `key`, `key ASC` or `key DESC`"
        if tok.type == "NAME" and failure.state_stack and len(tokens) >= 2:
            hint = "a key with spaces needs backticks: ``metrics.`my key` ``; the direction is ASC or DESC"
            emit("MF402", span, f"`{tok.text}` is not ASC or DESC", hint)
            return None
        emit("MF401", span, f"MLflow cannot parse the order_by entry {text!r}", hint)
        return None
    entry: ast.OrderEntry = Transformer(text).order_entry(tree)
    key = entry.key
    if entry.direction is not None and entry.direction.upper() not in ("ASC", "DESC"):
        start = text.index(entry.direction, key.span.end)
        emit("MF401", shifted(start, start + len(entry.direction)),
             f"`{entry.direction}` is not supported: only ASC or DESC",
             "MLflow always sorts missing values last", replace(
                 "keep only the direction", shifted(start, start + len(entry.direction)),
                 entry.direction.split()[0]))
        return None
    if not (isinstance(key, ast.Name) or isinstance(key, ast.String) and key.quote == '"'):
        emit("MF401", shifted(key.span.start, key.span.end), f"`{key.text}` is not an order_by key",
             "an entry is `key`, `key ASC` or `key DESC`")
        return None
    if isinstance(key, ast.Name) and key.keyword and not ("." not in key.text and key.text == "timestamp"):
        emit("MF401", shifted(key.span.start, key.span.end),
             f"MLflow's SQL parser reads `{key.text}` as a keyword", "quote the key with backticks",
             replace("quote the key", shifted(key.span.start, key.span.end), f"`{key.text}`"))
        return None
    key_text = text[key.span.start : key.span.end]
    # MLflow then splits the whole entry with shlex, backticks turned into double quotes: one
    # word is the key as written (quotes kept: a quoted `name` is unknown), two words are the
    # key without its quotes and the direction (`metrics. DESC` is the key `metrics.`).
    from mlfilter import shellwords  # shlex.split, in linear time

    span = shifted(key.span.start, key.span.end)
    try:
        words = shellwords.split(text.replace("`", '"'))
    except ValueError:
        emit("MF401", span, "unbalanced quotes in the order_by key",
             "quote the key with one pair of backticks")
        return None
    if len(words) > 2 or (len(words) == 2 and entry.direction is None
                          and words[1].upper() not in ("ASC", "DESC")):
        emit("MF402", span, "the key has more than one word",
             "quote a key with spaces in backticks: ``metrics.`my key` ``; the direction is ASC "
             "or DESC")
        return None
    if len(words) == 2:
        key_text = words[0]
    return _resolve_key(key_text.strip(), api, shifted(key.span.start, key.span.end), emit)


def _resolve_key(key_text: str, api: Api, span: Span, emit: Sink):
    spec = api.order_by
    if not spec.entity_prefixes:
        if key_text not in spec.attribute_keys:
            guess = did_you_mean(key_text.rsplit(".", 1)[-1], spec.attribute_keys)
            emit("MF421", span, f"{api.mlflow_call} cannot order by `{key_text}`",
                 "valid keys: " + ", ".join(sorted(spec.attribute_keys)),
                 replace(f"use `{guess}`", span, guess, Applicability.UNSAFE) if guess else None)
            return None
        return "attribute", _same_column(spec, key_text)
    res = resolve(api, key_text)
    if res.problem == "entity":
        emit("MF421", span, f"unknown entity `{res.prefix}` in order_by",
             "valid prefixes: " + ", ".join(sorted(set(api.all_prefixes))))
        return None
    entity = res.entity
    if entity.name not in spec.entities:
        emit("MF421", span, f"{api.mlflow_call} cannot order by {entity.name} keys",
             "order by one of: " + ", ".join(sorted(spec.attribute_keys)))
        return None
    if entity.keys:
        key = trim_backticks(res.key)
        if key not in spec.attribute_keys:
            guess = did_you_mean(key, spec.attribute_keys)
            emit("MF421", span, f"{api.mlflow_call} cannot order by the attribute `{key}`",
                 (f"did you mean `{guess}`? " if guess else "") + "valid keys: "
                 + ", ".join(sorted(spec.attribute_keys)))
            return None
    if res.target is not None and not res.target.orderable:
        emit("MF421", span, f"{api.mlflow_call} cannot order by the reserved key `{res.key}` "
             "(MLflow stores it in several columns)", "order by another key")
        return None
    new_type, new_key, _ = rewritten(api, entity, res.key)
    if new_key in spec.crash_keys or res.key in spec.crash_keys:
        emit("MF424", span, f"MLflow {api.mlflow_call} crashes ordering by `{res.key}` (HTTP 500)",
             "order by another key; sort the results yourself")
        return None
    return new_type, _same_column(spec, new_key)


def _same_column(spec, key: str) -> str:
    for group in spec.same_column:
        if key in group:
            return sorted(group)[0]
    return key


def check_order_by_dicts(entries: list, api: Api, emit: Sink, positions: list[Span]) -> None:
    """search_logged_models takes dicts; the SQL store reads `field_name`, `ascending` (by its
    truth), `dataset_name` and `dataset_digest` (_apply_order_by_search_logged_models)."""
    for entry, span in zip(entries, positions):
        if not isinstance(entry, dict):
            emit("MF423", span, "search_logged_models takes order_by entries as dicts: MLflow "
                 "crashes on anything else (HTTP 500)",
                 'write {"field_name": "creation_time", "ascending": False}')
            continue
        field = entry.get("field_name")
        if not isinstance(field, str):
            emit("MF423", span, "`field_name` must be a string in every order_by dict: MLflow "
                 "crashes without one (HTTP 500)", 'for example {"field_name": "metrics.accuracy"}')
            continue
        if "." in field:
            if field.split(".", 1)[0] != "metrics":
                emit("MF421", span, f"cannot order logged models by `{field}`: only attributes "
                     "and `metrics.<name>`", "order by a metric or an attribute")
        elif field not in api.order_by.attribute_keys:
            guess = did_you_mean(field.strip(), api.order_by.attribute_keys)
            emit("MF421", span, f"cannot order logged models by `{field}`",
                 (f"did you mean `{guess}`? " if guess else "") + "valid keys: "
                 + ", ".join(sorted(api.order_by.attribute_keys)) + ", metrics.<name>")
        if "ascending" in entry and not isinstance(entry["ascending"], bool):
            emit("MF452", span, f"`ascending` is {entry['ascending']!r}: MLflow only looks at "
                 "whether it is true", "use True or False")
