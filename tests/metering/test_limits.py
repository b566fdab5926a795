import strawberry

from metering.limits import OperationLimits, operation_limit_rules
from server.documents import DocumentCache


@strawberry.type
class Node:
    @strawberry.field
    def child(self) -> "Node":
        return Node()

    value: int = 1


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node:
        return Node()


SCHEMA = strawberry.Schema(query=Query)._schema
LIMITS = OperationLimits(max_depth=3, max_aliases=2, max_root_fields=2, max_directives=2)
RULES = operation_limit_rules(LIMITS)


def _errors(query: str) -> list[str]:
    prepared = DocumentCache(SCHEMA, extra_rules=RULES).prepare(query)
    return [e.message for e in prepared.errors]


def test_documents_within_the_limits_pass() -> None:
    assert _errors("{ a: node { child { value } } b: node { value @include(if: true) } }") == []


def test_depth_counts_through_fragments() -> None:
    messages = _errors("{ node { ...F } } fragment F on Node { child { child { value } } }")
    assert messages == ["The operation is nested 4 levels deep; at most 3 are allowed."]


def test_aliases_root_fields_and_directives_are_counted() -> None:
    assert "3 aliases" in _errors("{ node { a: value b: value c: value } }")[0]
    assert "3 root fields" in _errors("{ node { value } b: node { value } c: node { value } }")[0]
    query = (
        "{ node { value @skip(if: false) @include(if: true) child @skip(if: false) { value } } }"
    )
    assert "3 directives" in _errors(query)[0]


def test_rules_are_built_once_and_verdicts_cached() -> None:
    cache = DocumentCache(SCHEMA, extra_rules=RULES)
    query = "{ node { child { child { child { value } } } } }"
    assert cache.prepare(query) is cache.prepare(query)
    assert operation_limit_rules(LIMITS) is not RULES  # a new call builds new classes
