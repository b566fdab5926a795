"""A document's plan answers what graphql-core's ``execute`` answers, request after request."""

import asyncio
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, execute, parse, validate

from server.executor import executor_for
from server.operation_plan import OperationPlan

CALLS: list[str] = []


@strawberry.type
class Badge:
    id: strawberry.ID
    name: str

    @strawberry.field
    def owner(self) -> "Owner":
        return Owner(name=f"owner of {self.name}")


@strawberry.type
class Owner:
    name: str


@strawberry.input
class BadgeFilter:
    name: str
    level: int = 1


@strawberry.type
class Query:
    @strawberry.field
    def find(self, filter: BadgeFilter) -> list[Badge]:
        return [Badge(id=strawberry.ID(str(filter.level)), name=filter.name)]

    @strawberry.field
    def anything(self, kind: str) -> Badge | Owner:
        return Badge(id=strawberry.ID("1"), name="b") if kind == "badge" else Owner(name="o")

    @strawberry.field
    def broken(self) -> Badge:
        return None  # type: ignore[return-value] # a null where the schema promises one

    @strawberry.field
    def badges(self, first: int = 2) -> list[Badge]:
        return [Badge(id=strawberry.ID(str(i)), name=f"badge {i}") for i in range(first)]

    @strawberry.field
    async def badge(self, id: strawberry.ID) -> Badge | None:
        await asyncio.sleep(0)
        if id == "broken":
            raise ValueError("no such badge")
        return Badge(id=id, name=f"badge {id}")


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def step(self, name: str) -> str:
        CALLS.append(f"start {name}")
        await asyncio.sleep(0)
        CALLS.append(f"end {name}")
        return name


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)._schema
EXECUTOR = executor_for(SCHEMA)


def _planned(
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    hide_suggestions: bool = False,
) -> tuple[ExecutionResult, OperationPlan]:
    document = parse(query)
    assert validate(SCHEMA, document) == []
    plan = OperationPlan(SCHEMA, document, operation_name, hide_suggestions=hide_suggestions)
    return _result(plan.execute(EXECUTOR, context_value=None, variable_values=variables)), plan


def _regular(
    query: str, variables: dict[str, Any] | None = None, operation_name: str | None = None
) -> ExecutionResult:
    return _result(
        execute(SCHEMA, parse(query), variable_values=variables, operation_name=operation_name)
    )


def _result(result: Any) -> ExecutionResult:
    if isinstance(result, ExecutionResult):
        return result

    async def wait() -> ExecutionResult:
        return await result  # type: ignore[no-any-return]

    return asyncio.run(wait())


def _formatted(result: ExecutionResult) -> dict[str, Any]:
    return dict(result.formatted)  # data and errors with messages, paths and locations


@pytest.mark.parametrize(
    ("query", "variables", "operation_name", "dynamic"),
    [
        ('{ badge(id: "1") { id name } }', None, None, False),
        (
            "{ badges(first: 3) { b: name a: id ...F } } fragment F on Badge { owner { name } }",
            None,
            None,
            False,
        ),
        ("{ badges { id @skip(if: true) name @include(if: false) } }", None, None, False),
        ("query($id: ID!) { badge(id: $id) { id } }", {"id": "7"}, None, False),
        ("query($s: Boolean!) { badges { id @skip(if: $s) name } }", {"s": True}, None, True),
        ("query($s: Boolean!) { badges { id @skip(if: $s) name } }", {"s": False}, None, True),
        ('query A { badges { id } } query B { badge(id: "2") { name } }', None, "B", False),
        ("query A { badges { id } } query B { badges { name } }", None, None, True),
        ("query A { badges { id } }", None, "Nope", True),
        ('{ ok: badge(id: "1") { id } bad: badge(id: "broken") { id } }', None, None, False),
        ("query($id: ID!) { badge(id: $id) { id } }", {}, None, False),
        ("query($n: Int) { badges(first: $n) { id } }", {"n": "many"}, None, False),
        ("{ broken { id } badges { id } }", None, None, False),  # null reaches data
        (
            "query($i: Boolean!) { badges { ...F } } fragment F on Badge { id @include(if: $i) }",
            {"i": False},
            None,
            True,
        ),
        (
            '{ a: anything(kind: "badge") { ...on Badge { id } ...on Owner { name } __typename } }',
            None,
            None,
            False,
        ),
    ],
)
def test_answers_what_graphql_core_answers(
    query: str, variables: dict[str, Any] | None, operation_name: str | None, dynamic: bool
) -> None:
    planned, plan = _planned(query, variables, operation_name)
    assert _formatted(planned) == _formatted(_regular(query, variables, operation_name))
    assert plan.dynamic is dynamic


