"""Identifier text -> (entity, key, target) the way MLflow's SearchUtils reads it, per API table.

MLflow splits the identifier's text at the first dot, checks the prefix, then strips one pair of
quotes and one pair of backticks from the key; nothing here looks at the API's name.
"""

from __future__ import annotations

from mlfilter.apis import Api, Entity, Target
from mlfilter.records import record


def strip_quotes(value: str) -> str:
    """SearchUtils._strip_quotes: one pair of matching single or double quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def trim_backticks(value: str) -> str:
    """SearchUtils._trim_backticks: one pair of backticks."""
    if len(value) >= 2 and value[0] == value[-1] == "`":
        return value[1:-1]
    return value


@record
class Resolved:
    """What MLflow makes of an identifier; `problem` names the first reason it rejects it."""

    entity: Entity | None
    prefix: str | None  # as written
    key_text: str  # the key as written (after the prefix and its dot)
    key: str  # the key MLflow uses
    target: Target | None  # how MLflow treats values and comparators for this key
    problem: str | None = None  # "entity", "attribute", "empty_key", "quoted_attribute"


# Memos per table: a filter repeats its keys, and so do the filters of one program. A table is
# held while its memo is, so its id is not reused meanwhile; both memos are bounded.
_MEMOS: dict[int, tuple[Api, dict, dict, dict]] = {}
_MAX_TABLES, _MAX_KEYS = 64, 4096
_MAX_TEXT = 200  # longer keys are not kept (a 1 MB key is read once)


def _memos(api: Api) -> tuple[Api, dict, dict, dict]:
    entry = _MEMOS.get(id(api))
    if entry is None or entry[0] is not api:
        if len(_MEMOS) >= _MAX_TABLES:
            _MEMOS.clear()
        entry = _MEMOS[id(api)] = (api, {}, {}, {})
    return entry


def memo_of(api: Api) -> dict:
    """A bounded dict for one table's facts about key texts (mlfilter.rules.plain)."""
    memo = _memos(api)[3]
    if len(memo) >= _MAX_KEYS:
        memo.clear()
    return memo


def resolve(api: Api, text: str) -> Resolved:
    """What MLflow makes of the identifier `text` under table `api` (memoized per table)."""
    if len(text) > _MAX_TEXT:
        return _resolve(api, text)
    memo = _memos(api)[1]
    res = memo.get(text)
    if res is None:
        if len(memo) >= _MAX_KEYS:
            memo.clear()
        res = memo[text] = _resolve(api, text)
    return res


def _resolve(api: Api, text: str) -> Resolved:
    if "." in text:
        prefix, key_text = text.split(".", 1)
        entity = api.entity_for_prefix(trim_backticks(prefix) if api.prefix_backticks else prefix)
        if entity is None:
            return Resolved(None, prefix, key_text, key_text, None, "entity")
    else:
        prefix, key_text = None, text
        entity = api.entity(api.bare_entity)
    key = trim_backticks(strip_quotes(key_text))
    if not key and not entity.empty_key_ok:
        return Resolved(entity, prefix, key_text, key, None, "empty_key")
    target = key_target(entity, key)
    if entity.keys and target is None:
        return Resolved(entity, prefix, key_text, key, None, "attribute")
    if api.attribute_key_as_written and entity.keys and key_text != key:
        # The registry checks the key before removing its quotes: `name` in backticks is unknown.
        return Resolved(entity, prefix, key_text, key, None, "quoted_attribute")
    return Resolved(entity, prefix, key_text, key, target)


def key_target(entity: Entity, key: str) -> Target | None:
    if key in entity.keys:
        return entity.keys[key]
    if key in entity.reserved_keys:
        return entity.reserved_keys[key]
    for head, target in entity.pattern_keys:
        if key.startswith(head) and len(key) > len(head):
            return target
    return entity.target


def rewritten(api: Api, entity: Entity, key: str) -> tuple[str, str, Target | None]:
    """MLflow's post-parse key rewrite (traces: `name` -> tag `mlflow.traceName`, ...), and the
    attribute whose store rules then apply. Returns (type, key, store target or None)."""
    if len(key) > _MAX_TEXT:
        return _rewritten(api, entity, key)
    memo = _memos(api)[2]
    found = memo.get((entity.name, key))
    if found is None:
        if len(memo) >= _MAX_KEYS:
            memo.clear()
        found = memo[(entity.name, key)] = _rewritten(api, entity, key)
    return found


def _rewritten(api: Api, entity: Entity, key: str) -> tuple[str, str, Target | None]:
    if entity.name in api.rewrite_skips or key.lower() not in api.rewrites:
        return entity.name, key, None
    new_type, new_key = api.rewrites[key.lower()]
    if new_type is None:
        return entity.name, new_key, None
    return new_type, new_key, api.entity(api.bare_entity).keys.get(key.lower())
