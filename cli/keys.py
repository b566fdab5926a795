"""``gateway keys``: issue a company's API keys and list them (never their secrets).

::

    gateway keys issue --company "Acme Learning" --scope read --json
    gateway keys list --company co_3f9a0c1d2b4e5f60
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from auth.issuance import IssuedKey, issue_api_key
from auth.scopes import DEFAULT_SCOPES, Scope
from cli.common import load_settings_or_exit, open_database, resolve_company
from cli.output import format_time, print_json, print_table
from storage.records import ApiKeyRecord, CompanyRecord
from storage.repositories import ApiKeyRepository

__all__ = ["SHOWN_ONCE", "app", "key_json"]

SHOWN_ONCE = "Store this key now: it will not be shown again."

app = typer.Typer(help="Companies' API keys.", no_args_is_help=True)

CompanyOption = Annotated[
    str, typer.Option("--company", help="The company's id or name.", show_default=False)
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def key_json(key: ApiKeyRecord, now: datetime) -> dict[str, Any]:
    """A key's public fields; there is deliberately no hash and no secret here."""
    return {
        "id": key.id,
        "company_id": key.company_id,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "status": key.status(now),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
    }


@app.command("issue")
def issue(
    company: CompanyOption,
    scopes: Annotated[
        list[Scope] | None,
        typer.Option("--scope", help="Repeat for several; default: read and write."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Issue a new API key to a company and print it, once."""
    settings = load_settings_or_exit()
    pepper = settings.key_pepper.get_secret_value().encode()

    async def run() -> tuple[CompanyRecord, IssuedKey]:
        async with open_database(settings) as database:
            found = await resolve_company(database, company)
            issued = await issue_api_key(
                ApiKeyRepository(database),
                company_id=found.id,
                pepper=pepper,
                scopes=scopes or DEFAULT_SCOPES,
            )
            return found, issued

    found, issued = asyncio.run(run())
    record = issued.record
    if as_json:
        print_json(
            {
                **key_json(record, datetime.now(UTC)),
                "key": issued.key,
                "company": found.name,
            }
        )
        typer.echo(SHOWN_ONCE, err=True)
        return
    typer.echo(
        f"Issued API key {record.id} to {found.name!r} (scopes: {' '.join(sorted(record.scopes))})."
    )
    typer.echo(f"\n    {issued.key}\n")
    typer.echo(SHOWN_ONCE)


@app.command("list")
def list_keys(company: CompanyOption, as_json: JsonOption = False) -> None:
    """List a company's keys: prefix, scopes and status, never the key."""
    settings = load_settings_or_exit()

    async def run() -> list[ApiKeyRecord]:
        async with open_database(settings) as database:
            found = await resolve_company(database, company)
            return await ApiKeyRepository(database).list_for_company(found.id)

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
                key.status(now),
                format_time(key.created_at),
                format_time(key.expires_at),
                format_time(key.last_used_at),
            ]
            for key in keys
        ],
    )
