"""Hostile input to the mutations (and the queries' arguments) through the real gateway.

For each class of malformed input the partner gets a coded answer: ``userErrors`` with
``BAD_USER_INPUT`` at the field's path for a mutation's input, an ``errors[]`` entry with
``extensions.code`` for what GraphQL itself refuses and for query arguments; HTTP 200
either way. The sample backend hears nothing of the request (not a write, not even a
read), a read afterwards finds nothing written, and the usage ledger still has the
request's one row.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.gateway import Gateway, all_backend_results, backend_get, data
from tests.fixtures.sample_backend import SampleBackend

ISSUE = """mutation Hostile($input: IssueCredentialInput!) { issueCredential(input: $input) {
    credential { id } userErrors { field message code } } }"""
REVOKE = """mutation HostileRevoke($input: RevokeCredentialInput!) {
    revokeCredential(input: $input) { credential { id status } userErrors { field message code } } }"""
ISSUE_OK = """mutation Issue($input: IssueCredentialInput!) { issueCredential(input: $input) {
    credential { id status } userErrors { field message code } } }"""

HUGE = "h" * 400_000  # well inside the 1 MB body limit: it reaches the resolvers


def _email() -> str:
    return f"hostile-{uuid.uuid4().hex[:12]}@example.com"


@pytest.fixture(scope="module")
def badge_id(gateway_backend: SampleBackend) -> str:
    badges = all_backend_results(
        gateway_backend, "/api/v1/badges/", organization=1, status="published"
    )
    return str(badges[0]["id"])


@pytest.fixture
def request_id(gateway: Gateway, gateway_backend: SampleBackend) -> Iterator[str]:
    """A fresh request ID; after the test, its one ledger row and no backend request."""
    value = f"hostile-{uuid.uuid4().hex}"
    yield value
    heard = [r for r in gateway_backend.recorded_requests() if r["request_id"] == value]
    assert heard == [], "the backend was called for a refused request"
    rows = gateway.ledger_rows(value)
    assert len(rows) == 1, rows  # refused input is still a request the ledger records
    assert rows[0]["backend_calls"] == 0
    assert rows[0]["company_id"] == gateway.companies["org1"]["id"]


def _credentials_of(backend: SampleBackend, email: str) -> int:
    """How many credentials the backend holds for ``email`` (its own answer, not ours)."""
    count: int = backend_get(backend, "/api/v1/credentials/", recipient_email=email)["count"]
    return count


def _recipient(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def patch(input: dict[str, Any]) -> None:
        input["recipient"].update(fields)

    return patch


def _field(**fields: Any) -> Callable[[dict[str, Any]], None]:
    def patch(input: dict[str, Any]) -> None:
        input.update(fields)

    return patch


# (case, how the input is spoiled, the userError's field)
HOSTILE_ISSUES: list[tuple[str, Callable[[dict[str, Any]], None], list[str]]] = [
    ("badge id not an integer", _field(badgeId="7 OR 1=1"), ["input", "badgeId"]),
    ("badge id a path", _field(badgeId="../../admin/"), ["input", "badgeId"]),
    ("badge id zero", _field(badgeId="0"), ["input", "badgeId"]),
    ("badge id too big", _field(badgeId="9" * 30), ["input", "badgeId"]),
    ("email malformed", _recipient(email="not-an-email"), ["input", "recipient", "email"]),
    ("email with NUL", _recipient(email="ana\x00@example.com"), ["input", "recipient", "email"]),
    ("email header injection", _recipient(email="ana@example.com\r\nBcc: all@example.com"),
     ["input", "recipient", "email"]),
    ("email huge", _recipient(email=HUGE + "@example.com"), ["input", "recipient", "email"]),
    ("first name with NUL", _recipient(firstName="Ana\x00"), ["input", "recipient", "firstName"]),
    ("first name escape codes", _recipient(firstName="\x1b[2JAna"),
     ["input", "recipient", "firstName"]),
    ("last name bidi override", _recipient(lastName="\u202eeilA"),
     ["input", "recipient", "lastName"]),
    ("last name over 150", _recipient(lastName="L" * 151), ["input", "recipient", "lastName"]),
    ("first name huge", _recipient(firstName=HUGE), ["input", "recipient", "firstName"]),
    ("url javascript", _field(evidenceUrl="javascript:alert(document.cookie)"),
     ["input", "evidenceUrl"]),
    ("url javascript mixed case", _field(evidenceUrl="JaVaScRiPt://x.co/%0aalert(1)"),
     ["input", "evidenceUrl"]),
    ("url data", _field(evidenceUrl="data:text/html;base64,PHNjcmlwdD4="),
     ["input", "evidenceUrl"]),
    ("url ftp", _field(evidenceUrl="ftp://files.example.com/work.zip"), ["input", "evidenceUrl"]),
    ("url userinfo", _field(evidenceUrl="https://admin:hunter2@example.com/work"),
     ["input", "evidenceUrl"]),
    ("url lookalike userinfo", _field(evidenceUrl="https://example.com@evil.example/"),
     ["input", "evidenceUrl"]),
    ("url no host", _field(evidenceUrl="https:///work"), ["input", "evidenceUrl"]),
    ("url with space", _field(evidenceUrl="https://example.com/my work"),
     ["input", "evidenceUrl"]),
    ("url over 200", _field(evidenceUrl="https://example.com/" + "w" * 200),
     ["input", "evidenceUrl"]),
    ("url huge", _field(evidenceUrl="https://example.com/" + HUGE), ["input", "evidenceUrl"]),
    ("idempotency key empty", _field(idempotencyKey=""), ["input", "idempotencyKey"]),
    ("idempotency key over 200", _field(idempotencyKey="k" * 201), ["input", "idempotencyKey"]),
    ("idempotency key control", _field(idempotencyKey="order-1\x00"), ["input", "idempotencyKey"]),
    ("expiry not after issue", _field(issuedOn="2026-05-01", expiresOn="2026-05-01"),
     ["input", "expiresOn"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "spoil", "path"), HOSTILE_ISSUES, ids=[case for case, *_ in HOSTILE_ISSUES]
)
def test_hostile_issue_input_is_a_user_error_and_writes_nothing(
    gateway: Gateway,
    gateway_backend: SampleBackend,
    badge_id: str,
    request_id: str,
    case: str,
    spoil: Callable[[dict[str, Any]], None],
    path: list[str],
) -> None:
    email = _email()
    input: dict[str, Any] = {
        "badgeId": badge_id,
        "recipient": {"email": email, "firstName": "Ana"},
        "idempotencyKey": f"hostile-{email}",
    }
    spoil(input)
    response = gateway.post(ISSUE, {"input": input}, headers={"X-Request-ID": request_id})
    assert len(response.content) < 2000  # nothing huge comes back
    payload = data(response)["issueCredential"]
    assert payload["credential"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (path, "BAD_USER_INPUT")
    assert f"`{'.'.join(path[1:])}`" in error["message"]  # names the field
    assert _credentials_of(gateway_backend, email) == 0


def test_every_bad_field_comes_back_at_once(
    gateway: Gateway, gateway_backend: SampleBackend, request_id: str
) -> None:
    email = _email()
    input = {
        "badgeId": "x",
        "recipient": {"email": "nope", "firstName": "\x00", "lastName": "L" * 151},
        "evidenceUrl": "javascript:x",
        "idempotencyKey": "",
    }
    response = gateway.post(ISSUE, {"input": input}, headers={"X-Request-ID": request_id})
    fields = [e["field"] for e in data(response)["issueCredential"]["userErrors"]]
    assert fields == [
        ["input", "badgeId"],
        ["input", "recipient", "email"],
        ["input", "recipient", "firstName"],
        ["input", "recipient", "lastName"],
        ["input", "evidenceUrl"],
        ["input", "idempotencyKey"],
    ]
    assert _credentials_of(gateway_backend, email) == 0


def test_a_refused_issue_does_not_use_up_its_idempotency_key(
    gateway: Gateway, gateway_backend: SampleBackend, badge_id: str, request_id: str
) -> None:
    email = _email()
    good = {"badgeId": badge_id, "recipient": {"email": email}, "idempotencyKey": "k-" + email}
    refused = gateway.post(
        ISSUE,
        {"input": {**good, "evidenceUrl": "javascript:alert(1)"}},
        headers={"X-Request-ID": request_id},
    )
    assert data(refused)["issueCredential"]["userErrors"][0]["field"] == ["input", "evidenceUrl"]

    issued = data(gateway.post(ISSUE_OK, {"input": good}))["issueCredential"]
    assert issued["userErrors"] == [] and issued["credential"]["status"] == "ACTIVE"
    again = data(gateway.post(ISSUE_OK, {"input": good}))["issueCredential"]
    assert again["credential"]["id"] == issued["credential"]["id"]
    assert _credentials_of(gateway_backend, email) == 1


# What GraphQL refuses while coercing the variables, before any resolver runs.
COERCION_FAILURES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("date malformed", _field(issuedOn="2026-13-45")),
    ("date not a date", _field(expiresOn="tomorrow")),
    ("badge id an object", _field(badgeId={"$gt": 0})),
    ("boolean a string", _field(sendEmail="yes")),
    ("unknown field", _field(internalMeta={"x": 1})),
    ("recipient missing", lambda input: input.pop("recipient")),
    ("email null", _recipient(email=None)),
    ("email a list", _recipient(email=["a@example.com", "b@example.com"])),
]


@pytest.mark.parametrize(
    ("case", "spoil"), COERCION_FAILURES, ids=[case for case, _ in COERCION_FAILURES]
)
def test_input_graphql_cannot_coerce_is_bad_user_input(
    gateway: Gateway,
    gateway_backend: SampleBackend,
    badge_id: str,
    request_id: str,
    case: str,
    spoil: Callable[[dict[str, Any]], None],
) -> None:
    email = _email()
    input: dict[str, Any] = {"badgeId": badge_id, "recipient": {"email": email}}
    spoil(input)
    response = gateway.post(ISSUE, {"input": input}, headers={"X-Request-ID": request_id})
    _assert_coded(response, "BAD_USER_INPUT")
    assert response.json().get("data") is None
    assert _credentials_of(gateway_backend, email) == 0


def _assert_coded(response: httpx.Response, code: str) -> None:
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert [error["extensions"]["code"] for error in errors] == [code]
    assert len(errors[0]["message"]) <= 300


@pytest.fixture(scope="module")
def issued_credential(gateway: Gateway, badge_id: str) -> str:
    """An active credential of organization 1, for the revocations to miss."""
    input = {"badgeId": badge_id, "recipient": {"email": _email()}, "sendEmail": False}
    credential = data(gateway.post(ISSUE_OK, {"input": input}))["issueCredential"]["credential"]
    assert credential["status"] == "ACTIVE"
    return str(credential["id"])


HOSTILE_REVOKES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("id not a uuid", {"id": "42"}, ["input", "id"]),
    ("id a path", {"id": "../../admin/"}, ["input", "id"]),
    ("id in braces", {"id": "{CREDENTIAL}"}, ["input", "id"]),
    ("id urn", {"id": "urn:uuid:CREDENTIAL"}, ["input", "id"]),
    ("id huge", {"id": HUGE}, ["input", "id"]),
    ("reason empty", {"reason": ""}, ["input", "reason"]),
    ("reason blank", {"reason": " \n\t "}, ["input", "reason"]),
    ("reason over 500", {"reason": "r" * 501}, ["input", "reason"]),
    ("reason with NUL", {"reason": "Issued in error\x00"}, ["input", "reason"]),
    ("reason escape codes", {"reason": "Issued \x1b]8;;https://evil.example\x07in error"},
     ["input", "reason"]),
    ("reason huge", {"reason": HUGE}, ["input", "reason"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "spoil", "path"), HOSTILE_REVOKES, ids=[case for case, *_ in HOSTILE_REVOKES]
)
def test_hostile_revoke_input_is_a_user_error_and_revokes_nothing(
    gateway: Gateway,
    gateway_backend: SampleBackend,
    issued_credential: str,
    request_id: str,
    case: str,
    spoil: dict[str, Any],
    path: list[str],
) -> None:
    input = {"id": issued_credential, "reason": "Issued in error", "notifyRecipient": False}
    input.update({k: v.replace("CREDENTIAL", issued_credential) for k, v in spoil.items()})
    response = gateway.post(REVOKE, {"input": input}, headers={"X-Request-ID": request_id})
    assert len(response.content) < 2000
    payload = data(response)["revokeCredential"]
    assert payload["credential"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (path, "BAD_USER_INPUT")
    assert f"`{path[-1]}`" in error["message"]
    stored = backend_get(gateway_backend, f"/api/v1/credentials/{issued_credential}/")
    assert stored["status"] == "active" and stored["revoked_at"] is None


# Query arguments: a top-level BAD_USER_INPUT error at the field's path.
HOSTILE_QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("recipient email with NUL", "query($v: String) { credentials(recipientEmail: $v) { totalCount } }",
     {"v": "ana\x00@example.com"}),
    ("recipient email malformed", "query($v: String) { credentials(recipientEmail: $v) { totalCount } }",
     {"v": "' OR 1=1 --"}),
    ("badge filter zero", "query($v: ID) { credentials(badgeId: $v) { totalCount } }", {"v": "0"}),
    ("search with control", "query($v: String) { badges(search: $v) { totalCount } }",
     {"v": "python\x1b[0m"}),
    ("search huge", "query($v: String) { badges(search: $v) { totalCount } }", {"v": HUGE}),
    ("cursor garbled", "query($v: String) { badges(after: $v) { totalCount } }",
     {"v": "djE6IDU="}),
    ("cursor huge", "query($v: String) { badges(after: $v) { totalCount } }", {"v": HUGE}),
    ("first too big", "query($v: Int!) { credentials(first: $v) { totalCount } }",
     {"v": 1_000_000}),
    ("first zero", "query($v: Int!) { badges(first: $v) { totalCount } }", {"v": 0}),
    ("credential id loose", "query($v: ID!) { credential(id: $v) { id } }",
     {"v": "{6f9619ff-8b86-d011-b42d-00c04fc964ff}"}),
    ("badge id huge", "query($v: ID!) { badge(id: $v) { id } }", {"v": HUGE}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "query", "variables"), HOSTILE_QUERIES, ids=[case for case, *_ in HOSTILE_QUERIES]
)
def test_hostile_query_arguments_are_bad_user_input(
    gateway: Gateway, request_id: str, case: str, query: str, variables: dict[str, Any]
) -> None:
    response = gateway.post(query, variables, headers={"X-Request-ID": request_id})
    assert len(response.content) < 2000
    _assert_coded(response, "BAD_USER_INPUT")
    assert gateway.ledger_rows(request_id)[0]["error_codes"] == "BAD_USER_INPUT"
