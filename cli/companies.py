"""``gateway companies``: create and list partner companies.

::

    gateway companies create --name "Acme Learning" --organization-id 1 [--plan standard]
    gateway companies list --json
    gateway companies set-plan "Acme Learning" enterprise
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Annotated, Any

import typer

from cli.common import fail, load_settings_or_exit, open_database
from cli.output import format_time, print_json, print_table
from metering.plans import PlanCatalog, UnknownPlan
from storage.records import CompanyRecord
from storage.repositories import CompanyNameTaken, CompanyRepository

__all__ = ["app", "company_json"]

app = typer.Typer(help="Partner companies.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def company_json(company: CompanyRecord) -> dict[str, Any]:
    return {
        "id": company.id,
        "name": company.name,
        "organization_id": company.organization_id,
        "plan": company.plan,
        "active": company.active,
        "created_at": company.created_at,
    }


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Unique company name.")],
    organization_id: Annotated[
        int, typer.Option("--organization-id", min=1, help="The backend organization's id.")
    ],
    plan: Annotated[str, typer.Option("--plan", help="Plan name.")] = "standard",
    as_json: JsonOption = False,
) -> None:
    """Create a company acting on one backend organization."""
    name = name.strip()
    if not name:
        fail("The company name must not be empty.")
    _check_plan(plan)
    settings = load_settings_or_exit()

    async def run() -> CompanyRecord:
        async with open_database(settings) as database:
            try:
                return await CompanyRepository(database).create(
                    name=name, organization_id=organization_id, plan=plan
                )
            except CompanyNameTaken as exc:
                fail(str(exc))

    company = asyncio.run(run())
    if as_json:
        print_json(company_json(company))
    else:
        typer.echo(
            f"Created company {company.name!r} ({company.id}) for organization "
            f"{company.organization_id}, plan {company.plan}."
        )


def _check_plan(plan: str) -> None:
    try:
        PlanCatalog.default().get(plan)
    except UnknownPlan as exc:
        fail(str(exc))


@app.command("set-plan")
def set_plan(
    company: Annotated[str, typer.Argument(help="The company's id or name.")],
    plan: Annotated[str, typer.Argument(help="A plan name (see `gateway plans list`).")],
    override: Annotated[
        list[str] | None,
        typer.Option(
            "--override",
            help="NAME=VALUE on top of the plan, e.g. monthly_quota=10000000 (repeatable).",
        ),
    ] = None,
) -> None:
    """Put a company on a plan, with its own overrides (replacing any it had).

    Its bucket and quota carry on as they are; gateways see the change within a second.
    """
    overrides = _parse_overrides(override or [])
    try:
        effective = PlanCatalog.default().resolve(plan, overrides)
    except UnknownPlan as exc:
        fail(str(exc))
    except (TypeError, ValueError) as exc:
        fail(f"Invalid override: {exc}")
    settings = load_settings_or_exit()

    async def run() -> CompanyRecord:
        async with open_database(settings) as database:
            companies = CompanyRepository(database)
            found = await companies.get_by_id_or_name(company)
            if found is None:
                fail(f"No company {company!r}.")
            await companies.set_plan(found.id, plan, overrides)
            return found

    found = asyncio.run(run())
    typer.echo(f"Company {found.name!r} ({found.id}) is now on plan {plan} (was {found.plan}).")
    if overrides:
        typer.echo("Effective plan: " + json.dumps(effective.to_json()))


# How each overridable number is read from the command line.
_OVERRIDE_TYPES: dict[str, type] = {
    "bucket_capacity": int,
    "restore_rate": float,
    "max_operation_cost": int,
    "monthly_quota": int,
    "price_per_1000": str,  # kept as text: a Decimal in the plan, exact in JSON
}


def _parse_overrides(items: list[str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        convert = _OVERRIDE_TYPES.get(name.strip())
        if not sep or convert is None:
            fail(f"--override takes NAME=VALUE with NAME one of {', '.join(_OVERRIDE_TYPES)}.")
        try:
            converted = convert(value.strip())
            if convert is str:
                Decimal(converted)  # refuse what is not a number now, not at billing time
        except (ValueError, ArithmeticError):
            fail(f"--override {name}: {value!r} is not a number.")
        if isinstance(converted, int | float) and converted <= 0:
            fail(f"--override {name} must be positive.")
        overrides[name.strip()] = converted
    return overrides


@app.command("list")
def list_companies(as_json: JsonOption = False) -> None:
    """List all companies."""
    settings = load_settings_or_exit()

    async def run() -> list[CompanyRecord]:
        async with open_database(settings) as database:
            return await CompanyRepository(database).list()

    companies = asyncio.run(run())
    if as_json:
        print_json([company_json(company) for company in companies])
        return
    if not companies:
        typer.echo("No companies yet; create one with `gateway companies create`.")
        return
    print_table(
        ["ID", "NAME", "ORGANIZATION", "PLAN", "ACTIVE", "CREATED"],
        [
            [
                c.id,
                c.name,
                c.organization_id,
                c.plan,
                "yes" if c.active else "no",
                format_time(c.created_at),
            ]
            for c in companies
        ],
    )
