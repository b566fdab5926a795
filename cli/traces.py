"""``gateway trace`` and ``gateway traces``: what happened to a request, from the trace store.

::

    gateway trace 01JD9Q6Y4B2X7T0M3N5P8R1S2V           # one request's timeline
    gateway trace 01JD9Q6Y4B2X7T0M3N5P8R1S2V --json
    gateway traces --company "Acme Learning" --since 1h --outcome error [--limit 50] [--json]

A request ID is what a partner reports: every error carries it (``extensions.requestId``)
and so does every response (``X-Request-ID``). Traces are kept for
``GATEWAY_TRACE_RETENTION`` (14 days); with ``GATEWAY_TRACE_STORE=errors`` only requests
that did not succeed are kept.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from cli.common import fail, load_settings_or_exit, open_database, resolve_company
from cli.durations import DURATION_HELP, duration_option
from cli.output import print_json, print_table
from storage.repositories import CompanyRepository
from storage.traces import TraceRecord, TraceRepository

__all__ = ["print_timeline", "trace", "traces"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class Outcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    THROTTLED = "throttled"
    REJECTED = "rejected"
    UNAUTHENTICATED = "unauthenticated"


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def trace(
    request_id: Annotated[str, typer.Argument(help="The request ID (X-Request-ID).")],
    as_json: JsonOption = False,
) -> None:
    """One request's timeline: what it was, each backend call, and its errors."""
    settings = load_settings_or_exit()

    async def run() -> tuple[list[TraceRecord], dict[str, str]]:
        async with open_database(settings) as database:
            found = await TraceRepository(database).find(request_id)
            names = {}
            companies = CompanyRepository(database)
            for company_id in {t.company_id for t in found if t.company_id}:
                company = await companies.get_by_id_or_name(company_id)
                if company is not None:
                    names[company_id] = company.name
            return found, names

    found, names = asyncio.run(run())
    if as_json:
        print_json([record.to_json() for record in found])
        return
    if not found:
        fail(
            f"No trace of request {request_id!r}. Traces are kept for "
            f"GATEWAY_TRACE_RETENTION (14 days by default), and only for failed requests "
            f"when GATEWAY_TRACE_STORE=errors."
        )
    if len(found) > 1:
        typer.echo(
            f"{len(found)} requests used this ID (a client may reuse its own); newest first.\n"
        )
    for index, record in enumerate(found):
        if index:
            typer.echo("")
        print_timeline(record, names.get(record.company_id or ""))


def print_timeline(record: TraceRecord, company_name: str | None = None) -> None:
    """The human-readable timeline of one trace."""
    company = record.company_id or "(not authenticated)"
    if company_name:
        company = f"{company_name} ({record.company_id})"
    operation = " ".join(p for p in (record.operation_type, record.operation_name) if p)
    typer.echo(f"Request    {record.request_id}")
    typer.echo(f"At         {_time(record.at)}")
    typer.echo(f"Company    {company}")
    if record.key_id:
        typer.echo(f"Key        {record.key_id}")
    typer.echo(f"Operation  {operation or '-'}")
    outcome = f"{record.outcome}, HTTP {record.status}, {_ms(record.duration_ms)}"
    if record.error_codes:
        outcome += f" ({', '.join(record.error_codes)})"
    typer.echo(f"Outcome    {outcome}")
    if record.trace_id:
        typer.echo(f"Trace      {record.trace_id}")

    typer.echo("")
    if not record.backend_calls:
        typer.echo("Backend calls: none")
    else:
        typer.echo(f"Backend calls ({len(record.backend_calls)}):")
        print_table(
            ["  START", "DURATION", "STATUS", "ATTEMPT", "CALL", "RETRY REASON", "ERROR"],
            [
                [
                    "  -" if c.offset_ms is None else f"  +{_ms(c.offset_ms)}",
                    _ms(c.duration_ms),
                    c.status if c.status is not None else "-",
                    c.attempt,
                    f"{c.method} {c.path}",
                    c.retry_reason or "-",
                    c.error or "-",
                ]
                for c in record.backend_calls
            ],
        )
    if record.errors:
        typer.echo("")
        typer.echo(f"Errors ({len(record.errors)}):")
        for error in record.errors:
            where = ".".join(str(p) for p in error.path)
            typer.echo(f"  {error.code}{f' at {where}' if where else ''}: {error.message}")
    if record.variables:
        typer.echo("")
        typer.echo("Variables (redacted):")
        typer.echo("  " + json.dumps(record.variables, ensure_ascii=False))


def traces(
    company: Annotated[
        str | None,
        typer.Option("--company", help="Only this company's (id or name).", show_default=False),
    ] = None,
    since: Annotated[
        timedelta | None,
        typer.Option(
            "--since",
            parser=duration_option,
            help=f"Only this recent ({DURATION_HELP}).",
            show_default=False,
        ),
    ] = None,
    outcome: Annotated[
        Outcome | None,
        typer.Option("--outcome", help="Only requests with this outcome.", show_default=False),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Recent requests from the trace store, newest first."""
    settings = load_settings_or_exit()
    start = None if since is None else datetime.now(UTC) - since

    async def run() -> list[TraceRecord]:
        async with open_database(settings) as database:
            company_id = None if company is None else (await resolve_company(database, company)).id
            return await TraceRepository(database).search(
                company_id=company_id,
                since=start,
                outcome=None if outcome is None else outcome.value,
                limit=limit,
            )

    found = asyncio.run(run())
    if as_json:
        print_json([record.to_json() for record in found])
        return
    if not found:
        typer.echo("No traces match.")
        return
    print_table(
        [
            "AT",
            "REQUEST ID",
            "COMPANY",
            "OPERATION",
            "OUTCOME",
            "STATUS",
            "DURATION",
            "CALLS",
            "ERRORS",
        ],
        [
            [
                _time(t.at),
                t.request_id,
                t.company_id or "-",
                t.operation_name or "(anonymous)",
                t.outcome,
                t.status,
                _ms(t.duration_ms),
                len(t.backend_calls),
                ",".join(t.error_codes) or "-",
            ]
            for t in found
        ],
    )
