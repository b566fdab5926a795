"""The cost model against an independent oracle, over generated documents (hypothesis).

Documents are generated as trees of aliased selections on a small schema with nested
lists, a connection and a weighted type, then written out several ways (literal or
variable ``first``, named fragments, inline fragments). Every way must cost what the
oracle computes from the tree, and executing the document with lists of exactly the
requested sizes must cost exactly that too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import ExecutionResult, execute, parse, validate
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.federation.schema_directives import Cost, ListSize

from metering.cost import CostModel
from schema.partner_schema import build_schema

SLICED = ListSize(assumed_size=None, slicing_arguments=["first"], sized_fields=None)
CONNECTION = ListSize(assumed_size=None, slicing_arguments=["first"], sized_fields=["nodes"])


@strawberry.type(directives=[Cost(weight=3)])
class Owner:
    name: str = "o"


@strawberry.type
class Item:
    id: strawberry.ID = strawberry.ID("1")
    name: str = "n"
    tags: list[str] = strawberry.field(default_factory=lambda: ["a", "b"])

    @strawberry.field
    def owner(self) -> Owner:
        return Owner()

    @strawberry.field(directives=[SLICED])
    def children(self, first: int = 2) -> list[Item]:
        return [Item() for _ in range(first)]


@strawberry.type
class Connection:
    nodes: list[Item]
    total: int


@strawberry.type
class Query:
    @strawberry.field(directives=[SLICED])
    def items(self, first: int = 3) -> list[Item]:
        return [Item() for _ in range(first)]

    @strawberry.field
    def item(self) -> Item:
        return Item()

    @strawberry.field(directives=[CONNECTION])
    def conn(self, first: int = 4) -> Connection:
        return Connection(nodes=[Item() for _ in range(first)], total=first)


SCHEMA = strawberry.federation.Schema(query=Query)._schema
MODEL = CostModel(SCHEMA, default_list_size=10)
DEFAULT_FIRST = {"items": 3, "children": 2, "conn": 4}


@dataclass
class Node:
    name: str  # id | name | tags | owner | children | items | item | conn
    first: int | None = None  # None: the argument is left out (its default applies)
    children: list[Node] = field(default_factory=list)


def oracle(node: Node) -> int:
    """The cost of one selected field, straight from the cost rules."""
    below = sum(oracle(child) for child in node.children)
    size = node.first if node.first is not None else DEFAULT_FIRST.get(node.name, 1)
    if node.name in ("id", "name", "tags"):
        return 0
    if node.name == "owner":
        return 3
    if node.name in ("children", "items"):
        return size * (1 + below)
    if node.name == "conn":
        return 1 + size * (1 + below)
    return 1 + below  # item


firsts = st.one_of(st.none(), st.integers(min_value=0, max_value=4))
leaves = st.sampled_from(["id", "name", "tags", "owner"]).map(Node)


def item_selections(depth: int) -> st.SearchStrategy[list[Node]]:
    options: list[st.SearchStrategy[Node]] = [leaves]
    if depth > 0:
        options.append(st.builds(Node, st.just("children"), firsts, item_selections(depth - 1)))
    return st.lists(st.one_of(options), min_size=1, max_size=3)


roots = st.lists(
    st.one_of(
        st.builds(Node, st.just("items"), firsts, item_selections(2)),
        st.builds(Node, st.just("item"), st.none(), item_selections(2)),
        st.builds(Node, st.just("conn"), firsts, item_selections(2)),
    ),
    min_size=1,
    max_size=3,
)


class Writer:
    """Writes a tree as GraphQL, with ``first`` as literals or variables, spread or inline."""

    def __init__(self, *, variables: bool, fragments: str) -> None:
        self.use_variables = variables
        self.fragments = fragments  # "none" | "named" | "inline"
        self.names = itertools.count()
        self.variables: dict[str, int] = {}
        self.definitions: list[str] = []

    def document(self, roots: list[Node]) -> str:
        body = " ".join(self.field(node) for node in roots)
        declared = ", ".join(f"${name}: Int" for name in self.variables)
        header = f"query Q({declared})" if declared else "query Q"
        return " ".join([f"{header} {{ {body} }}", *self.definitions])

    def field(self, node: Node) -> str:
        alias = f"a{next(self.names)}"
        arguments = ""
        if node.first is not None:
            if self.use_variables:
                name = f"v{len(self.variables)}"
                self.variables[name] = node.first
                arguments = f"(first: ${name})"
            else:
                arguments = f"(first: {node.first})"
        text = f"{alias}: {node.name}{arguments}"
        if node.name == "owner":
            return text + " { name }"
        if node.name in ("children", "items", "item"):
            return text + f" {{ {self.item_selection(node.children)} }}"
        if node.name == "conn":
            return text + f" {{ total nodes {{ {self.item_selection(node.children)} }} }}"
        return text

    def item_selection(self, children: list[Node]) -> str:
        inner = " ".join(self.field(child) for child in children)
        if self.fragments == "inline":
            return f"... on Item {{ {inner} }}"
        if self.fragments == "named":
            name = f"F{len(self.definitions)}"
            self.definitions.append(f"fragment {name} on Item {{ {inner} }}")
            return f"...{name}"
        return inner


@settings(max_examples=150, deadline=None)
@given(
    roots=roots,
    variables=st.booleans(),
    fragments=st.sampled_from(["none", "named", "inline"]),
)
def test_requested_cost_matches_the_oracle_however_the_document_is_written(
    roots: list[Node], variables: bool, fragments: str
) -> None:
    writer = Writer(variables=variables, fragments=fragments)
    document = parse(writer.document(roots))
    assert validate(SCHEMA, document) == []
    expected = sum(oracle(node) for node in roots)
    assert MODEL.plan(document, "Q").requested(writer.variables) == expected


@settings(max_examples=60, deadline=None)
@given(roots=roots)
async def test_actual_cost_equals_requested_when_lists_are_as_long_as_asked(
    roots: list[Node],
) -> None:
    writer = Writer(variables=True, fragments="none")
    document = parse(writer.document(roots))
    outcome = execute(SCHEMA, document, variable_values=writer.variables)
    result = outcome if isinstance(outcome, ExecutionResult) else await outcome
    assert result.errors is None
    plan = MODEL.plan(document, "Q")
    assert plan.actual(result.data) == plan.requested(writer.variables)


def _requested(query: str, variables: dict[str, Any] | None = None) -> int:
    return MODEL.plan(parse(query), None).requested(variables)


def test_nested_lists_multiply() -> None:
    assert _requested("{ items(first: 3) { children(first: 4) { owner { name } } } }") == 3 * (
        1 + 4 * (1 + 3)
    )


def test_the_slicing_argument_sizes_a_connections_nodes_not_the_connection() -> None:
    assert _requested("{ conn(first: 7) { total nodes { id } } }") == 1 + 7 * 1


def test_skip_and_include_follow_the_variables() -> None:
    query = "query($s: Boolean!) { item { owner @skip(if: $s) { name } } }"
    assert _requested(query, {"s": True}) == 1
    assert _requested(query, {"s": False}) == 4


def test_a_field_selected_twice_under_one_key_is_counted_once() -> None:
    assert _requested("{ item { owner { name } owner { name } } }") == 1 + 3


def test_variable_defaults_apply_when_the_variable_is_absent() -> None:
    assert _requested("query($n: Int = 2) { items(first: $n) { id } }") == 2
    assert _requested("query($n: Int = 2) { items(first: $n) { id } }", {"n": 5}) == 5


def test_actual_cost_counts_real_list_sizes_and_nulls() -> None:
    plan = MODEL.plan(parse("{ items(first: 4) { owner { name } } }"), None)
    assert plan.requested() == 4 * (1 + 3)
    assert plan.actual({"items": [{"owner": {"name": "x"}}]}) == 1 + 3
    assert plan.actual({"items": []}) == 0
    assert plan.actual(None) == 0


def test_breakdown_lists_each_fields_share() -> None:
    breakdown: list[Any] = []
    MODEL.plan(parse("{ item { owner { name } } }"), None).requested(breakdown=breakdown)
    assert {(f.path, f.cost) for f in breakdown} == {
        ("item.owner.name", 0),
        ("item.owner", 3),
        ("item", 4),
    }


def test_an_abstract_type_costs_its_costliest_possible_type() -> None:
    partner = CostModel(build_schema()._schema)
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Badge { id skills { name } }
        ... on Organization { id } } }"""
    plan = partner.plan(parse(query), None)
    representations = [{"__typename": "Badge", "id": "1"}] * 3
    assert plan.requested({"r": representations}) == 3 * (1 + 5)


def test_one_plan_prices_each_requests_variables_afresh() -> None:
    query = "query($n: Int, $s: Boolean!) { items(first: $n) { owner @skip(if: $s) { name } } }"
    plan = MODEL.plan(parse(query), None)
    asked = [(2, False), (5, False), (2, True), (2, False), (None, False)]
    costs = [plan.requested({"n": n, "s": s}) for n, s in asked]
    assert costs == [2 * (1 + 3), 5 * (1 + 3), 2 * 1, 2 * (1 + 3), MODEL.default_list_size * 4]


def test_actual_cost_skips_unweighted_fields_but_counts_every_weighted_one() -> None:
    plan = MODEL.plan(parse("{ items(first: 3) { id owner { name } } }"), None)
    data = {"items": [{"id": "1", "owner": {"name": "a"}}, {"id": "2", "owner": None}, None]}
    assert plan.actual(data) == 3 * 1 + 3  # three list slots, one owner
