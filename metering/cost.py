"""Query cost after the IBM GraphQL cost specification and Apollo's demand control.

A document is analysed once into a :class:`CostPlan` (fragments resolved, fields merged
by response key, the cost facts of each field looked up); per request the plan is priced
with the variables (``requested``, before execution) and with the response data
(``actual``, after)::

    model = CostModel(schema)
    plan = model.plan(document, operation_name=None)
    # badges(first: 20) { nodes { badge { id } } } costs 1 + 20 * (1 + 1)
    plan.requested(variables)
    plan.actual(result.data)         # the same, with the real list sizes

Weights (docs in the README): a field's ``@cost(weight:)``, else its type's ``@cost``, else
1 for an object, interface or union, 0 for a scalar or enum, and 10 for a mutation's root
field. A list multiplies its elements' cost by its size: the slicing argument's value
(``first``), else ``@listSize(assumedSize:)``, else the model's default list size.
``@listSize(sizedFields:)`` sends that size down to the named child fields (a connection's
``edges`` and ``nodes``). Abstract types cost the most expensive of their possible types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_abstract_type,
    is_composite_type,
    is_list_type,
)
from strawberry.federation.schema_directives import Cost, ListSize

__all__ = ["DEFAULT_MUTATION_WEIGHT", "CostModel", "CostPlan", "FieldCost", "FieldPrice"]

DEFAULT_MUTATION_WEIGHT = 10
DEFAULT_LIST_SIZE = 10
_STRAWBERRY = "strawberry-definition"


@dataclass(frozen=True, slots=True)
class FieldCost:
    """What the schema says a field costs: its weight and, for lists, how to size them."""

    weight: int
    is_list: bool = False
    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FieldPrice:
    """One field's share of a requested cost, for ``X-Cost-Debug: fields``."""

    path: str
    cost: int


@dataclass(slots=True)
class _Selection:
    """One field of a selection set, fragments resolved, same response keys merged."""

    key: str
    node: FieldNode
    cost: FieldCost
    argument_defaults: dict[str, Any]
    # Child selections by concrete type name; one entry for an object type.
    branches: dict[str, list[_Selection]] = field(default_factory=dict)
    conditions: tuple[tuple[bool, ValueNode], ...] = ()  # (is_include, if:) of @include/@skip


def _directives(definition: Any) -> Sequence[object]:
    strawberry = (getattr(definition, "extensions", None) or {}).get(_STRAWBERRY)
    return getattr(strawberry, "directives", None) or ()


class CostModel:
    """The cost facts of every field of a schema, read once from its directives."""

    def __init__(self, schema: GraphQLSchema, *, default_list_size: int = DEFAULT_LIST_SIZE):
        self.schema = schema
        self.default_list_size = default_list_size
        self._facts: dict[tuple[str, str], FieldCost] = {}
        mutation = schema.mutation_type
        for type_ in schema.type_map.values():
            if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
                for name, definition in type_.fields.items():
                    root_weight = DEFAULT_MUTATION_WEIGHT if type_ is mutation else None
                    self._facts[type_.name, name] = self._field_cost(definition, root_weight)
        # Federation's entity lookup is sized by how many representations it is given.
        if ("Query", "_entities") in self._facts:
            facts = self._facts["Query", "_entities"]
            self._facts["Query", "_entities"] = FieldCost(
                facts.weight, True, None, ("representations",), ()
            )

    def field_cost(self, parent: str, name: str) -> FieldCost:
        return self._facts.get((parent, name), FieldCost(0))

    def _field_cost(self, definition: GraphQLField, root_weight: int | None) -> FieldCost:
        named = get_named_type(definition.type)
        nullable = get_nullable_type(definition.type)
        weight: int | None = None
        list_size: ListSize | None = None
        for directive in _directives(definition):
            if isinstance(directive, Cost):
                weight = directive.weight
            elif isinstance(directive, ListSize):
                list_size = directive
        if weight is None:
            weight = root_weight
        if weight is None:
            type_cost = next((d for d in _directives(named) if isinstance(d, Cost)), None)
            weight = type_cost.weight if type_cost else (1 if is_composite_type(named) else 0)
        return FieldCost(
            weight=weight,
            is_list=is_list_type(nullable),
            assumed_size=list_size.assumed_size if list_size else None,
            slicing_arguments=tuple(list_size.slicing_arguments or ()) if list_size else (),
            sized_fields=tuple(list_size.sized_fields or ()) if list_size else (),
        )

    def plan(self, document: DocumentNode, operation_name: str | None) -> CostPlan:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation = next(
            (
                o
                for o in operations
                if operation_name is None or (o.name and o.name.value == operation_name)
            ),
            None,
        )
        if operation is None:
            return CostPlan(self, [], {})
        root = self.schema.get_root_type(operation.operation)
        assert root is not None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        defaults = {
            v.variable.name.value: v.default_value
            for v in operation.variable_definitions or ()
            if v.default_value is not None
        }
        selections = _Collector(self, fragments).collect(operation.selection_set, root)
        return CostPlan(self, selections, defaults, operation.operation is OperationType.MUTATION)


