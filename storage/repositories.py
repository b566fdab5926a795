"""Small typed queries over companies and API keys.

Each method is one short transaction of its own and returns plain records
(:mod:`storage.records`), so callers never hold a session::

    companies = CompanyRepository(database)
    acme = await companies.create(name="Acme Learning", organization_id=1)
    keys = ApiKeyRepository(database)
    found = await keys.get_with_company("AbCdEf012345")  # key and company, one query
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.key_events import event_row
from storage.models import ApiKey, Company, utc_now
from storage.records import (
    ApiKeyRecord,
    CompanyRecord,
    KeyEvent,
    KeyStatus,
    KeyWithCompany,
    NewKeyEvent,
)

__all__ = [
    "SYSTEM_ACTOR",
    "ApiKeyRepository",
    "CompanyNameTaken",
    "CompanyRepository",
    "KeyMaterial",
    "KeyNotFound",
    "KeyNotRotatable",
    "Rehash",
    "Rotation",
]

#: The actor of changes made by code rather than by a person (fixtures, the demo).
SYSTEM_ACTOR = "system"


class CompanyNameTaken(ValueError):
    """Another company already has this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"A company named {name!r} already exists.")


class KeyNotFound(LookupError):
    """No such key (or, when a company was given, not one of that company's)."""

    def __init__(self, key_id: str) -> None:
        self.key_id = key_id
        super().__init__(f"No API key {key_id!r}.")


class KeyNotRotatable(ValueError):
    """The key is revoked, expired or already rotated: only an active key rotates."""

    def __init__(self, key: ApiKeyRecord, status: KeyStatus) -> None:
        self.key = key
        self.status = status
        super().__init__(f"API key {key.id} is {status}.")


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """A new key's stored form: its id, displayable prefix and hash (never the key)."""

    key_id: str
    prefix: str
    key_hash: str = field(repr=False)
    pepper_version: int


@dataclass(frozen=True, slots=True)
class Rehash:
    """Move one key's hash from pepper ``from_version`` to ``to_version``."""

    key_id: str
    from_version: int
    to_version: int
    key_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Rotation:
    """The rotated key (now with its successor and grace end) and the successor."""

    rotated: ApiKeyRecord
    successor: ApiKeyRecord


class CompanyRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(
        self, *, name: str, organization_id: int, plan: str = "standard", active: bool = True
    ) -> CompanyRecord:
        """Insert a company; raises :class:`CompanyNameTaken` if the name is in use."""
        company = Company(name=name, organization_id=organization_id, plan=plan, active=active)
        try:
            async with self._database.session() as session, session.begin():
                session.add(company)
        except IntegrityError as exc:
            # The unique index decides, so two concurrent creates cannot both succeed.
            raise CompanyNameTaken(name) from exc
        return CompanyRecord.from_row(company)

    async def list(self) -> list[CompanyRecord]:
        """All companies, by name."""
        async with self._database.session() as session:
            rows = await session.scalars(select(Company).order_by(Company.name))
            return [CompanyRecord.from_row(row) for row in rows]

    async def get(self, company_id: str) -> CompanyRecord | None:
        async with self._database.session() as session:
            row = await session.get(Company, company_id)
            return None if row is None else CompanyRecord.from_row(row)

    async def get_by_name(self, name: str) -> CompanyRecord | None:
        async with self._database.session() as session:
            row = await session.scalar(select(Company).where(Company.name == name))
            return None if row is None else CompanyRecord.from_row(row)

    async def get_by_id_or_name(self, id_or_name: str) -> CompanyRecord | None:
        """The company with this id, else the one with this name (ids never look like names)."""
        async with self._database.session() as session:
            row = await session.get(Company, id_or_name) or await session.scalar(
                select(Company).where(Company.name == id_or_name)
            )
            return None if row is None else CompanyRecord.from_row(row)

    async def set_active(self, company_id: str, active: bool) -> bool:
        """Activate or deactivate a company; False if there is no such company."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(Company).where(Company.id == company_id).values(active=active)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_plan(
        self, company_id: str, plan: str, overrides: dict[str, Any] | None = None
    ) -> bool:
        """Put a company on ``plan`` with ``overrides`` (replacing any it had); False if none."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(Company)
                .where(Company.id == company_id)
                .values(plan=plan, plan_overrides=overrides or None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]


class ApiKeyRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def insert(
        self,
        *,
        key_id: str,
        company_id: str,
        prefix: str,
        key_hash: str,
        scopes: Iterable[str],
        pepper_version: int = 1,
        expires_at: datetime | None = None,
        actor: str = SYSTEM_ACTOR,
    ) -> ApiKeyRecord:
        """Store a new key and its ``issued`` event.

        Scopes are stored sorted and space-separated, as OAuth writes them.
        """
        now = utc_now()
        key = ApiKey(
            id=key_id,
            company_id=company_id,
            prefix=prefix,
            key_hash=key_hash,
            pepper_version=pepper_version,
            scopes=" ".join(sorted({str(scope) for scope in scopes})),
            created_at=now,
            expires_at=expires_at,
        )
        detail = f"scopes {key.scopes}"
        if expires_at is not None:
            detail += f"; expires {expires_at.isoformat(timespec='seconds')}"
        async with self._database.session() as session, session.begin():
            session.add(key)
            await session.flush()  # the key row first: the event refers to it
            session.add(event_row(NewKeyEvent(KeyEvent.ISSUED, actor, company_id, key_id, detail)))
        return ApiKeyRecord.from_row(key)

    async def rotate(
        self,
        key_id: str,
        successor: KeyMaterial,
        *,
        grace_ends_at: datetime,
        actor: str,
        company_id: str | None = None,
        now: datetime | None = None,
    ) -> Rotation:
        """Replace an active key by ``successor`` in one transaction, with its event.

        The successor gets the same company, scopes and expiry (it never outlives the
        original's cap); the old key gets ``successor_id`` and ``grace_ends_at``. Raises
        :class:`KeyNotFound` (also for another company's key when ``company_id`` is given)
        or :class:`KeyNotRotatable`. Two concurrent rotations of one key: one wins.
        """
        now = now or utc_now()
        async with self._database.session() as session, session.begin():
            old = await session.scalar(select(ApiKey).where(ApiKey.id == key_id).with_for_update())
            if old is None or (company_id is not None and old.company_id != company_id):
                raise KeyNotFound(key_id)
            record = ApiKeyRecord.from_row(old)
            status = record.status(now)
            if status is not KeyStatus.ACTIVE:
                raise KeyNotRotatable(record, status)
            new = ApiKey(
                id=successor.key_id,
                company_id=old.company_id,
                prefix=successor.prefix,
                key_hash=successor.key_hash,
                pepper_version=successor.pepper_version,
                scopes=old.scopes,
                created_at=now,
                expires_at=old.expires_at,
            )
            session.add(new)
            await session.flush()
            # Conditional, so a rotation that raced this one (on SQLite, where the read
            # above takes no lock) cannot also succeed.
            result = await session.execute(
                update(ApiKey)
                .where(
                    ApiKey.id == key_id, ApiKey.successor_id.is_(None), ApiKey.revoked_at.is_(None)
                )
                .values(successor_id=new.id, grace_ends_at=grace_ends_at)
                .execution_options(synchronize_session=False)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                raise KeyNotRotatable(record, KeyStatus.ROTATING)
            until = grace_ends_at.isoformat(timespec="seconds")
            detail = f"successor {new.id}; old key works until {until}"
            session.add(
                event_row(NewKeyEvent(KeyEvent.ROTATED, actor, old.company_id, key_id, detail), now)
            )
        rotated = replace(record, successor_id=new.id, grace_ends_at=grace_ends_at)
        return Rotation(rotated=rotated, successor=ApiKeyRecord.from_row(new))

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        async with self._database.session() as session:
            row = await session.get(ApiKey, key_id)
            return None if row is None else ApiKeyRecord.from_row(row)

    async def get_with_company(self, key_id: str) -> KeyWithCompany | None:
        """The key and its company in one query; None for an unknown key id."""
        statement = (select(ApiKey, Company).join(Company, ApiKey.company_id == Company.id)).where(
            ApiKey.id == key_id
        )
        async with self._database.session() as session:
            row = (await session.execute(statement)).one_or_none()
            if row is None:
                return None
            return KeyWithCompany(
                key=ApiKeyRecord.from_row(row[0]), company=CompanyRecord.from_row(row[1])
            )

    async def list_for_company(self, company_id: str) -> list[ApiKeyRecord]:
        """A company's keys, oldest first."""
        statement = (
            select(ApiKey)
            .where(ApiKey.company_id == company_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        )
        async with self._database.session() as session:
            return [ApiKeyRecord.from_row(row) for row in await session.scalars(statement)]

    async def revoke(
        self, key_id: str, at: datetime | None = None, *, actor: str = SYSTEM_ACTOR
    ) -> bool:
        """Revoke a key now (or at ``at``), with its event; False if no such key or already
        revoked."""
        when = at or utc_now()
        async with self._database.session() as session, session.begin():
            company_id = await session.scalar(
                update(ApiKey)
                .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=when)
                .returning(ApiKey.company_id)
            )
            if company_id is None:
                return False
            session.add(event_row(NewKeyEvent(KeyEvent.REVOKED, actor, company_id, key_id), when))
            return True

    async def rehash(self, rehashes: Iterable[Rehash]) -> int:
        """Move keys to a new pepper version; returns how many moved.

        Each update applies only if the key is still at ``from_version``, so a late or
        repeated rehash never undoes a newer one.
        """
        moved = 0
        pending = sorted(rehashes, key=lambda rehash: rehash.key_id)  # one lock order
        if not pending:
            return 0
        async with self._database.session() as session, session.begin():
            for rehash in pending:
                result = await session.execute(
                    update(ApiKey)
                    .where(
                        ApiKey.id == rehash.key_id,
                        ApiKey.pepper_version == rehash.from_version,
                    )
                    .values(key_hash=rehash.key_hash, pepper_version=rehash.to_version)
                )
                moved += int(result.rowcount)  # type: ignore[attr-defined]
        return moved

    async def count_by_pepper_version(self, now: datetime | None = None) -> dict[int, int]:
        """How many keys that can still authenticate each pepper version verifies."""
        now = now or utc_now()
        statement = (
            select(ApiKey.pepper_version, func.count())
            .where(
                ApiKey.revoked_at.is_(None),
                or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
                or_(ApiKey.grace_ends_at.is_(None), ApiKey.grace_ends_at > now),
            )
            .group_by(ApiKey.pepper_version)
        )
        async with self._database.session() as session:
            rows = (await session.execute(statement)).all()
            return {int(version): int(count) for version, count in rows}

    async def touch_last_used(self, key_ids: Iterable[str], at: datetime | None = None) -> int:
        """Set ``last_used_at`` of several keys in one statement; returns the rows updated.

        Callers batch: the authenticator collects key ids and flushes them periodically.
        """
        ids = sorted(set(key_ids))  # sorted: concurrent flushes lock rows in one order
        if not ids:
            return 0
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(ApiKey).where(ApiKey.id.in_(ids)).values(last_used_at=at or utc_now())
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
