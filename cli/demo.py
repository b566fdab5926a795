"""``gateway demo`` (``make run``): a working gateway with a sample backend in a minute.

It keeps its state in ``./.demo`` (SQLite database, pepper, backend log), starts the sample
backend, makes sure the company "Acme Learning" (organization 1) exists, issues a key,
prints how to call the gateway, and serves until Ctrl-C::

    gateway demo [--port 8000] [--dir .demo]
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from auth.issuance import issue_api_key
from auth.scopes import DEFAULT_SCOPES
from cli.backend_process import BackendError, BackendProcess
from cli.common import fail, load_settings_or_exit
from cli.serve import run_gateway
from storage.database import Database
from storage.migrate import ensure_schema
from storage.records import CompanyRecord
from storage.repositories import ApiKeyRepository, CompanyNameTaken, CompanyRepository

__all__ = [
    "DEMO_COMPANY",
    "DEMO_ORGANIZATION_ID",
    "DEMO_QUERY",
    "DemoSetup",
    "curl_command",
    "demo",
    "demo_pepper",
    "prepare_demo",
]

DEMO_COMPANY = "Acme Learning"
DEMO_ORGANIZATION_ID = 1
DEMO_QUERY = (
    "{ viewer { company { name } organization { name } } "
    "badges(first: 3) { totalCount nodes { id name } } }"
)
_STEPS = 5


@dataclass(frozen=True, slots=True)
class DemoSetup:
    company: CompanyRecord
    created_company: bool
    created_schema: bool
    key: str = field(repr=False)


def demo_pepper(directory: Path) -> str:
    """The demo's pepper, made once and kept in the demo directory (so old keys still work)."""
    path = directory / "pepper"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


async def prepare_demo(database_url: str, pepper: bytes) -> DemoSetup:
    """Migrate, find or create the demo company, and issue it a fresh key."""
    created_schema = await ensure_schema(database_url)
    async with Database(database_url) as database:
        companies = CompanyRepository(database)
        company = await companies.get_by_name(DEMO_COMPANY)
        created = company is None
        if company is None:
            try:
                company = await companies.create(
                    name=DEMO_COMPANY, organization_id=DEMO_ORGANIZATION_ID
                )
            except CompanyNameTaken:  # another demo got there first
                company = await companies.get_by_name(DEMO_COMPANY)
                assert company is not None
                created = False
        issued = await issue_api_key(
            ApiKeyRepository(database), company_id=company.id, pepper=pepper, scopes=DEFAULT_SCOPES
        )
    return DemoSetup(company, created, created_schema, issued.key)


def curl_command(base_url: str, key: str) -> str:
    """A copy-paste curl that runs the demo query."""
    body = '{"query":"' + DEMO_QUERY.replace('"', '\\"') + '"}'
    return (
        f"curl -s {base_url}/graphql -H {shlex.quote('Authorization: Bearer ' + key)} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def _step(number: int, text: str) -> None:
    typer.secho(f"[{number}/{_STEPS}] ", fg=typer.colors.CYAN, bold=True, nl=False)
    typer.echo(f"{text} ... ", nl=False)


def _done(detail: str) -> None:
    typer.secho("ok", fg=typer.colors.GREEN, nl=False)
    typer.echo(f" ({detail})" if detail else "")


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def demo(
    host: Annotated[str, typer.Option("--host", help="Where the gateway listens.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its state.")
    ] = Path(".demo"),
) -> None:
    """Run the gateway against the sample backend, with a demo company and key."""
    if not _port_is_free(host, port):
        fail(f"Port {port} on {host} is in use: stop what listens there or pass --port.")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    # Never commit demo state (the pepper lives here).
    (directory / ".gitignore").write_text("*\n", encoding="ascii")
    pepper = demo_pepper(directory)
    database_url = f"sqlite+aiosqlite:///{directory / 'gateway.db'}"
    typer.secho("Partner gateway demo", bold=True)

    _step(1, f"Preparing the demo database in {directory}")
    setup = asyncio.run(prepare_demo(database_url, pepper.encode()))
    _done("schema created" if setup.created_schema else "schema in place")
    _step(2, f"Company {DEMO_COMPANY!r} for organization {DEMO_ORGANIZATION_ID}")
    _done(f"{'created' if setup.created_company else 'exists'}, {setup.company.id}")
    _step(3, "Issuing an API key with scopes read and write")
    _done(setup.key[:16] + "…")

    _step(4, "Starting the sample backend")
    username, password = "gateway-demo", secrets.token_urlsafe(16)
    try:
        backend = BackendProcess.start(
            log_path=directory / "backend.log", username=username, password=password
        )
    except BackendError as exc:
        typer.echo("")
        fail(str(exc))
    try:
        _done(backend.url)
        os.environ.update(
            {
                "GATEWAY_BACKEND_URL": backend.url,
                "GATEWAY_BACKEND_USERNAME": username,
                "GATEWAY_BACKEND_PASSWORD": password,
                "GATEWAY_KEY_PEPPER": pepper,
                "GATEWAY_DATABASE_URL": database_url,
                "GATEWAY_HOST": host,
                "GATEWAY_PORT": str(port),
            }
        )
        os.environ.setdefault("GATEWAY_LOG_FORMAT", "console")
        load_settings_or_exit()  # fail now, not inside uvicorn, if anything else is off

        base_url = f"http://{host}:{port}"
        _step(5, "Starting the gateway")
        typer.echo(base_url)
        typer.echo("")
        typer.secho("GraphiQL: ", bold=True, nl=False)
        typer.echo(f"{base_url}/graphql")
        typer.secho("API key:  ", bold=True, nl=False)
        typer.echo(f"{setup.key}   (demo key; a new one is issued on each run)")
        typer.secho("Try it:", bold=True)
        typer.echo(f"  {curl_command(base_url, setup.key)}")
        typer.echo("")
        typer.echo("Press Ctrl-C to stop.")
        run_gateway(host, port)
    finally:
        backend.stop()
        typer.echo("Stopped the gateway and the sample backend.")
