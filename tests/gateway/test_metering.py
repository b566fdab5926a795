"""Cost accounting and throttling, seen by a partner over HTTP."""

from __future__ import annotations

import json
import re
import subprocess

from tests.fixtures.gateway import GATEWAY_BIN, Gateway, data, error_codes
from tests.fixtures.sample_backend import SampleBackend

PAGE = "query($n: Int) { credentials(first: $n) { totalCount nodes { id badge { name } } } }"
EXPENSIVE = """{ credentials(first: 100) {
    edges { node { badge { skills { name } } } } nodes { badge { skills { name } } } } }"""


def _calls(backend: SampleBackend, request_id: str) -> list[object]:
    return [r for r in backend.recorded_requests() if r["request_id"] == request_id]


def test_every_response_reports_its_cost_and_rate_limit(gateway: Gateway) -> None:
    response = gateway.post(PAGE, {"n": 20}, key="org2")
    cost = response.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 + 20 * (1 + 1)
    assert 0 < cost["actualQueryCost"] <= cost["requestedQueryCost"]
    status = cost["throttleStatus"]
    assert status["maximumAvailable"] == 2000 and status["restoreRate"] == 100.0
    assert response.headers["ratelimit-policy"] == '"cost";q=2000;w=20'
    assert re.fullmatch(r'"cost";r=\d+;t=\d+', response.headers["ratelimit"])


def test_actual_cost_counts_what_came_back(gateway: Gateway) -> None:
    result = gateway.post(
        '{ badges(first: 100, search: "no such badge anywhere") { nodes { id } } }'
    )
    cost = result.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 101
    assert cost["actualQueryCost"] == 1  # the connection itself; no badge came back


def test_an_operation_above_the_plans_maximum_is_refused_before_any_backend_call(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    response = gateway.post(EXPENSIVE, key="org2", headers={"X-Request-ID": "too-dear"})
    assert response.status_code == 400
    assert error_codes(response) == ["COST_LIMIT_EXCEEDED"]
    assert "1501" in response.json()["errors"][0]["message"]
    assert response.json()["extensions"]["cost"]["requestedQueryCost"] == 1501
    assert _calls(gateway_backend, "too-dear") == []


def test_an_empty_bucket_gives_429_with_retry_after_and_no_backend_call(
    gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    query = "{ credentials(first: 68) { nodes { badge { skills { name } } } } }"  # 477 points
    first = gateway.post(query, key="org3")
    assert data(first)
    throttled = gateway.post(query, key="org3", headers={"X-Request-ID": "throttled-1"})
    assert throttled.status_code == 429
    assert error_codes(throttled) == ["THROTTLED"]
    assert int(throttled.headers["retry-after"]) >= 1
    cost = throttled.json()["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 477 and cost["actualQueryCost"] is None
    assert cost["throttleStatus"]["currentlyAvailable"] < 477
    assert _calls(gateway_backend, "throttled-1") == []

    # Reading the bucket is free, so a throttled partner can still look.
    status = data(
        gateway.post(
            "{ viewer { rateLimit { maximumAvailable currentlyAvailable restoreRate maxOperationCost }"
            " quota { limit used remaining resetsAt } } }",
            key="org3",
        )
    )["viewer"]
    assert status["rateLimit"]["maximumAvailable"] == 500
    assert status["rateLimit"]["currentlyAvailable"] < 477
    assert status["rateLimit"]["maxOperationCost"] == 500
    assert status["quota"]["limit"] == 100_000
    assert status["quota"]["used"] == first.json()["extensions"]["cost"]["actualQueryCost"]
    assert status["quota"]["remaining"] == 100_000 - status["quota"]["used"]


def test_cost_debug_header_lists_each_fields_cost(gateway: Gateway) -> None:
    response = gateway.post(PAGE, {"n": 5}, headers={"X-Cost-Debug": "fields"})
    fields = {
        f["path"]: f["requestedCost"] for f in response.json()["extensions"]["cost"]["fields"]
    }
    assert fields["credentials"] == 11
    assert fields["credentials.nodes.badge"] == 1
    assert "fields" not in gateway.post(PAGE, {"n": 5}).json()["extensions"]["cost"]


def test_operation_limits_refuse_alias_floods(gateway: Gateway) -> None:
    aliases = " ".join(f"a{i}: name" for i in range(31))
    response = gateway.post("{ viewer { company { " + aliases + " } } }")
    assert error_codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "31 aliases" in response.json()["errors"][0]["message"]
    # The partner schema's deepest path is 6 levels, below the depth limit of 12:
    assert data(gateway.post("{ credentials { edges { node { badge { skills { name } } } } } }"))


def test_a_company_override_sets_its_quota_and_an_exhausted_quota_is_refused(
    gateway: Gateway,
) -> None:
    gateway.cli("companies", "create", "--name", "Quota Co", "--organization-id", "3")
    changed = gateway.cli(
        "companies", "set-plan", "Quota Co", "free", "--override", "monthly_quota=30"
    )
    assert '"monthly_quota": 30' in changed.stdout
    issued = gateway.cli("keys", "issue", "--company", "Quota Co", "--json")
    gateway.keys["quota"] = json.loads(issued.stdout)["key"]
    query = "{ credentials(first: 20) { nodes { id } } }"  # 21 points
    assert data(gateway.post(query, key="quota"))
    refused = gateway.post(query, key="quota")
    assert refused.status_code == 429
    assert error_codes(refused) == ["QUOTA_EXCEEDED"]
    assert int(refused.headers["retry-after"]) > 0
    quota = data(gateway.post("{ viewer { quota { limit used remaining } } }", key="quota"))
    assert quota["viewer"]["quota"] == {"limit": 30, "used": 21, "remaining": 9}


def test_set_plan_refuses_bad_overrides(gateway: Gateway) -> None:
    for bad in ("colour=gold", "monthly_quota=lots", "bucket_capacity=-5", "price_per_1000=x"):
        done = subprocess.run(
            [GATEWAY_BIN, "companies", "set-plan", "Tiny Co", "free", "--override", bad],
            env=gateway.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode != 0, bad
        assert "override" in done.stderr
