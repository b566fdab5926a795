"""The HTTP surface: keys, request IDs, coded errors, explorer, SDL, probes, backend faults."""

from __future__ import annotations

import re

from graphql import build_schema

from tests.fixtures.gateway import Gateway, data, error_codes
from tests.fixtures.sample_backend import SampleBackend

VIEWER = "{ viewer { company { name } } }"


def test_a_missing_key_is_401_with_a_graphql_shaped_body(gateway: Gateway) -> None:
    response = gateway.post(VIEWER, key=None)
    assert response.status_code == 401
    [error] = response.json()["errors"]
    assert error["extensions"] == {
        "code": "UNAUTHENTICATED",
        "requestId": response.headers["x-request-id"],
    }
    assert "Authorization: Bearer" in error["message"]


def test_malformed_and_unknown_keys_are_401_without_echoing_them(gateway: Gateway) -> None:
    real = gateway.keys["org1"]
    forged = real[:-8] + ("A" if real[-8] != "A" else "B") + real[-7:]
    bads = ("nonsense", forged, "cgw_" + "a" * 12 + "_" + "b" * 38)
    for bad in bads:
        response = gateway.post(VIEWER, key=None, headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401
        assert error_codes(response) == ["UNAUTHENTICATED"]
        assert bad not in response.text
        gateway.access_line(response.headers["x-request-id"])  # all it logs is written
    log = gateway.log_text()
    assert not [bad for bad in bads if bad in log]


def test_the_x_api_key_header_works_too(gateway: Gateway) -> None:
    response = gateway.post(VIEWER, key=None, headers={"X-API-Key": gateway.keys["org2"]})
    assert data(response)["viewer"]["company"]["name"] == "Globex Academy"


def test_one_request_id_in_the_header_the_errors_the_backend_call_and_the_log(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    response = gateway.post(
        '{ badge(id: "999999999") { id } }', headers={"X-Request-ID": "trace-me-123"}
    )
    assert response.headers["x-request-id"] == "trace-me-123"
    assert response.json()["errors"][0]["extensions"]["requestId"] == "trace-me-123"
    assert any(r["request_id"] == "trace-me-123" for r in gateway_backend.recorded_requests())
    assert gateway.access_line("trace-me-123")["status"] == 200


def test_an_unsafe_request_id_is_replaced(gateway: Gateway) -> None:
    response = gateway.post(VIEWER, headers={"X-Request-ID": "bad id <script>" + "x" * 200})
    assert re.fullmatch(r"[0-9A-Z]{26}", response.headers["x-request-id"])


def test_bad_bodies_get_coded_errors(gateway: Gateway) -> None:
    auth = {"Authorization": f"Bearer {gateway.keys['org1']}"}
    cases = [
        ({"Content-Type": "application/json"}, b"{not json", 400, "BAD_REQUEST"),
        ({"Content-Type": "application/json"}, b"\xff\xfe", 400, "BAD_REQUEST"),
        (
            {"Content-Type": "application/json"},
            b'[{"query": "{ viewer { company { name } } }"}]',
            400,
            "BAD_REQUEST",
        ),
        ({"Content-Type": "application/json"}, b'{"variables": {}}', 400, "BAD_REQUEST"),
        (
            {"Content-Type": "text/plain"},
            b'{"query": "{ viewer { company { name } } }"}',
            415,
            "BAD_REQUEST",
        ),
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"query=x", 415, "BAD_REQUEST"),
    ]
    for headers, body, status, code in cases:
        response = gateway.request("POST", "/graphql", headers={**auth, **headers}, content=body)
        assert response.status_code == status, body
        assert error_codes(response) == [code]
        assert (
            response.json()["errors"][0]["extensions"]["requestId"]
            == response.headers["x-request-id"]
        )


def test_parse_and_validation_failures_have_their_codes_and_no_suggestions(
    gateway: Gateway,
) -> None:
    parse = gateway.post("{ viewer { ")
    assert parse.status_code == 400 and error_codes(parse) == ["GRAPHQL_PARSE_FAILED"]
    invalid = gateway.post("{ badgez { id } }")
    assert invalid.status_code == 400 and error_codes(invalid) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Did you mean" not in invalid.text
    variables = gateway.post("query($n: Int!) { badges(first: $n) { totalCount } }", {"n": "many"})
    assert error_codes(variables) == ["BAD_USER_INPUT"]
    enum = gateway.post(
        "query($s: BadgeStatus) { badges(status: $s) { totalCount } }", {"s": "PUBLISHE"}
    )
    assert error_codes(enum) == ["BAD_USER_INPUT"]
    assert "Did you mean" not in enum.text
    misspelt = gateway.post(
        "mutation($in: IssueCredentialInput!) { issueCredential(input: $in) { credential { id } } }",
        {"in": {"badgeId": "1", "recipient": {"email": "a@example.com"}, "evidenceURL": "x"}},
    )
    assert error_codes(misspelt) == ["BAD_USER_INPUT"]
    assert "evidenceURL" in misspelt.text and "Did you mean" not in misspelt.text


def test_graphiql_loads_in_a_browser_without_a_key(gateway: Gateway) -> None:
    response = gateway.request("GET", "/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text  # a 503 page says how to build it
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Partner API explorer</title>" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # GraphiQL itself, its header default and examples: tests/gateway/test_explorer*.py


def test_get_without_html_is_refused_with_a_coded_error(gateway: Gateway) -> None:
    response = gateway.request("GET", "/graphql", params={"query": VIEWER})
    assert response.status_code == 405
    assert error_codes(response) == ["BAD_REQUEST"]
    assert response.headers["allow"] == "POST"  # queries over GET are off by default


def test_the_published_sdl_is_the_clean_partner_schema_fully_described(gateway: Gateway) -> None:
    response = gateway.request("GET", "/graphql/schema.graphql")
    assert response.status_code == 200
    sdl = response.text
    assert "_entities" not in sdl and "@link" not in sdl and "_Any" not in sdl
    schema = build_schema(sdl)
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        assert type_.description, f"type {name} has no description"
        for field_name, field in getattr(type_, "fields", {}).items():
            assert field.description, f"{name}.{field_name} has no description"
            for arg_name, arg in getattr(field, "args", {}).items():
                assert arg.description, f"{name}.{field_name}({arg_name}) has no description"
    query_fields = set(schema.query_type.fields) if schema.query_type else set()
    assert {
        "viewer",
        "badge",
        "badges",
        "credential",
        "credentials",
        "verifyCredential",
    } <= query_fields


def test_the_subgraph_sdl_carries_the_federation_keys(gateway: Gateway) -> None:
    sdl = gateway.request("GET", "/graphql/subgraph.graphql").text
    for entity in ("Badge", "Credential", "Organization"):
        assert re.search(rf'type {entity} @key\(fields: "id"\)', sdl)
    service = data(gateway.post("{ _service { sdl } }"))
    assert '@key(fields: "id")' in service["_service"]["sdl"]


def test_probes(gateway: Gateway) -> None:
    assert gateway.request("GET", "/healthz").json() == {"status": "ok"}
    ready = gateway.request("GET", "/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"storage": "ok", "backend": "ok"}


def test_a_failing_backend_gives_a_coded_error_without_its_body(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    gateway_backend.inject_fault("error_html", path="/api/v1/badges/", count=-1, status=503)
    try:
        response = gateway.post("{ badges { totalCount } }")
    finally:
        gateway_backend.clear_faults()
    assert error_codes(response) == ["BACKEND_UNAVAILABLE"]
    body = response.text.replace(response.headers["x-request-id"], "")  # random: may hold 503
    assert "<html" not in body.lower() and "503" not in body


def test_a_slow_backend_gives_backend_timeout(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    gateway_backend.inject_fault("delay", path="/api/v1/badges/", count=1, delay_ms=3000)
    try:
        response = gateway.post("{ badges { totalCount } }")
    finally:
        gateway_backend.clear_faults()
    assert error_codes(response) == ["BACKEND_TIMEOUT"]
