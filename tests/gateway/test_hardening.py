"""Hostile input and backend faults, against a gateway configured the way an operator
hardening it would: queries over GET allowed (mutations never), introspection off, a
one-second request deadline, a circuit breaker that opens after two failures and idle
connections closed after a second.

Every refusal is a coded error carrying the request ID, and every request, refused or
not, leaves exactly one row in the usage ledger.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.gateway import Gateway, data, error_codes, running_gateway
from tests.fixtures.sample_backend import SampleBackend, StartSampleBackend

VIEWER = "{ viewer { company { name } } }"
ISSUE = (
    'mutation { issueCredential(input: {badgeId: "1", recipient: {email: "get@example.com"}})'
    " { credential { id } userErrors { message } } }"
)


@pytest.fixture(scope="module")
def hardened_backend(start_sample_backend: StartSampleBackend) -> SampleBackend:
    return start_sample_backend()  # faults injected here disturb no other module


@pytest.fixture(scope="module")
def hardened(
    hardened_backend: SampleBackend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    with running_gateway(
        hardened_backend,
        tmp_path_factory.mktemp("hardened"),
        get_queries="true",
        introspection="false",
        request_deadline="1",
        backend_read_timeout="5",
        backend_circuit_failures="2",
        backend_circuit_reset="0.5",
        keep_alive="1",
    ) as gateway:
        yield gateway


@pytest.fixture
def backend(hardened_backend: SampleBackend) -> Iterator[SampleBackend]:
    hardened_backend.clear_faults()
    hardened_backend.clear_requests()
    yield hardened_backend
    hardened_backend.clear_faults()


def get(gateway: Gateway, params: dict[str, str], key: str | None = "org1") -> httpx.Response:
    headers = {} if key is None else {"Authorization": f"Bearer {gateway.keys[key]}"}
    return gateway.request("GET", "/graphql", params=params, headers=headers)


def without_request_id(response: httpx.Response) -> str:
    return response.text.replace(response.headers["x-request-id"], "")


def read_response(connection: socket.socket) -> str:
    """One HTTP/1.1 response, headers and its Content-Length body, from a raw socket."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(65536)
        assert chunk, "the connection closed before the headers"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "the connection closed before the body"
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def badge_calls(backend: SampleBackend) -> list[dict[str, Any]]:
    return [r for r in backend.recorded_requests() if r["path"] == "/api/v1/badges/"]


def assert_one_ledger_row(gateway: Gateway, response: httpx.Response) -> dict[str, Any]:
    [row] = gateway.ledger_rows(response.headers["x-request-id"])
    return row


def assert_coded(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert error_codes(response) == [code]
    [error] = response.json()["errors"]
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


# -- GET ---------------------------------------------------------------------------------


def test_a_query_over_get_is_answered_and_metered(hardened: Gateway) -> None:
    response = get(hardened, {"query": VIEWER})
    assert data(response)["viewer"]["company"]["name"] == "Acme Learning"
    assert assert_one_ledger_row(hardened, response)["outcome"] == "ok"


def test_a_named_operation_is_recorded_by_its_name_without_operation_name(
    hardened: Gateway,
) -> None:
    response = hardened.post("query WhoAmI { viewer { company { name } } }")
    assert assert_one_ledger_row(hardened, response)["operation_name"] == "WhoAmI"


def test_variables_and_operation_name_over_get(hardened: Gateway) -> None:
    query = (
        "query One($id: ID!) { badge(id: $id) { id } } query Two { viewer { company { name } } }"
    )
    response = get(
        hardened, {"query": query, "variables": json.dumps({"id": "1"}), "operationName": "One"}
    )
    assert data(response) == {"badge": {"id": "1"}}


def test_a_mutation_over_get_is_refused_and_nothing_is_written(
    hardened: Gateway, backend: SampleBackend
) -> None:
    response = get(hardened, {"query": ISSUE})
    assert_coded(response, 405, "BAD_REQUEST")
    assert response.headers["allow"] == "POST"
    assert not [r for r in backend.recorded_requests() if r["method"] == "POST"]
    assert assert_one_ledger_row(hardened, response)["outcome"] == "rejected"


def test_get_still_needs_a_key_in_a_header(hardened: Gateway) -> None:
    response = get(hardened, {"query": VIEWER, "api_key": hardened.keys["org1"]}, key=None)
    assert_coded(response, 401, "UNAUTHENTICATED")


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("query=%ff%fe", "percent-encoded UTF-8"),
        ("query=%7B%20viewer%20%7D&variables=%5Bnot-json", "`variables`"),
        ("query=x&variables=%5B1%5D", "`variables`"),
        ("&".join(f"f{i}=x" for i in range(20)), "only"),
    ],
)
def test_bad_query_strings_get_coded_errors(
    hardened: Gateway, query_string: str, message: str
) -> None:
    response = hardened.request(
        "GET",
        f"/graphql?{query_string}",
        headers={"Authorization": f"Bearer {hardened.keys['org1']}"},
    )
    assert_coded(response, 400, "BAD_REQUEST")
    assert message in response.json()["errors"][0]["message"]


