"""The plain-leaf fast path answers exactly what graphql-core's own executor answers."""

import asyncio
import enum
import gc
import sys
import types
import weakref
from collections.abc import Coroutine, Mapping
from typing import Any, ClassVar

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse, validate
from graphql.pyutils import is_awaitable
from hypothesis import given, settings
from hypothesis import strategies as st

from schema.partner_schema import build_schema
from schema.records import Converter, FromRecord
from server.executor import PlainLeaf, PlainObject, executor_for, is_awaitable_by_type, plain_fields
from server.graphql_endpoint import _drop_tracebacks


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Owner:
    name: str
    nickname: str | None

    @strawberry.field
    async def greeting(self) -> str:
        await asyncio.sleep(0)
        return f"hello {self.name}"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    colour: Colour
    note: str | None
    tags: list[str]
    owner: Owner
    maybe_owner: Owner | None

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return ITEMS

    @strawberry.field
    def maybe_items(self) -> list[Item | None]:
        return MAYBE_ITEMS

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
        "owner": Owner(name=f"owner {i}", nickname=None),
        "maybe_owner": None if i % 2 else Owner(name=f"maybe {i}", nickname="m"),
    }
    fields.update(changes)
    return Item(**fields)


ITEMS: list[Item] = [_item(i) for i in range(5)]
MAYBE_ITEMS: list[Item | None] = [_item(0), None, _item(2)]
NULL: Any = None  # a null where the schema promises a value: what a buggy resolver returns
SCHEMA = strawberry.Schema(query=Query)._schema
EXECUTOR = executor_for(SCHEMA)

