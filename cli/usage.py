"""``gateway usage``: what companies used and owe, from the usage ledger.

::

    gateway usage report --company "Acme Learning" --from 2026-01-01 --to 2026-01-31 [--format json]
    gateway usage export --month 2026-01 --out usage-2026-01.csv

Dates are UTC days and ``--to`` includes its whole day: ``--from 2026-01-01 --to 2026-01-31``
reads ``[2026-01-01T00:00Z, 2026-02-01T00:00Z)``. The export writes every company's lines
(CSV, see :mod:`metering.export`) and, when ``GATEWAY_USAGE_EXPORT_BUCKET`` is set, uploads
the file to ``s3://<bucket>/[<GATEWAY_USAGE_EXPORT_PREFIX>/]usage-YYYY-MM.csv``.
"""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError

from cli.common import fail, load_settings_or_exit, open_database, resolve_company
from cli.output import print_json, print_table
from metering.export import upload_export, write_usage_csv, write_usage_rows
from metering.reports import (
    UNKNOWN_COMPANY,
    UsageSummary,
    month_bounds,
    usage_by_company,
    usage_summary,
)

__all__ = ["app"]

app = typer.Typer(help="Usage and billing from the usage ledger.", no_args_is_help=True)

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def _day(value: str, option: str) -> date:
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date as YYYY-MM-DD, not {value!r}.")


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@app.command("report")
def report(
    company: Annotated[str, typer.Option("--company", help="The company's id or name.")],
    from_day: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD.")],
    to_day: Annotated[str, typer.Option("--to", help="Last UTC day, YYYY-MM-DD, included whole.")],
    output: Annotated[
        ReportFormat, typer.Option("--format", help="table, csv or json.")
    ] = ReportFormat.TABLE,
) -> None:
    """One company's requests, cost points, errors and amount, per operation."""
    first, last = _day(from_day, "--from"), _day(to_day, "--to")
    if last < first:
        fail("--to must not be before --from.")
    start, end = _midnight(first), _midnight(last + timedelta(days=1))
    settings = load_settings_or_exit()

    async def run() -> UsageSummary:
        async with open_database(settings) as database:
            found = await resolve_company(database, company)
            return await usage_summary(database, found.id, start, end)

    summary = asyncio.run(run())
    if output is ReportFormat.JSON:
        print_json(summary.to_json())
    elif output is ReportFormat.CSV:
        write_usage_rows(sys.stdout, [summary])
    else:
        _print_summary(summary, first, last)


def _print_summary(summary: UsageSummary, first: date, last: date) -> None:
    typer.echo(f"Company   {summary.company_name} ({summary.company_id})")
    typer.echo(f"Plan      {summary.plan}, {summary.price_per_1000} per 1,000 cost points")
    typer.echo(f"Period    {first} to {last} inclusive (UTC)")
    typer.echo(
        f"Requests  {summary.requests:,} (errors {summary.errors:,}, "
        f"throttled {summary.throttled:,}, rejected {summary.rejected:,})"
    )
    typer.echo(f"Cost      {summary.cost_points:,} points")
    typer.echo(f"Amount    {summary.amount}")
    if not summary.operations:
        return
    typer.echo("")
    print_table(
        ["OPERATION", "REQUESTS", "COST POINTS", "ERRORS", "AMOUNT"],
        [
            [o.operation_name, f"{o.requests:,}", f"{o.cost_points:,}", f"{o.errors:,}", o.amount]
            for o in summary.operations
        ],
    )


@app.command("export")
def export(
    month: Annotated[str, typer.Option("--month", help="The UTC month, YYYY-MM.")],
    out: Annotated[Path, typer.Option("--out", help="The CSV file to write.", dir_okay=False)],
) -> None:
    """Every company's usage in a month as CSV; uploaded to S3 when a bucket is configured."""
    matched = _MONTH.match(month)
    if matched is None or not 1 <= int(matched[2]) <= 12:
        fail(f"--month must be a month as YYYY-MM, not {month!r}.")
    start, end = month_bounds(int(matched[1]), int(matched[2]))
    settings = load_settings_or_exit()

    async def run() -> list[UsageSummary]:
        async with open_database(settings) as database:
            return await usage_by_company(database, start, end)

    summaries = asyncio.run(run())
    try:
        lines = write_usage_csv(out, summaries)
    except OSError as exc:
        fail(f"Could not write {out}: {exc.strerror or exc}.")
    typer.echo(f"Wrote {lines} lines for {len(summaries)} companies to {out}.")
    orphans = [s.company_id for s in summaries if s.plan == UNKNOWN_COMPANY]
    if orphans:
        typer.echo(f"Warning: ledger rows for unknown companies: {', '.join(orphans)}.", err=True)
    if settings.usage_export_bucket is None:
        return
    try:
        uri = upload_export(
            out, settings.usage_export_bucket, settings.usage_export_prefix, f"usage-{month}.csv"
        )
    except (Boto3Error, BotoCoreError, ClientError) as exc:
        fail(f"The file is written, but the upload to S3 failed: {exc}")
    typer.echo(f"Uploaded to {uri}.")
