"""Plain, immutable copies of rows that repositories hand out.

Records outlive their session (no lazy loading surprises under asyncio) and never carry
more than the row::

    company = await companies.get_by_name("Acme Learning")
    company.organization_id  # 1
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from storage.models import ApiKey, Company

__all__ = ["ApiKeyRecord", "CompanyRecord", "KeyWithCompany"]


@dataclass(frozen=True, slots=True)
class CompanyRecord:
    id: str
    name: str
    organization_id: int
    plan: str
    active: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: Company) -> CompanyRecord:
        return cls(
            id=row.id,
            name=row.name,
            organization_id=row.organization_id,
            plan=row.plan,
            active=row.active,
            created_at=row.created_at,
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

    def status(self, now: datetime) -> str:
        """``"active"``, ``"revoked"`` or ``"expired"`` at ``now``."""
        if self.revoked_at is not None and self.revoked_at <= now:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class KeyWithCompany:
    """A key and its company, read together in one query by the authenticator."""

    key: ApiKeyRecord
    company: CompanyRecord
