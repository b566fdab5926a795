"""Runs the scenarios against a started :class:`~bench.harness.stack.Stack` and collects samples.

For each scenario: one request to each side first (the preflight: right status, right
body), a warm-up run of each, then ``rounds`` rounds in which gateway and baseline run
one after the other, in alternating order (ABBA), so drift on a shared machine hits both.
Then the memory run: resident memory before and after N one-badge requests::

    runner = Runner(stack, layout, config, scripts_dir)
    results = [runner.run_scenario(scenario) for scenario in SCENARIOS]
    memory = runner.memory()
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness.database import LedgerCounts
from bench.harness.processes import CpuLayout, Sampler, ServerProcess
from bench.harness.scenarios import ONE_BADGE, Scenario
from bench.harness.stack import Stack
from bench.harness.wrk import LoadScript, WrkResult, run_wrk

__all__ = [
    "BASELINE",
    "GATEWAY",
    "BenchConfig",
    "MemoryResult",
    "RunSample",
    "Runner",
    "ScenarioResult",
]

GATEWAY = "gateway"
BASELINE = "baseline"


@dataclass(frozen=True)
class BenchConfig:
    connections: int = 16
    duration: float = 5.0
    rounds: int = 5
    warmup: float = 2.0
    memory_requests: int = 100_000  # 0: no memory run
    check: bool = False  # count statuses and check bodies in wrk (smoke runs)
    wrk_threads: int = 1


@dataclass(frozen=True)
class RunSample:
    target: str
    round: int
    wrk: WrkResult
    peak_rss_kib: int
    server_cpu: float  # share of one core over the run
    backend_cpu: float
    load_core_busy: float | None  # how busy the backend+wrk core was (anyone's work)
    server_core_busy: float | None  # how busy the server's core was (anyone's work)

    @property
    def cpu_us_per_request(self) -> float:
        """The server's CPU time per answered request, µs: steadier than req/s when shared."""
        rate = self.wrk.requests_per_second
        return self.server_cpu * 1e6 / rate if rate else 0.0


@dataclass
class ScenarioResult:
    scenario: Scenario
    samples: list[RunSample] = field(default_factory=list)

    def runs(self, target: str) -> list[RunSample]:
        return [sample for sample in self.samples if sample.target == target]


@dataclass(frozen=True)
class MemoryResult:
    requests: int
    requests_per_second: float
    rss_before_kib: int
    rss_after_kib: int
    peak_rss_kib: int
    ledger_before: LedgerCounts
    ledger_after: LedgerCounts

    @property
    def growth_percent(self) -> float:
        return (self.rss_after_kib - self.rss_before_kib) / self.rss_before_kib * 100


