"""Medians, targets (PASS/FAIL), the printed tables, the JSON file, and the smoke checks.

::

    summary = Summary.build(results, memory, ledger_start, ledger_end, gateway_requests)
    print(summary.markdown())
    Path("bench/results/latest.json").write_text(json.dumps(summary.to_json(meta), indent=2))
    failures = smoke_failures(results)   # empty when every run answered as it should
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from bench.harness.database import LedgerCounts
from bench.harness.runner import BASELINE, GATEWAY, MemoryResult, RunSample, ScenarioResult

__all__ = [
    "LEDGER_MIN_ROWS_PER_COMMIT",
    "MEMORY_MAX_GROWTH_PERCENT",
    "SideSummary",
    "Summary",
    "smoke_failures",
]

MEMORY_MAX_GROWTH_PERCENT = 10.0
LEDGER_MIN_ROWS_PER_COMMIT = 2.0  # "no per-request transaction": at least 2 rows a commit
_MIB = 1024


@dataclass(frozen=True)
class SideSummary:
    """One side (gateway or baseline) of one scenario: medians over its rounds."""

    rounds: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    peak_rss_mib: float
    server_cpu: float
    cpu_us_per_request: float
    backend_cpu: float
    load_core_busy: float | None
    requests: int
    status_errors: int
    socket_errors: int

    @classmethod
    def of(cls, runs: list[RunSample]) -> SideSummary | None:
        if not runs:
            return None
        return cls(
            rounds=len(runs),
            requests_per_second=statistics.median(r.wrk.requests_per_second for r in runs),
            p50_ms=statistics.median(r.wrk.p50_ms for r in runs),
            p99_ms=statistics.median(r.wrk.p99_ms for r in runs),
            peak_rss_mib=max(r.peak_rss_kib for r in runs) / _MIB,
            server_cpu=statistics.median(r.server_cpu for r in runs),
            cpu_us_per_request=statistics.median(r.cpu_us_per_request for r in runs),
            backend_cpu=statistics.median(r.backend_cpu for r in runs),
            load_core_busy=(
                statistics.median(busy)
                if (busy := [r.load_core_busy for r in runs if r.load_core_busy is not None])
                else None
            ),
            requests=sum(r.wrk.requests for r in runs),
            status_errors=sum(r.wrk.status_errors for r in runs),
            socket_errors=sum(r.wrk.socket_errors for r in runs),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "server_cpu": round(self.server_cpu, 3),
            "cpu_us_per_request": round(self.cpu_us_per_request, 1),
            "backend_cpu": round(self.backend_cpu, 3),
            "load_core_busy": None
            if self.load_core_busy is None
            else round(self.load_core_busy, 3),
            "requests": self.requests,
            "status_errors": self.status_errors,
            "socket_errors": self.socket_errors,
        }


@dataclass(frozen=True)
class ScenarioSummary:
    result: ScenarioResult
    gateway: SideSummary
    baseline: SideSummary | None

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.requests_per_second:
            return None
        return self.gateway.requests_per_second / self.baseline.requests_per_second

    @property
    def p99_diff_ms(self) -> float | None:
        return None if self.baseline is None else self.gateway.p99_ms - self.baseline.p99_ms

    def verdict(self) -> str | None:
        target = self.result.scenario.target
        if target is None or self.ratio is None:
            return None
        passed = self.ratio >= target.min_ratio
        if target.max_p99_extra_ms is not None and self.p99_diff_ms is not None:
            passed = passed and self.p99_diff_ms <= target.max_p99_extra_ms
        return "PASS" if passed else "FAIL"

    def to_json(self) -> dict[str, Any]:
        scenario = self.result.scenario
        return {
            "key": scenario.key,
            "name": scenario.name,
            "backend_calls": scenario.backend_calls,
            "expected_status": scenario.expected_status,
            "target": scenario.target.describe() if scenario.target else None,
            "gateway": self.gateway.to_json(),
            "baseline": self.baseline.to_json() if self.baseline else None,
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "p99_diff_ms": None if self.p99_diff_ms is None else round(self.p99_diff_ms, 3),
            "verdict": self.verdict(),
            "runs": [
                {
                    "target": run.target,
                    "round": run.round + 1,
                    "requests": run.wrk.requests,
                    "requests_per_second": round(run.wrk.requests_per_second, 1),
                    "p50_ms": run.wrk.p50_ms,
                    "p99_ms": run.wrk.p99_ms,
                    "peak_rss_kib": run.peak_rss_kib,
                    "server_cpu": round(run.server_cpu, 3),
                    "cpu_us_per_request": round(run.cpu_us_per_request, 1),
                    "backend_cpu": round(run.backend_cpu, 3),
                    "load_core_busy": run.load_core_busy,
                    "server_core_busy": run.server_core_busy,
                    "status_errors": run.wrk.status_errors,
                    "socket_errors": run.wrk.socket_errors,
                    "statuses": run.wrk.statuses,
                    "bad_bodies": run.wrk.bad_bodies,
                }
                for run in self.result.samples
            ],
        }


def _cpu(side: SideSummary | None) -> str:
    if side is None:
        return "n/a"
    return f"{side.server_cpu:.0%} ({side.cpu_us_per_request:,.0f})"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _rows_per_commit(rows: int, commits: int | None) -> float | None:
    return rows / commits if commits else None


@dataclass(frozen=True)
class LedgerSummary:
    """The usage ledger over a window: requests sent, rows written, transactions."""

    requests: int
    rows: int
    commits: int | None

    @classmethod
    def between(cls, start: LedgerCounts, end: LedgerCounts, requests: int) -> LedgerSummary:
        commits = None
        # A counter that went down was reset (SQLite: every connection closed): unknown.
        if start.commits is not None and end.commits is not None and end.commits >= start.commits:
            commits = end.commits - start.commits
        return cls(requests=requests, rows=end.rows - start.rows, commits=commits)

    @property
    def rows_per_commit(self) -> float | None:
        return _rows_per_commit(self.rows, self.commits)

    def verdict(self) -> str | None:
        per_commit = self.rows_per_commit
        if per_commit is None:
            return None
        return "PASS" if per_commit >= LEDGER_MIN_ROWS_PER_COMMIT else "FAIL"

    def to_json(self) -> dict[str, Any]:
        per_commit = self.rows_per_commit
        return {
            "requests": self.requests,
            "rows": self.rows,
            "commits": self.commits,
            "rows_per_commit": None if per_commit is None else round(per_commit, 2),
            "verdict": self.verdict(),
        }


@dataclass(frozen=True)
class Summary:
    scenarios: list[ScenarioSummary]
    memory: MemoryResult | None
    ledger: LedgerSummary
    memory_ledger: LedgerSummary | None

    @classmethod
    def build(
        cls,
        results: list[ScenarioResult],
        memory: MemoryResult | None,
        ledger_start: LedgerCounts,
        ledger_end: LedgerCounts,
        gateway_requests: int,
    ) -> Summary:
        scenarios = []
        for result in results:
            gateway = SideSummary.of(result.runs(GATEWAY))
            assert gateway is not None, f"{result.scenario.name} has no gateway run"
            scenarios.append(
                ScenarioSummary(result, gateway, SideSummary.of(result.runs(BASELINE)))
            )
        memory_ledger = None
        if memory is not None:
            memory_ledger = LedgerSummary.between(
                memory.ledger_before, memory.ledger_after, memory.requests
            )
        return cls(
            scenarios=scenarios,
            memory=memory,
            ledger=LedgerSummary.between(ledger_start, ledger_end, gateway_requests),
            memory_ledger=memory_ledger,
        )

    def memory_verdict(self) -> str | None:
        if self.memory is None:
            return None
        return "PASS" if self.memory.growth_percent < MEMORY_MAX_GROWTH_PERCENT else "FAIL"

    # -- printing ----------------------------------------------------------------------------

    def markdown(self, *, judge: bool = True) -> str:
        lines = [
            "| scenario | gateway req/s | baseline req/s | ratio | gateway p50 / p99 ms"
            " | baseline p50 / p99 ms | p99 diff ms | peak RSS gateway / baseline MiB"
            " | target | result |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for item in self.scenarios:
            gateway, baseline = item.gateway, item.baseline
            target = item.result.scenario.target
            lines.append(
                "| "
                + " | ".join(
                    [
                        item.result.scenario.name,
                        f"{gateway.requests_per_second:,.0f}",
                        f"{baseline.requests_per_second:,.0f}" if baseline else "n/a",
                        f"{item.ratio:.2f}x" if item.ratio is not None else "n/a",
                        f"{gateway.p50_ms:.1f} / {gateway.p99_ms:.1f}",
                        f"{baseline.p50_ms:.1f} / {baseline.p99_ms:.1f}" if baseline else "n/a",
                        f"{item.p99_diff_ms:+.1f}" if item.p99_diff_ms is not None else "n/a",
                        f"{gateway.peak_rss_mib:.0f} / "
                        + (f"{baseline.peak_rss_mib:.0f}" if baseline else "n/a"),
                        target.describe() if target else "",
                        (item.verdict() or "") if judge else "",
                    ]
                )
                + " |"
            )
        return "\n".join(lines)

    def cpu_markdown(self) -> str:
        lines = [
            "| scenario | backend calls | gateway CPU (µs/request) | baseline CPU (µs/request)"
            " | sample backend CPU (gateway / baseline runs)"
            " | load core busy (gateway / baseline runs) | errors (gateway / baseline) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for item in self.scenarios:
            gateway, baseline = item.gateway, item.baseline
            scenario = item.result.scenario
            gateway_errors = gateway.socket_errors + (
                gateway.status_errors
                if scenario.expected_status < 400
                else gateway.requests - gateway.status_errors
            )
            baseline_errors = (
                f"{baseline.socket_errors + baseline.status_errors}" if baseline else "n/a"
            )
            lines.append(
                f"| {scenario.name} | {scenario.backend_calls}"
                f" | {gateway.server_cpu:.0%} ({gateway.cpu_us_per_request:,.0f})"
                f" | {_cpu(baseline)}"
                f" | {gateway.backend_cpu:.0%} / "
                f"{f'{baseline.backend_cpu:.0%}' if baseline else 'n/a'}"
                f" | {_share(gateway.load_core_busy)} / "
                f"{_share(baseline.load_core_busy) if baseline else 'n/a'}"
                f" | {gateway_errors} / {baseline_errors} |"
            )
        return "\n".join(lines)

    def memory_and_ledger_lines(self, *, judge: bool = True) -> list[str]:
        lines = []
        if self.memory is not None:
            memory = self.memory
            verdict = f" (target < {MEMORY_MAX_GROWTH_PERCENT:g}%): {self.memory_verdict()}"
            lines.append(
                f"memory: gateway RSS {memory.rss_before_kib / _MIB:.1f} MiB before and"
                f" {memory.rss_after_kib / _MIB:.1f} MiB after {memory.requests:,} one-badge"
                f" requests ({memory.requests_per_second:,.0f} req/s, peak"
                f" {memory.peak_rss_kib / _MIB:.1f} MiB): growth {memory.growth_percent:+.1f}%"
                + (verdict if judge else "")
            )
        else:
            lines.append("memory: skipped")
        windows = [("whole run", self.ledger)]
        if self.memory_ledger is not None:
            windows.append(("memory run", self.memory_ledger))
        for label, ledger in windows:
            per_commit = ledger.rows_per_commit
            commits = (
                f"{ledger.commits:,} write transactions, {per_commit:.1f} rows per commit"
                if ledger.commits is not None and per_commit is not None
                else "commits not countable"
            )
            ledger_verdict = ledger.verdict()
            lines.append(
                f"ledger ({label}): {ledger.requests:,} gateway requests, {ledger.rows:,}"
                f" usage_events rows, {commits}"
                + (
                    f" (target >= {LEDGER_MIN_ROWS_PER_COMMIT:g} rows per commit: {ledger_verdict})"
                    if judge and ledger_verdict
                    else ""
                )
            )
        return lines

    def to_json(self, meta: dict[str, Any]) -> dict[str, Any]:
        memory: dict[str, Any] | None = None
        if self.memory is not None:
            memory = {
                "requests": self.memory.requests,
                "requests_per_second": round(self.memory.requests_per_second, 1),
                "rss_before_mib": round(self.memory.rss_before_kib / _MIB, 1),
                "rss_after_mib": round(self.memory.rss_after_kib / _MIB, 1),
                "peak_rss_mib": round(self.memory.peak_rss_kib / _MIB, 1),
                "growth_percent": round(self.memory.growth_percent, 2),
                "target": f"< {MEMORY_MAX_GROWTH_PERCENT:g}%",
                "verdict": self.memory_verdict(),
            }
        return {
            **meta,
            "scenarios": [item.to_json() for item in self.scenarios],
            "memory": memory,
            "ledger": {
                "whole_run": self.ledger.to_json(),
                "memory_run": self.memory_ledger.to_json() if self.memory_ledger else None,
                "target": f">= {LEDGER_MIN_ROWS_PER_COMMIT:g} rows per commit",
            },
        }


def smoke_failures(results: list[ScenarioResult], min_share: float = 0.9) -> list[str]:
    """What a smoke run must see: every scenario ran, and answered mostly as expected."""
    failures = []
    for result in results:
        scenario = result.scenario
        expected_targets = {GATEWAY} | ({BASELINE} if scenario.baseline_path else set())
        seen = {sample.target for sample in result.samples}
        failures += [f"{scenario.name}: no {t} run" for t in sorted(expected_targets - seen)]
        for sample in result.samples:
            where = f"{scenario.name} ({sample.target}, round {sample.round + 1})"
            wrk = sample.wrk
            if wrk.requests == 0:
                failures.append(f"{where}: no request completed")
                continue
            if wrk.statuses is None or wrk.bad_bodies is None:
                failures.append(f"{where}: responses were not checked")
                continue
            answered = sum(wrk.statuses.values())
            if scenario.expected_status == 200:
                good = sum(n for code, n in wrk.statuses.items() if code.startswith("2"))
                wanted = "2xx"
            else:
                good = wrk.statuses.get(str(scenario.expected_status), 0)
                wanted = str(scenario.expected_status)
            if answered == 0 or good < min_share * answered:
                failures.append(f"{where}: {good} of {answered} answers were {wanted}")
            if wrk.bad_bodies > (1 - min_share) * answered:
                failures.append(
                    f"{where}: {wrk.bad_bodies} of {answered} bodies lacked {scenario.marker!r}"
                )
            if wrk.socket_errors > (1 - min_share) * max(wrk.requests, 1):
                failures.append(f"{where}: {wrk.socket_errors} socket errors")
    return failures
