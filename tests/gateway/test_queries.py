"""Partner queries over HTTP: the gateway in front of the sample backend."""

from __future__ import annotations

from tests.fixtures.gateway import Gateway, all_backend_results, backend_get, data, error_codes
from tests.fixtures.sample_backend import SampleBackend


def test_viewer_is_the_calling_company_and_its_organization(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    result = data(
        gateway.post(
            "{ viewer { company { id name plan } organization { id name slug country } } }"
        )
    )
    organization = backend_get(gateway_backend, "/api/v1/organizations/1/")
    assert result["viewer"]["company"] == {
        "id": gateway.companies["org1"]["id"],
        "name": "Acme Learning",
        "plan": gateway.companies["org1"]["plan"],
    }
    assert result["viewer"]["organization"] == {
        "id": "1",
        "name": organization["name"],
        "slug": organization["slug"],
        "country": organization["country"],
    }


def test_paging_through_badges_returns_each_of_the_organizations_badges_once(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    query = """query($after: String) { badges(first: 7, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = data(gateway.post(query, {"after": after}))["badges"]
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        assert len(page["edges"]) <= 7
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    expected = [
        str(b["id"])
        for b in all_backend_results(gateway_backend, "/api/v1/badges/", organization=1)
    ]
    assert seen == expected
    assert page["totalCount"] == len(expected)


def test_badge_filters_reach_the_backend(gateway: Gateway, gateway_backend: SampleBackend) -> None:
    result = data(
        gateway.post("{ badges(first: 100, status: ARCHIVED) { totalCount nodes { status } } }")
    )
    expected = all_backend_results(
        gateway_backend, "/api/v1/badges/", organization=1, status="archived"
    )
    assert result["badges"]["totalCount"] == len(expected) > 0
    assert {n["status"] for n in result["badges"]["nodes"]} == {"ARCHIVED"}

    name = expected[0]["name"].split()[0].lower()
    searched = data(
        gateway.post(
            "query($s: String) { badges(search: $s) { nodes { name description } } }", {"s": name}
        )
    )
    assert searched["badges"]["nodes"]
    for node in searched["badges"]["nodes"]:
        assert name in (node["name"] + node["description"]).lower()


def test_one_badge_has_its_public_fields(gateway: Gateway, gateway_backend: SampleBackend) -> None:
    record = all_backend_results(gateway_backend, "/api/v1/badges/", organization=1)[0]
    badge = data(
        gateway.post(
            """query($id: ID!) { badge(id: $id) { id name description criteria imageUrl level
               durationHours language skills { name escoUri } status issuedCount createdAt updatedAt } }""",
            {"id": str(record["id"])},
        )
    )["badge"]
    assert badge["id"] == str(record["id"])
    assert badge["name"] == record["name"]
    assert badge["status"] == record["status"].upper()
    assert badge["issuedCount"] == record["issued_count"]
    assert [s["name"] for s in badge["skills"]] == [s["name"] for s in record["skills"]]


def test_a_page_of_credentials_loads_their_badges_in_one_backend_call(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    gateway_backend.clear_requests()
    result = data(
        gateway.post(
            "{ credentials(first: 20) { totalCount nodes { id status issuedOn recipient { email } badge { id name } } } }",
            headers={"X-Request-ID": "page-of-20"},
        )
    )
    nodes = result["credentials"]["nodes"]
    assert len(nodes) == 20
    calls = [r for r in gateway_backend.recorded_requests() if r["request_id"] == "page-of-20"]
    paths = sorted(r["path"] for r in calls)
    assert paths == ["/api/v1/badges/", "/api/v1/credentials/"]
    expected = backend_get(gateway_backend, "/api/v1/credentials/", organization=1, page_size=20)
    assert [n["id"] for n in nodes] == [c["uuid"] for c in expected["results"]]
    assert [n["badge"]["id"] for n in nodes] == [str(c["badge"]) for c in expected["results"]]


def test_credential_filters(gateway: Gateway, gateway_backend: SampleBackend) -> None:
    some = backend_get(gateway_backend, "/api/v1/credentials/", organization=1, status="revoked")
    assert some["count"] > 0
    target = some["results"][0]
    query = """query($b: ID, $e: String, $s: CredentialStatus, $a: Date, $z: Date) {
        credentials(first: 100, badgeId: $b, recipientEmail: $e, status: $s, issuedAfter: $a, issuedBefore: $z) {
          totalCount nodes { id status issuedOn badge { id } recipient { email } } } }"""
    variables = {
        "b": str(target["badge"]),
        "e": target["recipient"]["email"],
        "s": "REVOKED",
        "a": target["issued_on"],
        "z": target["issued_on"],
    }
    nodes = data(gateway.post(query, variables))["credentials"]["nodes"]
    assert target["uuid"] in [n["id"] for n in nodes]
    for node in nodes:
        assert node["status"] == "REVOKED"
        assert node["issuedOn"] == target["issued_on"]
        assert node["badge"]["id"] == str(target["badge"])


def test_one_credential_and_its_verification(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    record = backend_get(gateway_backend, "/api/v1/credentials/", organization=1, status="active")[
        "results"
    ][0]
    result = data(
        gateway.post(
            """query($id: ID!) { credential(id: $id) { id status recipient { email firstName lastName }
                 badge { name } publicUrl }
               verifyCredential(id: $id) { id valid status checkedAt issuerName badgeName } }""",
            {"id": record["uuid"]},
        )
    )
    assert result["credential"]["recipient"]["email"] == record["recipient"]["email"]
    verification = result["verifyCredential"]
    assert verification["valid"] is True
    assert verification["status"] == "ACTIVE"
    assert verification["badgeName"] == result["credential"]["badge"]["name"]
    assert verification["issuerName"]


def test_first_above_the_cap_is_a_clear_error(gateway: Gateway) -> None:
    response = gateway.post("{ badges(first: 101) { totalCount } }")
    assert error_codes(response) == ["BAD_USER_INPUT"]
    assert "between 1 and 100" in response.json()["errors"][0]["message"]


def test_malformed_ids_are_bad_input(gateway: Gateway) -> None:
    response = gateway.post('{ badge(id: "../organizations/2") { id } credential(id: "x") { id } }')
    assert sorted(error_codes(response)) == ["BAD_USER_INPUT", "BAD_USER_INPUT"]


def test_edges_selected_through_a_fragment_match_the_nodes(gateway: Gateway) -> None:
    query = """{ credentials(first: 5) { nodes { id } ...Edges } }
        fragment Edges on CredentialConnection { edges { cursor node { id } } }"""
    page = data(gateway.post(query))["credentials"]
    assert len(page["nodes"]) == 5
    assert [edge["node"] for edge in page["edges"]] == page["nodes"]
    assert len({edge["cursor"] for edge in page["edges"]}) == 5
