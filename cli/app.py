"""The ``gateway`` admin command: companies, API keys, the database, serving, the demo.

::

    gateway companies create --name "Acme Learning" --organization-id 1
    gateway companies set-plan "Acme Learning" enterprise
    gateway plans list
    gateway keys issue --company "Acme Learning"
    gateway usage report --company "Acme Learning" --from 2026-01-01 --to 2026-01-31
    gateway usage export --month 2026-01 --out usage-2026-01.csv
    gateway trace 01JD9Q6Y4B2X7T0M3N5P8R1S2V
    gateway traces --company "Acme Learning" --since 1h --outcome error
    gateway db upgrade
    gateway serve
    gateway demo

Settings come from ``GATEWAY_*`` variables and are read only by commands that need them;
a missing or invalid one exits 2 with a message naming it.
"""

from __future__ import annotations

import sys

import typer

from cli import companies, db, keys, plans, traces, usage
from cli.demo import demo
from cli.serve import serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="gateway",
    help="Partner GraphQL gateway: administration and serving.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold keys and the pepper
    add_completion=False,
)
app.add_typer(companies.app, name="companies")
app.add_typer(keys.app, name="keys")
app.add_typer(plans.app, name="plans")
app.add_typer(usage.app, name="usage")
app.add_typer(db.app, name="db")
app.command("trace")(traces.trace)
app.command("traces")(traces.traces)
app.command("serve")(serve)
app.command("demo")(demo)


def main() -> None:
    """Entry point of the ``gateway`` script."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
