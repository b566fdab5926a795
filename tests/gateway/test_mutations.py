"""issueCredential and revokeCredential over HTTP."""

from __future__ import annotations

import uuid

from tests.fixtures.gateway import Gateway, all_backend_results, data, error_codes
from tests.fixtures.sample_backend import SampleBackend

ISSUE = """mutation($input: IssueCredentialInput!) { issueCredential(input: $input) {
    credential { id status issuedOn expiresOn recipient { email firstName } badge { id } }
    userErrors { field message code } } }"""
REVOKE = """mutation($input: RevokeCredentialInput!) { revokeCredential(input: $input) {
    credential { id status revocationReason revokedAt } userErrors { field message code } } }"""
COUNT = "query($e: String) { credentials(recipientEmail: $e) { totalCount } }"


def _published_badge(backend: SampleBackend, organization: int = 1) -> str:
    badges = all_backend_results(
        backend, "/api/v1/badges/", organization=organization, status="published"
    )
    return str(badges[0]["id"])


def _email() -> str:
    return f"learner-{uuid.uuid4().hex[:10]}@example.com"


def test_issue_then_revoke(gateway: Gateway, gateway_backend: SampleBackend) -> None:
    email = _email()
    issued = data(
        gateway.post(
            ISSUE,
            {
                "input": {
                    "badgeId": _published_badge(gateway_backend),
                    "recipient": {"email": email, "firstName": "Ana"},
                    "issuedOn": "2026-01-15",
                    "expiresOn": "2028-01-15",
                }
            },
        )
    )["issueCredential"]
    assert issued["userErrors"] == []
    credential = issued["credential"]
    assert credential["status"] == "ACTIVE"
    assert credential["recipient"] == {"email": email, "firstName": "Ana"}
    assert (credential["issuedOn"], credential["expiresOn"]) == ("2026-01-15", "2028-01-15")

    revoked = data(
        gateway.post(REVOKE, {"input": {"id": credential["id"], "reason": "Issued in error"}})
    )
    assert revoked["revokeCredential"]["credential"]["status"] == "REVOKED"
    assert revoked["revokeCredential"]["credential"]["revocationReason"] == "Issued in error"

    again = data(gateway.post(REVOKE, {"input": {"id": credential["id"], "reason": "again"}}))
    assert again["revokeCredential"] == {
        "credential": None,
        "userErrors": [
            {
                "field": ["input", "id"],
                "message": "This credential is already revoked.",
                "code": "ALREADY_REVOKED",
            }
        ],
    }