class _Collector:
    def __init__(self, model: CostModel, fragments: Mapping[str, FragmentDefinitionNode]):
        self._model = model
        self._schema = model.schema
        self._fragments = fragments

    def collect(self, selection_set: SelectionSetNode, root: GraphQLObjectType) -> list[_Selection]:
        merged: dict[str, _Selection] = {}
        self._gather_for(selection_set, root, merged, ())
        return list(merged.values())

    def _add_field(
        self,
        node: FieldNode,
        parent: Any,
        merged: dict[str, _Selection],
        conditions: tuple[tuple[bool, ValueNode], ...],
    ) -> None:
        name = node.name.value
        if name.startswith("__"):
            return  # introspection and __typename cost nothing
        key = node.alias.value if node.alias else name
        definitions = self._definitions(parent, name)
        if not definitions:
            return
        existing = merged.get(key)
        if existing is None:
            type_name, definition = definitions[0]
            existing = _Selection(
                key=key,
                node=node,
                cost=self._model.field_cost(type_name, name),
                argument_defaults={
                    arg: value.default_value
                    for arg, value in definition.args.items()
                    if value.default_value is not None
                },
                conditions=conditions,
            )
            merged[key] = existing
        elif not conditions:
            existing.conditions = ()  # selected unconditionally somewhere: always counts
        if node.selection_set is None:
            return
        return_type = get_named_type(definitions[0][1].type)
        possible = (
            self._schema.get_possible_types(return_type)
            if is_abstract_type(return_type)
            else [return_type]
        )
        for concrete in possible:
            branch = existing.branches.setdefault(concrete.name, [])
            children: dict[str, _Selection] = {s.key: s for s in branch}
            self._gather_for(node.selection_set, concrete, children, ())
            existing.branches[concrete.name] = list(children.values())

    def _gather_for(
        self,
        selection_set: SelectionSetNode,
        concrete: Any,
        merged: dict[str, _Selection],
        conditions: tuple[tuple[bool, ValueNode], ...],
    ) -> None:
        """Fields of ``selection_set`` that apply when the runtime type is ``concrete``."""
        for selection in selection_set.selections:
            here = conditions + _conditions(selection)
            if isinstance(selection, FieldNode):
                self._add_field(selection, concrete, merged, here)
                continue
            if isinstance(selection, InlineFragmentNode):
                type_condition, inner = selection.type_condition, selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                fragment = self._fragments.get(selection.name.value)
                if fragment is None:
                    continue
                type_condition, inner = fragment.type_condition, fragment.selection_set
            if type_condition is None or self._applies(type_condition.name.value, concrete):
                self._gather_for(inner, concrete, merged, here)

    def _applies(self, condition: str, concrete: Any) -> bool:
        condition_type = self._schema.get_type(condition)
        if condition_type is None:
            return False
        if condition_type is concrete:
            return True
        return is_abstract_type(condition_type) and self._schema.is_sub_type(
            condition_type,
            concrete,
        )

    def _definitions(self, parent: Any, name: str) -> list[tuple[str, GraphQLField]]:
        fields = getattr(parent, "fields", None)
        if fields is not None and name in fields:
            return [(parent.name, fields[name])]
        return []


def _conditions(selection: Any) -> tuple[tuple[bool, ValueNode], ...]:
    found: list[tuple[bool, ValueNode]] = []
    for directive in selection.directives or ():
        if directive.name.value in ("include", "skip"):
            for argument in directive.arguments:
                if argument.name.value == "if":
                    found.append((directive.name.value == "include", argument.value))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class _Billed:
    """A selection that can add to the actual cost: weighted, or with weighted children."""

    key: str
    weight: int
    branches: tuple[tuple[_Billed, ...], ...]  # one per concrete type, none without children


def _billed(selections: Iterable[_Selection]) -> tuple[_Billed, ...]:
    """The part of the tree the actual cost reads; weight-0 leaves (most fields) drop out."""
    billed = []
    for selection in selections:
        branches = tuple(
            children
            for children in (_billed(branch) for branch in selection.branches.values())
            if children
        )
        if selection.cost.weight or branches:
            billed.append(_Billed(selection.key, selection.cost.weight, branches))
    return tuple(billed)


def _variables_read(selections: Iterable[_Selection]) -> frozenset[str]:
    """The variables a requested cost depends on: conditions and slicing arguments."""
    names: set[str] = set()
    for selection in selections:
        values = [value for _, value in selection.conditions]
        values += [
            argument.value
            for argument in selection.node.arguments or ()
            if argument.name.value in selection.cost.slicing_arguments
        ]
        names.update(v.name.value for v in values if isinstance(v, VariableNode))
        for branch in selection.branches.values():
            names |= _variables_read(branch)
    return frozenset(names)


