"""``gateway usage report`` and ``export`` through typer's runner on both databases; the S3
upload against moto."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import update
from typer.testing import CliRunner, Result

from cli.app import app
from metering.export import CSV_COLUMNS, TOTAL_LINE
from storage.database import Database
from storage.models import Company
from storage.records import CompanyRecord
from tests.fixtures.databases import TEST_PEPPER, seed_company
from tests.fixtures.usage import LedgerRow, insert_ledger_rows

BUCKET = "partner-usage-exports"
EDGE = timedelta(microseconds=1)


def _run(database_url: str, *args: str, **env: str) -> Result:
    environment = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_KEY_PEPPER": TEST_PEPPER.decode(),
        "GATEWAY_BACKEND_USERNAME": "gateway",
        "GATEWAY_BACKEND_PASSWORD": "not-used-here",
        **env,
    }
    return CliRunner().invoke(app, list(args), env=environment)


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def _at(day: int, month: int = 1, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


async def _seed(database_url: str) -> tuple[CompanyRecord, CompanyRecord, CompanyRecord]:
    acme = await seed_company(database_url, name="Acme Learning", plan="standard")
    beta = await seed_company(database_url, name="Beta", plan="enterprise")
    idle = await seed_company(database_url, name="=Idle", plan="free")  # a formula-like name
    async with Database(database_url) as database:
        async with database.session() as session, session.begin():
            await session.execute(
                update(Company)
                .where(Company.id == beta.id)
                .values(plan_overrides={"price_per_1000": "0.25"})
            )
        await insert_ledger_rows(
            database,
            [
                LedgerRow(acme.id, _at(1, hour=0), "GetBadges", "ok", 41),
                LedgerRow(acme.id, _at(10), "GetBadges", "error", 9),
                LedgerRow(acme.id, _at(10), None, "ok", 3),
                LedgerRow(acme.id, _at(11), "IssueCredential", "throttled", 0),
                LedgerRow(acme.id, _at(12), "IssueCredential", "rejected", 0),
                LedgerRow(acme.id, _at(1, month=2, hour=0) - EDGE, "IssueCredential", "ok", 10),
                LedgerRow(acme.id, _at(1, month=2, hour=0), "GetBadges", "ok", 1000),  # February
                LedgerRow(acme.id, _at(1, hour=0) - EDGE, "GetBadges", "ok", 1000),  # December
                LedgerRow(beta.id, _at(20), "ListCredentials", "ok", 2001),
                LedgerRow(None, _at(20), None, "unauthenticated", 0),
            ],
        )
    return acme, beta, idle


def test_report_formats_and_the_inclusive_to_day(database_url: str) -> None:
    acme, _, _ = asyncio.run(_seed(database_url))
    period = ("--from", "2026-01-01", "--to", "2026-01-31")

    report = json.loads(
        _ok(
            _run(database_url, "usage", "report", "--company", acme.id, *period, "--format", "json")
        ).stdout
    )
    assert report["company_name"] == "Acme Learning"
    assert (report["start"], report["end"]) == (
        "2026-01-01T00:00:00+00:00",
        "2026-02-01T00:00:00+00:00",
    )
    # 41 + 9 + 3 + 10 points; the last microsecond of the 31st is in, February and December out.
    assert (report["requests"], report["cost_points"], report["amount"]) == (6, 63, "0.03")
    assert (report["errors"], report["throttled"], report["rejected"]) == (1, 1, 1)
    operations = {o["operation_name"]: o for o in report["operations"]}
    assert operations["GetBadges"] == {
        "operation_name": "GetBadges",
        "requests": 2,
        "cost_points": 50,
        "errors": 1,
        "amount": "0.03",
    }
    assert operations["(anonymous)"]["cost_points"] == 3
    assert operations["IssueCredential"]["requests"] == 3

    # One day only: the 10th.
    day = json.loads(
        _ok(
            _run(
                database_url,
                "usage",
                "report",
                "--company",
                "Acme Learning",
                "--from",
                "2026-01-10",
                "--to",
                "2026-01-10",
                "--format",
                "json",
            )
        ).stdout
    )
    assert (day["requests"], day["cost_points"]) == (2, 12)

    rows = list(
        csv.DictReader(
            io.StringIO(
                _ok(
                    _run(
                        database_url,
                        "usage",
                        "report",
                        "--company",
                        "Acme Learning",
                        *period,
                        "--format",
                        "csv",
                    )
                ).stdout
            )
        )
    )
    assert rows[-1]["operation_name"] == TOTAL_LINE
    assert (rows[-1]["requests"], rows[-1]["cost_points"], rows[-1]["amount"]) == (
        "6",
        "63",
        "0.03",
    )
    assert sum(int(r["cost_points"]) for r in rows[:-1]) == 63

    table = _ok(_run(database_url, "usage", "report", "--company", "Acme Learning", *period)).stdout
    assert "Amount    0.03" in table
    assert "2026-01-01 to 2026-01-31 inclusive (UTC)" in table
    assert "GetBadges" in table and "(anonymous)" in table


def test_report_refuses_bad_input(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    base = ("usage", "report", "--company", "Acme Learning")
    bad_date = _run(database_url, *base, "--from", "2026-1-1", "--to", "2026-01-31")
    assert bad_date.exit_code == 1 and "--from must be a date as YYYY-MM-DD" in bad_date.stderr
    backwards = _run(database_url, *base, "--from", "2026-02-01", "--to", "2026-01-31")
    assert backwards.exit_code == 1 and "--to must not be before --from" in backwards.stderr
    unknown = _run(
        database_url,
        "usage",
        "report",
        "--company",
        "Nobody",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
    )
    assert unknown.exit_code == 1 and "No company" in unknown.stderr
    bad_month = _run(database_url, "usage", "export", "--month", "2026-13", "--out", "x.csv")
    assert bad_month.exit_code == 1 and "--month must be a month as YYYY-MM" in bad_month.stderr


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        return list(reader)


def _lines_by_company(rows: list[dict[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    grouped: dict[str, dict[str, dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault(row["company_id"], {})[row["operation_name"]] = row
    return grouped


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield s3


def test_export_writes_every_company_and_no_upload_without_a_bucket(
    database_url: str, tmp_path: Path, aws: Any
) -> None:
    acme, beta, idle = asyncio.run(_seed(database_url))
    out = tmp_path / "usage.csv"
    result = _ok(_run(database_url, "usage", "export", "--month", "2026-01", "--out", str(out)))
    assert "for 3 companies" in result.stdout and "Uploaded" not in result.stdout
    assert aws.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0

    lines = _lines_by_company(_read_csv(out))
    assert set(lines) == {acme.id, beta.id, idle.id}
    acme_total = lines[acme.id][TOTAL_LINE]
    assert (acme_total["requests"], acme_total["cost_points"], acme_total["errors"]) == (
        "6",
        "63",
        "1",
    )
    assert (acme_total["plan"], acme_total["amount"]) == ("standard", "0.03")
    assert acme_total["period_start"] == "2026-01-01T00:00:00+00:00"
    assert set(lines[acme.id]) == {"GetBadges", "(anonymous)", "IssueCredential", TOTAL_LINE}
    beta_total = lines[beta.id][TOTAL_LINE]
    assert (beta_total["cost_points"], beta_total["amount"]) == ("2001", "0.50")  # overridden price
    assert lines[beta.id]["ListCredentials"]["amount"] == "0.50"
    # A company without usage still gets its (zero) total; a formula-like name is defused.
    assert list(lines[idle.id]) == [TOTAL_LINE]
    assert lines[idle.id][TOTAL_LINE]["company_name"] == "'=Idle"
    assert lines[idle.id][TOTAL_LINE]["amount"] == "0.00"

    february = tmp_path / "february.csv"
    _ok(_run(database_url, "usage", "export", "--month", "2026-02", "--out", str(february)))
    assert _lines_by_company(_read_csv(february))[acme.id][TOTAL_LINE]["cost_points"] == "1000"


def test_export_uploads_to_the_configured_bucket(
    database_url: str, tmp_path: Path, aws: Any
) -> None:
    asyncio.run(_seed(database_url))
    out = tmp_path / "usage.csv"
    result = _ok(
        _run(
            database_url,
            *("usage", "export", "--month", "2026-01", "--out", str(out)),
            GATEWAY_USAGE_EXPORT_BUCKET=BUCKET,
            GATEWAY_USAGE_EXPORT_PREFIX="billing/usage",
        )
    )
    key = "billing/usage/usage-2026-01.csv"
    assert f"Uploaded to s3://{BUCKET}/{key}." in result.stdout
    stored = aws.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == out.read_bytes()
    assert stored["ContentType"] == "text/csv; charset=utf-8"


def test_a_failed_upload_fails_the_command_and_keeps_the_file(
    database_url: str, tmp_path: Path, aws: Any
) -> None:
    asyncio.run(_seed(database_url))
    out = tmp_path / "usage.csv"
    result = _run(
        database_url,
        *("usage", "export", "--month", "2026-01", "--out", str(out)),
        GATEWAY_USAGE_EXPORT_BUCKET="no-such-bucket",
    )
    assert result.exit_code == 1
    assert "upload to S3 failed" in result.stderr and "NoSuchBucket" in result.stderr
    assert out.exists() and _read_csv(out)
