"""Issue an API key to a company: generate it, store its hash, hand the key back once.

Used by ``gateway keys issue``, the demo and test fixtures::

    issued = await issue_api_key(
        ApiKeyRepository(database), company_id=acme.id, pepper=pepper, scopes={Scope.READ}
    )
    print(issued.key)  # the only time the key is visible
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from auth.api_keys import generate_api_key, hash_api_key
from auth.scopes import DEFAULT_SCOPES, parse_scopes
from storage.records import ApiKeyRecord
from storage.repositories import SYSTEM_ACTOR, ApiKeyRepository

__all__ = ["IssuedKey", "issue_api_key"]


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """The stored key's record, and the key itself (never stored, not in ``repr``)."""

    record: ApiKeyRecord
    key: str = field(repr=False)


async def issue_api_key(
    keys: ApiKeyRepository,
    *,
    company_id: str,
    pepper: bytes,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    pepper_version: int = 1,
    expires_at: datetime | None = None,
    actor: str = SYSTEM_ACTOR,
) -> IssuedKey:
    """Create and store a key (and its ``issued`` event, by ``actor``).

    Raises ``ValueError`` for an unknown scope or no scope.
    """
    valid = parse_scopes(scopes)
    if not valid:
        raise ValueError("A key needs at least one scope.")
    generated = generate_api_key()
    record = await keys.insert(
        key_id=generated.key_id,
        company_id=company_id,
        prefix=generated.prefix,
        key_hash=hash_api_key(generated.key, pepper),
        scopes=valid,
        pepper_version=pepper_version,
        expires_at=expires_at,
        actor=actor,
    )
    return IssuedKey(record=record, key=generated.key)
