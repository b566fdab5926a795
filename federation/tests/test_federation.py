"""The partner gateway behind a real federation router (Hive Gateway), with a second subgraph.

``make federation-test`` runs this (CI too, after ``make test``): it needs the npm packages
of ``federation/package-lock.json``, so it stays out of the quick ``make test`` loop.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.api_keys import generate_api_key
from federation.demo import SPANNING_QUERY
from federation.stack import FederationStack
from tests.fixtures.gateway import clear_of_window_edge

FAILURE_LIMIT = 3
FAILURE_WINDOW = 3600  # counts restart on the hour: clear_of_window_edge keeps a burst in one
ROUTER_MAX_COST = 500  # the router's; the gateway's own plan allows this company far more


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederationStack]:
    with FederationStack(
        tmp_path_factory.mktemp("federation"),
        gateway_settings={
            "auth_failure_limit": str(FAILURE_LIMIT),
            "auth_failure_window": str(FAILURE_WINDOW),
        },
        router_max_cost=ROUTER_MAX_COST,
    ) as stack:
        yield stack


def _post(
    stack: FederationStack,
    query: str,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    sent = {"Content-Type": "application/json"}
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    sent.update(headers or {})
    return (client or httpx.Client(timeout=30)).post(
        stack.router_url, content=json.dumps({"query": query}), headers=sent
    )


def _eventually(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, f"not within {timeout} s"
        time.sleep(0.05)
    return found


def test_a_query_across_both_subgraphs_is_authenticated_metered_and_ledgered_at_the_gateway(
    stack: FederationStack,
) -> None:
    request_id = f"fed-{uuid.uuid4().hex[:12]}"
    response = _post(
        stack, SPANNING_QUERY, key=stack.partner_key, headers={"X-Request-ID": request_id}
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body

    # Badges from the partner gateway, their paths from the learning-paths subgraph...
    badges = body["data"]["badges"]["nodes"]
    assert [b["id"] for b in badges] == ["1", "2", "3"]
    assert {p["name"] for p in badges[0]["learningPaths"]} == {
        "Data foundations",
        "Joint programme",
    }
    # ...and a path from the learning-paths subgraph, its badges through the partner
    # gateway's _entities.
    path = body["data"]["learningPath"]
    assert [b["id"] for b in path["badges"]] == ["2", "4", "5"]
    assert all(b["name"] for b in path["badges"])

    # One request ID end to end: the router kept the partner's, and the gateway used it.
    assert response.headers["x-request-id"] == request_id
    rows = stack.ledger_rows(request_id)
    # Two operations reached the gateway: `badges`, then `_entities` for the paths' badges.
    assert len(rows) == 2, rows
    assert {row["outcome"] for row in rows} == {"ok"}
    assert {row["operation_type"] for row in rows} == {"query"}
    assert all(row["actual_cost"] > 0 and row["key_id"] for row in rows)
    # The gateway's RateLimit headers reach the partner through the router.
    assert response.headers["ratelimit-policy"].startswith('"cost";q=')
    assert response.headers["ratelimit"].startswith('"cost";r=')

    log = stack.child("partner-gateway")
    lines = _eventually(
        lambda: [
            json.loads(line)
            for line in log.log_text().splitlines()
            if f'"request_id":"{request_id}"' in line and '"event":"request"' in line
        ]
    )
    assert sorted(line["cost"] for line in lines) == sorted(row["actual_cost"] for row in rows)
    assert {line["company"] for line in lines} == {"Acme Learning"}


def test_another_organizations_entity_is_null_through_the_router(stack: FederationStack) -> None:
    request_id = f"fed-{uuid.uuid4().hex[:12]}"
    query = '{ learningPath(id: "lp-joint") { name badges { id name } } }'
    response = _post(stack, query, key=stack.partner_key, headers={"X-Request-ID": request_id})
    body = response.json()
    # Badge 33 is organization 2's: the partner gateway's _entities answers null for it, and
    # the router nulls the item (Badge.name is non-null) with a masked error, nothing more.
    assert body["data"]["learningPath"]["badges"][0]["id"] == "1"
    assert body["data"]["learningPath"]["badges"][1] is None
    assert [e["path"] for e in body["errors"]] == [["learningPath", "badges", 1, "name"]]
    assert body["errors"][0]["message"] == "Unexpected error."
    rows = stack.ledger_rows(request_id)
    # One _entities call for both representations, each a slot of the list it answers.
    assert [(row["outcome"], row["actual_cost"]) for row in rows] == [("ok", 2)]


def test_the_router_estimates_cost_from_the_directives_and_refuses_above_its_maximum(
    stack: FederationStack,
) -> None:
    cheap = _post(stack, "{ viewer { company { name } } }", key=stack.partner_key)
    # @cost(weight: 0) on viewer: the router read it (1 for Company, 1 for Viewer's object).
    assert cheap.json()["extensions"]["cost"] == {"estimated": 2, "max": ROUTER_MAX_COST}

    request_id = f"fed-{uuid.uuid4().hex[:12]}"
    # 100 credentials (`first` is the connection's slicing argument), each with a badge and
    # its 5 skills (@listSize(assumedSize: 5)): about 700 points, over the router's 500...
    dear = "{ credentials(first: 100) { nodes { badge { skills { name } } } } }"
    refused = _post(stack, dear, key=stack.partner_key, headers={"X-Request-ID": request_id})
    body = refused.json()
    assert body["errors"][0]["extensions"]["code"] == "COST_ESTIMATED_TOO_EXPENSIVE", body
    assert body["extensions"]["cost"]["estimated"] > ROUTER_MAX_COST
    # ...refused by the router before any subgraph was called: nothing reached the gateway.
    assert stack.ledger_rows(request_id) == []


def test_the_partner_key_is_required_and_checked_by_the_gateway(stack: FederationStack) -> None:
    for key in (None, generate_api_key().key):
        response = _post(stack, "{ badges(first: 1) { nodes { id } } }", key=key)
        errors = response.json()["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
        assert errors[0]["extensions"]["requestId"] == response.headers["x-request-id"]
    # The learning-paths subgraph alone needs no key: the router does not make one up.
    assert _post(stack, "{ learningPaths { name } }").json()["data"]["learningPaths"]


def test_through_the_router_each_partner_address_has_its_own_failed_auth_limit(
    stack: FederationStack,
) -> None:
    # Two "partners" on two loopback addresses, both through the one router: the gateway
    # counts the address the router forwards (proven by the router secret), not the router's.
    guesser = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.7"), timeout=30)
    other = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.8"), timeout=30)
    query = "{ viewer { company { name } } }"
    clear_of_window_edge(FAILURE_WINDOW)
    try:
        for n in range(FAILURE_LIMIT):
            spoof = {"X-Forwarded-For": f"198.51.100.{n}"}  # the router ignores it
            codes = _codes(
                _post(stack, query, key=generate_api_key().key, headers=spoof, client=guesser)
            )
            assert codes == ["UNAUTHENTICATED"]
        blocked = _post(stack, query, key=stack.partner_key, client=guesser)
        assert _codes(blocked) == ["TOO_MANY_FAILED_AUTHENTICATIONS"]
        assert blocked.headers.get("retry-after")
        fine = _post(stack, query, key=stack.partner_key, client=other)
        assert fine.json()["data"]["viewer"]["company"]["name"] == "Acme Learning"
    finally:
        guesser.close()
        other.close()
    assert stack.router_secret not in stack.child("partner-gateway").log_text()


def test_a_router_behind_a_load_balancer_forwards_the_address_the_balancer_appended(
    stack: FederationStack,
) -> None:
    # ROUTER_BEHIND_LOAD_BALANCER=1: the router's peer is the balancer, and the last entry
    # of X-Forwarded-For (the one the balancer appended) is the partner's address.
    router_url = stack.start_router("hive-gateway-behind-lb", {"ROUTER_BEHIND_LOAD_BALANCER": "1"})
    query = "{ viewer { company { name } } }"
    with httpx.Client(timeout=30) as balancer:

        def post(key: str, forwarded: str) -> httpx.Response:
            return balancer.post(
                router_url,
                json={"query": query},
                headers={"Authorization": f"Bearer {key}", "X-Forwarded-For": forwarded},
            )

        clear_of_window_edge(FAILURE_WINDOW)
        for n in range(FAILURE_LIMIT):
            # What the partner wrote comes first; the balancer's entry last.
            guess = post(generate_api_key().key, f"10.9.9.{n}, 203.0.113.77")
            assert _codes(guess) == ["UNAUTHENTICATED"]
        assert _codes(post(stack.partner_key, "203.0.113.77")) == [
            "TOO_MANY_FAILED_AUTHENTICATIONS"
        ]
        fine = post(stack.partner_key, "203.0.113.77, 203.0.113.78")
        assert fine.json()["data"]["viewer"]["company"]["name"] == "Acme Learning"


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def test_the_supergraph_carries_the_cost_directives_for_demand_control(
    stack: FederationStack,
) -> None:
    supergraph = stack.supergraph_path.read_text()
    assert "viewer: Viewer! @join__field(graph: PARTNER) @cost(weight: 0)" in supergraph
    assert '@listSize(slicingArguments: ["first"], sizedFields: ["edges", "nodes"])' in supergraph
    assert (
        "learningPaths: [LearningPath!]! @join__field(graph: LEARNING) @listSize(assumedSize: 3)"
        in supergraph
    )


def test_the_demo_runs_every_step_and_prints_a_curl_to_the_router(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # `make federation-demo FEDERATION_ARGS=--once`: its own processes, stopped at the end.
    directory = tmp_path_factory.mktemp("federation-demo")
    done = subprocess.run(
        [sys.executable, "-m", "federation.demo", "--once", "--dir", str(directory)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout
    assert [f"[{n}/7]" in output for n in range(1, 8)] == [True] * 7
    assert '"name": "Cloud practitioner"' in output
    assert output.count("  ledger: company ") == 2 and "outcome ok" in output
    assert output.count("  access log: {") == 2
    assert re.search(r"curl -sS http://127\.0\.0\.1:\d+/graphql \\\n", output)
    assert "Authorization: Bearer cgw_" in output
    # Everything it started was stopped: no process left whose command line or environment
    # names its directory (Hive Gateway's supergraph, the gateway's database are in it).
    assert _processes_naming(str(directory)) == []


def _processes_naming(text: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            blob = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if text.encode() in blob:
            found.append(int(proc.name))
    return found
