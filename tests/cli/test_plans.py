"""``gateway plans list`` and ``gateway companies set-plan``, in process, on both databases."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.app import app
from tests.fixtures.databases import TEST_PEPPER


def _run(database_url: str, *args: str) -> tuple[int, str, str]:
    env = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_KEY_PEPPER": TEST_PEPPER.decode(),
        "GATEWAY_BACKEND_USERNAME": "gateway",
        "GATEWAY_BACKEND_PASSWORD": "not-used-here",
    }
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_plans_list_shows_every_number(database_url: str) -> None:
    code, out, _ = _run(database_url, "plans", "list", "--json")
    assert code == 0
    plans = {plan["name"]: plan for plan in json.loads(out)}
    assert set(plans) == {"free", "standard", "enterprise"}
    assert plans["free"] == {
        "name": "free",
        "bucket_capacity": 500,
        "restore_rate": 25.0,
        "max_operation_cost": 500,
        "monthly_quota": 100_000,
        "price_per_1000": "0",
    }


def test_set_plan_moves_a_company_and_refuses_unknown_plans(database_url: str) -> None:
    code, out, _ = _run(
        database_url, "companies", "create", "--name", "Plan Co", "--organization-id", "1", "--json"
    )
    assert code == 0 and json.loads(out)["plan"] == "standard"
    code, out, _ = _run(database_url, "companies", "set-plan", "Plan Co", "enterprise")
    assert code == 0 and "now on plan enterprise (was standard)" in out
    code, out, _ = _run(database_url, "companies", "list", "--json")
    assert [c["plan"] for c in json.loads(out)] == ["enterprise"]

    code, _, err = _run(database_url, "companies", "set-plan", "Plan Co", "platinum")
    assert code != 0 and "Unknown plan 'platinum'" in err
    code, _, err = _run(database_url, "companies", "set-plan", "No Such Co", "free")
    assert code != 0 and "No company" in err
    code, _, err = _run(
        database_url,
        "companies",
        "create",
        "--name",
        "X",
        "--organization-id",
        "1",
        "--plan",
        "gold",
    )
    assert code != 0 and "Unknown plan 'gold'" in err
