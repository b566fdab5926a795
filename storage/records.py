"""Plain, immutable copies of rows that repositories hand out.

Records outlive their session (no lazy loading surprises under asyncio) and never carry
more than the row::

    company = await companies.get_by_name("Acme Learning")
    company.organization_id  # 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from storage.models import ApiKey, ApiKeyEvent, Company

__all__ = [
    "ApiKeyEventRecord",
    "ApiKeyRecord",
    "CompanyRecord",
    "KeyEvent",
    "KeyStatus",
    "KeyWithCompany",
    "NewKeyEvent",
]


class KeyStatus(StrEnum):
    """Where a key is in its life. ``rotating``: it works until ``grace_ends_at``."""

    ACTIVE = "active"
    ROTATING = "rotating"
    ROTATED = "rotated"
    EXPIRED = "expired"
    REVOKED = "revoked"


class KeyEvent(StrEnum):
    """What the audit trail records."""

    ISSUED = "issued"
    ROTATED = "rotated"
    REVOKED = "revoked"
    REFUSED_AFTER_ROTATION = "refused_after_rotation"
    PEPPER_ROTATED = "pepper_rotated"


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    id: str
    name: str
    organization_id: int
    plan: str
    active: bool
    created_at: datetime
    plan_overrides: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Company) -> CompanyRecord:
        return cls(
            id=row.id,
            name=row.name,
            organization_id=row.organization_id,
            plan=row.plan,
            active=row.active,
            created_at=row.created_at,
            plan_overrides=row.plan_overrides,
        )


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key row. ``key_hash`` is the HMAC of the key: not secret, but not for display."""

    id: str
    company_id: str
    prefix: str
    key_hash: str = field(repr=False)
    pepper_version: int
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    successor_id: str | None
    grace_ends_at: datetime | None

    @classmethod
    def from_row(cls, row: ApiKey) -> ApiKeyRecord:
        return cls(
            id=row.id,
            company_id=row.company_id,
            prefix=row.prefix,
            key_hash=row.key_hash,
            pepper_version=row.pepper_version,
            scopes=frozenset(row.scopes.split()),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            successor_id=row.successor_id,
            grace_ends_at=row.grace_ends_at,
        )

    def status(self, now: datetime) -> KeyStatus:
        """The key's status at ``now``; the first that applies of revoked, expired, rotated."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return KeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return KeyStatus.EXPIRED
        if self.grace_ends_at is not None:
            return KeyStatus.ROTATED if self.grace_ends_at <= now else KeyStatus.ROTATING
        return KeyStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class KeyWithCompany:
    """A key and its company, read together in one query by the authenticator."""

    key: ApiKeyRecord
    company: CompanyRecord


@dataclass(frozen=True, slots=True)
class NewKeyEvent:
    """An event to record; ``dedupe_key`` makes a second recording of it a no-op."""

    event: KeyEvent
    actor: str
    company_id: str | None = None
    key_id: str | None = None
    detail: str = ""
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class ApiKeyEventRecord:
    id: int
    at: datetime
    event: str
    actor: str
    company_id: str | None
    key_id: str | None
    detail: str

    @classmethod
    def from_row(cls, row: ApiKeyEvent) -> ApiKeyEventRecord:
        return cls(
            id=row.id,
            at=row.at,
            event=row.event,
            actor=row.actor,
            company_id=row.company_id,
            key_id=row.key_id,
            detail=row.detail,
        )
