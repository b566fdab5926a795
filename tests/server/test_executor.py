"""The plain-leaf fast path answers exactly what graphql-core's own executor answers."""

import asyncio
import enum
import sys
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.partner_schema import build_schema
from server.executor import executor_for, plain_leaves


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    colour: Colour
    note: str | None
    tags: list[str]

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS

    @strawberry.field
    async def later(self) -> Item:
        await asyncio.sleep(0)
        return ITEMS[0]


def _item(i: int, **changes: Any) -> Item:
    fields: dict[str, Any] = {
        "id": strawberry.ID(str(i)),
        "name": f"item {i}",
        "colour": Colour.RED if i % 2 else Colour.BLUE,
        "note": None if i % 3 else f"note {i}",
        "tags": [f"t{i}"],
    }
    fields.update(changes)
    return Item(**fields)


ITEMS: list[Item] = [_item(i) for i in range(5)]
SCHEMA = strawberry.Schema(query=Query)._schema
EXECUTOR = executor_for(SCHEMA)

QUERIES = [
    "{ items { id name colour note } }",
    "{ items { b: name a: id name } }",  # aliases and response order
    "{ items { ...F shout } } fragment F on Item { colour id }",
    "query($skip: Boolean!) { items { id @skip(if: $skip) name @include(if: true) } }",
    "{ items { __typename id tags } later { id colour shout } }",
]


def _run(query: str, executor: Any, variables: dict[str, Any] | None = None) -> ExecutionResult:
    document = parse(query)
    assert validate(SCHEMA, document) == []
    result = execute(SCHEMA, document, variable_values=variables, executor_class=executor)
    if not isinstance(result, ExecutionResult):
        result = asyncio.run(_await(result))
    return result


async def _await(result: Any) -> ExecutionResult:
    return await result  # type: ignore[no-any-return]


def _same(query: str, variables: dict[str, Any] | None = None) -> ExecutionResult:
    fast = _run(query, EXECUTOR, variables)
    regular = _run(query, None, variables)
    assert fast.data == regular.data
    assert list(_keys(fast.data)) == list(_keys(regular.data))  # the JSON's key order
    assert [e.formatted for e in fast.errors or ()] == [e.formatted for e in regular.errors or ()]
    return fast


def _keys(value: Any) -> Any:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _replace_item(monkeypatch: pytest.MonkeyPatch, index: int, item: Item) -> None:
    items = list(ITEMS)
    items[index] = item
    monkeypatch.setattr(sys.modules[__name__], "ITEMS", items)


@pytest.mark.parametrize("query", QUERIES)
def test_answers_match_graphql_core(query: str) -> None:
    _same(query, {"skip": True})


def test_leaves_are_coerced_like_the_regular_path() -> None:
    data = _same("{ items { id colour } }").data
    assert data is not None
    assert data["items"][1] == {"id": "1", "colour": "RED"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": None}, "Cannot return null for non-nullable field Item.name."),
        ({"colour": "green"}, "Enum 'Colour' cannot represent value: 'green'"),
        ({"name": ValueError("broken")}, "broken"),
    ],
)
def test_bad_values_fail_with_graphql_cores_error_path_and_location(
    changes: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replace_item(monkeypatch, 2, _item(2, **changes))
    result = _same("{ items { id name colour } }")
    assert result.errors is not None
    assert result.errors[0].message == message
    assert result.errors[0].path is not None


def test_a_missing_attribute_fails_as_graphql_core_does(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _item(4)
    del item.note
    _replace_item(monkeypatch, 4, item)
    result = _same("{ items { id note } }")
    assert result.errors is not None
    assert result.errors[0].path == ["items", 4, "note"]


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(
        st.sampled_from(["id", "name", "colour", "note", "tags", "shout", "__typename"]),
        min_size=1,
        max_size=6,
    ),
    aliased=st.booleans(),
)
def test_any_selection_answers_as_graphql_core_does(fields: list[str], aliased: bool) -> None:
    selection = " ".join(f"f{i}: {f}" if aliased else f for i, f in enumerate(fields))
    _same(f"{{ items {{ {selection} }} later {{ {selection} }} }}")


def test_fields_with_resolvers_are_not_plain_leaves() -> None:
    leaves = plain_leaves(SCHEMA)["Item"]
    assert set(leaves) == {"id", "name", "colour", "note"}  # not shout, not the list tags
    assert leaves["note"].non_null is False
    assert leaves["name"].non_null is True


def test_the_partner_schemas_credential_and_badge_leaves_take_the_fast_path() -> None:
    leaves = plain_leaves(build_schema()._schema)
    assert {"id", "status", "issuedOn", "evidenceUrl"} <= set(leaves["Credential"])
    assert {"id", "name", "status", "level"} <= set(leaves["Badge"])
    assert "badge" not in leaves["Credential"]  # an object, resolved the regular way
    assert "Query" not in leaves  # every root field has a resolver
