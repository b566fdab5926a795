"""Alembic environment for the gateway's schema, on SQLite and PostgreSQL, async drivers.

:mod:`storage.migrate` runs it programmatically, handing over an open connection in
``config.attributes["connection"]``. Run from the shell (e.g. to write a revision) it makes
its own async engine from ``GATEWAY_DATABASE_URL``::

    GATEWAY_DATABASE_URL=sqlite+aiosqlite:///gateway.db \\
        alembic -c storage/migrations/alembic.ini revision --autogenerate -m "..."
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import create_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _database_url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("GATEWAY_DATABASE_URL")
    if not url:
        raise RuntimeError("Set GATEWAY_DATABASE_URL to the database to migrate.")
    return str(url)


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (connection := config.attributes.get("connection")) is not None:
    _run(connection)
else:
    asyncio.run(_run_with_own_engine(_database_url()))
