"""Request metrics: Prometheus series with bounded labels, EMF lines, the guarded /metrics."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.routing import Route

from metering.ledger import UsageRecord
from observability.emf import EmfWriter
from observability.metrics import NO_COMPANY, OTHER, RequestMetrics, metrics_endpoint
from settings import Settings, SettingsError, load_settings

TOKEN = "metrics-token-0123456789abcdef"
AT = datetime(2026, 1, 15, 12, 30, tzinfo=UTC)


def _settings(**values: Any) -> Settings:
    return Settings(
        backend_username="u",
        backend_password="p",
        key_pepper="x" * 32,
        **values,
    )


def _record(
    operation: str | None = "GetBadges",
    outcome: str = "ok",
    company: str | None = "co_1",
    cost: int = 41,
    duration_ms: float = 12.5,
    codes: tuple[str, ...] = (),
) -> UsageRecord:
    return UsageRecord(
        request_id="req-1",
        outcome=outcome,
        duration_ms=duration_ms,
        company_id=company,
        operation_name=operation,
        actual_cost=cost,
        error_codes=codes,
        at=AT,
    )


def _value(metrics: RequestMetrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def _exposition(metrics: RequestMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def test_requests_cost_latency_and_errors_are_counted() -> None:
    metrics = RequestMetrics()
    metrics.observe(_record())
    metrics.observe(_record(duration_ms=300.0))
    metrics.observe(_record(outcome="error", cost=9, codes=("BACKEND_TIMEOUT", "NOT_FOUND")))
    metrics.observe(_record(outcome="throttled", cost=0, codes=("THROTTLED",)))

    ok = {"company": "co_1", "operation": "GetBadges", "outcome": "ok"}
    assert _value(metrics, "gateway_requests_total", **ok) == 2
    assert _value(metrics, "gateway_cost_points_total", **ok) == 82
    error = {**ok, "outcome": "error"}
    assert _value(metrics, "gateway_cost_points_total", **error) == 9
    throttled = {**ok, "outcome": "throttled"}
    assert _value(metrics, "gateway_requests_total", **throttled) == 1
    assert _value(metrics, "gateway_cost_points_total", **throttled) == 0  # refused: billed 0

    latency = "gateway_request_duration_seconds"
    assert _value(metrics, f"{latency}_count", company="co_1") == 4
    assert _value(metrics, f"{latency}_bucket", company="co_1", le="0.025") == 3
    assert _value(metrics, f"{latency}_bucket", company="co_1", le="0.5") == 4
    assert _value(metrics, f"{latency}_sum", company="co_1") == pytest.approx(0.3375)

    errors = "gateway_request_errors_total"
    assert _value(metrics, errors, company="co_1", code="BACKEND_TIMEOUT") == 1
    assert _value(metrics, errors, company="co_1", code="THROTTLED") == 1


def test_a_latency_on_a_bucket_bound_counts_in_that_bucket() -> None:
    metrics = RequestMetrics()
    metrics.observe(_record(duration_ms=5.0))  # le="0.005": less than or equal
    metrics.observe(_record(duration_ms=60_000.0))  # beyond the last bound: +Inf only
    latency = "gateway_request_duration_seconds_bucket"
    assert _value(metrics, latency, company="co_1", le="0.005") == 1
    assert _value(metrics, latency, company="co_1", le="10.0") == 1
    assert _value(metrics, latency, company="co_1", le="+Inf") == 2


def test_labels_stay_bounded_whatever_partners_send() -> None:
    metrics = RequestMetrics(max_operations=3)
    for index in range(10):
        metrics.observe(_record(operation=f"Op{index}"))
    metrics.observe(_record(operation=None))
    metrics.observe(_record(operation="Op1", outcome="surprising"))
    # An unauthenticated request may use a known name, but never takes a slot.
    metrics.observe(_record(operation="Op0", company=None, outcome="unauthenticated", cost=0))
    metrics.observe(_record(operation="Probe", company=None, outcome="unauthenticated", cost=0))

    operations = set()
    for family in text_string_to_metric_families(_exposition(metrics)):
        if family.name == "gateway_requests":
            operations |= {sample.labels["operation"] for sample in family.samples}
    assert operations == {"Op0", "Op1", "Op2", OTHER, "(anonymous)"}
    assert (
        _value(metrics, "gateway_requests_total", company="co_1", operation=OTHER, outcome="ok")
        == 7
    )
    assert (
        _value(metrics, "gateway_requests_total", company="co_1", operation="Op1", outcome=OTHER)
        == 1
    )
    unauthenticated = {"company": NO_COMPANY, "outcome": "unauthenticated"}
    assert _value(metrics, "gateway_requests_total", operation="Op0", **unauthenticated) == 1
    assert _value(metrics, "gateway_requests_total", operation=OTHER, **unauthenticated) == 1
    assert _value(metrics, "gateway_metrics_label_overflow_total", label="operation") == 8

    long_name = "Q" * 500
    wide = RequestMetrics(max_operations=10)
    wide.observe(_record(operation=long_name))
    assert (
        _value(wide, "gateway_requests_total", company="co_1", operation="Q" * 128, outcome="ok")
        == 1
    )


def test_each_instance_has_its_own_registry() -> None:
    first, second = RequestMetrics(), RequestMetrics()
    first.observe(_record())
    labels = {"company": "co_1", "operation": "GetBadges", "outcome": "ok"}
    assert _value(first, "gateway_requests_total", **labels) == 1
    assert _value(second, "gateway_requests_total", **labels) == 0


def test_emf_lines_follow_the_specification() -> None:
    stream = io.StringIO()
    metrics = RequestMetrics(emf=EmfWriter("PartnerGateway", ["company", "operation"], stream))
    metrics.observe(_record(outcome="error", cost=9, duration_ms=12.5, codes=("NOT_FOUND",)))
    metrics.observe(_record(operation=None, company=None, outcome="unauthenticated", cost=0))

    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["_aws"] == {
        "Timestamp": int(AT.timestamp() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": "PartnerGateway",
                "Dimensions": [["company", "operation"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "CostPoints", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"},
                    {"Name": "Errors", "Unit": "Count"},
                ],
            }
        ],
    }
    assert {k: v for k, v in first.items() if k != "_aws"} == {
        "company": "co_1",
        "operation": "GetBadges",
        "outcome": "error",
        "Requests": 1,
        "CostPoints": 9,
        "Latency": 12.5,
        "Errors": 1,
        "request_id": "req-1",
    }
    # Every dimension named in the directive is a string member of the root.
    assert (second["company"], second["operation"]) == (NO_COMPANY, "(anonymous)")
    assert (second["CostPoints"], second["Errors"]) == (0, 0)


def test_emf_from_settings_writes_to_stdout_only_when_enabled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    RequestMetrics.from_settings(_settings()).observe(_record())
    assert capsys.readouterr().out == ""
    enabled = _settings(emf_enabled=True, emf_namespace="Gw", emf_dimensions="outcome")
    RequestMetrics.from_settings(enabled).observe(_record())
    line = json.loads(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Gw"
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["outcome"]]
    no_dimensions = _settings(emf_enabled=True, emf_dimensions="")
    RequestMetrics.from_settings(no_dimensions).observe(_record())
    assert json.loads(capsys.readouterr().out)["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]


def test_metrics_settings_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_BACKEND_USERNAME", "u")
    monkeypatch.setenv("GATEWAY_BACKEND_PASSWORD", "p")
    monkeypatch.setenv("GATEWAY_KEY_PEPPER", "x" * 32)
    monkeypatch.setenv("GATEWAY_EMF_DIMENSIONS", " company , operation ")
    assert load_settings().emf_dimensions == "company,operation"
    monkeypatch.setenv("GATEWAY_EMF_DIMENSIONS", "company,key")
    with pytest.raises(SettingsError, match="GATEWAY_EMF_DIMENSIONS"):
        load_settings()
    monkeypatch.delenv("GATEWAY_EMF_DIMENSIONS")
    monkeypatch.setenv("GATEWAY_METRICS_TOKEN", "short")
    with pytest.raises(SettingsError, match="GATEWAY_METRICS_TOKEN") as raised:
        load_settings()
    assert "short" not in str(raised.value)
    monkeypatch.delenv("GATEWAY_METRICS_TOKEN")
    monkeypatch.setenv("GATEWAY_USAGE_EXPORT_BUCKET", "Not_A_Bucket")
    with pytest.raises(SettingsError, match="GATEWAY_USAGE_EXPORT_BUCKET"):
        load_settings()


def _client(settings: Settings, metrics: RequestMetrics) -> httpx.AsyncClient:
    app = Starlette(
        routes=[Route("/metrics", metrics_endpoint(settings, metrics.registry), methods=["GET"])]
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")


async def test_the_metrics_endpoint_answers_only_the_token() -> None:
    metrics = RequestMetrics()
    metrics.observe(_record())
    async with _client(_settings(metrics_token=TOKEN), metrics) as client:
        await _answers_only_the_token(client)


async def _answers_only_the_token(client: httpx.AsyncClient) -> None:
    answered = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answered.status_code == 200
    assert answered.headers["content-type"].startswith("text/plain")
    assert answered.headers["cache-control"] == "no-store"
    assert (
        'gateway_requests_total{company="co_1",operation="GetBadges",outcome="ok"} 1.0'
        in answered.text
    )
    assert "python_gc_objects_collected_total" in answered.text
    lower = await client.get("/metrics", headers={"Authorization": f"bearer {TOKEN}"})
    assert lower.status_code == 200

    openmetrics = await client.get(
        "/metrics",
        headers={
            "Authorization": f"Bearer {TOKEN}",
            "Accept": "application/openmetrics-text; version=1.0.0",
        },
    )
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.endswith("# EOF\n")

    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        refused = await client.get("/metrics", headers=headers)
        assert (refused.status_code, refused.text) == (404, "Not Found")


async def test_the_metrics_endpoint_is_not_there_without_a_token() -> None:
    async with _client(_settings(), RequestMetrics()) as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": f"Bearer {TOKEN}"}):
            assert (await client.get("/metrics", headers=headers)).status_code == 404


def test_a_broken_stdout_drops_the_line_not_the_request() -> None:
    stream = io.StringIO()
    writer = EmfWriter("PartnerGateway", ["company"], stream)
    stream.close()
    metrics = RequestMetrics(emf=writer)
    metrics.observe(_record())
    assert writer.dropped == 1
    labels = {"company": "co_1", "operation": "GetBadges", "outcome": "ok"}
    assert _value(metrics, "gateway_requests_total", **labels) == 1
    with pytest.raises(ValueError, match="unknown EMF dimensions"):
        EmfWriter("PartnerGateway", ["key_id"])