def _post(url: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the benchmark only talks to its own servers, not {url}")
    request = urllib.request.Request(  # noqa: S310 - checked just above
        url,
        data=body.encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode()


class Runner:
    def __init__(
        self,
        stack: Stack,
        layout: CpuLayout,
        config: BenchConfig,
        scripts_dir: Path,
        progress: Callable[[str], None] = print,
    ) -> None:
        self.stack = stack
        self.layout = layout
        self.config = config
        self.scripts_dir = scripts_dir
        self.progress = progress
        self.gateway_requests = 0  # everything sent to the gateway: compared with the ledger
        self._run_id = uuid.uuid4().hex[:8]
        self._scripts = 0

    # -- one request each, before loading --------------------------------------------------

    def prime(self) -> None:
        """One request each way, so the gateway holds its database connection from now on.

        (With SQLite the WAL index the ledger probe reads exists only while one is open.)
        """
        self.preflight(ONE_BADGE)

    def preflight(self, scenario: Scenario) -> None:
        """One request to each side; raises when a status or body is not what the run needs."""
        unique = f"{self._run_id}-preflight"
        gateway_key = self.stack.invalid_key if scenario.invalid_key else self.stack.api_key
        checks = [
            (
                GATEWAY,
                self.stack.gateway.url + "/graphql",
                scenario.concrete_body(scenario.gateway_body, unique),
                {"Authorization": f"Bearer {gateway_key}"},
            )
        ]
        if scenario.baseline_path is not None:
            body = scenario.baseline_body or scenario.gateway_body
            checks.append(
                (
                    BASELINE,
                    self.stack.baseline.url + scenario.baseline_path,
                    scenario.concrete_body(body, unique),
                    {},
                )
            )
        for target, url, body, headers in checks:
            status, text = _post(url, body, headers)
            if target == GATEWAY:
                self.gateway_requests += 1
            if status != scenario.expected_status or scenario.marker not in text:
                raise RuntimeError(
                    f"{scenario.name}: the {target} answered {status} {text[:500]!r};"
                    f" expected {scenario.expected_status} with {scenario.marker!r}"
                )
            if target == GATEWAY and scenario.expected_status == 200 and '"errors"' in text:
                raise RuntimeError(f"{scenario.name}: the gateway answered errors: {text[:500]}")

    # -- load ------------------------------------------------------------------------------

    def _script(self, scenario: Scenario, target: str, stop_after: int | None) -> Path:
        self._scripts += 1
        prefix = f"{self._run_id}-{self._scripts}"
        script: LoadScript
        if target == GATEWAY:
            key = self.stack.invalid_key if scenario.invalid_key else self.stack.api_key
            script = scenario.gateway_script(
                key, prefix, check=self.config.check, stop_after=stop_after
            )
        else:
            script = scenario.baseline_script(prefix, check=self.config.check)
        return script.write(self.scripts_dir, f"{scenario.key}-{target}-{self._scripts}")

    def _server(self, target: str) -> ServerProcess:
        return self.stack.gateway if target == GATEWAY else self.stack.baseline

    def _url(self, scenario: Scenario, target: str) -> str:
        if target == GATEWAY:
            return self.stack.gateway.url + "/graphql"
        assert scenario.baseline_path is not None
        return self.stack.baseline.url + scenario.baseline_path

    def run_once(
        self,
        scenario: Scenario,
        target: str,
        round_number: int,
        duration: float,
        stop_after: int | None = None,
    ) -> RunSample:
        server = self._server(target)
        script = self._script(scenario, target, stop_after)
        with Sampler([server, self.stack.backend]) as sampler:
            result = run_wrk(
                self._url(scenario, target),
                script,
                connections=self.config.connections,
                duration=duration,
                threads=self.config.wrk_threads,
                cpu_prefix=self.layout.prefix(self.layout.load),
                stop_early=stop_after is not None,
            )
        if target == GATEWAY:
            self.gateway_requests += result.requests
        return RunSample(
            target=target,
            round=round_number,
            wrk=result,
            peak_rss_kib=sampler.peak_rss_kib[server.pid],
            server_cpu=sampler.cpu_share[server.pid],
            backend_cpu=sampler.cpu_share[self.stack.backend.pid],
            load_core_busy=(
                sampler.core_busy.get(self.layout.load) if self.layout.load is not None else None
            ),
            server_core_busy=(
                sampler.core_busy.get(self.layout.server)
                if self.layout.server is not None
                else None
            ),
        )

    def run_scenario(self, scenario: Scenario) -> ScenarioResult:
        self.preflight(scenario)
        targets = [GATEWAY] if scenario.baseline_path is None else [GATEWAY, BASELINE]
        for target in targets:
            if self.config.warmup > 0:
                self.run_once(scenario, target, -1, self.config.warmup)
        result = ScenarioResult(scenario)
        for round_number in range(self.config.rounds):
            order = targets if round_number % 2 == 0 else targets[::-1]
            for target in order:
                sample = self.run_once(scenario, target, round_number, self.config.duration)
                result.samples.append(sample)
                self.progress(_progress_line(scenario, sample))
        return result

    def memory(self) -> MemoryResult:
        """Resident memory of the gateway before and after N one-badge requests."""
        requests = self.config.memory_requests
        time.sleep(1.0)
        before_ledger = self.stack.database.ledger()
        rss_before = self.stack.gateway.rss_kib()
        sample = self.run_once(
            ONE_BADGE,
            GATEWAY,
            0,
            duration=max(900.0, requests / 100),
            stop_after=-(-requests // self.config.wrk_threads),  # per wrk thread
        )
        time.sleep(1.0)
        rss_after = self.stack.gateway.rss_kib()
        after_ledger = self.stack.database.ledger()
        return MemoryResult(
            requests=sample.wrk.requests,
            requests_per_second=sample.wrk.requests_per_second,
            rss_before_kib=rss_before,
            rss_after_kib=rss_after,
            peak_rss_kib=sample.peak_rss_kib,
            ledger_before=before_ledger,
            ledger_after=after_ledger,
        )


def _progress_line(scenario: Scenario, sample: RunSample) -> str:
    wrk = sample.wrk
    return (
        f"  {scenario.name:<26} {sample.target:<8} round {sample.round + 1}:"
        f" {wrk.requests_per_second:9,.0f} req/s  p50 {wrk.p50_ms:6.2f} ms"
        f"  p99 {wrk.p99_ms:6.2f} ms  cpu {sample.server_cpu:4.0%}"
        f"  backend cpu {sample.backend_cpu:4.0%}"
        + (
            f"  cores busy: server {sample.server_core_busy:4.0%} load {sample.load_core_busy:4.0%}"
            if sample.load_core_busy is not None and sample.server_core_busy is not None
            else ""
        )
        + (
            f"  status>=400: {wrk.status_errors}"
            if wrk.status_errors and scenario.expected_status < 400
            else ""
        )
    )