def test_other_methods_are_refused_with_allow(hardened: Gateway) -> None:
    response = hardened.request("PUT", "/graphql", content=b"{}")
    assert_coded(response, 405, "BAD_REQUEST")
    assert response.headers["allow"] == "GET, POST"


# -- introspection -----------------------------------------------------------------------


def test_an_idle_connection_stays_open_for_the_keep_alive_then_is_closed(
    hardened: Gateway,
) -> None:
    host, port = hardened.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n")
        answered = b""
        while b"\r\n\r\n" not in answered:
            answered += connection.recv(4096)
        idle_since = time.monotonic()
        assert answered.startswith(b"HTTP/1.1 200")
        while connection.recv(4096):  # the rest of the answer, then the server's FIN
            pass
        # After GATEWAY_KEEP_ALIVE (1 s here; 75 by default, above an ALB's 60), and
        # well before uvicorn's own default of 5 s.
        assert 0.9 <= time.monotonic() - idle_since < 4


def test_introspection_can_be_turned_off(hardened: Gateway) -> None:
    response = hardened.post("{ __schema { types { name } } }")
    assert response.status_code == 400
    assert set(error_codes(response)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in response.text.lower()
    assert data(hardened.post("{ viewer { __typename } }")) == {"viewer": {"__typename": "Viewer"}}


def test_introspection_is_on_for_partners_and_never_without_a_key(gateway: Gateway) -> None:
    introspect = "{ __schema { queryType { name } } }"
    assert data(gateway.post(introspect)) == {"__schema": {"queryType": {"name": "Query"}}}
    refused = gateway.post(introspect, key=None)
    assert_coded(refused, 401, "UNAUTHENTICATED")
    assert "__schema" not in refused.text and "Query" not in refused.text


# -- content types and bodies ------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/jsonp",
        "application/json; charset=latin-1",
        "application/json; boundary=x",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ],
)
def test_only_json_bodies_are_read(hardened: Gateway, content_type: str) -> None:
    response = hardened.request(
        "POST",
        "/graphql",
        headers={
            "Authorization": f"Bearer {hardened.keys['org1']}",
            "Content-Type": content_type,
        },
        content=json.dumps({"query": VIEWER}),
    )
    assert_coded(response, 415, "BAD_REQUEST")


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", 'Application/JSON; charset="UTF-8"']
)
def test_json_with_a_utf8_charset_is_fine(hardened: Gateway, content_type: str) -> None:
    response = hardened.post(VIEWER, headers={"Content-Type": content_type})
    assert data(response)["viewer"]["company"]["name"] == "Acme Learning"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ viewer { company { name } } }\x00", "GRAPHQL_PARSE_FAILED"),
        ("{ viewer { " + " ".join(f"a{i}: company {{ name }}" for i in range(40)) + " } }", None),
        (
            "{ viewer { "
            + " ".join(
                f"a{i}: company @include(if: true) @skip(if: false) {{ name }}" for i in range(25)
            )
            + " } }",
            None,
        ),
        ("{ viewer " + "{ company " * 1000 + "{ name }" + " }" * 1001, "GRAPHQL_PARSE_FAILED"),
    ],
    ids=["null byte", "alias flood", "directive flood", "deep nesting"],
)
def test_hostile_documents_are_refused_before_any_backend_call(
    hardened: Gateway, backend: SampleBackend, query: str, code: str | None
) -> None:
    response = hardened.post(query)
    assert_coded(response, 400, code or "GRAPHQL_VALIDATION_FAILED")
    assert backend.recorded_requests() == []
    assert assert_one_ledger_row(hardened, response)["outcome"] == "rejected"


