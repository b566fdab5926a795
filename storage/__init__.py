"""The gateway's own data: companies and API keys, in SQLite or PostgreSQL.

Modules: :mod:`storage.database` (``Database``: async engine and sessions),
:mod:`storage.models`, :mod:`storage.records`, :mod:`storage.repositories` and
:mod:`storage.migrate` (Alembic migrations shipped in ``storage/migrations``)::

    from storage.database import Database
    from storage.migrate import ensure_schema
    from storage.repositories import CompanyRepository

    await ensure_schema(settings.database_url)
    async with Database(settings.database_url) as database:
        companies = await CompanyRepository(database).list()
"""

__all__: list[str] = []
