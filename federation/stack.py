"""The federation proof's processes: sample backend, partner gateway, a second subgraph,
the composed supergraph, and Hive Gateway serving it; started in order, stopped in reverse.

``make federation-demo`` (:mod:`federation.demo`) and ``make federation-test``
(``federation/tests``) both run it::

    with FederationStack(Path("/tmp/fed"), say=print) as stack:
        stack.router_url            # "http://127.0.0.1:PORT/graphql": Hive Gateway
        stack.partner_key           # an API key of "Acme Learning" (organization 1)
        stack.ledger_rows(request_id)

Every process listens on a free port of 127.0.0.1 and logs to a file in the directory;
each start waits for its condition (a health check answering, a file written) with a
deadline, and a process that exits early fails the start with its log's last lines.
Node tools come from ``federation/node_modules`` (``npm ci`` there: ``make federation-deps``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from cli.backend_process import BackendProcess, free_port

__all__ = ["FEDERATION_DIR", "FederationStack", "StackError"]

FEDERATION_DIR = Path(__file__).resolve().parent
REPO_ROOT = FEDERATION_DIR.parent
NODE_BIN = FEDERATION_DIR / "node_modules" / ".bin"
GATEWAY_BIN = str(Path(sys.executable).with_name("gateway"))
COMPANY = "Acme Learning"
ORGANIZATION_ID = 1
PARTNER_SUBGRAPH = "partner"
LEARNING_SUBGRAPH = "learning"
_START_TIMEOUT = 60.0  # Hive Gateway's first start loads a few hundred modules
_STOP_TIMEOUT = 10.0


class StackError(RuntimeError):
    """A process did not start, or a step failed; the message says which and where its log is."""


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


class Child:
    """A started process, its log file, and a stop that never leaves it running."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.name = name
        self.process = process
        self.log_path = log_path

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise StackError(
                f"{self.name} exited with status {self.process.returncode}; "
                f"see {self.log_path}:\n{_tail(self.log_path)}"
            )

    def wait_until(self, condition: Callable[[], bool], what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            self.check_alive()
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name}: {what} not within {timeout:g} s; see {self.log_path}:\n"
                    f"{_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _answers(url: str, check: Callable[[httpx.Response], bool] = lambda r: r.is_success) -> bool:
    try:
        return check(httpx.get(url, timeout=1.0))
    except httpx.HTTPError:
        return False


