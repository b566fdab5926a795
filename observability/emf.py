"""CloudWatch Embedded Metric Format: one JSON line per request on standard output.

CloudWatch Logs turns each line into metrics by itself (the ``awslogs`` driver ships stdout
as log events; no agent, no API call). A line carries the metrics ``Requests`` (1),
``CostPoints`` (billable points), ``Latency`` (milliseconds) and ``Errors`` (1 when the
request was executed with errors), the dimension values ``company``, ``operation`` and
``outcome`` (those named in the directive are dimensions, the rest plain properties), and
``request_id``, a property that finds the request's log lines::

    writer = EmfWriter("PartnerGateway", ["company", "operation"])
    writer.write(record, company="co_1", operation="GetBadges", outcome="ok")
    # {"_aws":{"Timestamp":1767225600000,"CloudWatchMetrics":[{"Namespace":"PartnerGateway",
    #   "Dimensions":[["company","operation"]],"Metrics":[...]}]},"company":"co_1",...}

Every distinct combination of dimension values is a CloudWatch custom metric with its own
price, so the values written here are the bounded labels of :mod:`observability.metrics`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, TextIO

import orjson

from metering.ledger import UsageRecord

__all__ = ["EMF_DIMENSIONS", "EmfWriter"]

EMF_DIMENSIONS = ("company", "operation", "outcome")
_METRICS = (
    {"Name": "Requests", "Unit": "Count"},
    {"Name": "CostPoints", "Unit": "Count"},
    {"Name": "Latency", "Unit": "Milliseconds"},
    {"Name": "Errors", "Unit": "Count"},
)


class EmfWriter:
    """Writes one EMF line per request to ``stream`` (standard output when none is given)."""

    def __init__(
        self, namespace: str, dimensions: Sequence[str], stream: TextIO | None = None
    ) -> None:
        unknown = set(dimensions) - set(EMF_DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown EMF dimensions: {', '.join(sorted(unknown))}")
        self._stream = stream
        self.dropped = 0  # lines that could not be written
        # The same directive on every line, made once.
        self._directive = [
            {"Namespace": namespace, "Dimensions": [list(dimensions)], "Metrics": list(_METRICS)}
        ]

    def write(self, record: UsageRecord, *, company: str, operation: str, outcome: str) -> None:
        line: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(record.at.timestamp() * 1000),
                "CloudWatchMetrics": self._directive,
            },
            "company": company,
            "operation": operation,
            "outcome": outcome,
            "Requests": 1,
            "CostPoints": record.billable_cost,
            "Latency": record.duration_ms,
            "Errors": 1 if record.outcome == "error" else 0,
            "request_id": record.request_id,
        }
        stream = self._stream or sys.stdout  # looked up late: tests and servers swap stdout
        try:
            stream.write(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())
        except (OSError, ValueError):  # a closed or broken stdout must not fail the request
            self.dropped += 1
