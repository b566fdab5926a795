"""Liveness and readiness probes for load balancers and orchestrators.

``/healthz`` answers while the process serves; ``/readyz`` only when the storage and
the backend are reachable, so a load balancer stops routing to a gateway that can't
serve::

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
        healthy = all(checks.values())
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
