"""The benchmark's scenarios: what the gateway and the baseline proxy are each sent.

Each scenario makes the same backend calls through both (the baseline's routes are in
``bench/baseline_proxy.py``); the invalid key has no baseline::

    for scenario in SCENARIOS:
        print(scenario.key, scenario.name, scenario.baseline_path)
        script = scenario.gateway_script(api_key="cgw_...", run_prefix="r1")
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from bench.harness.wrk import UNIQUE, LoadScript

__all__ = ["INVALID_KEY", "ISSUE", "ONE_BADGE", "SCENARIOS", "Scenario", "Target"]


@dataclass(frozen=True)
class Target:
    """What the gateway must reach against the baseline in a scenario (issue 7)."""

    min_ratio: float  # gateway requests/s over baseline requests/s
    max_p99_extra_ms: float | None = None  # gateway p99 minus baseline p99

    def describe(self) -> str:
        text = f">= {self.min_ratio:.2f}x baseline req/s"
        if self.max_p99_extra_ms is not None:
            text += f", p99 <= baseline + {self.max_p99_extra_ms:g} ms"
        return text


_ISSUE_MUTATION = (
    "mutation BenchIssue($input: IssueCredentialInput!) { issueCredential(input: $input)"
    " { credential { id status } userErrors { field message code } } }"
)


@dataclass(frozen=True)
class Scenario:
    key: str
    name: str
    backend_calls: int
    query: str
    variables: dict[str, object] | None = None
    baseline_path: str | None = None
    baseline_body: str | None = None  # default: the gateway's body
    invalid_key: bool = False
    expected_status: int = 200
    marker: str = '"data"'  # every good answer contains it (smoke runs check)
    target: Target | None = None

    @property
    def gateway_body(self) -> str:
        body: dict[str, object] = {"query": self.query}
        if self.variables is not None:
            body["variables"] = self.variables
        return json.dumps(body, separators=(",", ":"))

    def gateway_script(
        self, api_key: str, run_prefix: str, *, check: bool = False, stop_after: int | None = None
    ) -> LoadScript:
        return LoadScript(
            body=self.gateway_body,
            headers={"Authorization": f"Bearer {api_key}"},
            run_prefix=run_prefix,
            check=check,
            check_marker=self.marker,
            stop_after=stop_after,
        )

    def baseline_script(self, run_prefix: str, *, check: bool = False) -> LoadScript:
        return LoadScript(
            body=self.baseline_body if self.baseline_body is not None else self.gateway_body,
            run_prefix=run_prefix,
            check=check,
            check_marker=self.marker,
        )

    def concrete_body(self, body: str, unique: str) -> str:
        """A body as wrk would send it, for a one-off request (the preflight check)."""
        return body.replace(UNIQUE, unique)


ONE_BADGE = Scenario(
    key="badge",
    name="one badge",
    backend_calls=1,
    query='{ badge(id: "1") { id name status level } }',
    baseline_path="/badge",
    marker='"badge":{"id":',
    target=Target(min_ratio=0.5, max_p99_extra_ms=10.0),
)


def _page(first: int, target: Target | None) -> Scenario:
    return Scenario(
        key=f"credentials{first}",
        name=f"page of {first} credentials",
        backend_calls=2,
        query=f"{{ credentials(first: {first}) {{ nodes {{ id status badge {{ name }} }} }} }}",
        baseline_path=f"/credentials?first={first}",
        marker='"nodes":[{"id":"',
        target=target,
    )


ISSUE = Scenario(
    key="issue",
    name="issueCredential",
    backend_calls=2,
    query=_ISSUE_MUTATION,
    variables={
        "input": {
            "badgeId": "1",
            "recipient": {"email": f"bench-{UNIQUE}@example.com"},
            "idempotencyKey": f"bench-{UNIQUE}",
        }
    },
    baseline_path="/issue",
    baseline_body=json.dumps(
        {"badge": 1, "email": f"bench-{UNIQUE}@example.com", "idempotencyKey": f"bench-{UNIQUE}"}
    ),
    marker='"userErrors":[]',
)

INVALID_KEY = Scenario(
    key="invalid_key",
    name="invalid key (401)",
    backend_calls=0,
    query='{ badge(id: "1") { id name status level } }',
    invalid_key=True,
    expected_status=401,
    marker='"UNAUTHENTICATED"',
)

# issueCredential grows the sample backend's store, so it runs after the reads.
SCENARIOS: tuple[Scenario, ...] = (
    ONE_BADGE,
    _page(20, None),
    _page(100, Target(min_ratio=0.35)),
    ISSUE,
    INVALID_KEY,
)
