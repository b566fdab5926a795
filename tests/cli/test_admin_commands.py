"""``gateway companies``, ``keys`` and ``db``, in process (typer's runner) on both databases,
and through the installed ``gateway`` script."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from auth.api_keys import API_KEY_PATTERN, hash_api_key, parse_api_key
from auth.authenticator import Authenticator
from auth.principal import Principal
from cli.app import app
from cli.keys import SHOWN_ONCE
from storage.database import Database
from storage.migrate import head_revision
from storage.repositories import ApiKeyRepository
from tests.fixtures.databases import TEST_PEPPER, seed_company

GATEWAY = shutil.which("gateway", path=str(Path(sys.executable).parent))


def _env(database_url: str, **overrides: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_KEY_PEPPER": TEST_PEPPER.decode(),
        "GATEWAY_BACKEND_USERNAME": "gateway",
        "GATEWAY_BACKEND_PASSWORD": "not-used-here",
    }
    env.update(overrides)
    return env


def _run(database_url: str, *args: str, **env: str | None) -> Result:
    return CliRunner().invoke(app, list(args), env=_env(database_url, **env))


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def _json(result: Result) -> Any:
    return json.loads(_ok(result).stdout)


def test_create_and_list_companies(database_url: str) -> None:
    created = _json(
        _run(
            database_url,
            *("companies", "create", "--name", "Acme Learning", "--organization-id", "7"),
            "--json",
        )
    )
    assert created["name"] == "Acme Learning"
    assert created["organization_id"] == 7
    assert created["plan"] == "standard"
    assert created["id"].startswith("co_")

    text_out = _ok(
        _run(database_url, "companies", "create", "--name", "Beta", "--organization-id", "2")
    ).stdout
    assert "Created company 'Beta'" in text_out

    listed = _json(_run(database_url, "companies", "list", "--json"))
    assert [c["name"] for c in listed] == ["Acme Learning", "Beta"]
    table = _ok(_run(database_url, "companies", "list")).stdout
    assert "Acme Learning" in table
    assert created["id"] in table

    duplicate = _run(
        database_url, "companies", "create", "--name", "Acme Learning", "--organization-id", "1"
    )
    assert duplicate.exit_code == 1
    assert "already exists" in duplicate.stderr


def test_issue_and_list_keys(database_url: str) -> None:
    # Synchronous: each command runs its own event loop, as in a real invocation.
    company = asyncio.run(seed_company(database_url, name="Acme Learning", organization_id=3))
    result = _run(database_url, "keys", "issue", "--company", "Acme Learning", "--json")
    issued = _json(result)
    assert SHOWN_ONCE in result.stderr
    assert {"id", "key", "company", "prefix", "scopes"} <= issued.keys()
    assert issued["company"] == "Acme Learning"
    assert issued["company_id"] == company.id
    assert issued["scopes"] == ["read", "write"]
    key = issued["key"]
    assert parse_api_key(key).key_id == issued["id"]
    assert key.startswith(issued["prefix"] + "_")

    by_id = _json(
        _run(database_url, "keys", "issue", "--company", company.id, "--scope", "read", "--json")
    )
    assert by_id["scopes"] == ["read"]

    human = _ok(_run(database_url, "keys", "issue", "--company", company.id)).stdout
    assert SHOWN_ONCE in human
    assert len(re.findall(API_KEY_PATTERN, human)) == 1

    listing = _ok(_run(database_url, "keys", "list", "--company", "Acme Learning")).stdout
    listed = _json(_run(database_url, "keys", "list", "--company", company.id, "--json"))
    assert [k["id"] for k in listed][:2] == [issued["id"], by_id["id"]]
    assert {k["status"] for k in listed} == {"active"}
    outputs = (listing, json.dumps(listed))
    principal = asyncio.run(_check_storage(database_url, issued["id"], key, outputs))
    assert (principal.company_id, principal.organization_id) == (company.id, 3)


async def _check_storage(
    database_url: str, key_id: str, key: str, outputs: tuple[str, ...]
) -> Principal:
    secret = key.split("_")[2]
    async with Database(database_url) as database:
        stored = await ApiKeyRepository(database).get(key_id)
        assert stored is not None
        for output in outputs:
            assert key_id in output
            assert secret[:8] not in output
            assert stored.key_hash not in output

        # Only the HMAC is stored: not the key, not the secret, in no column.
        assert stored.key_hash != key
        assert stored.key_hash == hash_api_key(key, TEST_PEPPER)
        async with database.engine.connect() as connection:
            rows = (await connection.execute(text("SELECT * FROM api_keys"))).all()
        assert not any(secret in str(value) for row in rows for value in row)

        # And the issued key works.
        return await Authenticator(ApiKeyRepository(database), TEST_PEPPER).authenticate(key)


def test_issue_refuses_unknown_companies_and_scopes(sqlite_database_url: str) -> None:
    unknown = _run(sqlite_database_url, "keys", "issue", "--company", "Nobody")
    assert unknown.exit_code == 1
    assert "No company with id or name 'Nobody'" in unknown.stderr
    listing = _run(sqlite_database_url, "keys", "list", "--company", "Nobody")
    assert listing.exit_code == 1
    bad_scope = _run(sqlite_database_url, "keys", "issue", "--company", "x", "--scope", "admin")
    assert bad_scope.exit_code == 2


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"GATEWAY_KEY_PEPPER": None}, "GATEWAY_KEY_PEPPER"),
        ({"GATEWAY_KEY_PEPPER": "short"}, "GATEWAY_KEY_PEPPER"),
        ({"GATEWAY_DATABASE_URL": "mysql://db/gateway"}, "GATEWAY_DATABASE_URL"),
    ],
)
def test_bad_settings_exit_2_naming_the_variable(
    sqlite_database_url: str, overrides: Mapping[str, str | None], variable: str
) -> None:
    result = _run(sqlite_database_url, "keys", "issue", "--company", "x", **overrides)
    assert result.exit_code == 2
    assert variable in result.stderr
    assert result.stdout == ""


def test_help_reads_no_settings() -> None:
    result = CliRunner().invoke(app, ["keys", "--help"], env={"GATEWAY_KEY_PEPPER": None})
    assert result.exit_code == 0
    assert "issue" in result.stdout


def test_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    head = head_revision()
    assert f"from revision (empty) to {head}" in _ok(_run(url, "db", "upgrade")).stdout
    assert f"already at revision {head}" in _ok(_run(url, "db", "upgrade")).stdout


def test_admin_commands_create_the_schema_of_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    assert _json(_run(url, "companies", "list", "--json")) == []


def test_serve_refuses_a_database_behind_the_code(tmp_path: Path) -> None:
    path = tmp_path / "foreign.db"
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sqlite3; sqlite3.connect({str(path)!r}).execute('CREATE TABLE t (x)')",
        ],
        check=True,
    )
    result = _run(f"sqlite+aiosqlite:///{path}", "serve", "--port", "1")
    assert result.exit_code == 1
    assert "no migration history" in result.stderr


# The installed script, as an operator runs it.


def _script(
    database_url: str, *args: str, **overrides: str | None
) -> subprocess.CompletedProcess[str]:
    assert GATEWAY is not None, "run `.venv/bin/pip install -e .` to install the gateway script"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update({k: v for k, v in _env(database_url, **overrides).items() if v is not None})
    return subprocess.run(
        [GATEWAY, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_gateway_script_issues_a_key(sqlite_database_url: str) -> None:
    # The in-process tests cover PostgreSQL; this one proves the installed entry point.
    database_url = sqlite_database_url
    company = asyncio.run(seed_company(database_url, name="Script Co"))
    completed = _script(database_url, "keys", "issue", "--company", "Script Co", "--json")
    assert completed.returncode == 0, completed.stderr
    issued = json.loads(completed.stdout)
    assert issued["company_id"] == company.id
    assert parse_api_key(issued["key"]).key_id == issued["id"]


def test_gateway_script_names_a_missing_pepper(sqlite_database_url: str) -> None:
    completed = _script(
        sqlite_database_url, "keys", "issue", "--company", "x", GATEWAY_KEY_PEPPER=None
    )
    assert completed.returncode == 2
    assert "GATEWAY_KEY_PEPPER" in completed.stderr
    assert "Traceback" not in completed.stderr
