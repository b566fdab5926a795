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
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from storage.database import Database
from storage.models import ApiKey, Company, utc_now
from storage.records import ApiKeyRecord, CompanyRecord, KeyWithCompany

__all__ = ["ApiKeyRepository", "CompanyNameTaken", "CompanyRepository"]


class CompanyNameTaken(ValueError):
    """Another company already has this name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"A company named {name!r} already exists.")


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
    ) -> ApiKeyRecord:
        """Store a new key. Scopes are stored sorted and space-separated, as OAuth writes them."""
        key = ApiKey(
            id=key_id,
            company_id=company_id,
            prefix=prefix,
            key_hash=key_hash,
            pepper_version=pepper_version,
            scopes=" ".join(sorted({str(scope) for scope in scopes})),
            created_at=utc_now(),
            expires_at=expires_at,
        )
        async with self._database.session() as session, session.begin():
            session.add(key)
        return ApiKeyRecord.from_row(key)

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

    async def revoke(self, key_id: str, at: datetime | None = None) -> bool:
        """Revoke a key now (or at ``at``); False if no such key or already revoked."""
        async with self._database.session() as session, session.begin():
            result = await session.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
                .values(revoked_at=at or utc_now())
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

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