def test_a_retried_issue_with_the_same_idempotency_key_issues_once(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    email = _email()
    variables = {
        "input": {
            "badgeId": _published_badge(gateway_backend),
            "recipient": {"email": email},
            "idempotencyKey": "order-" + email,
        }
    }
    first = data(gateway.post(ISSUE, variables))["issueCredential"]["credential"]
    second = data(gateway.post(ISSUE, variables))["issueCredential"]["credential"]
    assert first["id"] == second["id"]
    assert data(gateway.post(COUNT, {"e": email}))["credentials"]["totalCount"] == 1


def test_the_same_idempotency_key_from_two_companies_issues_twice(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    email = _email()
    key = "shared-" + email
    one = data(
        gateway.post(
            ISSUE,
            {
                "input": {
                    "badgeId": _published_badge(gateway_backend, 1),
                    "recipient": {"email": email},
                    "idempotencyKey": key,
                }
            },
        )
    )
    two = data(
        gateway.post(
            ISSUE,
            {
                "input": {
                    "badgeId": _published_badge(gateway_backend, 2),
                    "recipient": {"email": email},
                    "idempotencyKey": key,
                }
            },
            key="org2",
        )
    )
    assert one["issueCredential"]["credential"]["id"] != two["issueCredential"]["credential"]["id"]
    assert two["issueCredential"]["credential"]["badge"]["id"] == _published_badge(
        gateway_backend, 2
    )


def test_backend_validation_errors_become_user_errors(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    badge = _published_badge(gateway_backend)
    bad_email = data(
        gateway.post(ISSUE, {"input": {"badgeId": badge, "recipient": {"email": "not-an-email"}}})
    )
    assert bad_email["issueCredential"]["credential"] is None
    assert bad_email["issueCredential"]["userErrors"] == [
        {
            "field": ["input", "recipient", "email"],
            "message": "`recipient.email` must be an email address (at most 254 characters).",
            "code": "BAD_USER_INPUT",
        }
    ]  # refused by the gateway itself (tests/gateway/test_hostile_mutation_input.py)
    # Only the backend knows its today: an expiry already past passes the gateway's checks.
    backwards = data(
        gateway.post(
            ISSUE,
            {
                "input": {
                    "badgeId": badge,
                    "recipient": {"email": _email()},
                    "expiresOn": "2001-04-01",
                }
            },
        )
    )
    [error] = backwards["issueCredential"]["userErrors"]
    assert error["field"] == ["input"] and error["code"] == "BAD_USER_INPUT"
    assert "expires_on" not in error["message"]


def test_malformed_badge_id_is_a_user_error(gateway: Gateway) -> None:
    result = data(
        gateway.post(ISSUE, {"input": {"badgeId": "abc", "recipient": {"email": _email()}}})
    )
    assert result["issueCredential"]["userErrors"][0]["field"] == ["input", "badgeId"]


def test_a_read_only_key_may_not_mutate(gateway: Gateway, gateway_backend: SampleBackend) -> None:
    gateway_backend.clear_requests()
    response = gateway.post(
        ISSUE,
        {"input": {"badgeId": _published_badge(gateway_backend), "recipient": {"email": _email()}}},
        key="org1_read",
        headers={"X-Request-ID": "read-only-mutation"},
    )
    assert response.status_code == 403
    assert error_codes(response) == ["FORBIDDEN"]
    assert "`write`" in response.json()["errors"][0]["message"]
    assert not [
        r for r in gateway_backend.recorded_requests() if r["request_id"] == "read-only-mutation"
    ]
    assert data(gateway.post("{ viewer { company { name } } }", key="org1_read"))


def test_only_published_badges_can_be_issued(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    draft = all_backend_results(gateway_backend, "/api/v1/badges/", organization=1, status="draft")[
        0
    ]
    result = data(
        gateway.post(
            ISSUE, {"input": {"badgeId": str(draft["id"]), "recipient": {"email": _email()}}}
        )
    )
    [error] = result["issueCredential"]["userErrors"]
    assert error["field"] == ["input", "badgeId"] and error["code"] == "BAD_USER_INPUT"
    assert "published" in error["message"]


def test_an_idempotency_key_reused_for_other_input_is_refused(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    badge = _published_badge(gateway_backend)
    key = "reused-" + _email()
    first = data(
        gateway.post(
            ISSUE,
            {"input": {"badgeId": badge, "recipient": {"email": _email()}, "idempotencyKey": key}},
        )
    )
    assert first["issueCredential"]["credential"]
    other = data(
        gateway.post(
            ISSUE,
            {"input": {"badgeId": badge, "recipient": {"email": _email()}, "idempotencyKey": key}},
        )
    )
    assert other["issueCredential"] == {
        "credential": None,
        "userErrors": [
            {
                "field": ["input", "idempotencyKey"],
                "message": "This idempotencyKey was already used to issue a different credential.",
                "code": "IDEMPOTENCY_KEY_REUSED",
            }
        ],
    }


def test_a_garbled_answer_to_an_issue_is_retried_and_issues_once(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    email = _email()
    # The backend issues, then its answer arrives truncated: the gateway must ask again
    # with the same Idempotency-Key and get the stored answer, not issue a second time.
    gateway_backend.inject_fault("malformed_json", path="/api/v1/credentials/", method="POST")
    try:
        issued = data(
            gateway.post(
                ISSUE,
                {
                    "input": {
                        "badgeId": _published_badge(gateway_backend),
                        "recipient": {"email": email},
                    }
                },
            )
        )
    finally:
        gateway_backend.clear_faults()
    assert issued["issueCredential"]["credential"]["recipient"]["email"] == email
    assert data(gateway.post(COUNT, {"e": email}))["credentials"]["totalCount"] == 1
