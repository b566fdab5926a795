import strawberry
from graphql import DocumentNode, OperationType

from server.documents import DocumentCache


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


SCHEMA = strawberry.Schema(query=Query)._schema


def test_a_valid_document_is_prepared_once_and_reused() -> None:
    cache = DocumentCache(SCHEMA)
    first = cache.prepare("{ hello }")
    assert first.errors == ()
    assert cache.prepare("{ hello }") is first
    assert first.operation_type(None) is OperationType.QUERY


def test_parse_and_validation_errors_are_cached_with_their_phase() -> None:
    cache = DocumentCache(SCHEMA)
    assert cache.prepare("{ hello").phase == "parse"
    invalid = cache.prepare("{ helo }")
    assert invalid.phase == "validation"
    assert cache.prepare("{ helo }") is invalid


def test_suggestions_are_hidden_unless_enabled() -> None:
    hidden = DocumentCache(SCHEMA).prepare("{ helo }")
    shown = DocumentCache(SCHEMA, hide_suggestions=False).prepare("{ helo }")
    assert "Did you mean" not in hidden.errors[0].message
    assert "Did you mean" in shown.errors[0].message


def test_token_limit_stops_parsing() -> None:
    cache = DocumentCache(SCHEMA, max_tokens=50)
    assert cache.prepare("{ " + "hello " * 100 + "}").phase == "parse"


def test_the_cache_is_bounded() -> None:
    cache = DocumentCache(SCHEMA, max_size=2)
    first = cache.prepare("{ hello }")
    cache.prepare("{ a: hello }")
    cache.prepare("{ b: hello }")
    assert cache.prepare("{ hello }") is not first


def test_operation_type_needs_a_name_when_there_are_several() -> None:
    prepared = DocumentCache(SCHEMA).prepare("query A { hello } query B { hello }")
    assert prepared.operation_type(None) is None
    assert prepared.operation_type("B") is OperationType.QUERY
    assert prepared.operation_type("C") is None


def test_huge_documents_are_prepared_but_never_cached() -> None:
    cache = DocumentCache(SCHEMA, max_cached_query=100)
    padded = "{ hello }\n#" + "x" * 1000
    first = cache.prepare(padded)
    assert first.errors == ()
    assert cache.prepare(padded) is not first


def test_an_analysis_is_worked_out_once_per_kind_and_operation() -> None:
    prepared = DocumentCache(SCHEMA).prepare("query A { hello } query B { hello }")
    calls: list[tuple[str, str | None]] = []

    def analyse(document: DocumentNode, operation_name: str | None) -> str:
        calls.append(("analyse", operation_name))
        return f"{len(document.definitions)} definitions, {operation_name}"

    for _ in range(3):
        assert prepared.analysis("size", "A", analyse) == "2 definitions, A"
        assert prepared.analysis("size", "B", analyse) == "2 definitions, B"
    assert prepared.analysis("other", "A", analyse) == "2 definitions, A"
    assert calls == [("analyse", "A"), ("analyse", "B"), ("analyse", "A")]
