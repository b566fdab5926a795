"""CredentialsApi: every contract operation against the real sample backend."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest

from backend.api import CredentialsApi
from errors import (
    BackendConflict,
    BackendNotFound,
    BackendValidationError,
    BadUserInput,
    error_code,
    public_message,
)
from tests.backend.conftest import MakeClient
from tests.fixtures.sample_backend import SampleBackend

pytestmark = pytest.mark.usefixtures("clean_backend")


@pytest.fixture
async def api(make_client: MakeClient) -> CredentialsApi:
    client, _ = await make_client()
    return CredentialsApi(client)


def issue_body(email: str, badge: int = 1) -> dict[str, Any]:
    return {"badge": badge, "recipient": {"email": email, "first_name": "Ada"}, "send_email": False}


async def test_get_organization(api: CredentialsApi) -> None:
    organization = await api.get_organization(1)
    assert organization["id"] == 1
    assert {"name", "slug"} <= organization.keys()
    assert "billing_email" in organization  # raw: the schema layer whitelists
    with pytest.raises(BackendNotFound):
        await api.get_organization(999_999)


async def test_list_badges_and_filters(api: CredentialsApi, backend: SampleBackend) -> None:
    page = await api.list_badges(organization=1, page=1, page_size=5)
    assert {"count", "next", "previous", "results"} <= page.keys()
    assert 0 < len(page["results"]) <= 5
    assert all(b["organization"] == 1 for b in page["results"])

    published = await api.list_badges(organization=1, page=1, page_size=100, status="published")
    assert published["results"]
    assert all(b["status"] == "published" for b in published["results"])

    first = page["results"][0]
    word = first["name"].split()[-1]
    found = await api.list_badges(organization=1, page=1, page_size=100, search=word.upper())
    assert first["id"] in {b["id"] for b in found["results"]}

    ids = [b["id"] for b in page["results"][:3]]
    batch = await api.list_badges(organization=1, page=1, page_size=100, ids=ids)
    assert sorted(b["id"] for b in batch["results"]) == sorted(ids)
    query = backend.recorded_requests()[-1]["query"]
    assert "ids=" + "%2C".join(map(str, ids)) in query or "ids=" + ",".join(map(str, ids)) in query

    with pytest.raises(BackendNotFound):  # DRF's "Invalid page."
        await api.list_badges(organization=1, page=10_000, page_size=100)


async def test_list_badges_checks_its_arguments(api: CredentialsApi) -> None:
    with pytest.raises(ValueError, match="ids"):
        await api.list_badges(organization=1, page=1, page_size=100, ids=[])
    with pytest.raises(ValueError, match="ids"):
        await api.list_badges(organization=1, page=1, page_size=100, ids=list(range(1, 102)))
    with pytest.raises(BadUserInput):
        await api.list_badges(organization=1, page=0, page_size=10)
    with pytest.raises(BadUserInput):
        await api.list_badges(organization=1, page=1, page_size=10, ids=["1,2"])  # type: ignore[list-item]


async def test_get_badge(api: CredentialsApi) -> None:
    badge = await api.get_badge(1)
    assert badge["id"] == 1
    with pytest.raises(BackendNotFound) as caught:
        await api.get_badge(987_654_321)
    assert caught.value.public_message == "Not found."
    assert error_code(caught.value) == "NOT_FOUND"
    with pytest.raises(BadUserInput):
        await api.get_badge("1")  # type: ignore[arg-type]
    with pytest.raises(BadUserInput):
        await api.get_badge(True)


async def test_list_credentials_and_filters(api: CredentialsApi) -> None:
    page = await api.list_credentials(organization=1, page=1, page_size=20)
    assert page["count"] > 0
    sample = page["results"][0]
    by_badge = await api.list_credentials(
        organization=1, page=1, page_size=100, badge=sample["badge"], status=sample["status"]
    )
    assert by_badge["results"]
    assert all(c["badge"] == sample["badge"] for c in by_badge["results"])
    assert all(c["status"] == sample["status"] for c in by_badge["results"])

    email = sample["recipient"]["email"]
    mine = await api.list_credentials(organization=1, page=1, page_size=100, recipient_email=email)
    assert mine["results"]
    assert all(c["recipient"]["email"] == email for c in mine["results"])

    day = date.fromisoformat(sample["issued_on"])
    that_day = await api.list_credentials(
        organization=1, page=1, page_size=100, issued_after=day, issued_before=day
    )
    assert sample["uuid"] in {c["uuid"] for c in that_day["results"]}
    assert all(c["issued_on"] == sample["issued_on"] for c in that_day["results"])

    with pytest.raises(BackendValidationError) as caught:
        await api.list_credentials(organization=1, page=1, page_size=10, status="bogus")
    assert "status" in caught.value.field_errors


async def test_get_and_verify_credential(api: CredentialsApi) -> None:
    page = await api.list_credentials(organization=1, page=1, page_size=1)
    credential_uuid = page["results"][0]["uuid"]
    credential = await api.get_credential(credential_uuid.upper())  # normalized
    assert credential["uuid"] == credential_uuid
    verification = await api.verify_credential(credential_uuid)
    assert verification["uuid"] == credential_uuid
    assert isinstance(verification["valid"], bool)
    with pytest.raises(BackendNotFound):
        await api.get_credential(str(uuid.uuid4()))
    with pytest.raises(BackendNotFound):
        await api.verify_credential(str(uuid.uuid4()))
    with pytest.raises(BadUserInput):
        await api.get_credential("../../api/token")


async def test_create_revoke_conflict(api: CredentialsApi) -> None:
    email = f"api-{uuid.uuid4().hex}@example.com"
    key = f"api-{uuid.uuid4().hex}"
    issued = await api.create_credential(issue_body(email), idempotency_key=key)
    assert issued["recipient"]["email"] == email
    assert issued["status"] == "active"
    replay = await api.create_credential(issue_body(email), idempotency_key=key)
    assert replay["uuid"] == issued["uuid"]

    revoked = await api.revoke_credential(
        issued["uuid"], reason="Issued by mistake", notify_recipient=False
    )
    assert revoked["status"] == "revoked"
    assert revoked["revocation_reason"] == "Issued by mistake"
    with pytest.raises(BackendConflict) as caught:
        await api.revoke_credential(issued["uuid"], reason="again", notify_recipient=False)
    error = caught.value
    assert error.status == 409
    assert "already revoked" in error.detail  # for logs
    assert "already revoked" not in str(error)
    assert public_message(error) == "Internal server error."  # revokeCredential maps it
    assert error_code(error) == "INTERNAL_SERVER_ERROR"

    with pytest.raises(BackendNotFound):
        await api.revoke_credential(str(uuid.uuid4()), reason="x", notify_recipient=True)


async def test_nested_field_errors_arrive_intact(api: CredentialsApi) -> None:
    body = {"badge": 999_999, "recipient": {"email": "not-an-email"}, "send_email": False}
    with pytest.raises(BackendValidationError) as caught:
        await api.create_credential(body, idempotency_key=None)
    errors = caught.value.field_errors
    assert isinstance(errors["recipient"], dict)
    assert isinstance(errors["recipient"]["email"], list)
    assert errors["recipient"]["email"][0].startswith("Enter a valid email")
    assert isinstance(errors["badge"], list)
    assert "999999" in errors["badge"][0]
    # Partners get a generic message; the field errors become userErrors upstream.
    assert public_message(caught.value) == "Internal server error."  # mutations map it
    assert "999999" not in str(caught.value)
    assert error_code(caught.value) == "INTERNAL_SERVER_ERROR"


async def test_whole_object_errors(api: CredentialsApi) -> None:
    email = f"dates-{uuid.uuid4().hex}@example.com"
    body = {**issue_body(email), "issued_on": "2025-05-01", "expires_on": "2025-01-01"}
    with pytest.raises(BackendValidationError) as caught:
        await api.create_credential(body, idempotency_key=None)
    assert caught.value.field_errors  # DRF keys it by field or non_field_errors, as sent
    page = await api.list_credentials(organization=1, page=1, page_size=1, status="active")
    active = page["results"][0]["uuid"]
    with pytest.raises(BackendValidationError) as blank:
        await api.revoke_credential(active, reason="", notify_recipient=True)
    assert list(blank.value.field_errors) == ["reason"]
    assert (await api.get_credential(active))["status"] == "active"
