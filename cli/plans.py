"""``gateway plans``: the named plans companies can be on.

::

    gateway plans list [--json]
"""

from __future__ import annotations

import typer

from cli.output import print_json, print_table
from metering.plans import PlanCatalog

__all__ = ["app"]

app = typer.Typer(help="Plans: cost buckets, limits, quotas and prices.", no_args_is_help=True)


@app.command("list")
def list_plans(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the plans and their numbers."""
    plans = list(PlanCatalog.default())
    if as_json:
        print_json([plan.to_json() for plan in plans])
        return
    print_table(
        ["plan", "bucket", "restore/s", "max/operation", "monthly quota", "price/1000"],
        [
            [
                p.name,
                str(p.bucket_capacity),
                f"{p.restore_rate:g}",
                str(p.max_operation_cost),
                f"{p.monthly_quota:,}",
                str(p.price_per_1000),
            ]
            for p in plans
        ],
    )
