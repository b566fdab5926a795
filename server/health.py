"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` answers while the process serves; ``/readyz`` with 200 only when the
storage is reachable (without the ledger no request can be answered as served), so a
load balancer stops routing to a gateway that can't serve. The backend's state is
reported too, but does not make the gateway unready: every task shares the same backend,
and taking them all out of the load balancer during a backend outage would only replace
the gateway's coded ``BACKEND_UNAVAILABLE`` answers (request ID, ``retryAfter``) with the
load balancer's own 503s::

    Route("/readyz", readiness(database, backend_client))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from backend.client import BackendClient
from storage.database import Database

__all__ = ["liveness", "readiness"]

Endpoint = Callable[[Request], Awaitable[Response]]


async def liveness(_request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def readiness(database: Database, backend: BackendClient) -> Endpoint:
    async def ready(_request: Request) -> Response:
        checks = {"storage": await _storage_ok(database), "backend": await backend.ping()}
        healthy = checks["storage"]  # the backend is reported, not required (see above)
        status = {name: "ok" if ok else "unavailable" for name, ok in checks.items()}
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": status},
            status_code=200 if healthy else 503,
        )

    return ready


async def _storage_ok(database: Database) -> bool:
    try:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # any failure means "not ready"; the reason is for logs, not probes
        return False
    return True
