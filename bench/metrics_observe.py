"""Cost of ``RequestMetrics.observe`` per request, with and without EMF lines.

Records cycle through 20 companies x 10 operations x 3 outcomes (some with error codes),
so the numbers include label lookups, not one hot series. EMF lines go to ``/dev/null``
through an unbuffered, write-through stream: one ``write`` system call per line, as on
stdout under ``PYTHONUNBUFFERED=1`` (the container image)::

    .venv/bin/python -m bench.metrics_observe --calls 200000 --rounds 5
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import UTC, datetime

from metering.ledger import UsageRecord
from observability.emf import EmfWriter
from observability.metrics import RequestMetrics


def _records() -> list[UsageRecord]:
    at = datetime.now(UTC)
    records = []
    for company in range(20):
        for operation in range(10):
            for outcome, codes in (("ok", ()), ("error", ("NOT_FOUND",)), ("throttled", ())):
                records.append(
                    UsageRecord(
                        request_id="req-0123456789abcdef",
                        outcome=outcome,
                        duration_ms=3.7 + operation,
                        company_id=f"co_{company:016x}",
                        operation_name=f"Operation{operation}",
                        actual_cost=41,
                        error_codes=codes,
                        at=at,
                    )
                )
    return records


def _per_call_us(metrics: RequestMetrics, records: list[UsageRecord], calls: int) -> float:
    count = len(records)
    observe = metrics.observe
    started = time.perf_counter_ns()
    for index in range(calls):
        observe(records[index % count])
    return (time.perf_counter_ns() - started) / calls / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    records = _records()
    devnull = io.TextIOWrapper(open("/dev/null", "wb", buffering=0), write_through=True)  # noqa: SIM115
    variants = {
        "prometheus only": RequestMetrics(),
        "prometheus + EMF": RequestMetrics(
            emf=EmfWriter("PartnerGateway", ["company", "operation"], devnull)
        ),
    }
    for metrics in variants.values():
        _per_call_us(metrics, records, len(records))  # every series exists: steady state
    results: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):  # interleaved rounds: the machine is shared and noisy
        for name, metrics in variants.items():
            results[name].append(_per_call_us(metrics, records, args.calls))
    for name, values in results.items():
        print(f"{name:18} median {statistics.median(values):6.2f} us/call  min {min(values):6.2f}")
    devnull.close()


if __name__ == "__main__":
    main()
