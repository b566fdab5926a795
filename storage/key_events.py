"""The audit trail of API keys: record events (once, when deduplicated) and read them back.

Key changes record their event in the same transaction as the change itself
(:meth:`storage.repositories.ApiKeyRepository.rotate` and friends call
:func:`event_row`); events that are not a change of their own (a refusal after rotation,
a new pepper version) go through :meth:`KeyEventRepository.record`::

    events = KeyEventRepository(database)
    await events.record([NewKeyEvent(KeyEvent.PEPPER_ROTATED, "gateway", dedupe_key="pepper:2")])
    await events.list(company_id="co_3f9a0c1d2b4e5f60", limit=50)  # newest first
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.database import Database
from storage.models import ApiKeyEvent, utc_now
from storage.records import ApiKeyEventRecord, NewKeyEvent

__all__ = ["KeyEventRepository", "event_row"]

_MAX_DETAIL = 500


def _values(event: NewKeyEvent, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "event": str(event.event),
        "actor": event.actor[:200],
        "company_id": event.company_id,
        "key_id": event.key_id,
        "detail": event.detail[:_MAX_DETAIL],
        "dedupe_key": event.dedupe_key,
    }


def event_row(event: NewKeyEvent, at: datetime | None = None) -> ApiKeyEvent:
    """A row to ``session.add`` inside the transaction that makes the change."""
    return ApiKeyEvent(**_values(event, at or utc_now()))


class KeyEventRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def record(self, events: Sequence[NewKeyEvent], at: datetime | None = None) -> int:
        """Insert events, skipping any whose ``dedupe_key`` is already recorded.

        Returns how many were new. Safe to call from several processes at once: the
        unique index, not a prior read, decides.
        """
        if not events:
            return 0
        when = at or utc_now()
        dialect = postgresql if self._database.dialect == "postgresql" else sqlite
        recorded = 0
        async with self._database.session() as session, session.begin():
            for event in events:
                statement: Any = insert(ApiKeyEvent).values(**_values(event, when))
                if event.dedupe_key is not None:
                    statement = (
                        dialect.insert(ApiKeyEvent)
                        .values(**_values(event, when))
                        .on_conflict_do_nothing(index_elements=["dedupe_key"])
                    )
                result = await session.execute(statement)
                recorded += int(result.rowcount)  # type: ignore[attr-defined]
        return recorded

    async def list(
        self, *, company_id: str | None = None, key_id: str | None = None, limit: int = 100
    ) -> list[ApiKeyEventRecord]:
        """Events, newest first; of one company or key when given."""
        statement = select(ApiKeyEvent).order_by(ApiKeyEvent.at.desc(), ApiKeyEvent.id.desc())
        if company_id is not None:
            statement = statement.where(ApiKeyEvent.company_id == company_id)
        if key_id is not None:
            statement = statement.where(ApiKeyEvent.key_id == key_id)
        async with self._database.session() as session:
            rows = await session.scalars(statement.limit(limit))
            return [ApiKeyEventRecord.from_row(row) for row in rows]
