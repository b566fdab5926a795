"""Operation limits besides cost: depth, aliases, root fields and directives.

Each limit is a graphql-core validation rule. The rule classes are built once per process
(:func:`operation_limit_rules`) and added to the cached validation, so a document is
checked once and its verdict cached with it; building rules per request would defeat
the cache. Tokens are limited by the parser (``max_tokens``); batches are refused by the
endpoint, so one operation runs per request::

    rules = operation_limit_rules(OperationLimits(max_depth=10))
    DocumentCache(schema, extra_rules=rules)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

__all__ = ["OperationLimits", "operation_limit_rules"]


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """The documented defaults; every one is a setting (``GATEWAY_MAX_*``)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_root_fields: int = 10
    max_directives: int = 20


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection's own nesting is bounded by the schema
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are another rule's error
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


def operation_limit_rules(limits: OperationLimits) -> tuple[type[ASTValidationRule], ...]:
    """The validation rules enforcing ``limits``: create once, reuse for every document."""

    class MaxDepthRule(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            depth = _depth(node.selection_set, fragments)
            if depth > limits.max_depth:
                self.report_error(
                    GraphQLError(
                        f"The operation is nested {depth} levels deep; at most "
                        f"{limits.max_depth} are allowed.",
                        node,
                    )
                )

    class MaxAliasesRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_field(self, node: FieldNode, *_: Any) -> None:
            if node.alias is not None:
                self.count += 1

        def leave_document(self, *_: Any) -> None:
            if self.count > limits.max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The document uses {self.count} aliases; at most "
                        f"{limits.max_aliases} are allowed."
                    )
                )

    class MaxRootFieldsRule(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            count = sum(1 for s in node.selection_set.selections if isinstance(s, FieldNode))
            if count > limits.max_root_fields:
                self.report_error(
                    GraphQLError(
                        f"The operation selects {count} root fields; at most "
                        f"{limits.max_root_fields} are allowed.",
                        node,
                    )
                )

    class MaxDirectivesRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            self.count += 1

        def leave_document(self, *_: Any) -> None:
            if self.count > limits.max_directives:
                self.report_error(
                    GraphQLError(
                        f"The document uses {self.count} directives; at most "
                        f"{limits.max_directives} are allowed."
                    )
                )

    return (MaxDepthRule, MaxAliasesRule, MaxRootFieldsRule, MaxDirectivesRule)
