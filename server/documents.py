"""Parsed and validated GraphQL documents, cached by query text.

Partners send the same few operations again and again: parsing and validating each
once per process, not once per request, is most of what makes the endpoint fast. The
validation rules are built once here, so the cache is never defeated by fresh rule
objects. Invalid documents are cached too, with their errors; documents longer than
``max_cached_query`` characters are never cached, which bounds the cache's memory::

    documents = DocumentCache(schema, hide_suggestions=True)
    prepared = documents.prepare("{ viewer { company { name } } }")
    prepared.errors or prepared.operation_type(None)  # OperationType.QUERY
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    specified_rules,
    validate,
)

__all__ = ["DocumentCache", "PreparedDocument"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document ready to execute, or the errors that stop it (``phase`` says which step)."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()
    phase: str = ""  # "parse" or "validation" when errors is set
    # Per-operation analyses computed once and kept with the document (e.g. cost plans).
    analyses: dict[Any, Any] = field(default_factory=dict, compare=False)

    def analysis(
        self,
        kind: str,
        operation_name: str | None,
        analyse: Callable[[DocumentNode, str | None], T],
    ) -> T:
        """``analyse(document, operation_name)``, worked out once per operation and kept
        with the document (cost plans, execution plans)."""
        key = (kind, operation_name)
        found = self.analyses.get(key)
        if found is None:
            assert self.document is not None
            found = self.analyses[key] = analyse(self.document, operation_name)
        return cast(T, found)

    def sole_operation_name(self) -> str | None:
        """The name of the document's only operation, for logs and the ledger when the
        request names none (``query Badges { ... }`` sent without ``operationName``)."""
        name = self.analyses.get("sole_operation_name", "")
        if name == "":
            assert self.document is not None
            operations = [
                d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
            ]
            only = operations[0] if len(operations) == 1 else None
            name = only.name.value if only is not None and only.name is not None else None
            self.analyses["sole_operation_name"] = name
        return name  # type: ignore[no-any-return]

    def operation_type(self, operation_name: str | None) -> OperationType | None:
        """The type of the operation that would run, or None when there is no such one."""
        assert self.document is not None
        operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]
        if operation_name is None:
            return operations[0].operation if len(operations) == 1 else None
        for operation in operations:
            if operation.name is not None and operation.name.value == operation_name:
                return operation.operation
        return None


class DocumentCache:
    """A bounded LRU of prepared documents."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_size: int = 1000,
        max_tokens: int = 10_000,
        hide_suggestions: bool = True,
        extra_rules: Sequence[type[ASTValidationRule]] = (),
        max_cached_query: int = 16_384,
    ) -> None:
        self._schema = schema
        self._rules = (*specified_rules, *extra_rules)
        self._max_size = max_size
        self._max_cached_query = max_cached_query
        self._max_tokens = max_tokens
        self._hide_suggestions = hide_suggestions
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()

    def prepare(self, query: str) -> PreparedDocument:
        cached = self._cache.get(query)
        if cached is not None:
            self._cache.move_to_end(query)
            return cached
        prepared = self._prepare(query)
        if len(query) > self._max_cached_query:
            # Real operations are small; a huge one (padded with comments, say) is
            # prepared but not kept, so the cache's memory stays bounded by
            # max_size * max_cached_query characters whatever partners send.
            return prepared
        self._cache[query] = prepared
        if len(self._cache) > self._max_size:
            self._cache.popitem(last=False)
        return prepared

    def _prepare(self, query: str) -> PreparedDocument:
        try:
            document = parse(query, no_location=False, max_tokens=self._max_tokens)
        except GraphQLError as error:
            return PreparedDocument(None, (error,), "parse")
        errors = validate(
            self._schema, document, self._rules, hide_suggestions=self._hide_suggestions
        )
        if errors:
            return PreparedDocument(None, tuple(errors), "validation")
        return PreparedDocument(document)
