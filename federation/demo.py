"""``make federation-demo``: the partner gateway as a subgraph behind Hive Gateway.

Starts the sample backend, the partner gateway (with ``GATEWAY_ROUTER_SECRET``), the
learning-paths subgraph, composes the supergraph, serves it with Hive Gateway, and runs a
query spanning both subgraphs with the partner's key; then shows what the partner gateway
recorded for that request ID (its usage-ledger row and access-log line) and a curl to try,
and keeps everything running until Ctrl-C::

    python -m federation.demo            # until Ctrl-C
    python -m federation.demo --once     # stop after the query (scripts, CI)
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from federation.stack import FederationStack, StackError

__all__ = ["SPANNING_QUERY", "main"]

# Badges come from the partner gateway and their learning paths from the other subgraph;
# a path comes from the other subgraph and its badges from the partner gateway's _entities.
SPANNING_QUERY = """query BadgesAndPaths {
  badges(first: 3) { nodes { id name learningPaths { name hours } } }
  learningPath(id: "lp-cloud") { name badges { id name } }
}"""

_STEPS = 7


class Progress:
    def __init__(self) -> None:
        self.step = 0
        self.started = time.monotonic()

    def __call__(self, text: str) -> None:
        self.step += 1
        print(f"[{self.step}/{_STEPS}] {text}  ({time.monotonic() - self.started:.1f} s)")


def curl(router_url: str, key: str, query: str, request_id: str) -> str:
    body = json.dumps({"query": " ".join(query.split())})
    return " \\\n  ".join(
        [
            f"curl -sS {shlex.quote(router_url)}",
            "-H 'Content-Type: application/json'",
            "-H " + shlex.quote(f"Authorization: Bearer {key}"),
            "-H " + shlex.quote(f"X-Request-ID: {request_id}"),
            f"-d {shlex.quote(body)}",
        ]
    )


def _access_log_lines(stack: FederationStack, request_id: str, count: int) -> list[Any]:
    """The partner gateway's access-log lines for the request (written just after each
    answer, so waited for), at most five seconds."""
    deadline = time.monotonic() + 5.0
    needle = f'"request_id":"{request_id}"'
    while True:
        lines = [
            json.loads(line)
            for line in stack.child("partner-gateway").log_text().splitlines()
            if needle in line and '"event":"request"' in line
        ]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def run(directory: Path, *, once: bool) -> int:
    say = Progress()
    with FederationStack(directory, say=say) as stack:
        request_id = f"federation-demo-{uuid.uuid4().hex[:8]}"
        response = httpx.post(
            stack.router_url,
            json={"query": SPANNING_QUERY},
            headers={"Authorization": f"Bearer {stack.partner_key}", "X-Request-ID": request_id},
            timeout=30,
        )
        say(f"query across both subgraphs through the router, X-Request-ID {request_id}")
        print(json.dumps(response.json(), indent=2, ensure_ascii=False))
        print(f"router answered HTTP {response.status_code}; headers from the partner gateway:")
        for name in ("x-request-id", "ratelimit", "ratelimit-policy"):
            print(f"  {name}: {response.headers.get(name)}")

        rows = stack.ledger_rows(request_id)
        say(f"at the partner gateway, for {request_id}: {len(rows)} usage-ledger row(s)")
        for row in rows:
            print(
                f"  ledger: company {row['company_id']}, key {row['key_id']}, "
                f"{row['operation_type']} {row['operation_name'] or '(anonymous)'}, "
                f"cost {row['actual_cost']} (requested {row['requested_cost']}), "
                f"outcome {row['outcome']}, {row['backend_calls']} backend call(s)"
            )
        for line in _access_log_lines(stack, request_id, len(rows)):
            print(f"  access log: {json.dumps(line)}")

        print(
            "\nTry it (the router; the partner gateway meters and records it):\n"
            + curl(stack.router_url, stack.partner_key, SPANNING_QUERY, request_id + "-again")
        )
        print(f"\nLogs and the supergraph: {directory}")
        if once:
            return 0 if rows and response.status_code == 200 else 1
        print("Press Ctrl-C to stop everything.")
        stopped = threading.Event()

        def stop(_signum: int, _frame: FrameType | None) -> None:
            stopped.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while not stopped.wait(0.5):
            for child in stack.children:
                child.check_alive()
        print("\nStopping.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--once", action="store_true", help="stop after the query")
    parser.add_argument("--dir", type=Path, help="where logs go (default: a new temporary one)")
    args = parser.parse_args(argv)
    directory = args.dir or Path(tempfile.mkdtemp(prefix="federation-demo-"))
    try:
        return run(directory, once=args.once)
    except StackError as error:
        print(f"federation demo failed: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
