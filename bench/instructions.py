"""Instructions per request under callgrind: an A/B that a noisy machine cannot blur.

On this shared machine CPU time per request moves by 10-20% from one minute to the
next, more than most single changes save. Callgrind counts the instructions a process
executes, which do not depend on what else the machine is doing, so two checkouts of
the gateway can be compared to a fraction of a percent in one run::

    git worktree add /tmp/before HEAD~1
    python -m bench.instructions --source /tmp/before --source . --scenario badge

Each source runs the whole ``/graphql`` pipeline in process (keys, cost, ledger, traces,
logs; :mod:`bench.callgrind_worker`) against one live sample backend, on its own copy
of one seeded SQLite database, all sources at once (one core each). What it cannot see:
time in the kernel (system calls, context switches, such as a thread hand-off), cache
misses, and anything that depends on wall-clock timing (the trace writer's 200 ms
batches are ~50 times smaller under valgrind). Use it to compare code paths; use
``make bench`` for what a partner sees.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auth.api_keys import generate_api_key
from bench.harness.processes import ServerProcess, free_port
from bench.harness.scenarios import SCENARIOS, Scenario
from bench.harness.stack import REPO, gateway_env, seed_gateway

__all__ = ["count_instructions", "main"]

WORKER = Path(__file__).with_name("callgrind_worker.py")
_SCENARIOS = {s.key: s for s in SCENARIOS if s.variables is None}  # all but the mutation
_TOTALS = re.compile(r"^(?:summary|totals):\s+(\d+)", re.MULTILINE)


def count_instructions(
    source: Path, scenario: Scenario, *, api_key: str, env: dict[str, str], work: Path
) -> tuple[int, int]:
    """(instructions, requests) of ``requests`` measured requests of ``source``'s gateway."""
    work.mkdir(parents=True)
    database = work / "gateway.db"
    shutil.copyfile(env["BENCH_SEEDED_DATABASE"], database)
    run_env = {
        **env,
        "PYTHONPATH": str(source.resolve()),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BENCH_GATEWAY_LOG": str(work / "gateway.log"),
    }
    done = subprocess.run(
        [  # noqa: S607
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={work}/callgrind.out",
            sys.executable,
            str(WORKER),
            scenario.gateway_body,
            api_key,
            env["BENCH_REQUESTS"],
        ],
        env=run_env,
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    counted = re.search(r"requests=(\d+)", done.stderr)
    dumps = sorted(work.glob("callgrind.out.*"))  # the dump; callgrind.out is the rest
    if done.returncode != 0 or counted is None or not dumps:
        raise RuntimeError(f"{source}: the measured run failed:\n{done.stderr[-3000:]}")
    totals = _TOTALS.search(dumps[0].read_text(errors="replace"))
    if totals is None:
        raise RuntimeError(f"{source}: no totals in {dumps[0]}")
    return int(totals.group(1)), int(counted.group(1))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        required=True,
        help="a checkout of the gateway (repeat to compare; the first is the reference)",
    )
    parser.add_argument("--scenario", choices=sorted(_SCENARIOS), default="badge")
    parser.add_argument("--requests", type=int, default=480, help="measured requests (x16)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("needs valgrind (Debian: apt-get install valgrind)")
    scenario = _SCENARIOS[args.scenario]
    with tempfile.TemporaryDirectory(prefix="gw-instructions-") as tmp:
        directory = Path(tmp)
        port = free_port()
        with ServerProcess.start(
            "sample backend",
            [sys.executable, "-m", "sample_backend", "--port", str(port), "--no-access-log"],
            port=port,
            log_path=directory / "backend.log",
            cwd=REPO,
        ) as backend:
            seeded = directory / "seeded.db"
            env = gateway_env(backend.url, f"sqlite+aiosqlite:///{seeded}")
            api_key = seed_gateway(env)
            if scenario.invalid_key:  # well-formed, on no file: the whole 401 path
                api_key = generate_api_key().key
            env["BENCH_SEEDED_DATABASE"] = str(seeded)
            env["BENCH_REQUESTS"] = str(args.requests)
            with ThreadPoolExecutor(max_workers=len(args.source)) as pool:
                runs = [
                    pool.submit(
                        count_instructions,
                        source,
                        scenario,
                        api_key=api_key,
                        env=env,
                        work=directory / f"source-{index}",
                    )
                    for index, source in enumerate(args.source)
                ]
                results = [run.result() for run in runs]
    reference = results[0][0] / results[0][1]
    print(f"{scenario.name}: instructions per request (callgrind, in process)")
    for source, (instructions, requests) in zip(args.source, results, strict=True):
        per_request = instructions / requests
        print(f"  {source!s:40s} {per_request:12,.0f}   {per_request / reference:6.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
