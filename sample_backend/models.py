"""The backend's records: organizations, badges, skills, recipients and credentials.

Plain mutable dataclasses, one per database table of the real backend. Each record that
is served on its own keeps its rendered JSON in ``json`` (``None`` until first rendered,
reset to ``None`` whenever the record changes), so a read is a dictionary lookup plus a
cached byte string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = ["Badge", "Credential", "Organization", "Recipient", "Skill", "User"]


@dataclass(slots=True, eq=False)
class User:
    """A Django user of the backend; only staff may use the ``/api/v1/`` endpoints."""

    id: int
    username: str
    password: str
    is_staff: bool
    is_active: bool = True


@dataclass(slots=True, eq=False)
class Organization:
    """An issuing organization (the partner's tenant in the gateway)."""

    id: int
    name: str
    slug: str
    country: str
    website: str | None
    logo_url: str | None
    is_active: bool
    created_at: datetime
    billing_email: str
    stripe_customer_id: str | None
    internal_notes: str
    account_manager_id: int | None
    # Not part of the Organization representation: the key that signs its credentials,
    # reported (internally) by the verification endpoint.
    signing_key_id: str
    json: bytes | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False, frozen=True)
class Skill:
    """A skill from the ESCO-like catalogue that badges reference."""

    id: int
    name: str
    esco_uri: str | None


@dataclass(slots=True, eq=False)
class Badge:
    """A badge class that an organization awards."""

    id: int
    uuid: str
    organization: int
    name: str
    description: str
    criteria: str
    image_url: str
    level: str | None
    duration_hours: float | None
    language: str
    skills: list[Skill]
    status: str
    issued_count: int
    created_at: datetime
    updated_at: datetime
    created_by: int
    s3_image_key: str
    moderation_flags: list[str]
    template_engine_version: str
    search_text: str = field(default="", repr=False)
    json: bytes | None = field(default=None, repr=False)


@dataclass(slots=True, eq=False)
class Recipient:
    """The person a credential is awarded to, unique by (case-insensitive) email."""

    id: int
    email: str
    first_name: str
    last_name: str
    national_id: str | None
    phone: str | None
    created_at: datetime
    email_hash: str = field(default="", repr=False)


@dataclass(slots=True, eq=False)
class Credential:
    """An awarded badge: one badge issued to one recipient."""

    uuid: str
    badge: int
    organization: int
    recipient: Recipient
    status: str
    issued_on: date
    expires_on: date | None
    revoked_at: datetime | None
    revocation_reason: str | None
    evidence_url: str | None
    public_url: str
    created_at: datetime
    created_by: int
    pdf_s3_key: str | None
    blockchain_tx: str | None
    internal_meta: dict[str, Any]
    json: bytes | None = field(default=None, repr=False)
