"""The published partner SDL: the schema partners generate clients from.

The executable schema is a federation subgraph; partners should not have to read
federation plumbing (``_entities``, ``_Any``, ``@link``), so the published SDL leaves
it out. It keeps the cost directives (``@cost``, ``@listSize``, after the IBM GraphQL
cost specification), so partners and their tools can price an operation before sending
it. The subgraph SDL, with its federation directives, is :func:`subgraph_sdl`::

    partner_sdl(build_schema())  # "type Query { viewer: Viewer! ..."
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from graphql import (
    BooleanValueNode,
    ConstArgumentNode,
    ConstDirectiveNode,
    ConstListValueNode,
    ConstValueNode,
    DefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    IntValueNode,
    NameNode,
    NullValueNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    Visitor,
    parse,
    print_ast,
    print_schema,
    specified_directives,
    visit,
)
from strawberry.federation import Schema
from strawberry.federation.schema_directives import Cost, ListSize
from strawberry.types.field import StrawberryField
from strawberry.types.fields.resolver import StrawberryResolver

__all__ = ["partner_sdl", "serve_subgraph_sdl", "subgraph_sdl"]

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
    return _with_cost_directives(print_schema(clean), full)


COST_DIRECTIVES = '''"""
The cost of a field (IBM GraphQL cost specification): the points it adds per item.
"""
directive @cost(weight: Int!) on
  | ARGUMENT_DEFINITION
  | ENUM
  | FIELD_DEFINITION
  | INPUT_FIELD_DEFINITION
  | OBJECT
  | SCALAR

"""
The size of a list field: an argument that slices it, or an assumed size; `sizedFields`
names the child lists (a connection's `edges` and `nodes`) that the size applies to.
"""
directive @listSize(
  assumedSize: Int
  slicingArguments: [String!]
  sizedFields: [String!]
  requireOneSlicingArgument: Boolean = true
) on FIELD_DEFINITION
'''


def _value(value: Any) -> ConstValueNode:
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, list):
        return ConstListValueNode(values=tuple(_value(item) for item in value))
    return StringValueNode(value=str(value))


def _directive(name: str, arguments: dict[str, Any]) -> ConstDirectiveNode:
    return ConstDirectiveNode(
        name=NameNode(value=name),
        arguments=tuple(
            ConstArgumentNode(name=NameNode(value=key), value=_value(value))
            for key, value in arguments.items()
            if value is not None
        ),
    )


def _cost_directives(definition: Any) -> tuple[ConstDirectiveNode, ...]:
    strawberry = (getattr(definition, "extensions", None) or {}).get("strawberry-definition")
    found = []
    for directive in getattr(strawberry, "directives", None) or ():
        if isinstance(directive, Cost):
            found.append(_directive("cost", {"weight": directive.weight}))
        elif isinstance(directive, ListSize):
            found.append(
                _directive(
                    "listSize",
                    {
                        "assumedSize": directive.assumed_size,
                        "slicingArguments": directive.slicing_arguments,
                        "sizedFields": directive.sized_fields,
                    },
                )
            )
    return tuple(found)


def _with_cost_directives(sdl: str, schema: GraphQLSchema) -> str:
    document = parse(sdl)
    definitions: list[DefinitionNode] = []
    for definition in document.definitions:
        type_ = (
            schema.get_type(definition.name.value)
            if isinstance(definition, ObjectTypeDefinitionNode)
            else None
        )
        if isinstance(definition, ObjectTypeDefinitionNode) and isinstance(
            type_, GraphQLObjectType
        ):
            fields = tuple(
                replace(node, directives=_cost_directives(type_.fields.get(node.name.value)))
                for node in definition.fields or ()
            )
            definitions.append(
                replace(definition, directives=_cost_directives(type_), fields=fields)
            )
        else:
            definitions.append(definition)
    return (
        COST_DIRECTIVES + "\n" + print_ast(replace(document, definitions=tuple(definitions))) + "\n"
    )


def subgraph_sdl(schema: Schema) -> str:
    """The subgraph SDL a router composes: Strawberry's, with no directive argument given
    as ``null`` (``@listSize(slicingArguments: null)`` means what leaving it out means, and
    The Guild's composition, Hive Gateway's, refuses the explicit null)."""
    document = parse(schema.as_str())
    return print_ast(visit(document, _WithoutNullArguments())) + "\n"


class _WithoutNullArguments(Visitor):
    def enter_const_directive(self, node: ConstDirectiveNode, *_: Any) -> ConstDirectiveNode:
        kept = tuple(a for a in node.arguments or () if not isinstance(a.value, NullValueNode))
        return replace(node, arguments=kept)

    enter_directive = enter_const_directive


def serve_subgraph_sdl(schema: Schema) -> None:
    """Make ``_service { sdl }`` answer :func:`subgraph_sdl`, the same text as
    ``GET /graphql/subgraph.graphql``, instead of Strawberry's own printing. The field's
    Strawberry resolver is replaced, so every way of calling it (Strawberry's wrapper,
    server.direct_resolvers) reads the same string."""
    service = schema._schema.get_type("_Service")
    assert isinstance(service, GraphQLObjectType)
    definition = (service.fields["sdl"].extensions or {}).get("strawberry-definition")
    assert isinstance(definition, StrawberryField)
    sdl = subgraph_sdl(schema)

    def resolve_sdl() -> str:
        return sdl

    definition.base_resolver = StrawberryResolver(resolve_sdl)
