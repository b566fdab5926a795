"""What graphql-core works out per request from the document alone, worked out once.

For every request, graphql-core's ``execute`` finds the operation in the document and
indexes its fragments (``Executor.build``), then collects the operation's root fields
and, for each object it completes, that object's sub-fields. Partners send the same few
documents again and again, and all of that depends on the document only, unless an
``@skip`` or ``@include`` reads a variable. For a one-badge query it was ~13 µs of a
request's CPU (docs/performance.md).

An :class:`OperationPlan` does that work once per cached document and operation name
and keeps it: the operation, its fragments, its root fields and the memo of sub-fields
that graphql-core otherwise rebuilds per request. Each request still coerces its own
variables and gets its own executor (errors, context)::

    plan = OperationPlan(schema, document, operation_name)  # kept with the document
    result = plan.execute(executor_class, context_value=context, variable_values=variables)

A document whose field collection reads variables, or that graphql-core would refuse
before executing (no such operation, several without a name, a root type the schema
lacks), is planned as *dynamic*: it is built and collected per request by graphql-core
itself, exactly as ``execute`` does, errors included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from graphql import (
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    execute,
    visit,
)
from graphql.execution.collect_fields import CollectedFields, FragmentDetails, collect_fields
from graphql.execution.values import VariableValues, get_variable_values
from graphql.pyutils import AwaitableOrValue

if TYPE_CHECKING:
    from server.executor import GatewayExecutor

__all__ = ["MAX_COERCION_ERRORS", "OperationPlan"]

# Variable errors reported before coercion stops, as ``graphql.execute`` does by default.
# Without a cap, one input object with thousands of unknown fields held the event loop for
# seconds: graphql-core writes the whole value into each error's message.
MAX_COERCION_ERRORS = 50

# Directives whose arguments decide which fields are collected.
_COLLECTION_DIRECTIVES = frozenset({"skip", "include"})


class OperationPlan:
    """One operation of one document, with its request-independent set-up done."""

    __slots__ = (
        "_document",
        "_operation_name",
        "field_plans",
        "fragment_definitions",
        "fragments",
        "hide_suggestions",
        "operation",
        "root",
        "root_type",
        "schema",
        "subfields",
    )

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        *,
        hide_suggestions: bool = False,
    ) -> None:
        self.schema = schema
        self.hide_suggestions = hide_suggestions  # "did you mean" in variable errors
        self._document = document
        self._operation_name = operation_name
        self.operation: OperationDefinitionNode | None = None
        self.fragment_definitions: dict[str, FragmentDefinitionNode] = {}
        self.fragments: dict[str, FragmentDetails] = {}
        self.root_type: GraphQLObjectType | None = None
        # The root fields, collected once: None means the plan is dynamic.
        self.root: CollectedFields | None = None
        # graphql-core's sub-field memo, shared by every request of the plan: keyed by
        # (type, id(field list)), which is stable because the root fields are.
        self.subfields: dict[tuple[GraphQLObjectType, int], Any] = {}
        # The executor's field plans (server.executor), shared the same way.
        self.field_plans: dict[int, Any] = {}
        operation = self._find_operation()
        if operation is None or _reads_variables_in_collection(document):
            return
        root_type = schema.get_root_type(operation.operation)
        if root_type is None:
            return
        for definition in document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:  # fragment arguments: per request
                    return
                self.fragment_definitions[definition.name.value] = definition
                self.fragments[definition.name.value] = FragmentDetails(definition, None)
        try:
            no_variables = cast(VariableValues, get_variable_values(schema, (), {}))
            self.root = collect_fields(schema, self.fragments, no_variables, root_type, operation)
        except Exception:  # graphql-core raises it again, per request
            return
        self.operation, self.root_type = operation, root_type

    @property
    def dynamic(self) -> bool:
        """Whether each request is built and collected by graphql-core itself."""
        return self.root is None

    def execute(
        self,
        executor_class: type[GatewayExecutor],
        *,
        context_value: Any,
        variable_values: dict[str, Any] | None,
    ) -> AwaitableOrValue[ExecutionResult]:
        """Execute the operation: what graphql-core's ``execute`` answers for it."""
        if self.root is None or self.operation is None:
            return execute(
                self.schema,
                self._document,
                context_value=context_value,
                variable_values=variable_values,
                operation_name=self._operation_name,
                executor_class=executor_class,
                max_coercion_errors=MAX_COERCION_ERRORS,
                hide_suggestions=self.hide_suggestions,
            )
        coerced = get_variable_values(
            self.schema,
            self.operation.variable_definitions or (),
            variable_values or {},
            max_errors=MAX_COERCION_ERRORS,
            hide_suggestions=self.hide_suggestions,
        )
        if isinstance(coerced, list):
            return ExecutionResult(None, errors=coerced)
        executor = executor_class.for_plan(self, context_value, coerced)
        # Never incremental: the gateway's schema has no @defer or @stream.
        return cast(AwaitableOrValue[ExecutionResult], executor.execute_operation())

    def _find_operation(self) -> OperationDefinitionNode | None:
        """The operation ``Executor.build`` would run; None where it would refuse."""
        found: OperationDefinitionNode | None = None
        for definition in self._document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if self._operation_name is None:
                if found is not None:
                    return None  # several: graphql-core names the error
                found = definition
            elif definition.name is not None and definition.name.value == self._operation_name:
                found = definition
        return found


class _CollectionReadsVariables(Exception):
    pass


class _VariableDirectiveFinder(Visitor):
    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        if node.name.value in _COLLECTION_DIRECTIVES and any(
            isinstance(argument.value, VariableNode) for argument in node.arguments or ()
        ):
            raise _CollectionReadsVariables


def _reads_variables_in_collection(document: DocumentNode) -> bool:
    """Whether an ``@skip``/``@include`` in ``document`` takes its condition from a variable."""
    try:
        visit(document, _VariableDirectiveFinder())
    except _CollectionReadsVariables:
        return True
    return False
