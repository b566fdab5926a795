"""``gateway trace`` and ``gateway traces`` through typer's runner on both databases, over
traces written by the real trace writer."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from typer.testing import CliRunner, Result

from backend.client import BackendCall
from cli.app import app
from metering.ledger import UsageRecord
from observability.calls import open_call_log, record_call
from observability.trace_store import TraceWriter
from observability.traceparent import new_trace
from storage.database import Database
from storage.records import CompanyRecord
from tests.fixtures.databases import TEST_PEPPER, seed_company

EMAIL = "ada@example.com"


def _run(database_url: str, *args: str) -> Result:
    environment = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_KEY_PEPPER": TEST_PEPPER.decode(),
        "GATEWAY_BACKEND_USERNAME": "gateway",
        "GATEWAY_BACKEND_PASSWORD": "not-used-here",
    }
    return CliRunner().invoke(app, list(args), env=environment)


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


async def _seed(database_url: str) -> tuple[CompanyRecord, CompanyRecord, str]:
    acme = await seed_company(database_url, name="Acme Learning")
    beta = await seed_company(database_url, name="Beta")
    trace = new_trace(sampled=True)
    now = datetime.now(UTC)

    def usage(
        request_id: str, company: CompanyRecord, outcome: str, age: timedelta, **values: Any
    ) -> UsageRecord:
        record = UsageRecord(
            request_id=request_id,
            outcome=outcome,
            duration_ms=61.25,
            company_id=company.id,
            key_id="AbCdEf012345",
            operation_name=values.pop("operation_name", "IssueCredential"),
            operation_type="mutation",
            **values,
        )
        record.at = now - age
        return record

    async def seed() -> None:
        async with Database(database_url) as database:
            writer = TraceWriter(database)
            await writer.start()
            calls = open_call_log()
            record_call(BackendCall("POST", "/api/v1/credentials/", 503, 3.5, 1, None, "req-fail"))
            record_call(
                BackendCall(
                    "POST",
                    "/api/v1/credentials/",
                    None,
                    10.0,
                    2,
                    "http_503",
                    "req-fail",
                    "read_timeout",
                )
            )
            writer.submit(
                usage(
                    "req-fail",
                    acme,
                    "error",
                    timedelta(minutes=5),
                    error_codes=("BACKEND_TIMEOUT",),
                ),
                calls,
                status=200,
                trace=trace,
                variables={"input": {"badgeId": "42", "recipient": {"email": EMAIL}}},
                errors=[
                    {
                        "message": "The backend did not answer in time.",
                        "path": ["issueCredential"],
                        "extensions": {"code": "BACKEND_TIMEOUT"},
                    }
                ],
            )
            writer.submit(
                usage("req-ok", acme, "ok", timedelta(minutes=2), operation_name="GetBadges"),
                status=200,
            )
            writer.submit(usage("req-old", acme, "error", timedelta(hours=3)), status=200)
            writer.submit(usage("req-beta", beta, "throttled", timedelta(minutes=1)), status=429)
            writer.submit(usage("req-reused", acme, "ok", timedelta(minutes=9)), status=200)
            writer.submit(usage("req-reused", beta, "ok", timedelta(minutes=8)), status=200)
            await writer.close()

    await seed()
    return acme, beta, trace.trace_id


def test_trace_prints_a_readable_timeline(database_url: str) -> None:
    acme, _, trace_id = asyncio.run(_seed(database_url))
    out = _ok(_run(database_url, "trace", "req-fail")).stdout
    lines = out.splitlines()
    assert lines[0] == "Request    req-fail"
    assert f"Company    Acme Learning ({acme.id})" in lines
    assert "Operation  mutation IssueCredential" in lines
    assert "Outcome    error, HTTP 200, 61.2 ms (BACKEND_TIMEOUT)" in lines
    assert f"Trace      {trace_id}" in lines
    assert "Backend calls (2):" in lines
    first = next(line for line in lines if "503" in line and "POST /api/v1/credentials/" in line)
    assert first.split()[0].startswith("+") and "3.5 ms" in first
    retry = next(line for line in lines if "http_503" in line)
    assert "read_timeout" in retry and "10.0 ms" in retry and " 2 " in retry
    assert "  BACKEND_TIMEOUT at issueCredential: The backend did not answer in time." in lines
    assert '"badgeId": "42"' in out
    assert EMAIL not in out


def test_trace_as_json(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    (found,) = json.loads(_ok(_run(database_url, "trace", "req-fail", "--json")).stdout)
    assert found["request_id"] == "req-fail" and found["status"] == 200
    assert [call["attempt"] for call in found["backend_calls"]] == [1, 2]
    assert found["backend_calls"][1]["retry_reason"] == "http_503"
    assert found["errors"][0]["code"] == "BACKEND_TIMEOUT"
    assert found["variables"]["input"]["recipient"]["email"] == "[REDACTED]"


def test_a_reused_request_id_shows_every_request(database_url: str) -> None:
    acme, beta, _ = asyncio.run(_seed(database_url))
    out = _ok(_run(database_url, "trace", "req-reused")).stdout
    assert out.startswith("2 requests used this ID")
    assert out.index(f"Beta ({beta.id})") < out.index(f"Acme Learning ({acme.id})")


def test_an_unknown_request_id_says_why_it_may_be_missing(database_url: str) -> None:
    asyncio.run(_seed(database_url))
    result = _run(database_url, "trace", "req-nothing")
    assert result.exit_code == 1
    assert "No trace of request 'req-nothing'" in result.stderr
    assert "GATEWAY_TRACE_RETENTION" in result.stderr


def test_traces_lists_and_filters(database_url: str) -> None:
    acme, beta, _ = asyncio.run(_seed(database_url))
    everything = json.loads(_ok(_run(database_url, "traces", "--json")).stdout)
    assert [t["request_id"] for t in everything] == [
        "req-beta", "req-ok", "req-fail", "req-reused", "req-reused", "req-old",
    ]  # fmt: skip

    recent_errors = json.loads(
        _ok(
            _run(
                database_url,
                "traces",
                "--company",
                "Acme Learning",
                "--since",
                "1h",
                "--outcome",
                "error",
                "--json",
            )
        ).stdout
    )
    assert [t["request_id"] for t in recent_errors] == ["req-fail"]
    only_beta = json.loads(_ok(_run(database_url, "traces", "--company", beta.id, "--json")).stdout)
    assert {t["request_id"] for t in only_beta} == {"req-beta", "req-reused"}
    two = json.loads(_ok(_run(database_url, "traces", "--limit", "2", "--json")).stdout)
    assert len(two) == 2

    table = _ok(_run(database_url, "traces", "--company", acme.id, "--since", "30m")).stdout
    header, *rows = table.splitlines()
    assert header.split() == [
        "AT", "REQUEST", "ID", "COMPANY", "OPERATION", "OUTCOME", "STATUS", "DURATION", "CALLS", "ERRORS",
    ]  # fmt: skip
    assert [row.split()[2] for row in rows] == ["req-ok", "req-fail", "req-reused"]
    fail_row = rows[1].split()
    assert fail_row[-2:] == ["2", "BACKEND_TIMEOUT"]


def test_traces_with_nothing_to_show_or_bad_options(database_url: str) -> None:
    assert _ok(_run(database_url, "traces")).stdout == "No traces match.\n"
    bad_since = _run(database_url, "traces", "--since", "yesterday")
    assert bad_since.exit_code == 2
    bad_outcome = _run(database_url, "traces", "--outcome", "maybe")
    assert bad_outcome.exit_code == 2
    unknown = _run(database_url, "traces", "--company", "Nobody")
    assert unknown.exit_code == 1 and "No company" in unknown.stderr
