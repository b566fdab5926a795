"""Whether an operation selects a field further down, decided once per document.

A list resolver that knows its items' children will be asked for can fetch them in one
batch before returning, so each item resolves synchronously: graphql-core then creates
no awaitable, and no task, per item (for a page of 100 credentials that was most of the
request's CPU; docs/performance.md)::

    if selects(info, ("nodes", "badge"), ("edges", "node", "badge")):
        ...  # prefetch the badges of the page
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode

__all__ = ["selects"]

# Keyed by the identity of the field node in the cached document: a stale entry (a node
# freed and its id reused) only costs a prefetch or skips one, never a wrong answer.
_cache: dict[tuple[int, tuple[tuple[str, ...], ...]], bool] = {}
_CACHE_LIMIT = 10_000


def selects(info: Any, *paths: tuple[str, ...]) -> bool:
    raw = info._raw_info  # Strawberry's Info over graphql-core's GraphQLResolveInfo
    node = raw.field_nodes[0]
    key = (id(node), paths)
    found = _cache.get(key)
    if found is None:
        found = any(_selected(raw.field_nodes, path, raw.fragments) for path in paths)
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[key] = found
    return found


def _selected(
    nodes: Any, path: tuple[str, ...], fragments: Mapping[str, FragmentDefinitionNode]
) -> bool:
    if not path:
        return True
    children = [
        field
        for node in nodes
        if node.selection_set is not None
        for field in _fields(node.selection_set.selections, fragments, set())
        if field.name.value == path[0]
    ]
    return bool(children) and _selected(children, path[1:], fragments)


def _fields(
    selections: Any, fragments: Mapping[str, FragmentDefinitionNode], seen: set[str]
) -> list[FieldNode]:
    fields: list[FieldNode] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            fields += _fields(selection.selection_set.selections, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                fields += _fields(fragments[name].selection_set.selections, fragments, seen)
    return fields