def test_huge_variables_are_413(hardened: Gateway) -> None:
    huge = {"search": "x" * 2_000_000}
    response = hardened.post(
        "query($search: String) { badges(search: $search) { totalCount } }", huge
    )
    assert_coded(response, 413, "BAD_REQUEST")


def test_deeply_nested_variables_are_refused_not_recursed_into(hardened: Gateway) -> None:
    body = '{"query": "{ viewer { company { name } } }", "variables": {"x": %s}}' % (
        "[" * 5000 + "]" * 5000
    )
    response = hardened.request(
        "POST",
        "/graphql",
        headers={
            "Authorization": f"Bearer {hardened.keys['org1']}",
            "Content-Type": "application/json",
        },
        content=body,
    )
    assert_coded(response, 400, "BAD_REQUEST")
    assert_one_ledger_row(hardened, response)


def test_a_body_that_never_finishes_arriving_is_refused_at_the_deadline(
    hardened: Gateway,
) -> None:
    host, port = hardened.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        client.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {hardened.keys['org1']}\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n"
            + b'{"query": "{ viewer'  # ...and the rest never comes
        )
        started = time.monotonic()
        answer = read_response(client)
    assert answer.startswith("HTTP/1.1 408"), answer[:80]
    assert time.monotonic() - started < 5  # the 1 s deadline, not a socket timeout
    assert '"code":"BAD_REQUEST"' in answer and "x-request-id" in answer.lower()


# -- backend faults ----------------------------------------------------------------------


def test_a_request_past_its_deadline_is_a_coded_504_and_billed_nothing(
    hardened: Gateway, backend: SampleBackend
) -> None:
    backend.inject_fault("delay", path="/api/v1/badges/", count=1, delay_ms=3000)
    started = time.monotonic()
    response = hardened.post("{ badges { totalCount } }")
    elapsed = time.monotonic() - started
    assert_coded(response, 504, "GATEWAY_TIMEOUT")
    assert elapsed < 2.5  # the deadline (1 s), not the backend's 3 s
    cost = response.json()["extensions"]["cost"]
    assert cost["actualQueryCost"] == cost["requestedQueryCost"] > 0  # stays spent: no refund
    row = assert_one_ledger_row(hardened, response)
    assert (row["outcome"], row["billable_cost"]) == ("timeout", 0)
    # The cancelled attempt counted against the circuit (one of two); a success resets it.
    assert data(hardened.post("{ badges { totalCount } }"))["badges"]["totalCount"] > 0
    # The backend still finishes the abandoned call, late: wait for it, or it would land
    # in the next test's recorded requests.
    deadline = time.monotonic() + 10
    while len(badge_calls(backend)) < 2:
        assert time.monotonic() < deadline, "the delayed call never finished"
        time.sleep(0.05)


