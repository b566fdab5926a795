"""``gateway keys events`` (the audit trail) and ``gateway keys peppers``.

::

    gateway keys events [--company "Acme Learning"] [--limit 100] [--json]
    gateway keys peppers [--json]   # pepper versions and how many keys each still verifies
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from cli.common import load_settings_or_exit, resolve_company
from cli.key_service import ActorOption, default_actor, open_key_lifecycle, pepper_loader
from cli.output import format_time, print_json, print_table
from storage.records import ApiKeyEventRecord

__all__ = ["event_json", "events", "peppers"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def event_json(event: ApiKeyEventRecord) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at,
        "event": event.event,
        "actor": event.actor,
        "company_id": event.company_id,
        "key_id": event.key_id,
        "detail": event.detail,
    }


def events(
    company: Annotated[
        str | None,
        typer.Option("--company", help="Only this company's (id or name).", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    as_json: JsonOption = False,
) -> None:
    """The audit trail of keys, newest first: issued, rotated, revoked, refused, peppers."""
    settings = load_settings_or_exit()

    async def run() -> list[ApiKeyEventRecord]:
        async with open_key_lifecycle(settings) as (database, keys):
            company_id = None if company is None else (await resolve_company(database, company)).id
            return await keys.events(company_id=company_id, limit=limit)

    found = asyncio.run(run())
    if as_json:
        print_json([event_json(event) for event in found])
        return
    if not found:
        typer.echo("No key events yet.")
        return
    print_table(
        ["AT", "EVENT", "KEY", "COMPANY", "ACTOR", "DETAIL"],
        [
            [
                format_time(e.at),
                e.event,
                e.key_id or "-",
                e.company_id or "-",
                e.actor,
                e.detail or "-",
            ]
            for e in found
        ],
    )


def peppers(actor: ActorOption = None, as_json: JsonOption = False) -> None:
    """The pepper versions configured, and how many usable keys each still verifies.

    Keys move to the current version as they are used; an old version can be removed
    once no key needs it (or after revoking or rotating the keys that still do).
    """
    settings = load_settings_or_exit()
    pepper_set = pepper_loader(settings)()

    async def run() -> tuple[dict[int, int], bool]:
        async with open_key_lifecycle(settings) as (_database, keys):
            noted = await keys.note_pepper_version(default_actor(actor))
            return await keys.pepper_usage(), noted

    usage, noted = asyncio.run(run())
    rows = [
        {
            "version": version,
            "current": version == pepper_set.current,
            "configured": version in pepper_set.versions,
            "keys": usage.get(version, 0),
        }
        for version in sorted(set(pepper_set.versions) | set(usage))
    ]
    if as_json:
        print_json({"current": pepper_set.current, "versions": rows, "recorded_rotation": noted})
        return
    print_table(
        ["VERSION", "CURRENT", "CONFIGURED", "KEYS"],
        [
            [
                row["version"],
                "yes" if row["current"] else "",
                "yes" if row["configured"] else "NO: these keys cannot authenticate",
                row["keys"],
            ]
            for row in rows
        ],
    )