def test_a_static_plan_is_reused_without_growing() -> None:
    """Later requests share the first one's collected fields: the memo stops growing."""
    document = parse("{ badges(first: 3) { id owner { name } } }")
    plan = OperationPlan(SCHEMA, document, None)
    first = _result(plan.execute(EXECUTOR, context_value=None, variable_values=None))
    size = len(plan.subfields), len(plan.field_plans)
    assert size[0] > 0
    for _ in range(20):
        again = _result(plan.execute(EXECUTOR, context_value=None, variable_values=None))
        assert again.formatted == first.formatted
    assert (len(plan.subfields), len(plan.field_plans)) == size


def test_a_dynamic_plan_follows_each_requests_variables() -> None:
    document = parse("query($s: Boolean!) { badges(first: 1) { id @skip(if: $s) name } }")
    plan = OperationPlan(SCHEMA, document, None)
    shown = _result(plan.execute(EXECUTOR, context_value=None, variable_values={"s": False}))
    skipped = _result(plan.execute(EXECUTOR, context_value=None, variable_values={"s": True}))
    assert shown.data == {"badges": [{"id": "0", "name": "badge 0"}]}
    assert skipped.data == {"badges": [{"name": "badge 0"}]}
    assert plan.subfields == {}  # nothing shared: collected per request by graphql-core


def test_mutation_fields_still_run_one_after_another() -> None:
    CALLS.clear()
    result, plan = _planned('mutation { a: step(name: "a") b: step(name: "b") }')
    assert result.data == {"a": "a", "b": "b"}
    assert CALLS == ["start a", "end a", "start b", "end b"]
    assert not plan.dynamic


FIND = "query($f: BadgeFilter!) { find(filter: $f) { id name } }"


def test_variable_errors_stop_at_graphql_cores_limit() -> None:
    """Thousands of unknown fields in one input answer 50 errors and a last one, as
    ``graphql.execute`` does: each error quotes the whole value, so without the limit
    coercion took seconds of the event loop."""
    value: dict[str, Any] = {"name": "b", **{f"field{i}": i for i in range(3000)}}
    planned, _ = _planned(FIND, {"f": value})
    assert planned.errors is not None
    assert len(planned.errors) == 51
    assert planned.errors[-1].message.startswith("Too many errors processing variables")
    assert _formatted(planned) == _formatted(_regular(FIND, {"f": value}))


def test_variable_errors_make_no_suggestions_when_asked_not_to() -> None:
    misspelt = {"f": {"nmae": "b"}}
    shown, _ = _planned(FIND, misspelt)
    hidden, _ = _planned(FIND, misspelt, hide_suggestions=True)
    assert shown.errors is not None and hidden.errors is not None
    assert "Did you mean" in " ".join(e.message for e in shown.errors)
    assert "Did you mean" not in " ".join(e.message for e in hidden.errors)
    assert len(hidden.errors) == len(shown.errors)


def test_one_plan_follows_each_requests_runtime_type() -> None:
    """A union's items are collected per runtime type, request after request."""
    query = "query($k: String!) { anything(kind: $k) { __typename ...on Badge { id } ...on Owner { name } } }"
    document = parse(query)
    plan = OperationPlan(SCHEMA, document, None)
    assert not plan.dynamic
    for kind in ("badge", "owner", "badge", "owner"):
        result = _result(plan.execute(EXECUTOR, context_value=None, variable_values={"k": kind}))
        assert _formatted(result) == _formatted(_regular(query, {"k": kind}))
        expected = (
            {"__typename": "Badge", "id": "1"}
            if kind == "badge"
            else {"__typename": "Owner", "name": "o"}
        )
        assert result.data == {"anything": expected}
