"""Completion of logged keys: inside a filter string (`metrics.va|` -> ``metrics.`val/loss` ``,
in backticks where the filter needs them) and inside `F.metric("`, `F.param("`, `F.tag("`,
from the schema snapshot named in [tool.mlfilter] or the store the editor named.

A filter string is found through the lint layer's scan when the document parses, so the API of
the call is known and the key is escaped for the literal it goes into. While the document does
not parse (a string just opened), the line is read instead: a search call or `.where(` with an
open quote before the cursor.
"""

from __future__ import annotations

import re

from lsprotocol import types

from mlfilter.schema.keys import (ENTITY_OF_TERM, FILTER_KEY, PREFIX_ENTITY, TERM_CALL,
                                  filter_key, fits_quote, run_keys)

TRIGGERS = [".", "`", '"', "'"]
# A search call or builder `.where(`: the fallback looks for a string still open after it.
_CALL_OPEN = re.compile(r"(?:\bsearch_\w+|\.where)\s*\(")
_KIND = {"metrics": types.CompletionItemKind.Field, "params": types.CompletionItemKind.Property,
         "tags": types.CompletionItemKind.Value}


def _detail(entity: str, key: str, infos: dict) -> str:
    info = infos.get(key)
    noun = {"metrics": "metric", "params": "param", "tags": "tag"}[entity]
    if info is None:
        return noun
    return f"{noun}, logged in {info.entities:,} run{'s' * (info.entities != 1)}"


def _infos(schema, entity: str) -> dict:
    from mlfilter.schema.model import merged

    return merged([getattr(e, entity) for e in schema.experiments.values()])


def _item(label: str, text: str, start, end, entity: str, detail: str) -> types.CompletionItem:
    return types.CompletionItem(
        label=label, kind=_KIND[entity], detail=detail, filter_text=label,
        text_edit=types.TextEdit(types.Range(types.Position(*start), types.Position(*end)), text))


def completions(analysis, uri: str, offset: int, text: str, lines,
                encoding: str) -> list[types.CompletionItem]:
    """Key completions at a character `offset` of the part `uri` (whose text is `text`)."""
    schema = analysis.config.load_schema() if analysis is not None else None
    if schema is None:
        return []
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    end = lines.position(offset, encoding)
    m = TERM_CALL.search(before)
    if m is not None and m.group(1).split(".")[-1] == "F":
        entity = ENTITY_OF_TERM[m.group(2)]
        quote, typed = (m.group(3), m.group(4)) if m.group(3) else (m.group(5), m.group(6))
        start = lines.position(offset - len(typed), encoding)
        infos = _infos(schema, entity)
        return [_item(k, k, start, end, entity, _detail(entity, k, infos))
                for k in run_keys(schema, entity) if k.startswith(typed) and fits_quote(k, quote)]
    return _in_filter(analysis, uri, offset, before, schema, lines, end, encoding)


def _in_filter(analysis, uri, offset, before, schema, lines, end, encoding):
    part = analysis.parts.get(uri)
    argument = None
    if part is not None and part.base is not None:
        at = part.base + offset
        argument = next((a for a in analysis.arguments() if a.kind == "filter"
                         and a.start < at < a.end and a.piece_at(at) is not None), None)
    if argument is not None:
        if argument.api != "runs":
            return []  # the snapshot's keys are run keys
        typed, piece = argument.typed_before(part.base + offset), argument.piece_at(
            part.base + offset)
        quote = piece.quote
    else:
        if part is not None and part.base is not None:
            return []  # the document parses and the cursor is in no filter string
        opened = _open_string(before)
        if opened is None:
            return []
        quote, typed = opened
        piece = None
    m = FILTER_KEY.search(typed or "")
    if m is None:
        return []
    prefix, key_typed = m.group(1), m.group(2)
    entity = PREFIX_ENTITY[prefix]
    written_typed = f"{prefix}.{key_typed}"
    # The source characters of `prefix.key_typed` are replaced; they must be plain characters
    # (no escapes), which holds when their source length equals their value length.
    start_offset = offset - len(written_typed)
    if argument is not None:
        elements = [i for i, e in enumerate(argument.literal.ends) if e <= part.base + offset]
        first = elements[-len(written_typed)] if len(elements) >= len(written_typed) else None
        if first is None or argument.literal.starts[first] != part.base + start_offset:
            return []
    start = lines.position(start_offset, encoding)
    infos = _infos(schema, entity)
    items = []
    for key in run_keys(schema, entity):
        written = filter_key(prefix, key)
        if written is None or not key.startswith(key_typed.removeprefix("`")):
            continue
        if piece is not None:
            from mlfilter.lint.literals import encode_for_piece

            source = encode_for_piece(written, piece)
        else:
            source = written if fits_quote(written, quote) else None
        if source is not None:
            items.append(_item(written, source, start, end, entity, _detail(entity, key, infos)))
    return items


def _open_string(before: str) -> tuple[str, str] | None:
    """(quote, text typed after it) of a string left open after the last search call on the
    line, or None."""
    calls = list(_CALL_OPEN.finditer(before))
    if not calls:
        return None
    quote, start, i, segment = None, 0, 0, before[calls[-1].end():]
    while i < len(segment):
        c = segment[i]
        if quote is None and c in "\"'":
            quote, start = c, i + 1
        elif quote is not None and c == "\\":
            i += 1
        elif c == quote:
            quote = None
        i += 1
    if quote is None or "\\" in segment[start:]:
        return None
    return quote, segment[start:]
