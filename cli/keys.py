"""``gateway keys``: issue, list, rotate and revoke API keys; read their audit trail.

::

    gateway keys issue --company "Acme Learning" --scope read --expires-in 90d --json
    gateway keys list --company co_3f9a0c1d2b4e5f60
    gateway keys rotate AbCdEf012345 --grace 24h
    gateway keys revoke AbCdEf012345
    gateway keys revoke --key - < leaked.txt
    gateway keys events --company "Acme Learning"

Keys are printed once, when issued or rotated; nothing else ever prints a secret.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from auth.api_keys import API_KEY_PATTERN
from auth.issuance import IssuedKey
from auth.scopes import DEFAULT_SCOPES, Scope
from cli.common import fail, load_settings_or_exit, resolve_company
from cli.durations import DURATION_HELP, duration_option
from cli.key_audit import events, peppers
from cli.key_changes import revoke, rotate
from cli.key_output import SHOWN_ONCE, key_json, print_new_key, status_text
from cli.key_service import ActorOption, default_actor, open_key_lifecycle
from cli.output import format_time, print_json, print_table
from storage.records import ApiKeyRecord, CompanyRecord

__all__ = ["SHOWN_ONCE", "app", "key_json", "status_text"]

app = typer.Typer(
    help=(
        "Companies' API keys: issue, list, rotate, revoke, and their audit trail.\n\n"
        "A key looks like cgw_<12-character key id>_<38 characters>. Add this regular "
        "expression to your secret scanners:\n\n"
        f"{API_KEY_PATTERN}\n\n"
        "A leaked key is revoked by pasting it: gateway keys revoke --key -"
    ),
    no_args_is_help=True,
)

CompanyOption = Annotated[
    str, typer.Option("--company", help="The company's id or name.", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("issue")
def issue(
    company: CompanyOption,
    scopes: Annotated[
        list[Scope] | None,
        typer.Option("--scope", help="Repeat for several; default: read and write."),
    ] = None,
    expires_in: Annotated[
        timedelta | None,
        typer.Option(
            "--expires-in",
            parser=duration_option,
            metavar="DURATION",
            help=f"Stop working after this long ({DURATION_HELP}). Default: never.",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a new API key to a company and print it, once."""
    settings = load_settings_or_exit()
    if expires_in is not None and expires_in <= timedelta(0):
        fail("--expires-in must be longer than 0.", 2)

    async def run() -> tuple[CompanyRecord, IssuedKey]:
        async with open_key_lifecycle(settings) as (database, keys):
            found = await resolve_company(database, company)
            issued = await keys.issue(
                found.id,
                actor=default_actor(actor),
                scopes=scopes or DEFAULT_SCOPES,
                expires_in=expires_in,
            )
            return found, issued

    found, issued = asyncio.run(run())
    record = issued.record
    expiry = f", expires {format_time(record.expires_at)}" if record.expires_at else ""
    print_new_key(
        record,
        issued.key,
        headline=f"Issued API key {record.id} to {found.name!r} "
        f"(scopes: {' '.join(sorted(record.scopes))}{expiry}).",
        as_json=as_json,
        extra={"company": found.name},
    )


@app.command("list")
def list_keys(company: CompanyOption, as_json: JsonOption = False) -> None:
    """List a company's keys: prefix, scopes, status and times, never the key."""
    settings = load_settings_or_exit()

    async def run() -> list[ApiKeyRecord]:
        async with open_key_lifecycle(settings) as (database, keys):
            found = await resolve_company(database, company)
            return await keys.list_for_company(found.id)

    keys = asyncio.run(run())
    now = datetime.now(UTC)
    if as_json:
        print_json([key_json(key, now) for key in keys])
        return
    if not keys:
        typer.echo("No keys yet; issue one with `gateway keys issue`.")
        return
    print_table(
        ["ID", "PREFIX", "SCOPES", "STATUS", "CREATED", "EXPIRES", "LAST USED"],
        [
            [
                key.id,
                key.prefix + "_…",
                ",".join(sorted(key.scopes)),
                status_text(key, now),
                format_time(key.created_at),
                format_time(key.expires_at),
                format_time(key.last_used_at),
            ]
            for key in keys
        ],
    )


app.command("rotate")(rotate)
app.command("revoke")(revoke)
app.command("events")(events)
app.command("peppers")(peppers)