class FederationStack:
    """Start with ``with``; every process is stopped on exit, whatever happened."""

    def __init__(
        self,
        directory: Path,
        *,
        say: Callable[[str], None] = lambda _text: None,
        gateway_settings: dict[str, str] | None = None,
        router_max_cost: int = 5000,
    ) -> None:
        self.directory = directory
        self.say = say
        self.gateway_settings = gateway_settings or {}
        self.router_max_cost = router_max_cost
        self.router_secret = secrets.token_urlsafe(32)
        self.children: list[Child] = []
        self.backend: BackendProcess | None = None
        self.gateway_env: dict[str, str] = {}
        self.gateway_url = ""
        self.learning_url = ""
        self.router_url = ""
        self.supergraph_path = directory / "supergraph.graphql"
        self.partner_key = ""

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if not (NODE_BIN / "hive-gateway").exists():
            raise StackError(
                f"Hive Gateway is not installed in {FEDERATION_DIR / 'node_modules'}: run "
                "`make federation-deps` (npm ci, from federation/package-lock.json)"
            )
        self._start_backend()
        self._start_gateway()
        self._start_learning_paths()
        self._compose()
        self._start_router()

    def close(self) -> None:
        for child in reversed(self.children):
            child.stop()
        self.children.clear()
        if self.backend is not None:
            self.backend.stop()
            self.backend = None

    # ------------------------------------------------------------------ steps

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str], cwd: Path = REPO_ROOT
    ) -> Child:
        log_path = self.directory / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the demo, which stops them in order
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def _start_backend(self) -> None:
        password = secrets.token_hex(16)  # never starting with "-": it is a CLI argument
        self.backend = BackendProcess.start(
            log_path=self.directory / "sample-backend.log",
            username="gateway-service",
            password=password,
        )
        self.gateway_env = {
            # None of the caller's own GATEWAY_* settings (a Redis URL, say): only these.
            **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
            "GATEWAY_BACKEND_URL": self.backend.url,
            "GATEWAY_BACKEND_USERNAME": "gateway-service",
            "GATEWAY_BACKEND_PASSWORD": password,
            "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{self.directory / 'gateway.db'}",
            "GATEWAY_KEY_PEPPER": secrets.token_urlsafe(32),
            "GATEWAY_ROUTER_SECRET": self.router_secret,
            "GATEWAY_LOG_FORMAT": "json",
            **{f"GATEWAY_{name.upper()}": value for name, value in self.gateway_settings.items()},
        }
        self.say(f"sample backend at {self.backend.url}")

    def _cli(self, *args: str) -> Any:
        done = subprocess.run(  # noqa: S603 - the gateway's own CLI
            [GATEWAY_BIN, *args],
            env=self.gateway_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise StackError(f"gateway {' '.join(args[:2])} failed:\n{done.stderr}")
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def _start_gateway(self) -> None:
        self._cli("db", "upgrade")
        self._cli(
            "companies", "create", "--name", COMPANY,
            "--organization-id", str(ORGANIZATION_ID), "--plan", "enterprise", "--json",
        )  # fmt: skip
        self.partner_key = self._cli("keys", "issue", "--company", COMPANY, "--json")["key"]
        port = free_port()
        child = self._spawn(
            "partner-gateway", [GATEWAY_BIN, "serve", "--port", str(port)], self.gateway_env
        )
        base = f"http://127.0.0.1:{port}"
        child.wait_until(lambda: _answers(base + "/readyz"), "GET /readyz", _START_TIMEOUT)
        self.gateway_url = base + "/graphql"
        self.say(
            f"partner gateway (subgraph {PARTNER_SUBGRAPH!r}) at {self.gateway_url}, "
            f"company {COMPANY!r} (organization {ORGANIZATION_ID}) with a key, "
            "GATEWAY_ROUTER_SECRET set"
        )

    def _start_learning_paths(self) -> None:
        port = free_port()
        child = self._spawn(
            "learning-paths",
            [
                sys.executable, "-m", "uvicorn", "federation.learning_paths:app",
                "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
            ],
            {**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.learning_url = f"http://127.0.0.1:{port}/graphql"
        child.wait_until(lambda: self._learning_sdl() is not None, "_service { sdl }", 30)
        self.say(f"learning-paths subgraph ({LEARNING_SUBGRAPH!r}) at {self.learning_url}")

    def _learning_sdl(self) -> str | None:
        try:
            response = httpx.post(
                self.learning_url, json={"query": "{ _service { sdl } }"}, timeout=1.0
            )
        except httpx.HTTPError:
            return None
        if not response.is_success:
            return None
        sdl: str = response.json()["data"]["_service"]["sdl"]
        return sdl

    def _compose(self) -> None:
        partner_sdl = httpx.get(self.gateway_url + "/subgraph.graphql", timeout=10)
        partner_sdl.raise_for_status()
        learning_sdl = self._learning_sdl()
        if learning_sdl is None:
            raise StackError("the learning-paths subgraph stopped answering _service { sdl }")
        (self.directory / "partner.graphql").write_text(partner_sdl.text)
        (self.directory / "learning.graphql").write_text(learning_sdl)
        done = subprocess.run(  # noqa: S603 - node and our own script
            [
                shutil.which("node") or "node",
                str(FEDERATION_DIR / "compose.mjs"),
                str(self.supergraph_path),
                f"{PARTNER_SUBGRAPH}={self.gateway_url}={self.directory / 'partner.graphql'}",
                f"{LEARNING_SUBGRAPH}={self.learning_url}={self.directory / 'learning.graphql'}",
            ],
            cwd=FEDERATION_DIR,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise StackError(f"composition failed:\n{done.stderr}{done.stdout}")
        self.say(
            f"supergraph composed ({PARTNER_SUBGRAPH} from GET /graphql/subgraph.graphql, "
            f"{LEARNING_SUBGRAPH} from _service {{ sdl }}) into {self.supergraph_path}"
        )

    def _start_router(self) -> None:
        self.router_url = self.start_router("hive-gateway")
        self.say(f"Hive Gateway (the router) at {self.router_url}")

    def start_router(self, name: str, extra_env: dict[str, str] | None = None) -> str:
        """Another Hive Gateway on the same supergraph (``extra_env`` for its config); its
        /graphql URL. Stopped with the rest."""
        port = free_port()
        child = self._spawn(
            name,
            [
                str(NODE_BIN / "hive-gateway"),
                "supergraph",
                str(self.supergraph_path),
                "--host", "127.0.0.1",
                "--port", str(port),
            ],
            {
                **os.environ,
                "ROUTER_SECRET": self.router_secret,
                "ROUTER_MAX_COST": str(self.router_max_cost),
                "NODE_NO_WARNINGS": "1",
                "NO_COLOR": "1",
                **(extra_env or {}),
            },
            cwd=FEDERATION_DIR,  # where gateway.config.ts is
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        child.wait_until(lambda: _answers(base + "/readiness"), "GET /readiness", _START_TIMEOUT)
        return base + "/graphql"

    # ------------------------------------------------------------------ what tests read

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def ledger_rows(self, request_id: str) -> list[dict[str, Any]]:
        """The partner gateway's usage-ledger rows for one request ID, read from its database."""
        path = self.directory / "gateway.db"
        with sqlite3.connect(path) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(
                "SELECT * FROM usage_events WHERE request_id = ?", (request_id,)
            )
            return [dict(row) for row in rows]
