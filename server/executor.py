"""graphql-core's executor with a fast path for plain leaf fields.

Most of a response is leaves read straight off an object: a page of 100 credentials
with ``id``, ``status`` and ``badge { name }`` is 300 of them. For each, graphql-core
builds a ``Path`` and a ``GraphQLResolveInfo``, calls Strawberry's resolver wrapper
(three Python calls for one ``getattr``), asks twice whether the result is awaitable
and walks ``complete_value``. That was over half of executing such a page
(docs/performance.md).

A *plain leaf* is a field of a Strawberry type with no resolver and no field
extensions (Strawberry's own "basic field") whose type is a scalar or an enum,
nullable or not. :class:`GatewayExecutor` reads those with one ``getattr`` and one
``coerce_output_value``, exactly what the regular path would compute; anything else
about the field (a missing attribute, ``None`` in a non-null field, a value the type
cannot coerce) goes down graphql-core's regular path, which raises the error that
path always raised, with its path and location::

    executor = executor_for(schema)  # once, at start-up
    execute(schema, document, context_value=context, executor_class=executor)

Written against graphql-core 3.3.2 (pinned): ``execute_fields`` below is its method of
the same name with the fast path added; a new graphql-core release is re-read first.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    is_leaf_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.incremental.incremental_executor import IncrementalExecutor
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel

__all__ = ["GatewayExecutor", "PlainLeaf", "executor_for", "plain_leaves"]

# Strawberry's back-reference from a graphql-core field to its StrawberryField.
_STRAWBERRY_FIELD = "strawberry-definition"


class PlainLeaf(NamedTuple):
    attribute: str  # the Python attribute the field reads
    type: GraphQLLeafType
    non_null: bool


def plain_leaves(schema: GraphQLSchema) -> dict[str, dict[str, PlainLeaf]]:
    """The plain leaf fields of every object type: type name -> field name -> leaf."""
    table: dict[str, dict[str, PlainLeaf]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        leaves: dict[str, PlainLeaf] = {}
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(_STRAWBERRY_FIELD)
            # Strawberry marks the resolver it generates for a basic field; a field with
            # a resolver, permission classes or extensions never gets it.
            if definition is None or not getattr(field.resolve, "_is_default", False):
                continue
            non_null = isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if non_null else field.type
            if is_leaf_type(named):
                leaves[name] = PlainLeaf(definition.python_name, named, non_null)
        if leaves:
            table[type_.name] = leaves
    return table


# A grouped field set's fields in response order, each with its plain leaf or None.
FieldPlan = list[tuple[str, PlainLeaf | None, FieldDetailsList]]


class GatewayExecutor(IncrementalExecutor):
    """The incremental executor, reading plain leaves without resolver machinery."""

    leaves: ClassVar[dict[str, dict[str, PlainLeaf]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core reuses one grouped field set for every item of a list, so its
        # plan is worked out once per request: id -> (the set, kept alive; its plan).
        self._plans: dict[int, tuple[GroupedFieldSet, FieldPlan]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        cached = self._plans.get(id(grouped_field_set))
        if cached is not None and cached[0] is grouped_field_set:
            plan = cached[1]
        else:
            plan = self._plan(parent_type, grouped_field_set)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, leaf, field_details_list in plan:
                if leaf is not None:
                    value = _read_leaf(leaf, source_value)
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type,
                    source_value,
                    field_details_list,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                field = awaitable_fields[0]
                results[field] = await results[field]
            else:
                awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> FieldPlan:
        leaves = self.leaves.get(parent_type.name, {})
        plan: FieldPlan = [
            (response_name, leaves.get(details[0].node.name.value), details)
            for response_name, details in grouped_field_set.items()
        ]
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan


def _read_leaf(leaf: PlainLeaf, source: Any) -> Any:
    """The leaf's output value, or ``Undefined`` to take the regular (erroring) path."""
    value = getattr(source, leaf.attribute, Undefined)
    if value is None:
        return Undefined if leaf.non_null else None
    if value is Undefined or isinstance(value, Exception):
        return Undefined
    try:
        coerced = leaf.type.coerce_output_value(value)
    except Exception:  # the regular path raises it again, located and with its path
        return Undefined
    return Undefined if coerced is None else coerced


def executor_for(schema: GraphQLSchema) -> type[GatewayExecutor]:
    """A :class:`GatewayExecutor` class that knows ``schema``'s plain leaves."""
    return type("GatewayExecutor", (GatewayExecutor,), {"leaves": plain_leaves(schema)})
