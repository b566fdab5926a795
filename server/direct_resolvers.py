"""Resolvers called without Strawberry's per-call argument conversion, where it is a no-op.

For every field with a resolver, Strawberry installs a wrapper in graphql-core's schema
that builds its ``Info``, converts each argument (names to Python, values through its
type machinery, field extensions), then awaits the resolver inside a coroutine of its
own. For arguments that are plain scalars (``str``, ``int``, ``float``, ``bool``,
``ID``, optional or not) conversion only renames them, so :func:`install` swaps the
wrapper of such fields for one that renames, builds the same ``Info`` and returns the
resolver's result (a coroutine for async resolvers, which graphql-core awaits) as is.
A field with extensions, an argument of any other type (enums, dates, inputs, lists)
or a schema with exception handlers keeps Strawberry's wrapper::

    schema = build_schema()
    install(schema)  # once, before serving
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField
from strawberry.types.info import Info

__all__ = ["install"]

_STRAWBERRY_FIELD = "strawberry-definition"
_PLAIN_ARGUMENT_TYPES: frozenset[object] = frozenset({str, int, float, bool, strawberry.ID})


def install(schema: strawberry.Schema) -> list[str]:
    """Replace the eligible fields' wrappers; the ``Type.field`` names replaced."""
    if getattr(schema.schema_converter, "_exception_handler_specs", None):
        return []  # handlers turn exceptions into results: keep Strawberry's path
    replaced = []
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            resolve = _direct_resolver(field)
            if resolve is not None:
                field.resolve = resolve
                replaced.append(f"{type_.name}.{name}")
    return replaced


def _direct_resolver(field: GraphQLField) -> Callable[..., Any] | None:
    definition = (field.extensions or {}).get(_STRAWBERRY_FIELD)
    if not isinstance(definition, StrawberryField):
        return None
    resolver = definition.base_resolver
    if resolver is None or definition.extensions or resolver.parent_parameter:
        return None
    arguments = definition.arguments
    if len(arguments) != len(field.args) or not all(map(_is_plain, arguments)):
        return None
    # graphql-core keeps the arguments in Strawberry's order: GraphQL name -> Python name.
    names = dict(zip(field.args, (argument.python_name for argument in arguments), strict=True))
    call = resolver.wrapped_func
    if not callable(call):  # an unbound classmethod or staticmethod: Strawberry decides
        return None
    pass_source = resolver.self_parameter is not None
    root = resolver.root_parameter.name if resolver.root_parameter else None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **graphql_kwargs: Any) -> Any:
        kwargs = {names[name]: value for name, value in graphql_kwargs.items()}
        if info_name is not None:
            kwargs[info_name] = Info(_raw_info=info, _field=definition)
        if root is not None:
            kwargs[root] = source
        return call(source, **kwargs) if pass_source else call(**kwargs)

    return resolve


def _is_plain(argument: Any) -> bool:
    type_ = argument.type
    if isinstance(type_, StrawberryOptional):
        type_ = type_.of_type
    return type_ in _PLAIN_ARGUMENT_TYPES
