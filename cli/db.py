"""``gateway db``: the schema.

::

    gateway db upgrade   # apply every migration not yet applied
"""

from __future__ import annotations

import asyncio

import typer

from cli.common import load_settings_or_exit
from storage.migrate import current_revision, upgrade

__all__ = ["app"]

app = typer.Typer(help="The gateway's database.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply all pending migrations to GATEWAY_DATABASE_URL."""
    settings = load_settings_or_exit()

    async def run() -> tuple[str | None, str | None]:
        before = await current_revision(settings.database_url)
        await upgrade(settings.database_url)
        return before, await current_revision(settings.database_url)

    before, after = asyncio.run(run())
    if before == after:
        typer.echo(f"Database already at revision {after}.")
    else:
        typer.echo(f"Database upgraded from revision {before or '(empty)'} to {after}.")
