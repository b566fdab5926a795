"""Fault injection: every kind, matching by path and method, counts and ordering."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.fixtures.sample_backend import SampleBackend


def test_delay(api: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("delay", path="/api/v1/badges/", delay_ms=300)
    started = time.perf_counter()
    slow = api.get("/api/v1/badges/1/")
    elapsed = time.perf_counter() - started
    assert slow.status_code == 200
    assert slow.json()["id"] == 1
    assert elapsed >= 0.3
    started = time.perf_counter()
    assert api.get("/api/v1/badges/1/").status_code == 200
    assert time.perf_counter() - started < 0.3  # count=1: used up


def test_error_html(api: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("error_html", path="/api/v1/badges/", count=2)
    for _ in range(2):
        response = api.get("/api/v1/badges/1/")
        assert response.status_code == 503
        assert response.headers["Content-Type"] == "text/html"
        assert "<title>503 Service Unavailable</title>" in response.text
    assert api.get("/api/v1/badges/1/").status_code == 200


def test_error_html_500_is_djangos_page(api: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("error_html", status=500)
    response = api.get("/api/v1/badges/1/")
    assert response.status_code == 500
    assert "<h1>Server Error (500)</h1>" in response.text


@pytest.mark.parametrize(
    ("wait", "detail"),
    [
        (3, "Request was throttled. Expected available in 3 seconds."),
        (1, "Request was throttled. Expected available in 1 second."),
    ],
)
def test_throttle(api: httpx.Client, faults: SampleBackend, wait: int, detail: str) -> None:
    faults.inject_fault("throttle", retry_after=wait)
    response = api.get("/api/v1/credentials/")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == str(wait)
    assert response.json() == {"detail": detail}


def test_drop_closes_the_connection(api: httpx.Client, faults: SampleBackend) -> None:
    faults.clear_requests()
    faults.inject_fault("drop", path="/api/v1/organizations/")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/v1/organizations/1/", headers={"X-Request-ID": "dropped-1"})
    assert api.get("/api/v1/organizations/1/").status_code == 200
    dropped = [r for r in faults.recorded_requests() if r["request_id"] == "dropped-1"]
    assert len(dropped) == 1
    assert dropped[0]["status"] is None
    assert dropped[0]["fault"] == "drop"


def test_malformed_json(api: httpx.Client, faults: SampleBackend) -> None:
    whole = api.get("/api/v1/badges/5/").content
    faults.inject_fault("malformed_json", path="/api/v1/badges/5/")
    response = api.get("/api/v1/badges/5/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)
    assert whole.startswith(response.content)
    assert len(response.content) < len(whole)


def test_path_and_method_select_the_requests(api: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("throttle", path="/api/v1/credentials/", method="POST", count=-1)
    assert api.get("/api/v1/credentials/").status_code == 200
    assert api.get("/api/v1/badges/").status_code == 200
    for _ in range(3):  # -1: until cleared
        assert api.post("/api/v1/credentials/", json={}).status_code == 429
    faults.clear_faults()
    assert api.post("/api/v1/credentials/", json={}).status_code == 400


def test_default_path_covers_the_token_endpoints(anon: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("error_html", status=502)
    response = anon.post("/api/token/", json={})
    assert response.status_code == 502
    assert "502 Bad Gateway" in response.text


def test_faults_apply_in_registration_order(api: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("throttle", path="/api/v1/")
    faults.inject_fault("error_html", path="/api/v1/badges/")
    assert api.get("/api/v1/badges/").status_code == 429
    assert api.get("/api/v1/badges/").status_code == 503
    assert api.get("/api/v1/badges/").status_code == 200


def test_admin_requests_are_never_faulted(http: httpx.Client, faults: SampleBackend) -> None:
    faults.inject_fault("error_html", path="/", count=-1)
    health = http.get(f"{faults.url}/__admin__/health")
    assert health.json() == {"status": "ok"}
    listed = http.get(f"{faults.url}/__admin__/faults").json()
    assert [(f["kind"], f["path"], f["count"]) for f in listed] == [("error_html", "/", -1)]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "explode"}, "kind"),
        ({"kind": "delay", "delay_ms": "100"}, "delay_ms"),
        ({"kind": "throttle", "count": 0}, "count"),
        ({"kind": "drop", "path": "api"}, "path"),
        ({"kind": "drop", "colour": "red"}, "colour"),
    ],
)
def test_bad_fault_definitions_are_400(
    http: httpx.Client, faults: SampleBackend, payload: dict[str, object], field: str
) -> None:
    response = http.post(f"{faults.url}/__admin__/faults", json=payload)
    assert response.status_code == 400
    assert field in response.json()
    assert http.get(f"{faults.url}/__admin__/faults").json() == []