QUERIES = [
    "{ items { id name colour note } }",
    "{ items { b: name a: id name } }",  # aliases and response order
    "{ items { ...F shout } } fragment F on Item { colour id }",
    "query($skip: Boolean!) { items { id @skip(if: $skip) name @include(if: true) } }",
    "{ items { __typename id tags } later { id colour shout } }",
    "{ items { owner { name nickname } maybeOwner { name } } }",
    "{ items { id owner { greeting ...O } m: maybeOwner { greeting } } } fragment O on Owner { name }",
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
        ({"owner": None}, "Cannot return null for non-nullable field Item.owner."),
        (
            {"owner": Owner(name=NULL, nickname=None)},
            "Cannot return null for non-nullable field Owner.name.",
        ),
        (
            {"maybe_owner": Owner(name=NULL, nickname=None)},
            "Cannot return null for non-nullable field Owner.name.",
        ),
    ],
)
def test_bad_values_fail_with_graphql_cores_error_path_and_location(
    changes: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replace_item(monkeypatch, 2, _item(2, **changes))
    result = _same("{ items { id name colour owner { name } maybeOwner { name } } }")
    assert result.errors is not None
    assert result.errors[0].message == message
    assert result.errors[0].path is not None


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (NULL, "Cannot return null for non-nullable field Query.items."),
        (ValueError("broken item"), "broken item"),
        (_item(3, name=NULL), "Cannot return null for non-nullable field Item.name."),
    ],
)
def test_a_bad_list_item_fails_as_graphql_core_does(
    item: Any, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _replace_item(monkeypatch, 3, item)
    result = _same("{ items { id name owner { name } } }")
    assert result.data is None  # [Item!]!: the error reaches the root
    assert result.errors is not None
    assert result.errors[0].message == message


def test_nullable_list_items_fail_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [_item(0), None, _item(2, owner=NULL), ValueError("broken item")]
    monkeypatch.setattr(sys.modules[__name__], "MAYBE_ITEMS", items)
    result = _same("{ maybeItems { id owner { name } } }")
    assert result.data is not None
    assert result.data["maybeItems"][:2] == [{"id": "0", "owner": {"name": "owner 0"}}, None]
    assert result.data["maybeItems"][2:] == [None, None]
    assert result.errors is not None
    assert [e.path for e in result.errors] == [["maybeItems", 2, "owner"], ["maybeItems", 3]]


def test_a_missing_attribute_fails_as_graphql_core_does(monkeypatch: pytest.MonkeyPatch) -> None:
    item = _item(4)
    del item.note
    _replace_item(monkeypatch, 4, item)
    result = _same("{ items { id note } }")
    assert result.errors is not None
    assert result.errors[0].path == ["items", 4, "note"]


class _ItemRecord(FromRecord, Item):
    """An Item whose note and owner are read from a backend record on first use."""

    converters: ClassVar[Mapping[str, Converter]] = {
        "note": lambda record: record["note"],
        "owner": lambda record: Owner(name=record["owner"], nickname=None),
    }

    def __init__(self, record: dict[str, Any]) -> None:
        self._record = record
        self.id, self.name, self.colour = strawberry.ID("9"), "record", Colour.RED
        self.tags, self.maybe_owner = [], None


def test_a_field_whose_first_read_fails_fails_as_graphql_core_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = [_ItemRecord({"note": "fine", "owner": "ana"}), _ItemRecord({})]  # no note, no owner
    monkeypatch.setattr(sys.modules[__name__], "MAYBE_ITEMS", items)
    result = _same("{ maybeItems { id note owner { name } } }")
    assert result.data is not None
    assert result.data["maybeItems"][0] == {"id": "9", "note": "fine", "owner": {"name": "ana"}}
    assert result.errors is not None
    # Located at the field that could not be read, not at the item around it.
    assert sorted(e.path for e in result.errors) == [  # type: ignore[type-var]
        ["maybeItems", 1, "note"],
        ["maybeItems", 1, "owner"],
    ]


@settings(max_examples=60, deadline=None)
@given(
    fields=st.lists(
        st.sampled_from(
            [
                "id",
                "name",
                "colour",
                "note",
                "tags",
                "shout",
                "__typename",
                "owner { name greeting }",
                "maybeOwner { nickname }",
            ]
        ),
        min_size=1,
        max_size=6,
    ),
    aliased=st.booleans(),
)
def test_any_selection_answers_as_graphql_core_does(fields: list[str], aliased: bool) -> None:
    selection = " ".join(f"f{i}: {f}" if aliased else f for i, f in enumerate(fields))
    _same(f"{{ items {{ {selection} }} later {{ {selection} }} }}")


def test_fields_with_resolvers_and_lists_are_not_plain() -> None:
    plain = plain_fields(SCHEMA)["Item"]
    assert set(plain) == {"id", "name", "colour", "note", "owner", "maybeOwner"}
    assert isinstance(plain["owner"], PlainObject)
    assert plain["note"].non_null is False
    colour, name = plain["colour"], plain["name"]
    assert isinstance(colour, PlainLeaf) and isinstance(name, PlainLeaf)
    assert colour.names == {Colour.RED: "RED", Colour.BLUE: "BLUE"}
    assert name.names is None
    assert name.text and not colour.text
    assert plain["name"].non_null is True
    assert "greeting" not in plain_fields(SCHEMA)["Owner"]


def test_the_partner_schemas_credential_and_badge_fields_take_the_fast_path() -> None:
    plain = plain_fields(build_schema()._schema)
    assert {"id", "status", "issuedOn", "evidenceUrl", "badge"} <= set(plain["Credential"])
    assert {"id", "name", "status", "level"} <= set(plain["Badge"])
    assert "Query" not in plain  # every root field has a resolver


def test_awaitables_are_recognised_as_graphql_core_recognises_them() -> None:
    async def coroutine_function() -> None:
        return None

    @types.coroutine
    def generator_coroutine() -> Any:
        yield None

    def plain_generator() -> Any:
        yield None

    coroutine: Coroutine[Any, Any, None] = coroutine_function()
    close_coroutine = coroutine.close  # the assertions below narrow its type
    loop = asyncio.new_event_loop()
    values = [
        coroutine,
        generator_coroutine(),
        plain_generator(),  # a generator of the same type that is not awaitable
        generator_coroutine(),
        loop.create_future(),
        ITEMS[0],
        {"a": 1},
        [1],
        "text",
        None,
    ]
    try:
        for _ in range(2):  # the second time from what was remembered
            assert [is_awaitable_by_type(v) for v in values] == [is_awaitable(v) for v in values]
        assert is_awaitable_by_type(coroutine) and not is_awaitable_by_type(plain_generator())
    finally:
        close_coroutine()
        loop.close()


@pytest.mark.parametrize("query", ["{ items { id owner { name } } }", "{ later { id shout } }"])
def test_an_executor_is_freed_without_the_garbage_collector(query: str) -> None:
    executors: list[weakref.ref[Any]] = []

    class Watched(EXECUTOR):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            executors.append(weakref.ref(self))

    gc.collect()
    gc.disable()  # only reference counting frees anything now
    try:
        assert _run(query, Watched).errors is None
        # graphql-core's executor hands resolvers its own bound methods: without the
        # weak reference, every executor (with the request's state) was a cycle.
        assert len(executors) == 1
        assert executors[0]() is None
    finally:
        gc.enable()


def test_a_failed_field_leaves_a_cycle_until_the_endpoint_drops_its_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executors: list[weakref.ref[Any]] = []

    class Watched(EXECUTOR):  # type: ignore[misc,valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            executors.append(weakref.ref(self))

    _replace_item(monkeypatch, 2, _item(2, name=ValueError("broken")))  # raised on reading
    gc.collect()
    gc.disable()
    try:
        errors = _run("{ items { id name } }", Watched).errors
        assert errors is not None
        # The exception's traceback holds the executor's frames, the executor holds the
        # error: alive until a collection, with everything the request built...
        assert executors[0]() is not None
        _drop_tracebacks(list(errors))
        # ...and freed at once by reference counting once the traceback is gone.
        del errors
        assert executors[0]() is None
    finally:
        gc.enable()
