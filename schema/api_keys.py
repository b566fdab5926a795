"""What a partner can see of its own company's API keys: never a secret, never a hash.

::

    { viewer { apiKeys { id prefix scopes status createdAt expiresAt lastUsedAt } } }

``ApiKey.from_record`` is the one place a stored key becomes this type; it copies public
fields only.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Self

import strawberry

from storage.records import ApiKeyRecord

__all__ = ["ApiKey", "ApiKeyStatus"]


@strawberry.enum(description="Where an API key is in its life.")
class ApiKeyStatus(Enum):
    ACTIVE = strawberry.enum_value("active", description="Works.")
    ROTATING = strawberry.enum_value(
        "rotating", description="Replaced by a successor; still works until `graceEndsAt`."
    )
    ROTATED = strawberry.enum_value(
        "rotated", description="Replaced by a successor, and its grace period is over."
    )
    EXPIRED = strawberry.enum_value("expired", description="Past `expiresAt`.")
    REVOKED = strawberry.enum_value("revoked", description="Revoked; refused for good.")


@strawberry.type(description="One of your company's API keys. The secret is never shown again.")
class ApiKey:
    id: strawberry.ID = strawberry.field(description="The key id: the 12 characters after `cgw_`.")
    prefix: str = strawberry.field(
        description="The start of the key (`cgw_<key id>`), to recognise it by; not a secret."
    )
    scopes: list[str] = strawberry.field(
        description="What the key may do: `read`, `write`, `keys:manage`."
    )
    status: ApiKeyStatus = strawberry.field(description="Where the key is in its life.")
    created_at: datetime = strawberry.field(description="When it was issued.")
    expires_at: datetime | None = strawberry.field(
        description="When it stops working; null if it never expires."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When it last authenticated (updated about every 30 seconds)."
    )
    grace_ends_at: datetime | None = strawberry.field(
        description="For a rotated key: when it stops working."
    )
    successor_id: strawberry.ID | None = strawberry.field(
        description="For a rotated key: the id of the key that replaced it."
    )

    @classmethod
    def from_record(cls, key: ApiKeyRecord, now: datetime) -> Self:
        return cls(
            id=strawberry.ID(key.id),
            prefix=key.prefix,
            scopes=sorted(key.scopes),
            status=ApiKeyStatus(str(key.status(now))),
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            grace_ends_at=key.grace_ends_at,
            successor_id=None if key.successor_id is None else strawberry.ID(key.successor_id),
        )
