"""The committed schema.graphql is exactly what the gateway publishes (regenerate: make schema).

In process (the SDL the schema prints) and end to end: the real gateway process, on its
socket, serves byte for byte the committed file at ``GET /graphql/schema.graphql``, cost
directives included, so a client generated from the repository's file is a client of the
running gateway.
"""

from pathlib import Path

from graphql import build_schema as build_sdl_schema

from schema.partner_schema import build_schema
from schema.sdl import partner_sdl
from tests.fixtures.gateway import Gateway

PUBLISHED = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_the_committed_sdl_is_the_served_sdl() -> None:
    assert PUBLISHED.read_text() == partner_sdl(build_schema()), "run `make schema` and commit"


def test_the_published_sdl_carries_the_cost_directives() -> None:
    sdl = PUBLISHED.read_text()
    assert "directive @cost(weight: Int!)" in sdl
    assert "directive @listSize(" in sdl
    assert (
        "badges(" in sdl
        and '@listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])' in sdl
    )
    assert "issueCredential(" in sdl and "@cost(weight: 10)" in sdl


def test_the_running_gateway_serves_the_committed_sdl(gateway: Gateway) -> None:
    committed = PUBLISHED.read_text()
    response = gateway.request("GET", "/graphql/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/graphql")
    assert response.text == committed, "the gateway serves another SDL: run `make schema`"
    # The cost directives are in what is served, declared and applied where they price.
    served = build_sdl_schema(response.text)
    assert {"cost", "listSize"} <= {directive.name for directive in served.directives}
    applied = {
        f"{type_name}.{field_name}": [
            directive.name.value for directive in field.ast_node.directives
        ]
        for type_name, type_ in served.type_map.items()
        for field_name, field in getattr(type_, "fields", {}).items()
        if getattr(field, "ast_node", None) is not None and field.ast_node.directives
    }
    assert applied["Query.badges"] == ["listSize"]
    assert applied["Query.credentials"] == ["listSize"]
    assert applied["Query.viewer"] == ["cost"]
    assert applied["Mutation.issueCredential"] == ["cost"]
    assert applied["Mutation.revokeCredential"] == ["cost"]
    assert applied["Badge.skills"] == ["listSize"]
