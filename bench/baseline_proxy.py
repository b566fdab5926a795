"""The least any Python proxy must do: the benchmark's baseline.

A bare aiohttp server that answers the benchmark's POSTs by making the same REST calls
to the backend as the gateway does (one service-account JWT, pooled connections) and
returning the same JSON, with none of the gateway's work (keys, GraphQL, logs)::

    python -m bench.baseline_proxy --port 8200 --backend http://127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import aiohttp
import orjson
import uvloop
from aiohttp import web

__all__ = ["build_app"]


def build_app(backend: str, username: str, password: str) -> web.Application:
    state: dict[str, Any] = {}

    async def startup(app: web.Application) -> None:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100))
        async with session.post(
            f"{backend}/api/token/", json={"username": username, "password": password}
        ) as response:
            token = (await response.json())["access"]
        state["session"] = session
        state["headers"] = {"Authorization": f"Bearer {token}"}

    async def cleanup(app: web.Application) -> None:
        await state["session"].close()

    async def get(path: str, params: dict[str, str]) -> Any:
        async with state["session"].get(
            backend + path, params=params, headers=state["headers"]
        ) as response:
            return orjson.loads(await response.read())

    async def one_badge(request: web.Request) -> web.Response:
        await request.read()
        page = await get("/api/v1/badges/", {"organization": "1", "ids": "1", "page_size": "100"})
        badge = page["results"][0]
        body = {"data": {"badge": {k: badge[k] for k in ("id", "name", "status", "level")}}}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    async def credentials(request: web.Request) -> web.Response:
        first = request.query.get("first", "20")
        await request.read()
        page = await get(
            "/api/v1/credentials/", {"organization": "1", "page": "1", "page_size": first}
        )
        ids = sorted({c["badge"] for c in page["results"]})
        badges = await get(
            "/api/v1/badges/",
            {"organization": "1", "ids": ",".join(map(str, ids)), "page_size": "100"},
        )
        names = {b["id"]: b["name"] for b in badges["results"]}
        nodes = [
            {"id": c["uuid"], "status": c["status"], "badge": {"name": names.get(c["badge"])}}
            for c in page["results"]
        ]
        body = {"data": {"credentials": {"totalCount": page["count"], "nodes": nodes}}}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_post("/badge", one_badge)
    app.router.add_post("/credentials", credentials)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--backend", default="http://127.0.0.1:8001")
    parser.add_argument("--username", default="gateway-service")
    parser.add_argument("--password", default="sample-backend-password")
    args = parser.parse_args()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    web.run_app(
        build_app(args.backend, args.username, args.password),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
