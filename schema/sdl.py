"""The published partner SDL: the schema partners generate clients from.

The executable schema is a federation subgraph; partners should not have to read
federation plumbing (``_entities``, ``_Any``, ``@link``), so the published SDL leaves
it out. The subgraph SDL, with its directives, is :func:`subgraph_sdl`::

    partner_sdl(build_schema())  # "type Query { viewer: Viewer! ..."
"""

from __future__ import annotations

from graphql import (
    GraphQLObjectType,
    GraphQLSchema,
    print_schema,
    specified_directives,
)
from strawberry.federation import Schema

__all__ = ["partner_sdl", "subgraph_sdl"]

_FEDERATION_FIELDS = frozenset({"_service", "_entities"})


def _is_federation_type(name: str) -> bool:
    return name.startswith("_") or name in {"FieldSet", "federation__FieldSet"} or "__" in name


def partner_sdl(schema: Schema) -> str:
    full = schema._schema
    query = full.query_type
    assert query is not None
    clean_query = GraphQLObjectType(
        name=query.name,
        fields={n: f for n, f in query.fields.items() if n not in _FEDERATION_FIELDS},
        description=query.description,
    )
    types = [
        t
        for name, t in full.type_map.items()
        if not _is_federation_type(name) and name != query.name
    ]
    clean = GraphQLSchema(
        query=clean_query,
        mutation=full.mutation_type,
        types=types,
        directives=specified_directives,
    )
    return print_schema(clean) + "\n"


def subgraph_sdl(schema: Schema) -> str:
    return schema.as_str() + "\n"
