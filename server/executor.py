"""graphql-core's executor with a fast path for plain fields read straight off attributes.

Most of a response is leaves read straight off an object: a page of 100 credentials
with ``id``, ``status`` and ``badge { name }`` is 300 of them. For each, graphql-core
builds a ``Path`` and a ``GraphQLResolveInfo``, calls Strawberry's resolver wrapper
(three Python calls for one ``getattr``), asks twice whether the result is awaitable
and walks ``complete_value``. That was over half of executing such a page
(docs/performance.md).

A *plain field* is a field of a Strawberry type with no resolver and no field
extensions (Strawberry's own "basic field"). :class:`GatewayExecutor` reads a plain
*leaf* (a scalar or an enum) with one ``getattr`` and one ``coerce_output_value``, and
a plain *object* (a concrete object type that checks nothing) with one ``getattr``
before executing its sub-selection, exactly what the regular path would compute.
Anything unusual about the value (a missing attribute, ``None`` in a non-null field, a
value the type cannot coerce, an awaitable) goes down graphql-core's regular path, which
raises the error that path always raised, with its path and location::

    executor = executor_for(schema)  # once, at start-up
    execute(schema, document, context_value=context, executor_class=executor)

Written against graphql-core 3.3.2 (pinned): ``execute_fields`` below is its method of
the same name with the fast path added; a new graphql-core release is re-read first.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from enum import Enum
from types import GeneratorType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeGuard, cast

from graphql import (
    ExecutionResult,
    ExperimentalIncrementalExecutionResults,
    GraphQLEnumType,
    GraphQLError,
    GraphQLID,
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    GraphQLString,
    OperationType,
    Undefined,
    default_field_resolver,
    default_type_resolver,
    is_leaf_type,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import Executor
from graphql.execution.values import VariableValues
from graphql.pyutils import AwaitableOrValue, Path, gather_with_cancel
from graphql.pyutils import is_awaitable as default_is_awaitable

if TYPE_CHECKING:
    from server.operation_plan import OperationPlan

__all__ = ["GatewayExecutor", "PlainLeaf", "PlainObject", "executor_for", "plain_fields"]

# Strawberry's back-reference from a graphql-core field to its StrawberryField.
_STRAWBERRY_FIELD = "strawberry-definition"


class PlainLeaf(NamedTuple):
    attribute: str  # the Python attribute the field reads
    type: GraphQLLeafType
    non_null: bool
    # A Strawberry enum's members -> their GraphQL names: what its coerce_output_value
    # finds by comparing the value with each of the enum's values in turn.
    names: Mapping[Enum, str] | None = None
    text: bool = False  # String or ID: a str is its own output value


class PlainObject(NamedTuple):
    attribute: str
    type: GraphQLObjectType  # a concrete type that checks nothing (no is_type_of)
    return_type: GraphQLOutputType  # as declared: for graphql-core's error handling
    non_null: bool


PlainField = PlainLeaf | PlainObject


def plain_fields(schema: GraphQLSchema) -> dict[str, dict[str, PlainField]]:
    """The plain fields of every object type: type name -> field name -> how to read it."""
    table: dict[str, dict[str, PlainField]] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        plain: dict[str, PlainField] = {}
        for name, field in type_.fields.items():
            definition = (field.extensions or {}).get(_STRAWBERRY_FIELD)
            # Strawberry marks the resolver it generates for a basic field; a field with
            # a resolver, permission classes or extensions never gets it.
            if definition is None or not getattr(field.resolve, "_is_default", False):
                continue
            non_null = isinstance(field.type, GraphQLNonNull)
            named = field.type.of_type if non_null else field.type
            if is_leaf_type(named):
                text = named is GraphQLString or named is GraphQLID
                plain[name] = PlainLeaf(
                    definition.python_name, named, non_null, _enum_names(named), text
                )
            elif isinstance(named, GraphQLObjectType) and named.is_type_of is None:
                plain[name] = PlainObject(definition.python_name, named, field.type, non_null)
        if plain:
            table[type_.name] = plain
    return table


def _enum_names(leaf: GraphQLLeafType) -> dict[Enum, str] | None:
    """For a Strawberry enum, its members by the names its coercion would answer."""
    members: type[Enum] | None = getattr(leaf, "wrapped_cls", None)
    if not isinstance(leaf, GraphQLEnumType) or members is None:
        return None
    names: dict[Enum, str] = {}
    for member in members:
        for name, value in leaf.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return names


# A grouped field set's fields in response order, each with its plain field or None.
FieldPlan = list[tuple[str, PlainField | None, FieldDetailsList]]


class GatewayExecutor(Executor[Any]):
    """graphql-core's executor, reading plain fields without resolver machinery, and
    taking a document's set-up from its :class:`~server.operation_plan.OperationPlan`.

    Built on the plain ``Executor``: ``graphql.execute`` refuses a schema with
    ``@defer`` or ``@stream``, so the incremental executor's bookkeeping never had work.
    """

    plain: ClassVar[dict[str, dict[str, PlainField]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_awaitable is default_is_awaitable:
            self.is_awaitable = is_awaitable_by_type
        # graphql-core hands resolvers two of the executor's own bound methods, which
        # made every executor a reference cycle: it, its state and the request's context
        # were freed only by the garbage collector (~40 objects a request, and its
        # pauses). A weak reference lets them go when the request does.
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=_gather_async_work, track=_tracker(weakref.ref(self))
        )
        # graphql-core reuses one grouped field set for every item of a list, so its
        # plan is worked out once per request: id -> (the set, kept alive; its plan).
        self._plans: dict[int, tuple[GroupedFieldSet, FieldPlan]] = {}
        self._root: CollectedFields | None = None  # set by for_plan
        self._root_type: GraphQLObjectType | None = None

    @classmethod
    def for_plan(
        cls, plan: OperationPlan, context_value: Any, variable_values: VariableValues
    ) -> GatewayExecutor:
        """An executor for one request of a static plan: it shares the plan's root
        fields, sub-field memo and field plans instead of working them out again."""
        assert plan.operation is not None
        assert plan.root is not None
        executor = cls(
            plan.schema,
            plan.fragment_definitions,
            plan.fragments,
            None,
            context_value,
            plan.operation,
            variable_values,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            hide_suggestions=plan.hide_suggestions,
        )
        executor._root, executor._root_type = plan.root, plan.root_type
        executor._relevant_sub_fields = plan.subfields  # graphql-core's memo, shared
        executor._plans = plan.field_plans
        return executor

    def execute_operation(
        self, serially: bool | None = None
    ) -> AwaitableOrValue[ExecutionResult | ExperimentalIncrementalExecutionResults]:
        """graphql-core's ``execute_operation``, with the root fields the plan collected
        (no abort signal and no ``@defer``: the gateway uses neither)."""
        root, root_type = self._root, self._root_type
        if root is None or root_type is None:
            return super().execute_operation(serially)
        if serially is None:
            serially = self.operation.operation is OperationType.MUTATION
        try:
            result = self.execute_root_grouped_field_set(
                root_type, self.root_value, root[0], serially, None
            )
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self._response(None)
        if type(result) is dict:
            return self._response(result)
        pending = cast(Awaitable[dict[str, Any]], result)

        async def await_result() -> ExecutionResult:
            try:
                data = await pending
            except GraphQLError as error:
                self.collected_errors.add(error, None)
                return self._response(None)
            except Exception:
                await self.cancel_incremental_work()
                self.run_async_work_finished_hook()
                raise
            return self._response(data)

        return await_result()

    def _response(self, data: dict[str, Any] | None) -> ExecutionResult:
        # Never incremental results: the gateway's schema has no @defer or @stream.
        return cast(ExecutionResult, self.build_response(data))

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
            for response_name, plain, field_details_list in plan:
                result: Any = Undefined
                if type(plain) is PlainLeaf:
                    result = _read_leaf(plain, source_value)
                    if result is not Undefined:
                        results[response_name] = result
                        continue
                elif type(plain) is PlainObject:
                    result = self._complete_plain_object(
                        plain,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                if result is Undefined:  # not plain, or the regular path must decide
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        field_details_list,
                        Path(path, response_name, parent_type.name),
                        position_context,
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if type(result) not in _COMPLETED and is_awaitable(result):
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

    def complete_list_item_value(
        self,
        item: Any,
        complete_results: list[Any],
        item_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        item_path: Path,
        position_context: Any,
    ) -> bool:
        """An item of a list of a concrete object type goes straight to its sub-selection.

        That is what ``complete_value`` ends in for such an item, after unwrapping the
        non-null type and asking ``complete_object_value`` (``is_type_of`` is ``None``);
        a page of 100 credentials skips those three calls a hundred times. ``None``, an
        exception and anything abstract take graphql-core's own path.
        """
        object_type = _concrete_object(item_type)
        if object_type is None or item is None or item is Undefined or isinstance(item, Exception):
            return super().complete_list_item_value(
                item,
                complete_results,
                item_type,
                field_details_list,
                info,
                item_path,
                position_context,
            )
        completed = self._complete_object(
            object_type, item_type, field_details_list, item_path, item, position_context
        )
        complete_results.append(completed)
        return completed is not None and type(completed) is not dict  # an awaitable

    def _complete_plain_object(
        self,
        plain: PlainObject,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        """Execute the sub-selection on the attribute's object, as ``execute_field`` does
        after resolving; ``Undefined`` when the value needs the regular path."""
        value = _attribute(source, plain.attribute)
        if value is None and not plain.non_null:
            return None
        if value is None or value is Undefined or self.is_awaitable(value):
            return Undefined  # a null to report, a missing attribute, a value to await
        if isinstance(value, Exception):
            return Undefined
        return self._complete_object(
            plain.type, plain.return_type, field_details_list, path, value, position_context
        )

    def _complete_object(
        self,
        object_type: GraphQLObjectType,
        declared_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> Any:
        """``value``'s sub-selection executed: its dict, an awaitable of it, or ``None``
        with the field error recorded against ``declared_type`` (now or when awaited)."""
        try:
            completed = self._execute_object(
                object_type, field_details_list, path, value, position_context
            )
        except Exception as raw_error:
            self.handle_field_error(raw_error, declared_type, field_details_list, path)
            return None
        if type(completed) is dict or not self.is_awaitable(completed):
            return completed

        async def await_completed() -> Any:
            try:
                return await completed
            except Exception as raw_error:
                self.handle_field_error(raw_error, declared_type, field_details_list, path)
                return None

        return await_completed()

    def _execute_object(
        self,
        object_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        path: Path,
        value: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        """``collect_and_execute_subfields``, calling ``execute_fields`` itself when there
        is nothing to defer (what ``execute_collected_subfields`` then does)."""
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(
            object_type, field_details_list
        )
        if position_context is None and not new_defer_usages:
            return self.execute_fields(object_type, value, path, grouped_field_set, None)
        return self.execute_collected_subfields(
            object_type, value, path, grouped_field_set, new_defer_usages, position_context
        )

    def _plan(
        self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet
    ) -> FieldPlan:
        fields = self.plain.get(parent_type.name, {})
        plan: FieldPlan = [
            (response_name, fields.get(details[0].node.name.value), details)
            for response_name, details in grouped_field_set.items()
        ]
        self._plans[id(grouped_field_set)] = (grouped_field_set, plan)
        return plan


def _gather_async_work(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    """``Executor.gather_async_work``, which does not use its executor."""
    return gather_with_cancel(*values)


def _tracker(executor: weakref.ref[GatewayExecutor]) -> Callable[[Sequence[Any]], None]:
    """``Executor.track_async_work`` of ``executor`` while it runs. It runs as long as a
    resolver can call this: the executor's own coroutines hold it."""

    def track(values: Sequence[Any]) -> None:
        live = executor()
        if live is not None:
            live.track_async_work(values)

    return track


