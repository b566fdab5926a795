"""Direct resolvers answer exactly what Strawberry's wrappers answer, and only replace those
whose argument conversion is a no-op."""

import asyncio
import enum
from typing import Annotated, Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from schema.partner_schema import build_schema
from server.direct_resolvers import install


@strawberry.enum
class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return str(next_(source, info, **kwargs)).upper()


@strawberry.type
class Thing:
    name: str

    @strawberry.field
    def greet(self, punctuation: str = "!") -> str:
        return f"hi {self.name}{punctuation}"

    @strawberry.field
    def field_name(self, info: Info) -> str:
        return info.field_name


def things(
    first: int,
    prefix: Annotated[str | None, strawberry.argument(name="startsWith")] = None,
) -> list[Thing]:
    names = [f"thing {i}" for i in range(first)]
    return [Thing(name=n) for n in names if prefix is None or n.startswith(prefix)]


async def later(info: Info, id: strawberry.ID) -> Thing:
    await asyncio.sleep(0)
    if id == "missing":
        raise ValueError(f"no thing {id} for {info.field_name}")
    return Thing(name=f"later {id}")


def shaded(shade: Shade) -> str:
    return f"{shade.value}:{type(shade).__name__}"


def big(with_root: strawberry.Parent[Any], flag: bool = False) -> str:
    return f"{with_root!r} {flag}"


@strawberry.type
class Query:
    things: list[Thing] = strawberry.field(resolver=things)
    later: Thing = strawberry.field(resolver=later)
    shaded: str = strawberry.field(resolver=shaded)
    shouted: str = strawberry.field(resolver=lambda: "quiet", extensions=[Upper()])
    big: str = strawberry.field(resolver=big)


QUERIES = [
    "{ things(first: 3) { name greet fieldName } }",
    '{ things(first: 12, startsWith: "thing 1") { name greet(punctuation: "?") } }',
    '{ later(id: "7") { name fieldName } }',
    '{ later(id: "missing") { name } }',
    "{ shaded(shade: DARK) shouted big(flag: true) }",
    "query($n: Int!, $p: String) { things(first: $n, startsWith: $p) { name } }",
]


def _run(schema: strawberry.Schema, query: str) -> ExecutionResult:
    result = execute(schema._schema, parse(query), variable_values={"n": 2, "p": "thing"})
    if not isinstance(result, ExecutionResult):
        result = asyncio.run(_await(result))
    return result


async def _await(result: Any) -> ExecutionResult:
    return await result  # type: ignore[no-any-return]


@pytest.mark.parametrize("query", QUERIES)
def test_answers_and_errors_are_strawberrys(query: str) -> None:
    wrapped = strawberry.Schema(query=Query)
    direct = strawberry.Schema(query=Query)
    install(direct)
    expected, actual = _run(wrapped, query), _run(direct, query)
    assert actual.data == expected.data
    assert [e.formatted for e in actual.errors or ()] == [
        e.formatted for e in expected.errors or ()
    ]


def test_only_fields_whose_arguments_need_no_conversion_are_replaced() -> None:
    replaced = install(strawberry.Schema(query=Query))
    assert set(replaced) == {"Query.things", "Query.later", "Thing.greet", "Thing.fieldName"}


def test_the_partner_schemas_single_record_queries_are_replaced() -> None:
    replaced = set(install(build_schema()))
    assert {"Query.badge", "Query.credential", "Query.viewer"} <= replaced
    # enum and date filters still go through Strawberry's conversion
    assert not {"Query.badges", "Query.credentials", "Viewer.usage"} & replaced
