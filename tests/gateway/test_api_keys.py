"""Partner self-service over HTTP: viewer.apiKeys and rotateApiKey, scoped to the company."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from auth.api_keys import API_KEY_PATTERN, parse_api_key
from tests.fixtures.gateway import Gateway, backend_get, data, error_codes, running_gateway
from tests.fixtures.sample_backend import SampleBackend

KEYS = "{ viewer { apiKeys { id prefix scopes status createdAt expiresAt lastUsedAt } } }"
ROTATE = """mutation($id: ID!, $grace: Int) { rotateApiKey(id: $id, graceSeconds: $grace) {
    apiKey { id prefix scopes status expiresAt } key
    rotatedApiKey { id status graceEndsAt successorId }
    userErrors { field message code } } }"""


def _issue(gateway: Gateway, company: str, *scopes: str) -> str:
    args = [arg for scope in scopes for arg in ("--scope", scope)]
    issued = gateway.cli("keys", "issue", "--company", company, *args, "--json")
    key: str = json.loads(issued.stdout)["key"]
    return key


def _post(
    gateway: Gateway, key: str, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return gateway.post(query, variables, key=None, headers={"Authorization": f"Bearer {key}"})


def _without_request_ids(response: httpx.Response) -> Any:
    body = response.json()
    body.pop("extensions", None)  # the cost report: the bucket drains between requests
    for error in body.get("errors", []):
        error["extensions"].pop("requestId")
    return body


def test_viewer_lists_its_own_companys_keys_and_no_secret(gateway: Gateway) -> None:
    response = gateway.post(KEYS)
    keys = data(response)["viewer"]["apiKeys"]
    ids = {key["id"] for key in keys}
    assert parse_api_key(gateway.keys["org1"]).key_id in ids
    assert parse_api_key(gateway.keys["org1_read"]).key_id in ids
    assert parse_api_key(gateway.keys["org2"]).key_id not in ids
    statuses = {key["id"]: key["status"] for key in keys}
    assert statuses[parse_api_key(gateway.keys["org1"]).key_id] == "ACTIVE"
    assert all(key["prefix"] == "cgw_" + key["id"] for key in keys)
    assert not re.findall(API_KEY_PATTERN, response.text)
    assert "keyHash" not in response.text and "key_hash" not in response.text


def test_rotating_needs_the_keys_manage_scope(gateway: Gateway) -> None:
    own = parse_api_key(gateway.keys["org1"]).key_id
    without = gateway.post(ROTATE, {"id": own})
    assert error_codes(without) == ["FORBIDDEN"]
    assert "`keys:manage`" in without.json()["errors"][0]["message"]
    read_only = gateway.post(ROTATE, {"id": own}, key="org1_read")
    assert read_only.status_code == 403 and error_codes(read_only) == ["FORBIDDEN"]
    # Nothing was rotated.
    listed = {k["id"]: k["status"] for k in data(gateway.post(KEYS))["viewer"]["apiKeys"]}
    assert listed[own] == "ACTIVE"


def test_another_companys_key_reads_exactly_like_a_missing_one(gateway: Gateway) -> None:
    manager = _issue(gateway, "Acme Learning", "read", "write", "keys:manage")
    foreign = parse_api_key(gateway.keys["org2"]).key_id
    as_foreign = _post(gateway, manager, ROTATE, {"id": foreign})
    missing = _post(gateway, manager, ROTATE, {"id": "NoSuchKey123"})
    malformed = _post(gateway, manager, ROTATE, {"id": "not a key id"})
    assert _without_request_ids(as_foreign) == _without_request_ids(missing)
    assert _without_request_ids(malformed) == _without_request_ids(missing)
    assert data(missing)["rotateApiKey"]["userErrors"] == [
        {"field": ["id"], "message": "API key not found.", "code": "NOT_FOUND"}
    ]
    # Globex's key still works.
    assert data(gateway.post(KEYS, key="org2"))["viewer"]["apiKeys"]


def test_a_partner_rotates_its_own_key(gateway: Gateway) -> None:
    manager = _issue(gateway, "Acme Learning", "read", "write", "keys:manage")
    target = _issue(gateway, "Acme Learning", "read")
    target_id = parse_api_key(target).key_id

    bad_grace = data(_post(gateway, manager, ROTATE, {"id": target_id, "grace": -1}))
    assert bad_grace["rotateApiKey"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert bad_grace["rotateApiKey"]["userErrors"][0]["field"] == ["graceSeconds"]

    response = _post(gateway, manager, ROTATE, {"id": target_id, "grace": 0})
    payload = data(response)["rotateApiKey"]
    assert payload["userErrors"] == []
    new_key = payload["key"]
    assert re.findall(API_KEY_PATTERN, response.text) == [new_key]  # once, and only the new one
    assert payload["apiKey"]["id"] == parse_api_key(new_key).key_id
    assert payload["apiKey"]["scopes"] == ["read"] and payload["apiKey"]["status"] == "ACTIVE"
    assert payload["rotatedApiKey"] == {
        "id": target_id,
        "status": "ROTATED",
        "graceEndsAt": payload["rotatedApiKey"]["graceEndsAt"],
        "successorId": payload["apiKey"]["id"],
    }

    # Grace 0: the old key is refused at once in this process, and says why.
    old = _post(gateway, target, KEYS)
    assert old.status_code == 401
    assert old.json()["errors"][0]["message"] == "This API key was rotated; use its successor."
    assert target not in old.text
    viewer = data(_post(gateway, new_key, KEYS))["viewer"]["apiKeys"]
    statuses = {key["id"]: key["status"] for key in viewer}
    assert statuses[target_id] == "ROTATED" and statuses[payload["apiKey"]["id"]] == "ACTIVE"

    repeated = _post(gateway, manager, ROTATE, {"id": target_id})
    again = data(repeated)["rotateApiKey"]
    assert again["userErrors"][0]["code"] == "ALREADY_ROTATED" and again["key"] is None
    gateway.access_line(repeated.headers["x-request-id"])  # the log is written up to here

    events = json.loads(
        gateway.cli("keys", "events", "--company", "Acme Learning", "--json").stdout
    )
    rotation = next(e for e in events if e["event"] == "rotated" and e["key_id"] == target_id)
    assert rotation["actor"] == f"partner:{parse_api_key(manager).key_id}"
    assert new_key not in gateway.log_text() and target not in gateway.log_text()


def test_a_rotation_that_outlives_the_deadline_still_hands_over_its_key(
    gateway_backend: SampleBackend, tmp_path: Path
) -> None:
    """Redis never answers, so telling the other processes about the rotation takes its
    one-second command timeout, after the commit and past the 0.3-s deadline: the partner
    still gets the new key, the one place it is ever shown."""
    with socket.socket() as black_hole:  # connections complete; nothing ever answers
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        redis_url = f"redis://127.0.0.1:{black_hole.getsockname()[1]}/0"
        with running_gateway(
            gateway_backend, tmp_path, redis_url=redis_url, request_deadline="0.3"
        ) as gateway:
            manager = _issue(gateway, "Acme Learning", "read", "write", "keys:manage")
            own = parse_api_key(manager).key_id
            started = time.monotonic()
            response = _post(gateway, manager, ROTATE, {"id": own, "grace": 0})
            assert time.monotonic() - started > 0.3  # the deadline did pass
            assert response.status_code == 200
            rotated = data(response)["rotateApiKey"]
            assert rotated["userErrors"] == []
            assert rotated["rotatedApiKey"] == {
                "id": own,
                "status": "ROTATED",
                "graceEndsAt": rotated["rotatedApiKey"]["graceEndsAt"],
                "successorId": rotated["apiKey"]["id"],
            }
            assert _post(gateway, manager, KEYS).status_code == 401  # no grace: stopped
            listed = data(_post(gateway, rotated["key"], KEYS))["viewer"]["apiKeys"]
            assert {k["id"]: k["status"] for k in listed}[own] == "ROTATED"


def test_fields_after_a_rotation_cannot_time_it_out(
    gateway_backend: SampleBackend, tmp_path: Path
) -> None:
    """The deadline passes during the mutation's next field (a slow backend): the
    rotation's key is still answered, with that field's own result."""
    badge = backend_get(gateway_backend, "/api/v1/badges/", organization=1, status="published")
    with running_gateway(gateway_backend, tmp_path, request_deadline="0.5") as gateway:
        manager = _issue(gateway, "Acme Learning", "read", "write", "keys:manage")
        own = parse_api_key(manager).key_id
        both = """mutation($id: ID!, $input: IssueCredentialInput!) {
            a: rotateApiKey(id: $id, graceSeconds: 0) { key userErrors { code } }
            b: issueCredential(input: $input) { credential { id } userErrors { code } } }"""
        variables = {
            "id": own,
            "input": {
                "badgeId": str(badge["results"][0]["id"]),
                "recipient": {"email": "late@example.com"},
                "idempotencyKey": "rotation-then-issue-1",
            },
        }
        gateway_backend.inject_fault("delay", path="/api/v1/badges/", count=1, delay_ms=1500)
        try:
            started = time.monotonic()
            response = _post(gateway, manager, both, variables)
        finally:
            gateway_backend.clear_faults()
        assert time.monotonic() - started > 0.5  # past the deadline
        assert response.status_code == 200, response.text
        new_key = response.json()["data"]["a"]["key"]
        assert new_key is not None
        assert _post(gateway, manager, KEYS).status_code == 401  # rotated, no grace
        assert _post(gateway, new_key, KEYS).status_code == 200
