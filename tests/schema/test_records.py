"""Badges and credentials made from backend records: every public field reads as the
record says, converted once, and nothing else of the record can be read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest

from resolvers.loaders import Loaders
from schema.scalars import BadgeLevel, BadgeStatus, CredentialStatus
from schema.types import Badge, Credential, Recipient, Skill

BADGE = {
    "id": 7,
    "name": "Python",
    "description": "Writes Python.",
    "criteria": "Pass the exam.",
    "image_url": "https://img.example/7.png",
    "level": "advanced",
    "duration_hours": 12.5,
    "language": "es-CO",
    "skills": [{"name": "Testing", "esco_uri": "http://data.europa.eu/esco/skill/1"}],
    "status": "published",
    "issued_count": 3,
    "created_at": "2026-01-02T03:04:05+00:00",
    "updated_at": "2026-02-03T04:05:06+00:00",
    "s3_image_key": "internal/7.png",  # x-internal in the contract
}
CREDENTIAL = {
    "uuid": "3f1c2b8e-0000-4000-8000-000000000001",
    "badge": 7,
    "recipient": {"email": "ana@example.com", "first_name": "Ana", "last_name": None},
    "status": "active",
    "issued_on": "2026-01-15",
    "expires_on": "2028-01-15",
    "revoked_at": None,
    "revocation_reason": None,
    "evidence_url": "https://evidence.example/1",
    "public_url": "https://verify.example/1",
    "created_at": "2026-01-15T10:00:00+00:00",
    "internal_notes": "do not show",  # x-internal
}


def test_a_badge_reads_every_public_field_from_its_record() -> None:
    badge = Badge.from_backend(dict(BADGE))
    assert isinstance(badge, Badge)
    assert (badge.id, badge.name, badge.status) == ("7", "Python", BadgeStatus.PUBLISHED)
    assert badge.level is BadgeLevel.ADVANCED
    assert badge.skills == [Skill(name="Testing", esco_uri="http://data.europa.eu/esco/skill/1")]
    assert (badge.description, badge.criteria, badge.language) == (
        "Writes Python.",
        "Pass the exam.",
        "es-CO",
    )
    assert (badge.image_url, badge.duration_hours, badge.issued_count) == (
        "https://img.example/7.png",
        12.5,
        3,
    )
    assert badge.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert badge.updated_at == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_a_credential_reads_every_public_field_from_its_record() -> None:
    badge = Badge.from_backend(dict(BADGE))
    credential = Credential.from_backend(dict(CREDENTIAL), cast(Loaders, None), badge)
    assert isinstance(credential, Credential)
    assert credential.id == CREDENTIAL["uuid"]
    assert credential.status is CredentialStatus.ACTIVE
    assert credential.badge is badge
    assert credential.recipient == Recipient(
        email="ana@example.com", first_name="Ana", last_name=None
    )
    assert (credential.issued_on, credential.expires_on) == (date(2026, 1, 15), date(2028, 1, 15))
    assert (credential.revoked_at, credential.revocation_reason) == (None, None)
    assert credential.created_at == datetime(2026, 1, 15, 10, tzinfo=UTC)
    assert (credential.evidence_url, credential.public_url) == (
        "https://evidence.example/1",
        "https://verify.example/1",
    )


@pytest.mark.parametrize(
    ("made", "internal"),
    [
        (lambda: Badge.from_backend(dict(BADGE)), "s3_image_key"),
        (
            lambda: Credential.from_backend(dict(CREDENTIAL), cast(Loaders, None)),
            "internal_notes",
        ),
    ],
)
def test_nothing_but_public_fields_can_be_read_from_the_record(made: Any, internal: str) -> None:
    with pytest.raises(AttributeError):
        getattr(made(), internal)


def test_a_field_is_converted_once_and_only_when_read() -> None:
    record = dict(CREDENTIAL)
    credential = Credential.from_backend(record, cast(Loaders, None))
    record["recipient"] = {"email": "later@example.com"}  # read after this: the new value
    first = credential.recipient
    record["recipient"] = {"email": "changed@example.com"}
    assert credential.recipient is first  # kept, not converted again
    assert first.email == "later@example.com"