_MEMO_LIMIT = 256
_MISSING = object()


class CostPlan:
    """A document's cost structure; price it per request with variables or response data.

    Both prices run on every request, so the plan keeps what they need precomputed: the
    requested cost memoised by the few variables it reads (``first``, ``@include(if:)``),
    and for the actual cost only the weighted part of the tree.
    """

    __slots__ = (
        "_billed",
        "_defaults",
        "_memo",
        "_model",
        "_reads",
        "_selections",
        "is_mutation",
    )

    def __init__(
        self,
        model: CostModel,
        selections: list[_Selection],
        variable_defaults: Mapping[str, ValueNode],
        is_mutation: bool = False,
    ) -> None:
        self._model = model
        self._selections = selections
        self._defaults = variable_defaults
        self.is_mutation = is_mutation
        self._billed = _billed(selections)
        self._reads = tuple(sorted(_variables_read(selections)))
        self._memo: dict[tuple[Any, ...], int] = {}

    def requested(
        self,
        variables: Mapping[str, Any] | None = None,
        *,
        breakdown: list[FieldPrice] | None = None,
    ) -> int:
        """The most this operation can cost, before running it."""
        variables = variables or {}
        if breakdown is not None:
            return self._requested(self._selections, variables, None, "", breakdown)
        values = tuple(variables.get(name, _MISSING) for name in self._reads)
        if not all(isinstance(v, int | str | None) or v is _MISSING for v in values):
            return self._requested(self._selections, variables, None, "", None)  # a list
        key = (*values, *map(type, values))  # true and 1 price differently
        cost = self._memo.get(key)
        if cost is None:
            cost = self._requested(self._selections, variables, None, "", None)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = cost
        return cost

    def actual(self, data: Mapping[str, Any] | None) -> int:
        """What the operation cost, from the response's real list sizes."""
        if data is None:
            return 0
        return _actual(self._billed, data)

    # -- requested -------------------------------------------------------------------

    def _requested(
        self,
        selections: Iterable[_Selection],
        variables: Mapping[str, Any],
        inherited_size: tuple[tuple[str, ...], int] | None,
        path: str,
        breakdown: list[FieldPrice] | None,
    ) -> int:
        total = 0
        for selection in selections:
            if not self._included(selection, variables):
                continue
            here = f"{path}.{selection.key}" if path else selection.key
            size = 1
            if inherited_size is not None and selection.node.name.value in inherited_size[0]:
                size = inherited_size[1]
            elif selection.cost.is_list:
                size = self._list_size(selection, variables)
            passed_down = None
            if selection.cost.sized_fields:
                passed_down = (selection.cost.sized_fields, self._list_size(selection, variables))
            children = max(
                (
                    self._requested(branch, variables, passed_down, here, breakdown)
                    for branch in selection.branches.values()
                ),
                default=0,
            )
            cost = size * (selection.cost.weight + children)
            if breakdown is not None:
                breakdown.append(FieldPrice(here, cost))
            total += cost
        return total

    def _list_size(self, selection: _Selection, variables: Mapping[str, Any]) -> int:
        for argument in selection.cost.slicing_arguments:
            value = self._argument(selection, argument, variables)
            if isinstance(value, int) and not isinstance(value, bool):
                return max(value, 0)
            if isinstance(value, list):
                return len(value)
        if selection.cost.assumed_size is not None:
            return selection.cost.assumed_size
        return self._model.default_list_size

    def _argument(self, selection: _Selection, name: str, variables: Mapping[str, Any]) -> Any:
        for argument in selection.node.arguments or ():
            if argument.name.value == name:
                return self._value(argument.value, variables)
        return selection.argument_defaults.get(name)

    def _value(self, node: ValueNode, variables: Mapping[str, Any]) -> Any:
        if isinstance(node, VariableNode):
            name = node.name.value
            if name in variables:
                return variables[name]
            default = self._defaults.get(name)
            return None if default is None else self._value(default, variables)
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, BooleanValueNode):
            return node.value
        if isinstance(node, ListValueNode):
            return list(node.values)
        return None

    def _included(self, selection: _Selection, variables: Mapping[str, Any]) -> bool:
        for is_include, value in selection.conditions:
            if bool(self._value(value, variables)) is not is_include:
                return False
        return True


def _actual(selections: tuple[_Billed, ...], data: Mapping[str, Any]) -> int:
    total = 0
    for selection in selections:
        value = data.get(selection.key)
        if value is None:
            continue
        # graphql-core's result is plain dicts and lists: exact type checks are enough.
        items = value if type(value) is list else (value,)
        total += selection.weight * len(items)
        branches = selection.branches
        if len(branches) == 1:  # no fragments on abstract types: nothing to choose
            only = branches[0]
            for item in items:
                if type(item) is dict:
                    total += _actual(only, item)
        elif branches:
            for item in items:
                if type(item) is dict:
                    total += max(_actual(branch, item) for branch in branches)
    return total
