"""One request ID leads from a partner's complaint to the backend call that failed.

The proof of issue 6: a backend failure injected into the sample backend is found, from
the request ID alone, in the partner's response, the gateway's log, the backend's log,
the Sentry event the gateway sent, the stored trace (``gateway trace``) and the spans.
"""

from __future__ import annotations

import gzip
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from backend.client import BackendClient
from observability.trace_context import bind_trace
from observability.traceparent import new_trace, parse_traceparent
from settings import Settings
from tests.fixtures.gateway import (
    GATEWAY_BIN,
    Gateway,
    access_line,
    free_port,
    until,
    wait_until_listening,
)
from tests.fixtures.sample_backend import SampleBackend

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
T = TypeVar("T")


class Collector:
    """A local HTTP server keeping every body POSTed to it (Sentry envelopes, OTLP spans)."""

    def __init__(self) -> None:
        bodies: list[tuple[str, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":  # Sentry compresses
                    body = gzip.decompress(body)
                bodies.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.bodies = bodies
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def text(self, path_prefix: str) -> str:
        return "\n".join(
            b.decode("utf-8", "replace") for p, b in self.bodies if p.startswith(path_prefix)
        )


@pytest.fixture
def observed_gateway(gateway: Gateway, tmp_path: Path) -> Iterator[tuple[str, Collector, Path]]:
    """A second gateway on the shared database, reporting to a local Sentry and collector."""
    collector = Collector()
    env = {
        **gateway.env,
        "GATEWAY_SENTRY_DSN": f"http://public@127.0.0.1:{collector.port}/1",
        "GATEWAY_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.port}",
    }
    port = free_port()
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [GATEWAY_BIN, "serve", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}/graphql", collector, log
    finally:
        process.terminate()
        process.wait(timeout=10)
        collector.server.shutdown()


def test_a_backend_failure_is_diagnosed_from_its_request_id_alone(
    observed_gateway: tuple[str, Collector, Path],
    gateway: Gateway,
    gateway_backend: SampleBackend,
) -> None:
    url, collector, log = observed_gateway
    gateway_backend.inject_fault("error_html", path="/api/v1/badges/", count=-1, status=503)
    try:
        response = httpx.post(
            url,
            json={"query": "query Badges { badges { totalCount } }", "operationName": "Badges"},
            headers={"Authorization": f"Bearer {gateway.keys['org1']}", "traceparent": INCOMING},
            timeout=30,
        )
    finally:
        gateway_backend.clear_faults()
    # 1. The partner's answer: a coded error and the request ID, nothing of the backend's.
    request_id = response.headers["x-request-id"]
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BACKEND_UNAVAILABLE", "requestId": request_id}
    # 2. The gateway's log: the access line, with what happened.
    access = until(lambda: access_line(log.read_text(), request_id))
    assert access["outcome"] == "error" and access["error_codes"] == ["BACKEND_UNAVAILABLE"]
    # 3. The backend's own log: every attempt the gateway made, under the same ID.
    assert f"request_id={request_id}" in gateway_backend.log_text()
    # 4. Sentry: the event carries the request ID as a tag.
    envelope = until(lambda: collector.text("/api/1/envelope") or None)
    assert request_id in envelope and "BackendUnavailable" in envelope
    # 5. The stored trace: each backend attempt with its status and retry reason.
    timeline = until(
        lambda: subprocess.run(
            [GATEWAY_BIN, "trace", request_id], env=gateway.env, capture_output=True, text=True,
            check=False,
        ).stdout or None
    )  # fmt: skip
    assert request_id in timeline and "GET /api/v1/badges/" in timeline and "503" in timeline
    assert "BACKEND_UNAVAILABLE" in timeline
    # 6. The spans, continuing the partner's trace.
    spans = until(lambda: _spans(collector) or None)
    assert {span.trace_id.hex() for span in spans} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    names = {span.name for span in spans}
    assert {"query Badges", "graphql.document", "graphql.execute"} <= names
    assert any(name.startswith("GET /api/v1/badges/") for name in names)


def _spans(collector: Collector) -> list[Any]:
    spans: list[Any] = []
    for path, body in collector.bodies:
        if path.startswith("/v1/traces"):
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            spans += [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return spans


def test_a_partner_reads_its_own_failed_request(gateway: Gateway) -> None:
    request_id = f"mine-{uuid.uuid4().hex}"
    gateway.post('query Missing { badge(id: "999999") { id } }', operation_name="Missing",
                 headers={"X-Request-ID": request_id})  # fmt: skip
    query = """query($id: ID!) { requestTrace(id: $id) { operationName outcome
        backendCalls { pathTemplate status } errors { code } } }"""
    found = until(lambda: gateway.post(query, {"id": request_id}).json()["data"]["requestTrace"])
    assert found["outcome"] == "ERROR" and found["operationName"] == "Missing"
    assert [e["code"] for e in found["errors"]] == ["NOT_FOUND"]
    assert gateway.post(query, {"id": request_id}, key="org2").json()["data"] == {
        "requestTrace": None
    }


async def test_the_backend_client_sends_the_requests_traceparent() -> None:
    seen: list[dict[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        settings = Settings(
            backend_url=f"http://127.0.0.1:{port}",
            backend_username="u",
            backend_password="p",
            key_pepper="x" * 32,
        )
        async with BackendClient(settings) as client:
            trace = new_trace(sampled=True)
            token = bind_trace(trace)
            try:
                await client.post_unauthenticated("/api/token/", {"username": "u"})
            finally:
                token.var.reset(token)
    finally:
        await runner.cleanup()
    sent = parse_traceparent(seen[0]["traceparent"])
    assert sent is not None
    assert (sent.trace_id, sent.span_id) == (trace.trace_id, trace.span_id)
