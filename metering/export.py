"""Usage as CSV (one line per company and operation, then the company's total) and to S3.

The monthly export and ``gateway usage report --format csv`` share these lines. Columns:
company_id, company_name, plan, operation_name, requests, cost_points, errors, amount,
period_start, period_end (ISO 8601 UTC, half-open). Each company ends with a line whose
operation_name is :data:`TOTAL_LINE`; its amount is the one billed (see
:mod:`metering.reports` for the rounding)::

    summaries = await usage_by_company(database, *month_bounds(2026, 1))
    write_usage_csv(Path("usage-2026-01.csv"), summaries)
    upload_export(Path("usage-2026-01.csv"), "billing-bucket", "usage/", "usage-2026-01.csv")

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TextIO

import boto3

from metering.reports import UsageSummary

__all__ = [
    "CSV_COLUMNS",
    "TOTAL_LINE",
    "csv_lines",
    "export_key",
    "upload_export",
    "write_usage_csv",
    "write_usage_rows",
]

CSV_COLUMNS = (
    "company_id",
    "company_name",
    "plan",
    "operation_name",
    "requests",
    "cost_points",
    "errors",
    "amount",
    "period_start",
    "period_end",
)
TOTAL_LINE = "(total)"  # not a GraphQL name, so it never meets a real operation's
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_lines(summary: UsageSummary) -> Iterator[list[str]]:
    """A company's operation lines, then its total line."""
    company = [_text(summary.company_id), _text(summary.company_name), _text(summary.plan)]
    period = [summary.start.isoformat(), summary.end.isoformat()]
    for operation in summary.operations:
        yield [
            *company,
            _text(operation.operation_name),
            str(operation.requests),
            str(operation.cost_points),
            str(operation.errors),
            str(operation.amount),
            *period,
        ]
    yield [
        *company,
        TOTAL_LINE,
        str(summary.requests),
        str(summary.cost_points),
        str(summary.errors),
        str(summary.amount),
        *period,
    ]


def write_usage_rows(stream: TextIO, summaries: Iterable[UsageSummary]) -> int:
    """Write the header and every company's lines to ``stream``; returns the line count."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for summary in summaries:
        for line in csv_lines(summary):
            writer.writerow(line)
            count += 1
    return count


def write_usage_csv(path: Path, summaries: Sequence[UsageSummary]) -> int:
    """Write the CSV to ``path`` atomically (a partial file never appears); returns lines."""
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            count = write_usage_rows(stream, summaries)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def export_key(prefix: str, filename: str) -> str:
    """The S3 object key: ``prefix`` (a ``/`` is added when it has none) + ``filename``."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return prefix + filename


def upload_export(path: Path, bucket: str, prefix: str, filename: str) -> str:
    """Upload ``path`` to ``s3://bucket/<prefix><filename>``; returns that URI.

    Credentials and region come from the usual AWS chain (environment, shared config, the
    task role). Raises boto3's and botocore's exceptions as they are.
    """
    key = export_key(prefix, filename)
    client = boto3.client("s3")
    client.upload_file(str(path), bucket, key, ExtraArgs={"ContentType": "text/csv; charset=utf-8"})
    return f"s3://{bucket}/{key}"
