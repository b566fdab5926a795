"""What every ``gateway`` command shares: settings, failing cleanly, the database, companies.

Commands read settings only when they need them, and turn known failures into a message
on stderr and an exit code instead of a traceback::

    settings = load_settings_or_exit()       # exit 2 naming the bad GATEWAY_* variable
    async with open_database(settings) as database:
        company = await resolve_company(database, "Acme Learning")  # exit 1 if unknown
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NoReturn

import typer

from settings import Settings, SettingsError, load_settings
from storage.database import Database
from storage.migrate import SchemaError, ensure_schema
from storage.records import CompanyRecord
from storage.repositories import CompanyRepository

__all__ = [
    "EXIT_FAILURE",
    "EXIT_SETTINGS",
    "fail",
    "load_settings_or_exit",
    "open_database",
    "resolve_company",
]

EXIT_FAILURE = 1
EXIT_SETTINGS = 2  # like a usage error: the invocation's environment is wrong


def fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    """Print ``message`` to stderr and exit with ``code``."""
    typer.echo(message, err=True)
    raise typer.Exit(code)


def load_settings_or_exit() -> Settings:
    """The settings, or exit 2 with the message naming the missing or invalid variable."""
    try:
        return load_settings()
    except SettingsError as exc:
        fail(str(exc), EXIT_SETTINGS)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The database with its schema in place (an empty one is migrated first)."""
    try:
        await ensure_schema(settings.database_url)
    except SchemaError as exc:
        fail(str(exc))
    async with Database.from_settings(settings) as database:
        yield database


async def resolve_company(database: Database, id_or_name: str) -> CompanyRecord:
    """The company with this id or name, or exit 1 saying there is none."""
    company = await CompanyRepository(database).get_by_id_or_name(id_or_name)
    if company is None:
        fail(f"No company with id or name {id_or_name!r}; see `gateway companies list`.")
    return company