def test_a_failing_backend_opens_the_circuit_and_it_recovers_by_itself(
    hardened: Gateway, backend: SampleBackend
) -> None:
    backend.inject_fault("error_html", path="/api/v1/badges/", count=-1, status=503)
    first = hardened.post("{ badges { totalCount } }")
    assert error_codes(first) == ["BACKEND_UNAVAILABLE"]
    reached = len(badge_calls(backend))
    assert reached == 2  # two failures open the circuit: the third attempt is not sent
    refused = [hardened.post("{ badges { totalCount } }") for _ in range(5)]
    assert all(error_codes(r) == ["BACKEND_UNAVAILABLE"] for r in refused)
    assert all(r.json()["errors"][0]["extensions"]["retryAfter"] == 1 for r in refused)
    assert len(badge_calls(backend)) == reached  # the backend was left alone
    for response in [first, *refused]:
        body = without_request_id(response)  # a random ID may well contain "503"
        assert "503" not in body and "<html" not in body.lower()
        assert_one_ledger_row(hardened, response)

    ready = hardened.request("GET", "/readyz")  # still routable: it answers coded errors
    assert (ready.status_code, ready.json()["checks"]) == (
        200,
        {"storage": "ok", "backend": "unavailable"},
    )

    backend.clear_faults()
    deadline = time.monotonic() + 10
    while True:  # one probe after 0.5 s closes the circuit; poll for it, bounded
        recovered = hardened.post("{ badges { totalCount } }")
        if "errors" not in recovered.json() or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert data(recovered)["badges"]["totalCount"] > 0


def test_a_throttling_backend_passes_its_retry_after_on(
    hardened: Gateway, backend: SampleBackend
) -> None:
    backend.inject_fault("throttle", path="/api/v1/badges/", count=1, retry_after=30)
    response = hardened.post("{ badges { totalCount } }")
    assert error_codes(response) == ["BACKEND_UNAVAILABLE"]
    assert response.json()["errors"][0]["extensions"]["retryAfter"] == 30
    assert len(badge_calls(backend)) == 1  # 30 s is past the retry cap: not retried
    assert_one_ledger_row(hardened, response)
    assert data(hardened.post("{ badges { totalCount } }"))["badges"]["totalCount"] > 0


def test_malformed_json_from_the_backend_is_a_coded_error_without_the_body(
    hardened: Gateway, backend: SampleBackend
) -> None:
    backend.inject_fault("malformed_json", path="/api/v1/badges/", count=1)
    response = hardened.post("{ badges { totalCount } }")
    assert error_codes(response) == ["BACKEND_UNAVAILABLE"]
    assert "JSON" not in response.text and "Expecting" not in response.text
    assert_one_ledger_row(hardened, response)
    assert data(hardened.post("{ badges { totalCount } }"))["badges"]["totalCount"] > 0


def test_a_jwt_revoked_mid_flight_is_renewed_without_the_partner_noticing(
    hardened: Gateway, backend: SampleBackend
) -> None:
    hardened.post("{ badges { totalCount } }")  # the gateway holds an access token
    backend.revoke_tokens(refresh=True)  # as if it expired: the backend answers 401
    response = hardened.post("{ badges { totalCount } }")
    assert data(response)["badges"]["totalCount"] > 0
    statuses = [r["status"] for r in badge_calls(backend)]
    assert statuses[-2:] == [401, 200]
    assert assert_one_ledger_row(hardened, response)["backend_calls"] >= 2


def test_with_redis_down_partners_are_still_served_and_metered(
    hardened_backend: SampleBackend, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = f"redis://127.0.0.1:{probe.getsockname()[1]}/0"  # closed: nothing listens
    with running_gateway(hardened_backend, tmp_path, redis_url=refused) as gateway:
        response = gateway.post(VIEWER)
        assert data(response)["viewer"]["company"]["name"] == "Acme Learning"
        assert response.json()["extensions"]["cost"]["actualQueryCost"] >= 1
        assert assert_one_ledger_row(gateway, response)["outcome"] == "ok"
        assert "redis unavailable" in gateway.log_text()
