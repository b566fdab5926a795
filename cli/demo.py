"""``gateway demo`` (``make run``): a working gateway with a sample backend in a minute.

It keeps its state in ``./.demo`` (SQLite database, pepper, backend log) and says what it
does, one numbered line per step: it starts the sample backend, migrates the database,
makes sure the company "Acme Learning" (organization 1) exists and issues it a key, then
starts the gateway. Once the gateway is ready and has answered the demo query itself, it
prints the explorer's URL, the key and a curl that works as printed, and serves until
Ctrl-C (or SIGTERM)::

    gateway demo [--port 8000] [--dir .demo]

    Partner gateway demo (state in .demo)
    [1/4] Starting the sample backend ... ok (http://127.0.0.1:46969)
    [2/4] Migrating the database .demo/gateway.db ... ok (schema created, revision 0004)
    [3/4] Creating the demo company and an API key ... ok ('Acme Learning' created; key ...)
    [4/4] Starting the gateway on http://127.0.0.1:8000 ...
    (the gateway's log lines)
    [4/4] Gateway ready on http://127.0.0.1:8000 ... ok (answered the demo query)
    (the explorer's URL, the key, the curl)
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, NoReturn

import httpx
import orjson
import typer

from auth.issuance import issue_api_key
from auth.scopes import DEFAULT_SCOPES
from cli.backend_process import BackendError, BackendProcess
from cli.common import fail, load_settings_or_exit
from cli.serve import run_gateway
from storage.database import Database
from storage.migrate import SchemaError, current_revision, upgrade
from storage.records import CompanyRecord
from storage.repositories import ApiKeyRepository, CompanyNameTaken, CompanyRepository

__all__ = [
    "DEMO_COMPANY",
    "DEMO_ORGANIZATION_ID",
    "DEMO_QUERY",
    "STEPS",
    "DemoSetup",
    "Migration",
    "create_demo_company_and_key",
    "curl_command",
    "demo",
    "demo_pepper",
    "migrate_demo_database",
    "wait_until_answering",
]

DEMO_COMPANY = "Acme Learning"
DEMO_ORGANIZATION_ID = 1
DEMO_QUERY = (
    "{ viewer { company { name } organization { name } } "
    "badges(first: 3) { totalCount nodes { id name } } }"
)
STEPS = 4
READY_TIMEOUT = 30.0  # seconds the gateway gets to answer the demo query after it starts
CHECK_ID = "demo-ready-check"  # the X-Request-ID of the demo's own run of the demo query


@dataclass(frozen=True, slots=True)
class Migration:
    """What migrating the demo database did: revisions before (None: empty) and after."""

    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.before is None:
            return f"schema created, revision {self.after}"
        if self.before == self.after:
            return f"already at revision {self.after}"
        return f"upgraded from revision {self.before} to {self.after}"


@dataclass(frozen=True, slots=True)
class DemoSetup:
    company: CompanyRecord
    created_company: bool
    key: str = field(repr=False)


def demo_pepper(directory: Path) -> str:
    """The demo's pepper, made once and kept in the demo directory (so old keys still work)."""
    path = directory / "pepper"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


async def migrate_demo_database(database_url: str) -> Migration:
    """Apply every pending migration (an empty database gets the whole schema)."""
    before = await current_revision(database_url)
    await upgrade(database_url)
    return Migration(before, await current_revision(database_url))


async def create_demo_company_and_key(database_url: str, pepper: bytes) -> DemoSetup:
    """Find or create the demo company, and issue it a fresh key (read and write)."""
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
    return DemoSetup(company, created, issued.key)


def curl_command(base_url: str, key: str) -> str:
    """A copy-paste curl (for sh, bash, zsh) that runs the demo query."""
    body = orjson.dumps({"query": DEMO_QUERY}).decode()
    return (
        f"curl -s {base_url}/graphql -H {shlex.quote('Authorization: Bearer ' + key)} "
        f"-H 'Content-Type: application/json' -d {shlex.quote(body)}"
    )


def wait_until_answering(
    base_url: str, key: str, *, timeout: float, stopped: threading.Event | None = None
) -> str | None:
    """Wait for ``/readyz``, then run the demo query as the curl does.

    Returns None once the query answered with data and no errors, or why not (the last
    problem seen when ``timeout`` ran out, or the errors of the query's answer).
    """
    deadline = time.monotonic() + timeout
    problem = "nothing answered"
    # trust_env=False: a proxy from the environment must not carry a request to localhost.
    with httpx.Client(base_url=base_url, timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline and not (stopped and stopped.is_set()):
            try:
                ready = client.get("/readyz")
                if ready.status_code == 200:
                    answer = client.post(
                        "/graphql",
                        # The request ID names the check on the gateway's access log line.
                        headers={"Authorization": f"Bearer {key}", "X-Request-ID": CHECK_ID},
                        json={"query": DEMO_QUERY},
                    )
                    body: Any = answer.json()
                    if answer.status_code == 200 and body.get("data") and not body.get("errors"):
                        return None
                    return f"the demo query answered HTTP {answer.status_code}: {answer.text[:300]}"
                problem = f"/readyz answered HTTP {ready.status_code}"
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}"
            time.sleep(0.1)
    return f"not ready within {timeout:g} s ({problem})"


