"""Executing the partner schema as Strawberry builds it, and as the gateway serves it.

The gateway's side runs ``server.executor``'s executor over a schema with
``server.direct_resolvers`` installed; the other side is graphql-core's executor over
Strawberry's schema as built.

In process, no HTTP and no backend: the resolvers get a stub API that answers at once
with the sample backend's own seed data, so what is timed is execution alone (resolvers,
Strawberry's wrappers, graphql-core). Rounds alternate between the two executors and the
medians of CPU time per execution are printed with their ratio::

    .venv/bin/python -m bench.executor --rounds 7
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from graphql import ExecutionResult, GraphQLSchema, execute, parse, validate

from auth.principal import Principal
from backend.api import CredentialsApi
from resolvers.context import RequestContext
from sample_backend.data import build_seed
from sample_backend.serializers import badge_repr, credential_repr
from schema.partner_schema import build_schema
from server.direct_resolvers import install as install_direct_resolvers
from server.executor import GatewayExecutor, executor_for
from settings import Settings

QUERIES = {
    "one badge": ('{ badge(id: "1") { id name status level } }', 2000),
    "page of 100 credentials": (
        "{ credentials(first: 100) { nodes { id status badge { name } } } }",
        150,
    ),
}
PRINCIPAL = Principal(
    company_id="bench",
    company_name="Bench Learning",
    organization_id=1,
    plan="enterprise",
    key_id="bench",
    scopes=frozenset({"read"}),
)


class StubApi:
    """The two calls these queries make, answered from the seed without I/O."""

    def __init__(self) -> None:
        seed = build_seed()
        self._badges = {b.id: badge_repr(b) for b in seed.badges if b.organization == 1}
        self._credentials = [credential_repr(c) for c in seed.credentials if c.organization == 1][
            :100
        ]

    async def list_badges(self, *, ids: list[int], **_: Any) -> dict[str, Any]:
        found = [self._badges[i] for i in ids if i in self._badges]
        return {"count": len(found), "results": found}

    async def list_credentials(self, *, page_size: int, **_: Any) -> dict[str, Any]:
        return {"count": 1000, "results": self._credentials[:page_size]}


async def _time(
    schema: GraphQLSchema,
    query: str,
    executor: type[GatewayExecutor] | None,
    api: Any,
    settings: Settings,
    runs: int,
) -> float:
    document = parse(query)
    assert validate(schema, document) == []
    started = time.process_time()
    for _ in range(runs):
        context = RequestContext(PRINCIPAL, api, settings, meter=None)  # type: ignore[arg-type]
        result = execute(schema, document, context_value=context, executor_class=executor)
        if not isinstance(result, ExecutionResult):
            result = await result
        if result.errors:
            raise RuntimeError(f"{query}: {result.errors}")
    return (time.process_time() - started) / runs * 1e6


async def main(rounds: int) -> None:
    schema = build_schema()._schema  # as Strawberry builds it
    tuned = build_schema()
    install_direct_resolvers(tuned)  # as the gateway serves it
    fast = executor_for(tuned._schema)
    api: CredentialsApi = StubApi()  # type: ignore[assignment]
    settings = Settings(
        backend_username="bench",
        backend_password="unused-no-backend",  # noqa: S106 - the stub never logs in
        key_pepper="x" * 32,
    )
    print("CPU µs per execution, medians; rounds alternate between the executors")
    for name, (query, runs) in QUERIES.items():
        timings: dict[str, list[float]] = {"graphql-core": [], "gateway": []}
        await _time(tuned._schema, query, fast, api, settings, runs // 10)  # warm-up
        for round_ in range(rounds):
            order = [("graphql-core", schema, None), ("gateway", tuned._schema, fast)]
            for label, graph, executor in order if round_ % 2 == 0 else reversed(order):
                timings[label].append(await _time(graph, query, executor, api, settings, runs))
        core = statistics.median(timings["graphql-core"])
        ours = statistics.median(timings["gateway"])
        print(
            f"{name:26s} graphql-core {core:8.0f}   gateway {ours:8.0f}   ratio {ours / core:.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args().rounds))