_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def is_awaitable_by_type(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's ``is_awaitable``, remembered per type: it asks about every item of
    a list and every field, and the answer is the type's (``await`` looks ``__await__`` up
    on the type), but for generators, whose answer depends on their code's flags."""
    kind = type(value)
    known = _AWAITABLE_BY_TYPE.get(kind)
    if known is None:
        known = default_is_awaitable(value)
        if kind is not GeneratorType:
            _AWAITABLE_BY_TYPE[kind] = known
    return known


def _attribute(source: Any, name: str) -> Any:
    """``getattr``, or ``Undefined`` when reading fails in any way: a field converted on
    first read (``schema.records``) may raise, and the regular path raises it again,
    located and with its path."""
    try:
        return getattr(source, name, Undefined)
    except Exception:
        return Undefined


def _read_leaf(leaf: PlainLeaf, source: Any) -> Any:
    """The leaf's output value, or ``Undefined`` to take the regular (erroring) path."""
    value = _attribute(source, leaf.attribute)
    if leaf.text and type(value) is str:  # what serialize_string and serialize_id answer
        return value
    if value is None:
        return Undefined if leaf.non_null else None
    if value is Undefined or isinstance(value, Exception):
        return Undefined
    if leaf.names is not None and isinstance(value, Enum):
        name = leaf.names.get(value)
        if name is not None:
            return name
    try:
        coerced = leaf.type.coerce_output_value(value)
    except Exception:  # the regular path raises it again, located and with its path
        return Undefined
    return Undefined if coerced is None else coerced


# What a field completes to when it is done: anything else may be awaitable.
_COMPLETED = frozenset({dict, list, str, int, float, bool})


def _concrete_object(item_type: GraphQLOutputType) -> GraphQLObjectType | None:
    """The object type of a list's items when completing one needs no type check."""
    named = item_type.of_type if type(item_type) is GraphQLNonNull else item_type
    if type(named) is GraphQLObjectType and named.is_type_of is None:
        return named
    return None


def executor_for(schema: GraphQLSchema) -> type[GatewayExecutor]:
    """A :class:`GatewayExecutor` class that knows ``schema``'s plain fields."""
    return type("GatewayExecutor", (GatewayExecutor,), {"plain": plain_fields(schema)})
