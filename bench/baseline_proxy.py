"""The least any Python proxy must do: the benchmark's baseline.

A bare aiohttp server that answers the benchmark's POSTs by making the same REST calls
to the backend as the gateway does (one service-account JWT, pooled connections) and
returning the same JSON, with none of the gateway's work (keys, GraphQL, logs)::

    python -m bench.baseline_proxy --port 8200 --backend http://127.0.0.1:8001

Routes: ``POST /badge`` (one badge), ``POST /credentials?first=N`` (a page of credentials
and one batch of their badges) and ``POST /issue`` with a JSON body ``{"badge": 1,
"email": "a@b.co", "idempotencyKey": "k-1"}``: like the gateway's ``issueCredential``, it
reads the badge to check it is published, then POSTs ``/api/v1/credentials/`` with an
``Idempotency-Key`` namespaced the same way (``gwp-`` + SHA-256).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
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

    async def issue(request: web.Request) -> web.Response:
        wanted = orjson.loads(await request.read())
        badge_id = int(wanted["badge"])
        page = await get(
            "/api/v1/badges/",
            {"organization": "1", "ids": str(badge_id), "page": "1", "page_size": "100"},
        )
        if not page["results"] or page["results"][0]["status"] != "published":
            body: dict[str, Any] = {"data": {"issueCredential": {"credential": None}}}
            return web.Response(body=orjson.dumps(body), content_type="application/json")
        digest = hashlib.sha256(f"bench\x00{wanted['idempotencyKey']}".encode()).hexdigest()
        async with state["session"].post(
            backend + "/api/v1/credentials/",
            data=orjson.dumps(
                {"badge": badge_id, "recipient": {"email": wanted["email"]}, "send_email": True}
            ),
            headers={
                **state["headers"],
                "Content-Type": "application/json",
                "Idempotency-Key": f"gwp-{digest}",
            },
        ) as response:
            credential = orjson.loads(await response.read())
        body = {
            "data": {
                "issueCredential": {
                    "credential": {"id": credential["uuid"], "status": credential["status"]},
                    "userErrors": [],
                }
            }
        }
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    app = web.Application()
    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    app.router.add_post("/badge", one_badge)
    app.router.add_post("/credentials", credentials)
    app.router.add_post("/issue", issue)
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
