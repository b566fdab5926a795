"""The processes under test: sample backend, gateway (production configuration), baseline.

The gateway runs as ``gateway serve`` with JSON logs to a file, on a fresh database, for
a company on the enterprise plan with overrides so large that cost accounting runs on
every request but never throttles, and with a key issued by the ``gateway`` CLI::

    with Stack.start(tmp, layout, database_kind="sqlite") as stack:
        print(stack.gateway.url, stack.baseline.url, stack.api_key)

Two settings differ from a production deployment, both for measuring rather than serving:
the failed-authentication limit is raised (``GATEWAY_AUTH_FAILURE_LIMIT``) so the
invalid-key scenario measures the 401 path rather than the 429 that follows 20 refusals,
and there is no Redis (one process keeps its buckets in memory, as on one ECS task).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from auth.api_keys import generate_api_key
from bench.harness.database import BenchDatabase
from bench.harness.processes import CpuLayout, ServerProcess, free_port

__all__ = ["COMPANY", "PLAN_OVERRIDES", "REPO", "Stack", "gateway_env", "seed_gateway"]

REPO = Path(__file__).resolve().parents[2]
GATEWAY_BIN = str(Path(sys.executable).with_name("gateway"))
BACKEND_USERNAME = "gateway-service"
BACKEND_PASSWORD = "sample-backend-password"  # the sample backend's default; not a secret
PEPPER = "bench-pepper-not-a-secret-0123456789"
COMPANY = "Bench Learning"
PLAN_OVERRIDES = {
    "bucket_capacity": "100000000",
    "restore_rate": "100000000",
    "max_operation_cost": "100000",
    "monthly_quota": "1000000000000",
}


def gateway_env(backend_url: str, database_url: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("GATEWAY_")}
    env.update(
        {
            # As in the Dockerfile's runtime image.
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "GATEWAY_LOG_FORMAT": "json",
            "GATEWAY_BACKEND_URL": backend_url,
            "GATEWAY_BACKEND_USERNAME": BACKEND_USERNAME,
            "GATEWAY_BACKEND_PASSWORD": BACKEND_PASSWORD,
            "GATEWAY_DATABASE_URL": database_url,
            "GATEWAY_KEY_PEPPER": PEPPER,
            "GATEWAY_AUTH_FAILURE_LIMIT": "1000000000",
        }
    )
    return env


def _cli(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [GATEWAY_BIN, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"gateway {' '.join(args[:2])} failed: {done.stderr or done.stdout}")
    return json.loads(done.stdout) if "--json" in args else done.stdout


def seed_gateway(env: dict[str, str]) -> str:
    """Company on a never-throttling enterprise plan, and a read+write key; the key."""
    _cli(env, "db", "upgrade")
    _cli(
        env,
        "companies",
        "create",
        "--name",
        COMPANY,
        "--organization-id",
        "1",
        "--plan",
        "enterprise",
        "--json",
    )
    overrides = [
        arg for name, value in PLAN_OVERRIDES.items() for arg in ("--override", f"{name}={value}")
    ]
    _cli(env, "companies", "set-plan", COMPANY, "enterprise", *overrides)
    issued = _cli(env, "keys", "issue", "--company", COMPANY, "--actor", "bench", "--json")
    return str(issued["key"])


@dataclass
class Stack:
    backend: ServerProcess
    gateway: ServerProcess
    baseline: ServerProcess
    database: BenchDatabase
    api_key: str
    invalid_key: str  # well-formed, valid checksum, on no file: the full 401 path
    _exits: ExitStack

    @classmethod
    def start(
        cls,
        directory: Path,
        layout: CpuLayout,
        *,
        database_kind: str = "sqlite",
        postgres_url: str = "",
    ) -> Stack:
        exits = ExitStack()
        try:
            backend_port = free_port()
            backend = exits.enter_context(
                ServerProcess.start(
                    "sample backend",
                    [
                        sys.executable,
                        "-m",
                        "sample_backend",
                        "--port",
                        str(backend_port),
                        "--no-access-log",
                    ],
                    port=backend_port,
                    log_path=directory / "backend.log",
                    cpu_prefix=layout.prefix(layout.load),
                    cwd=REPO,
                )
            )
            database = exits.enter_context(
                BenchDatabase.create(database_kind, directory, postgres_url)
            )
            env = gateway_env(backend.url, database.url)
            api_key = seed_gateway(env)
            gateway_port = free_port()
            gateway = exits.enter_context(
                ServerProcess.start(
                    "gateway",
                    [GATEWAY_BIN, "serve", "--port", str(gateway_port)],
                    port=gateway_port,
                    log_path=directory / "gateway.log",
                    cpu_prefix=layout.prefix(layout.server),
                    env=env,
                    health_path="/healthz",
                )
            )
            baseline_port = free_port()
            baseline = exits.enter_context(
                ServerProcess.start(
                    "baseline proxy",
                    [
                        sys.executable,
                        "-m",
                        "bench.baseline_proxy",
                        "--port",
                        str(baseline_port),
                        "--backend",
                        backend.url,
                        "--username",
                        BACKEND_USERNAME,
                        "--password",
                        BACKEND_PASSWORD,
                    ],
                    port=baseline_port,
                    log_path=directory / "baseline.log",
                    cpu_prefix=layout.prefix(layout.server),
                    cwd=REPO,
                )
            )
        except BaseException:
            exits.close()
            raise
        invalid_key = generate_api_key().key
        return cls(backend, gateway, baseline, database, api_key, invalid_key, exits)

    def close(self) -> None:
        """Stop the servers (the gateway first: it commits its ledger), drop the database."""
        self._exits.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