def _step(number: int, text: str) -> None:
    typer.secho(f"[{number}/{STEPS}] ", fg=typer.colors.CYAN, bold=True, nl=False)
    typer.echo(f"{text} ... ", nl=False)


def _done(detail: str) -> None:
    typer.secho("ok", fg=typer.colors.GREEN, nl=False)
    typer.echo(f" ({detail})" if detail else "")


def _failed(reason: str) -> NoReturn:
    typer.secho("failed", fg=typer.colors.RED, bold=True)
    fail(reason)


def _bold(text: str) -> str:
    return typer.style(text, bold=True)


def _final_block(base_url: str, key: str, started: float) -> str:
    bold = _bold
    return "\n".join(
        [
            "",
            bold(f"Ready in {time.monotonic() - started:.1f} s.")
            + " Open the explorer, or paste the curl below into a shell.",
            "",
            f"  {bold('Explorer:')} {base_url}/graphql"
            "   (in a browser; put the key in the Headers tab)",
            f"  {bold('API key:')}  {key}   (shown once; each run issues a new one)",
            f"  {bold('Schema:')}   {base_url}/graphql/schema.graphql",
            "",
            bold("Try it:"),
            curl_command(base_url, key),
            "",
            "Press Ctrl-C to stop.",
        ]
    )


def _announce_when_ready(base_url: str, key: str, started: float, stopped: threading.Event) -> None:
    problem = wait_until_answering(base_url, key, timeout=READY_TIMEOUT, stopped=stopped)
    if stopped.is_set():
        return
    if problem is not None:
        typer.secho(
            f"[{STEPS}/{STEPS}] The gateway is not answering: {problem}. See the log above.",
            fg=typer.colors.RED,
            err=True,
        )
        return
    line = typer.style(f"[{STEPS}/{STEPS}] ", fg=typer.colors.CYAN, bold=True)
    line += f"Gateway ready on {base_url} ... " + typer.style("ok", fg=typer.colors.GREEN)
    line += " (answered the demo query)\n" + _final_block(base_url, key, started)
    typer.echo(line)  # one write, so a log line cannot land inside the block


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    # uvicorn re-raises the SIGTERM it handled once it has shut down: ending like Ctrl-C
    # lets the demo stop the sample backend instead of leaving it behind.
    raise KeyboardInterrupt


def _display_host(host: str) -> str:
    # A wildcard address is where to listen, not where to connect.
    return "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host  # noqa: S104


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def demo(
    host: Annotated[str, typer.Option("--host", help="Where the gateway listens.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    directory: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its state.")
    ] = Path(".demo"),
) -> None:
    """Run the gateway against the sample backend, with a demo company and key."""
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if not _port_is_free(host, port):
        fail(f"Port {port} on {host} is in use: stop what listens there or pass --port.")
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    # Never commit demo state (the pepper lives here).
    (directory / ".gitignore").write_text("*\n", encoding="ascii")
    pepper = demo_pepper(directory)
    database_path = directory / "gateway.db"
    database_url = f"sqlite+aiosqlite:///{database_path}"
    base_url = f"http://{_display_host(host)}:{port}"
    typer.secho(f"Partner gateway demo (state in {_relative(directory)})", bold=True)

    _step(1, "Starting the sample backend")
    username, password = "gateway-demo", secrets.token_urlsafe(16)
    try:
        backend = BackendProcess.start(
            log_path=directory / "backend.log", username=username, password=password
        )
    except BackendError as exc:
        _failed(str(exc))
    stopped = threading.Event()
    try:
        _done(backend.url)

        _step(2, f"Migrating the database {_relative(database_path)}")
        try:
            migration = asyncio.run(migrate_demo_database(database_url))
        except SchemaError as exc:
            _failed(f"{exc} (or delete {_relative(directory)} to start afresh)")
        _done(migration.describe())

        _step(3, "Creating the demo company and an API key")
        setup = asyncio.run(create_demo_company_and_key(database_url, pepper.encode()))
        created = "created" if setup.created_company else "exists"
        prefix = setup.key[: len("cgw_") + 12]  # the public part: cgw_<key id>
        _done(f"{DEMO_COMPANY!r} {created}; key {prefix}, scopes read and write")

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

        # The gateway's own log lines follow this one; the step ends on a line of its own.
        typer.secho(f"[4/{STEPS}] ", fg=typer.colors.CYAN, bold=True, nl=False)
        typer.echo(f"Starting the gateway on {base_url} ...")
        threading.Thread(
            target=_announce_when_ready,
            args=(base_url, setup.key, started, stopped),
            name="demo-ready",
            daemon=True,
        ).start()
        run_gateway(host, port)
    finally:
        stopped.set()
        backend.stop()
        typer.echo("Stopped the gateway and the sample backend.")
