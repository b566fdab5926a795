"""Credentials: list and filters, retrieve, verify, create (validation, idempotency), revoke."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from sample_backend.data import build_seed
from tests.fixtures.sample_backend import SampleBackend

SEED = build_seed()
INVALID_CHOICE = "Select a valid choice. That choice is not one of the available choices."
DATE_FORMAT = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."


def _all(api: httpx.Client, **params: str | int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    url: str | None = "/api/v1/credentials/"
    query: dict[str, str | int] | None = {**params, "page_size": 100}
    while url is not None:
        body = api.get(url, params=query).json()
        results += body["results"]
        url, query = body["next"], None
    return results


def _uuids(api: httpx.Client, **params: str | int) -> list[str]:
    return [credential["uuid"] for credential in _all(api, **params)]


def _issue(api: httpx.Client, body: dict[str, Any], **headers: str) -> httpx.Response:
    return api.post("/api/v1/credentials/", json=body, headers=headers)


def _email() -> str:
    return f"new-{uuid.uuid4().hex[:10]}@example.com"


# --------------------------------------------------------------------------- seeded data


def test_seeded_volumes_and_statuses(api: httpx.Client) -> None:
    counts = {
        org: api.get("/api/v1/credentials/", params={"organization": org}).json()["count"]
        for org in (1, 2, 3)
    }
    assert counts[1] >= 250
    assert counts[2] >= 60
    assert counts[3] >= 60
    for status in ("active", "revoked", "expired"):
        assert (
            api.get("/api/v1/credentials/", params={"status": status, "organization": 2}).json()[
                "count"
            ]
            > 0
        )
    revoked = api.get("/api/v1/credentials/", params={"status": "revoked"}).json()["results"]
    assert all(c["revocation_reason"] and c["revoked_at"] for c in revoked)


def test_list_is_newest_first(api: httpx.Client) -> None:
    results = _all(api, organization=1)
    created = [credential["created_at"] for credential in results]
    assert created == sorted(created, reverse=True)
    assert [c["uuid"] for c in results] == [c.uuid for c in SEED.credentials if c.organization == 1]


def test_credential_has_every_field(api: httpx.Client) -> None:
    credential = api.get("/api/v1/credentials/").json()["results"][0]
    assert set(credential) == {
        "uuid", "badge", "organization", "recipient", "status", "issued_on", "expires_on",
        "revoked_at", "revocation_reason", "evidence_url", "public_url", "created_at",
        "created_by", "pdf_s3_key", "blockchain_tx", "internal_meta",
    }  # fmt: skip
    assert set(credential["recipient"]) == {
        "id", "email", "first_name", "last_name", "national_id", "phone", "created_at",
    }  # fmt: skip
    assert uuid.UUID(credential["uuid"]).version == 4
    assert isinstance(credential["internal_meta"], dict)


# --------------------------------------------------------------------------- filters


def test_filter_by_badge_and_organization(api: httpx.Client) -> None:
    expected = [c.uuid for c in SEED.credentials if c.badge == 1]
    assert expected
    assert _uuids(api, badge=1) == expected
    assert _uuids(api, badge=1, organization=2) == []


def test_filter_by_recipient_email_ignores_case(api: httpx.Client) -> None:
    counts: dict[str, int] = {}
    for credential in SEED.credentials:
        counts[credential.recipient.email] = counts.get(credential.recipient.email, 0) + 1
    email = max(counts, key=lambda key: counts[key])
    assert counts[email] > 1  # some recipients hold several credentials
    expected = [c.uuid for c in SEED.credentials if c.recipient.email == email]
    assert _uuids(api, recipient_email=email.upper()) == expected
    assert _uuids(api, recipient_email="nobody@example.com") == []


@pytest.mark.parametrize("status", ["active", "revoked", "expired"])
def test_filter_by_status(api: httpx.Client, status: str) -> None:
    expected = [c.uuid for c in SEED.credentials if c.status == status]
    assert _uuids(api, status=status) == expected


def test_filter_by_issue_dates_is_inclusive(api: httpx.Client) -> None:
    day = SEED.credentials[40].issued_on
    after = [c.uuid for c in SEED.credentials if c.issued_on >= day]
    before = [c.uuid for c in SEED.credentials if c.issued_on <= day]
    on = [c.uuid for c in SEED.credentials if c.issued_on == day]
    assert _uuids(api, issued_after=day.isoformat()) == after
    assert _uuids(api, issued_before=day.isoformat()) == before
    assert _uuids(api, issued_after=day.isoformat(), issued_before=day.isoformat()) == on
    us_style = f"{day.month:02d}/{day.day:02d}/{day.year}"  # Django's DATE_INPUT_FORMATS
    assert _uuids(api, issued_after=us_style) == after


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"organization": "abc"}, {"organization": [INVALID_CHOICE]}),
        ({"badge": "abc"}, {"badge": [INVALID_CHOICE]}),
        ({"badge": "99999"}, {"badge": [INVALID_CHOICE]}),
        (
            {"status": "bogus"},
            {"status": ["Select a valid choice. bogus is not one of the available choices."]},
        ),
        ({"issued_after": "notadate"}, {"issued_after": ["Enter a valid date."]}),
        (
            {"issued_before": "2024-02-30", "issued_after": "x"},
            {"issued_after": ["Enter a valid date."], "issued_before": ["Enter a valid date."]},
        ),
    ],
)
def test_bad_filter_values_are_400(
    api: httpx.Client, params: dict[str, str], errors: dict[str, list[str]]
) -> None:
    response = api.get("/api/v1/credentials/", params=params)
    assert response.status_code == 400
    assert response.json() == errors


def test_filter_errors_come_before_page_errors(api: httpx.Client) -> None:
    assert api.get("/api/v1/credentials/?status=bogus&page=999").status_code == 400


# --------------------------------------------------------------------------- retrieve, verify


def test_retrieve_by_uuid(api: httpx.Client) -> None:
    seeded = SEED.credentials[7]
    body = api.get(f"/api/v1/credentials/{seeded.uuid}/").json()
    assert body["uuid"] == seeded.uuid
    assert body["recipient"]["email"] == seeded.recipient.email
    assert api.get(f"/api/v1/credentials/{seeded.uuid.upper()}/").json()["uuid"] == seeded.uuid


@pytest.mark.parametrize("key", ["not-a-uuid", str(uuid.UUID(int=1, version=4))])
def test_unknown_credential_is_404(api: httpx.Client, key: str) -> None:
    for suffix in ("", "verify/"):
        response = api.get(f"/api/v1/credentials/{key}/{suffix}")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


def test_verify(api: httpx.Client) -> None:
    active = next(c for c in SEED.credentials if c.status == "active")
    body = api.get(f"/api/v1/credentials/{active.uuid}/verify/").json()
    assert list(body) == [
        "uuid", "valid", "status", "checked_at", "issuer", "badge", "recipient_email_hash",
        "signature_alg", "signing_key_id",
    ]  # fmt: skip
    assert body["uuid"] == active.uuid
    assert body["valid"] is True
    assert body["status"] == "active"
    checked = datetime.fromisoformat(body["checked_at"].replace("Z", "+00:00"))
    assert abs(checked - datetime.now(UTC)) < timedelta(minutes=1)
    assert body["issuer"]["id"] == active.organization
    assert body["issuer"]["stripe_customer_id"].startswith("cus_")
    assert body["badge"]["id"] == active.badge
    digest = hashlib.sha256(active.recipient.email.lower().encode()).hexdigest()
    assert body["recipient_email_hash"] == f"sha256${digest}"
    assert body["signature_alg"]
    assert body["signing_key_id"].startswith("arn:aws:kms:")
    for status in ("revoked", "expired"):
        other = next(c for c in SEED.credentials if c.status == status)
        result = api.get(f"/api/v1/credentials/{other.uuid}/verify/").json()
        assert (result["valid"], result["status"]) == (False, status)


# --------------------------------------------------------------------------- create


def test_issue_to_a_new_recipient(api: httpx.Client, restore: SampleBackend) -> None:
    before = api.get("/api/v1/badges/2/").json()["issued_count"]
    email = _email()
    response = _issue(
        api,
        {
            "badge": 2,
            "recipient": {"email": email, "first_name": "Ana", "last_name": "Ruiz"},
            "evidence_url": "https://example.com/evidence/1",
            "expires_on": "2099-12-31",
            "send_email": False,
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["badge"] == 2
    assert body["organization"] == 1
    assert body["status"] == "active"
    assert body["issued_on"] == datetime.now(UTC).date().isoformat()
    assert body["expires_on"] == "2099-12-31"
    assert body["evidence_url"] == "https://example.com/evidence/1"
    assert body["recipient"]["email"] == email
    assert body["recipient"]["first_name"] == "Ana"
    assert body["revoked_at"] is None
    assert body["created_by"] == 1
    assert body["pdf_s3_key"].startswith("s3://")
    assert api.get(f"/api/v1/credentials/{body['uuid']}/").json() == body
    assert api.get("/api/v1/credentials/").json()["results"][0]["uuid"] == body["uuid"]
    assert api.get("/api/v1/badges/2/").json()["issued_count"] == before + 1
    assert _uuids(api, recipient_email=email) == [body["uuid"]]


def test_issue_matches_an_existing_recipient_by_email(
    api: httpx.Client, restore: SampleBackend
) -> None:
    existing = SEED.credentials[3].recipient
    response = _issue(api, {"badge": 3, "recipient": {"email": existing.email.upper()}})
    assert response.status_code == 201
    recipient = response.json()["recipient"]
    assert recipient["id"] == existing.id
    assert recipient["email"] == existing.email


def test_issue_backdated_and_already_expired(api: httpx.Client, restore: SampleBackend) -> None:
    body = _issue(
        api,
        {
            "badge": 1,
            "recipient": {"email": _email()},
            "issued_on": "2020-01-01",
            "expires_on": "2021-01-01",
        },
    ).json()
    assert (body["issued_on"], body["expires_on"], body["status"]) == (
        "2020-01-01",
        "2021-01-01",
        "expired",
    )


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"badge": ["This field is required."], "recipient": ["This field is required."]}),
        (
            {"badge": "5", "recipient": {"email": "a@example.com"}},
            {"badge": ["Incorrect type. Expected pk value, received str."]},
        ),
        (
            {"badge": 5.0, "recipient": {"email": "a@example.com"}},
            {"badge": ["Incorrect type. Expected pk value, received float."]},
        ),
        (
            {"badge": True, "recipient": {"email": "a@example.com"}},
            {"badge": ["Incorrect type. Expected pk value, received bool."]},
        ),
        (
            {"badge": None, "recipient": {"email": "a@example.com"}},
            {"badge": ["This field may not be null."]},
        ),
        (
            {"badge": 99, "recipient": {"email": "nope"}},
            {
                "badge": ['Invalid pk "99" - object does not exist.'],
                "recipient": {"email": ["Enter a valid email address."]},
            },
        ),
        ({"badge": 1, "recipient": {}}, {"recipient": {"email": ["This field is required."]}}),
        (
            {"badge": 1, "recipient": {"email": ""}},
            {"recipient": {"email": ["This field may not be blank."]}},
        ),
        (
            {"badge": 1, "recipient": "a@example.com"},
            {
                "recipient": {
                    "non_field_errors": ["Invalid data. Expected a dictionary, but got str."]
                }
            },
        ),
        (
            {
                "badge": 1,
                "recipient": {"email": "a@example.com", "first_name": "x" * 151, "last_name": 7},
            },
            {"recipient": {"first_name": ["Ensure this field has no more than 150 characters."]}},
        ),
        (
            {"badge": 1, "recipient": {"email": "a@example.com"}, "issued_on": "2024-13-01"},
            {"issued_on": [DATE_FORMAT]},
        ),
        (
            {
                "badge": 1,
                "recipient": {"email": "a@example.com"},
                "expires_on": "2024-01-01T00:00:00",
            },
            {"expires_on": [DATE_FORMAT]},
        ),
        (
            {"badge": 1, "recipient": {"email": "a@example.com"}, "issued_on": 20240101},
            {"issued_on": [DATE_FORMAT]},
        ),
        (
            {"badge": 1, "recipient": {"email": "a@example.com"}, "issued_on": None},
            {"issued_on": ["This field may not be null."]},
        ),
        (
            {"badge": 1, "recipient": {"email": "a@example.com"}, "evidence_url": "not a url"},
            {"evidence_url": ["Enter a valid URL."]},
        ),
        (
            {"badge": 1, "recipient": {"email": "a@example.com"}, "send_email": "maybe"},
            {"send_email": ["Must be a valid boolean."]},
        ),
        (
            {
                "badge": 1,
                "recipient": {"email": "a@example.com"},
                "issued_on": "2024-05-01",
                "expires_on": "2024-05-01",
            },
            {"non_field_errors": ["expires_on must be after issued_on."]},
        ),
        ([1, 2], {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    ],
)
def test_create_validation(api: httpx.Client, body: Any, errors: dict[str, Any]) -> None:
    before = api.get("/api/v1/credentials/").json()["count"]
    response = api.post("/api/v1/credentials/", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert api.get("/api/v1/credentials/").json()["count"] == before


def test_create_body_errors(api: httpx.Client) -> None:
    broken = api.post(
        "/api/v1/credentials/",
        content=b'{"badge": 1,',
        headers={"Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["detail"].startswith("JSON parse error - ")
    null = api.post(
        "/api/v1/credentials/", content=b"null", headers={"Content-Type": "application/json"}
    )
    assert null.json() == {"non_field_errors": ["No data provided"]}
    xml = api.post(
        "/api/v1/credentials/", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert xml.status_code == 415


def test_idempotent_create(api: httpx.Client, restore: SampleBackend) -> None:
    before = api.get("/api/v1/credentials/").json()["count"]
    body = {"badge": 4, "recipient": {"email": _email()}}
    first = _issue(api, body, **{"Idempotency-Key": "issue-once-1"})
    second = _issue(api, body, **{"Idempotency-Key": "issue-once-1"})
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second.headers["Idempotent-Replayed"] == "true"
    assert api.get("/api/v1/credentials/").json()["count"] == before + 1
    other = _issue(api, body, **{"Idempotency-Key": "issue-once-2"})
    assert other.status_code == 201
    assert other.json()["uuid"] != first.json()["uuid"]
    assert api.get("/api/v1/credentials/").json()["count"] == before + 2
    recorded = [r for r in restore.recorded_requests() if r["idempotency_key"] == "issue-once-1"]
    assert [r["status"] for r in recorded] == [201, 201]


def test_a_failed_create_is_not_remembered(api: httpx.Client, restore: SampleBackend) -> None:
    bad = _issue(
        api, {"badge": "4", "recipient": {"email": _email()}}, **{"Idempotency-Key": "fix-me"}
    )
    assert bad.status_code == 400
    good = _issue(
        api, {"badge": 4, "recipient": {"email": _email()}}, **{"Idempotency-Key": "fix-me"}
    )
    assert good.status_code == 201


def test_idempotency_key_is_at_most_255_characters(api: httpx.Client) -> None:
    response = _issue(
        api, {"badge": 4, "recipient": {"email": _email()}}, **{"Idempotency-Key": "k" * 256}
    )
    assert response.status_code == 400


# --------------------------------------------------------------------------- revoke


def test_revoke_then_409(api: httpx.Client, restore: SampleBackend) -> None:
    active = next(c for c in SEED.credentials if c.status == "active")
    url = f"/api/v1/credentials/{active.uuid}/revoke/"
    response = api.post(
        url, json={"reason": "Issued to the wrong person", "notify_recipient": False}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "revoked"
    assert body["revocation_reason"] == "Issued to the wrong person"
    revoked_at = datetime.fromisoformat(body["revoked_at"].replace("Z", "+00:00"))
    assert abs(revoked_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert api.get(f"/api/v1/credentials/{active.uuid}/").json() == body
    assert api.get(f"/api/v1/credentials/{active.uuid}/verify/").json()["valid"] is False
    assert active.uuid in _uuids(api, status="revoked")
    again = api.post(url, json={"reason": "again"})
    assert again.status_code == 409
    assert again.json() == {"detail": "Credential is already revoked."}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": ""}, {"reason": ["This field may not be blank."]}),
        ({"reason": "x" * 501}, {"reason": ["Ensure this field has no more than 500 characters."]}),
        (
            {"reason": "ok", "notify_recipient": "maybe"},
            {"notify_recipient": ["Must be a valid boolean."]},
        ),
    ],
)
def test_revoke_validation(
    api: httpx.Client, body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    active = next(c for c in SEED.credentials if c.status == "active")
    response = api.post(f"/api/v1/credentials/{active.uuid}/revoke/", json=body)
    assert response.status_code == 400
    assert response.json() == errors
    assert api.get(f"/api/v1/credentials/{active.uuid}/").json()["status"] == "active"


def test_revoke_unknown_is_404(api: httpx.Client) -> None:
    response = api.post(f"/api/v1/credentials/{uuid.uuid4()}/revoke/", json={"reason": "x"})
    assert response.status_code == 404


# --------------------------------------------------------------------------- methods and paths


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/credentials/{uuid}/", "GET, HEAD, OPTIONS"),
        ("DELETE", "/api/v1/credentials/{uuid}/", "GET, HEAD, OPTIONS"),
        ("PATCH", "/api/v1/credentials/", "GET, POST, HEAD, OPTIONS"),
        ("GET", "/api/v1/credentials/{uuid}/revoke/", "POST, OPTIONS"),
        ("POST", "/api/v1/credentials/{uuid}/verify/", "GET, HEAD, OPTIONS"),
    ],
)
def test_wrong_method_is_405(api: httpx.Client, method: str, path: str, allow: str) -> None:
    response = api.request(method, path.format(uuid=SEED.credentials[0].uuid))
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["Allow"] == allow


def test_missing_trailing_slash_is_a_301(api: httpx.Client) -> None:
    response = api.get("/api/v1/credentials?organization=1&page=2")
    assert response.status_code == 301
    assert response.headers["Location"] == "/api/v1/credentials/?organization=1&page=2"
    followed = api.get("/api/v1/credentials?organization=1", follow_redirects=True)
    assert followed.status_code == 200
    assert api.post("/api/token").status_code == 301
    detail = api.get(f"/api/v1/credentials/{SEED.credentials[0].uuid}/verify")
    assert detail.headers["Location"] == f"/api/v1/credentials/{SEED.credentials[0].uuid}/verify/"


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/nope", "/", "/api/v1/badges/1/extra/"])
def test_unknown_path_is_404(api: httpx.Client, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_head_and_options(api: httpx.Client) -> None:
    head = api.head("/api/v1/badges/1/")
    assert head.status_code == 200
    assert head.content == b""
    options = api.options("/api/v1/credentials/")
    assert options.status_code == 200
    assert options.json()["name"] == "Credential List"
    assert options.headers["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_dates_are_iso(api: httpx.Client) -> None:
    credential = api.get("/api/v1/credentials/").json()["results"][0]
    assert date.fromisoformat(credential["issued_on"])
    assert credential["created_at"].endswith("Z")
