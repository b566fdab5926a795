"""The committed schema.graphql is exactly what the gateway publishes (regenerate: make schema)."""

from pathlib import Path

from schema.partner_schema import build_schema
from schema.sdl import partner_sdl

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
