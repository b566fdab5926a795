"""X-Request-ID echo, the access log line, the request recorder and reset."""

from __future__ import annotations

import re
import uuid

import httpx

from tests.fixtures.sample_backend import SampleBackend

RECORDED_IDS = {"rec-1", "rec-2", "rec-3", "rec-4"}


def test_request_id_is_echoed(api: httpx.Client) -> None:
    response = api.get("/api/v1/badges/1/", headers={"X-Request-ID": "echo-me-42"})
    assert response.headers["X-Request-ID"] == "echo-me-42"
    error = api.get("/api/v1/nowhere/", headers={"X-Request-ID": "echo-me-43"})
    assert error.headers["X-Request-ID"] == "echo-me-43"
    assert "X-Request-ID" not in api.get("/api/v1/badges/1/").headers


def test_one_log_line_per_request(api: httpx.Client, sample_backend: SampleBackend) -> None:
    request_id = f"log-{uuid.uuid4().hex}"
    api.get("/api/v1/badges/?page=2", headers={"X-Request-ID": request_id})
    lines = [line for line in sample_backend.log_text().splitlines() if request_id in line]
    assert len(lines) == 1
    assert re.fullmatch(
        rf"sample_backend method=GET path=/api/v1/badges/\?page=2 status=200 "
        rf"request_id={request_id} duration_ms=\d+\.\d\d",
        lines[0],
    )


def test_log_lines_cannot_be_split_by_a_request_id(
    api: httpx.Client, sample_backend: SampleBackend
) -> None:
    api.get("/api/v1/badges/1/", headers={"X-Request-ID": "two words status=999"})
    assert "request_id=two_words_status=999 " in sample_backend.log_text()


def test_recorder_sees_every_api_request(
    api: httpx.Client, anon: httpx.Client, http: httpx.Client, sample_backend: SampleBackend
) -> None:
    sample_backend.clear_requests()
    api.get("/api/v1/credentials/?status=active&page_size=5", headers={"X-Request-ID": "rec-1"})
    anon.get("/api/v1/badges/1/", headers={"X-Request-ID": "rec-2"})
    api.post(
        "/api/v1/credentials/",
        json={},
        headers={"Idempotency-Key": "rec-key", "X-Request-ID": "rec-3"},
    )
    http.get(f"{sample_backend.url}/__admin__/health", headers={"X-Request-ID": "rec-4"})
    # Filtered by request ID: other clients of the shared backend may be talking to it too.
    recorded = [r for r in sample_backend.recorded_requests() if r["request_id"] in RECORDED_IDS]
    assert recorded == [
        {
            "method": "GET",
            "path": "/api/v1/credentials/",
            "query": "status=active&page_size=5",
            "request_id": "rec-1",
            "idempotency_key": None,
            "status": 200,
            "authorization_present": True,
            "fault": None,
        },
        {
            "method": "GET",
            "path": "/api/v1/badges/1/",
            "query": "",
            "request_id": "rec-2",
            "idempotency_key": None,
            "status": 401,
            "authorization_present": False,
            "fault": None,
        },
        {
            "method": "POST",
            "path": "/api/v1/credentials/",
            "query": "",
            "request_id": "rec-3",
            "idempotency_key": "rec-key",
            "status": 400,
            "authorization_present": True,
            "fault": None,
        },
    ]  # the admin call (rec-4) is not recorded
    sample_backend.clear_requests()
    assert [r for r in sample_backend.recorded_requests() if r["request_id"] in RECORDED_IDS] == []


def test_reset_restores_the_seed(api: httpx.Client, sample_backend: SampleBackend) -> None:
    seeded = api.get("/api/v1/credentials/", headers={"X-Request-ID": "before-reset"}).json()
    created = api.post(
        "/api/v1/credentials/",
        json={"badge": 1, "recipient": {"email": "reset-me@example.com"}},
        headers={"Idempotency-Key": "reset-key"},
    )
    assert created.status_code == 201
    sample_backend.inject_fault("throttle", count=-1, path="/api/v1/organizations/")
    sample_backend.reset()
    assert api.get("/api/v1/credentials/").json() == seeded
    assert api.get(f"/api/v1/credentials/{created.json()['uuid']}/").status_code == 404
    assert api.get("/api/v1/organizations/1/").status_code == 200  # faults cleared
    replay = api.post(
        "/api/v1/credentials/",
        json={"badge": 1, "recipient": {"email": "reset-me@example.com"}},
        headers={"Idempotency-Key": "reset-key"},
    )
    assert "Idempotent-Replayed" not in replay.headers  # keys forgotten
    sample_backend.reset()
    assert not [r for r in sample_backend.recorded_requests() if r["request_id"] == "before-reset"]
