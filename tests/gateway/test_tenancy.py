"""A partner never sees another organization's data: it is NOT_FOUND, like a missing one."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.gateway import Gateway, all_backend_results, backend_get, data
from tests.fixtures.sample_backend import SampleBackend

MISSING_UUID = "00000000-0000-4000-8000-000000000000"


def _without_request_ids(response: httpx.Response) -> Any:
    """The body, less what differs between any two requests (IDs, the bucket's level)."""
    body = response.json()
    for error in body.get("errors", []):
        error["extensions"].pop("requestId")
    body.get("extensions", {}).get("cost", {}).pop("throttleStatus", None)
    return body


def _org2_badge_and_credential(backend: SampleBackend) -> tuple[int, str]:
    badge = all_backend_results(backend, "/api/v1/badges/", organization=2)[0]["id"]
    credential = backend_get(backend, "/api/v1/credentials/", organization=2, status="active")
    return badge, credential["results"][0]["uuid"]


def test_another_organizations_badge_reads_exactly_like_a_missing_one(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    foreign, _ = _org2_badge_and_credential(gateway_backend)
    query = "query($id: ID!) { badge(id: $id) { id name } }"
    assert data(gateway.post(query, {"id": str(foreign)}, key="org2"))["badge"]["id"] == str(
        foreign
    )
    as_org1 = gateway.post(query, {"id": str(foreign)})
    missing = gateway.post(query, {"id": "999999999"})
    assert _without_request_ids(as_org1) == _without_request_ids(missing)
    assert as_org1.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert as_org1.json()["data"] == {"badge": None}


def test_another_organizations_credential_reads_exactly_like_a_missing_one(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    _, foreign = _org2_badge_and_credential(gateway_backend)
    for field in ("credential", "verifyCredential"):
        query = f"query($id: ID!) {{ {field}(id: $id) {{ id status }} }}"
        as_org1 = gateway.post(query, {"id": foreign})
        missing = gateway.post(query, {"id": MISSING_UUID})
        assert _without_request_ids(as_org1) == _without_request_ids(missing)
        assert as_org1.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_mutations_on_another_organizations_records_are_not_found(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    foreign_badge, foreign_credential = _org2_badge_and_credential(gateway_backend)
    issue = """mutation($b: ID!) { issueCredential(input: {badgeId: $b, recipient: {email: "x@example.com"}}) {
                 credential { id } userErrors { field message code } } }"""
    revoke = """mutation($id: ID!) { revokeCredential(input: {id: $id, reason: "test"}) {
                  credential { id } userErrors { field message code } } }"""
    assert data(gateway.post(issue, {"b": str(foreign_badge)})) == data(
        gateway.post(issue, {"b": "999999999"})
    )
    assert data(gateway.post(revoke, {"id": foreign_credential})) == data(
        gateway.post(revoke, {"id": MISSING_UUID})
    )
    errors = data(gateway.post(revoke, {"id": foreign_credential}))["revokeCredential"][
        "userErrors"
    ]
    assert errors == [
        {"field": ["input", "id"], "message": "Credential not found.", "code": "NOT_FOUND"}
    ]
    # and nothing was written: org 2's credential is still active
    record = backend_get(gateway_backend, f"/api/v1/credentials/{foreign_credential}/")
    assert record["status"] == "active"


def test_lists_only_hold_the_callers_organization(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    org2_badges = {
        str(b["id"])
        for b in all_backend_results(gateway_backend, "/api/v1/badges/", organization=2)
    }
    org1_page = data(
        gateway.post(
            "{ badges(first: 100) { nodes { id } } credentials(first: 100) { nodes { badge { id } } } }"
        )
    )
    assert not org2_badges & {n["id"] for n in org1_page["badges"]["nodes"]}
    assert not org2_badges & {n["badge"]["id"] for n in org1_page["credentials"]["nodes"]}


def test_entities_of_another_organization_resolve_to_null(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    foreign_badge, foreign_credential = _org2_badge_and_credential(gateway_backend)
    own_badge = all_backend_results(gateway_backend, "/api/v1/badges/", organization=1)[0]["id"]
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Badge { id name } ... on Credential { id } ... on Organization { id name } } }"""
    representations = [
        {"__typename": "Badge", "id": str(own_badge)},
        {"__typename": "Badge", "id": str(foreign_badge)},
        {"__typename": "Credential", "id": foreign_credential},
        {"__typename": "Organization", "id": "2"},
        {"__typename": "Organization", "id": "1"},
    ]
    entities = data(gateway.post(query, {"r": representations}))["_entities"]
    assert entities[0]["id"] == str(own_badge)
    assert entities[1:4] == [None, None, None]
    assert entities[4]["id"] == "1"


def test_filtering_credentials_by_another_organizations_badge_reads_like_a_missing_badge(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    foreign_badge, _ = _org2_badge_and_credential(gateway_backend)
    query = "query($b: ID) { credentials(badgeId: $b) { totalCount nodes { id } } }"
    as_org1 = gateway.post(query, {"b": str(foreign_badge)})
    missing = gateway.post(query, {"b": "999999999"})
    assert data(as_org1) == data(missing) == {"credentials": {"totalCount": 0, "nodes": []}}
