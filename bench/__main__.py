"""``python -m bench``: the gateway against a bare aiohttp proxy, under wrk (issue 7).

Starts the sample backend, the gateway in its production configuration (``gateway
serve``, JSON logs to a file, a fresh SQLite or PostgreSQL database, a company on a
never-throttling enterprise plan and a CLI-issued key) and ``bench.baseline_proxy``;
loads each with the same wrk concurrency, scenario by scenario, gateway and baseline in
alternating rounds, and prints medians with the issue's targets marked PASS/FAIL, then
the memory run and the ledger's commit count. Results go to ``bench/results/latest.json``::

    make bench                                   # the full run, about six minutes
    .venv/bin/python -m bench --database postgresql --rounds 3 --duration 5
    .venv/bin/python -m bench --smoke            # seconds: checks answers, never speed

``--smoke`` runs each scenario for one second, once, checks in wrk that the answers are
mostly 2xx (401 for the invalid key) with the expected body, skips the memory run and
exits 1 when a check fails. Speeds are never judged in a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness.database import DEFAULT_POSTGRES_URL
from bench.harness.processes import CpuLayout
from bench.harness.report import Summary, smoke_failures
from bench.harness.runner import BenchConfig, Runner
from bench.harness.scenarios import SCENARIOS, Scenario
from bench.harness.stack import COMPANY, PLAN_OVERRIDES, Stack
from bench.harness.wrk import find_wrk

__all__ = ["main", "parse_args"]

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured run")
    parser.add_argument("--rounds", type=int, default=5, help="measured runs per side")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per side")
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=100_000,
        help="one-badge requests of the memory run (0: skip it)",
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_URL,
        help="server (and an existing database to connect to) for --database postgresql;"
        " the run creates and drops its own database there",
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(s.key for s in SCENARIOS),
        help="comma-separated subset of: " + ", ".join(s.key for s in SCENARIOS),
    )
    parser.add_argument("--smoke", action="store_true", help="seconds-long check, no speeds")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (logs, Lua scripts)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.rounds, args.warmup, args.memory_requests = 1, 1, 0, 0
    if args.duration < 1 or args.rounds < 1 or args.connections < 1:
        parser.error("--duration, --rounds and --connections must be at least 1")
    known = {s.key for s in SCENARIOS}
    wanted = [key.strip() for key in args.scenarios.split(",") if key.strip()]
    if unknown := sorted(set(wanted) - known):
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    args.scenario_list = [s for s in SCENARIOS if s.key in wanted]
    return args


def _wrk_version(wrk: str) -> str:
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).splitlines()
    return lines[0].strip() if lines else "unknown"


def _code_state() -> dict[str, Any]:
    """The commit measured, and files changed on top of it (a shared work tree may have some)."""
    repo = RESULTS.parents[2]

    git_bin = shutil.which("git")

    def git(*args: str) -> str:
        if git_bin is None:
            return ""
        done = subprocess.run(
            [git_bin, *args], cwd=repo, capture_output=True, text=True, check=False
        )
        return done.stdout if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line[3:]]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or None, "changed": changed}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _machine(layout: CpuLayout, wrk: str) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": _wrk_version(wrk),
        "pinned": layout.pinned,
        "layout": layout.describe(),
    }


def _measure(
    args: argparse.Namespace,
    layout: CpuLayout,
    config: BenchConfig,
    directory: Path,
    scenarios: list[Scenario],
) -> tuple[Summary, list[str], dict[str, float]]:
    with Stack.start(
        directory, layout, database_kind=args.database, postgres_url=args.postgres_url
    ) as stack:
        print(f"database: {stack.database.describe()}")
        print(f"logs and Lua scripts: {directory}" + ("" if args.keep else " (removed at exit)"))
        runner = Runner(stack, layout, config, directory)
        runner.prime()
        ledger_start = stack.database.ledger()
        requests_before = runner.gateway_requests
        results = []
        for scenario in scenarios:
            print(f"{scenario.name}:")
            results.append(runner.run_scenario(scenario))
        memory = None
        if config.memory_requests:
            print(f"memory: {config.memory_requests:,} one-badge requests to the gateway ...")
            memory = runner.memory()
        time.sleep(0.5)  # answers still in flight when wrk stopped reach the ledger
        ledger_end = stack.database.ledger()
        peaks = {
            "gateway_vmhwm_mib": round(stack.gateway.peak_rss_kib() / 1024, 1),
            "baseline_vmhwm_mib": round(stack.baseline.peak_rss_kib() / 1024, 1),
        }
        summary = Summary.build(
            results, memory, ledger_start, ledger_end, runner.gateway_requests - requests_before
        )
    return summary, smoke_failures(results) if config.check else [], peaks


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = BenchConfig(
        connections=args.connections,
        duration=args.duration,
        rounds=args.rounds,
        warmup=args.warmup,
        memory_requests=args.memory_requests,
        check=args.smoke,
    )
    wrk = find_wrk()
    layout = CpuLayout.choose()
    layout.pin_self()
    mode = "smoke" if args.smoke else "full"
    print(
        f"gateway benchmark ({mode}): {config.connections} connections, {config.rounds} round(s)"
        f" of {config.duration:g} s per side, {config.warmup:g} s warm-up"
    )
    print(f"pinning: {layout.describe()}")
    if layout.pinned:
        print(
            "  (the sample backend and wrk share a core: a side whose runs show the backend"
            " near 100% CPU is limited by that core, not by itself)"
        )
    started = datetime.now(UTC)
    code = _code_state()
    print(
        f"code: commit {code['commit']}"
        + (f" with uncommitted changes in {', '.join(code['changed'])}" if code["changed"] else "")
    )
    if args.keep:
        directory = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
        summary, failures, peaks = _measure(args, layout, config, directory, args.scenario_list)
    else:
        with tempfile.TemporaryDirectory(prefix="gateway-bench-") as name:
            summary, failures, peaks = _measure(
                args, layout, config, Path(name), args.scenario_list
            )
    judge = not args.smoke
    print()
    print("Medians over rounds; RSS is the peak sampled during the scenario's runs.")
    print(summary.markdown(judge=judge))
    print()
    print(summary.cpu_markdown())
    print()
    for line in summary.memory_and_ledger_lines(judge=judge):
        print(line)
    print(
        f"peak RSS over the whole run (VmHWM): gateway {peaks['gateway_vmhwm_mib']} MiB,"
        f" baseline {peaks['baseline_vmhwm_mib']} MiB"
    )
    meta = {
        "generated_at": started.isoformat(timespec="seconds"),
        "mode": mode,
        "machine": _machine(layout, wrk),
        "code": code,
        "database": args.database,
        "config": asdict(config),
        "company_plan": {"plan": "enterprise", "overrides": PLAN_OVERRIDES, "name": COMPANY},
        "peaks": peaks,
        "smoke_failures": failures if args.smoke else None,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary.to_json(meta), indent=2) + "\n")
    print(f"results: {args.output}")
    if args.smoke:
        if failures:
            print(f"smoke: {len(failures)} check(s) failed:", file=sys.stderr)
            for failure in failures:
                print(f"  {failure}", file=sys.stderr)
            return 1
        runs = sum(len(item.result.samples) for item in summary.scenarios)
        print(
            f"smoke: OK, {len(summary.scenarios)} scenarios, {runs} runs, every one answered"
            " as expected (speeds not judged)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
