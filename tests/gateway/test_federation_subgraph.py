"""The gateway as an Apollo Federation 2 subgraph: ``_entities`` batched through the same
scoped loaders as every other field, and one subgraph SDL, wherever a router reads it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs

from graphql import build_ast_schema, parse

from tests.fixtures.gateway import Gateway, all_backend_results, backend_get, data
from tests.fixtures.sample_backend import SampleBackend

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
    ... on Badge { id name } ... on Credential { id status } ... on Organization { id name } } }"""


def _calls(backend: SampleBackend, request_id: str) -> list[dict[str, Any]]:
    """The API calls made for one request (a token refresh, if one fell due, left out)."""
    return [
        r
        for r in backend.recorded_requests()
        if r["request_id"] == request_id and r["path"].startswith("/api/v1/")
    ]


def test_many_badge_representations_are_one_backend_batch(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    own = [b["id"] for b in all_backend_results(gateway_backend, "/api/v1/badges/", organization=1)]
    foreign = all_backend_results(gateway_backend, "/api/v1/badges/", organization=2)[0]["id"]
    ids = [*own[:30], foreign, 999_999_999, own[0], own[1]]  # the last two again
    representations = [{"__typename": "Badge", "id": str(i)} for i in ids]
    response = gateway.post(
        ENTITIES, {"r": representations}, headers={"X-Request-ID": "entities-batch"}
    )
    entities = data(response)["_entities"]

    assert [e and e["id"] for e in entities] == [
        *map(str, own[:30]),
        None,
        None,
        *map(str, own[:2]),
    ]
    calls = _calls(gateway_backend, "entities-batch")
    assert [(c["method"], c["path"]) for c in calls] == [("GET", "/api/v1/badges/")]
    asked = parse_qs(calls[0]["query"])
    assert asked["organization"] == ["1"]  # scoped in the call itself, and checked again
    assert sorted(map(int, asked["ids"][0].split(","))) == sorted({*own[:30], foreign, 999_999_999})
    # Priced like any list: one point per entity, nothing for a plain field.
    assert response.json()["extensions"]["cost"]["requestedQueryCost"] == len(ids)


def test_credential_and_organization_representations_go_through_the_scoped_loaders(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    own = backend_get(gateway_backend, "/api/v1/credentials/", organization=1)["results"][:3]
    foreign = backend_get(gateway_backend, "/api/v1/credentials/", organization=2)["results"][0]
    uuids = [c["uuid"] for c in own]
    representations = [
        *({"__typename": "Credential", "id": u} for u in [*uuids, foreign["uuid"], uuids[0]]),
        {"__typename": "Organization", "id": "1"},
        {"__typename": "Organization", "id": "2"},
        {"__typename": "Organization", "id": "1"},
    ]
    entities = data(
        gateway.post(ENTITIES, {"r": representations}, headers={"X-Request-ID": "entities-mixed"})
    )["_entities"]
    assert [e and e["id"] for e in entities] == [*uuids, None, uuids[0], "1", None, "1"]

    paths = sorted(c["path"] for c in _calls(gateway_backend, "entities-mixed"))
    # The contract has no batch lookup by UUID: one call per distinct credential (the
    # foreign one is fetched and then refused), and organization 2 is never even asked for.
    assert paths == sorted(
        [
            *(f"/api/v1/credentials/{u}/" for u in [*uuids, foreign["uuid"]]),
            "/api/v1/organizations/1/",
        ]
    )


def test_service_sdl_is_the_served_subgraph_sdl_with_cost_directives(gateway: Gateway) -> None:
    served = gateway.request("GET", "/graphql/subgraph.graphql").text
    assert data(gateway.post("{ _service { sdl } }"))["_service"]["sdl"] == served
    assert re.search(r'@link\(url: "https://specs\.apollo\.dev/federation/v2\.9"', served)
    assert '"@cost"' in served and '"@listSize"' in served  # imported for a router's demand control
    assert "viewer: Viewer! @cost(weight: 0)" in served
    assert '@listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"]' in served
    # No argument given as null: composition libraries differ on accepting it.
    for directive in re.findall(r"@(?:listSize|cost|key)\([^)]*\)", served):
        assert "null" not in directive
    build_ast_schema(parse(served), assume_valid_sdl=True)  # well-formed SDL


def test_the_partner_sdl_stays_free_of_federation(gateway: Gateway) -> None:
    sdl = gateway.request("GET", "/graphql/schema.graphql").text
    for federation_only in ("_entities", "_service", "_Any", "_Entity", "@key", "@link"):
        assert federation_only not in sdl
