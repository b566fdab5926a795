"""``gateway keys`` through a key's life, in process on both databases: issue with expiry,
rotate, revoke (also a pasted leaked key), list, events, peppers and the scanner regex."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from auth.api_keys import API_KEY_PATTERN
from cli.app import app
from tests.fixtures.databases import TEST_PEPPER, seed_company

NEW_PEPPER = "second-pepper-for-cli-tests-0123"


def _run(database_url: str, *args: str, input: str | None = None, **env: str | None) -> Result:
    base: dict[str, str | None] = {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_KEY_PEPPER": TEST_PEPPER.decode(),
        "GATEWAY_BACKEND_USERNAME": "gateway",
        "GATEWAY_BACKEND_PASSWORD": "not-used-here",
        "GATEWAY_REDIS_URL": None,
        "USER": "operator-ann",
    }
    base.update(env)
    return CliRunner().invoke(app, list(args), env=base, input=input)


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def _json(result: Result) -> Any:
    return json.loads(_ok(result).stdout)


def _keys_in(text: str) -> list[str]:
    return re.findall(API_KEY_PATTERN, text)


@pytest.fixture
def company(database_url: str) -> str:
    return asyncio.run(seed_company(database_url, name="Acme Learning")).id


def test_issue_with_expiry_then_rotate_and_list(database_url: str, company: str) -> None:
    issued = _json(
        _run(database_url, "keys", "issue", "--company", company, "--expires-in", "7d", "--json")
    )
    expires = datetime.fromisoformat(issued["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(UTC) <= timedelta(days=7)

    rotated_run = _run(database_url, "keys", "rotate", issued["id"], "--grace", "1h", "--json")
    rotated = _json(rotated_run)
    assert {"id", "key", "prefix", "scopes", "status"} <= rotated.keys()
    assert _keys_in(rotated_run.stdout) == [rotated["key"]]  # the new key, once, nothing else
    assert rotated["key"] != issued["key"] and rotated["status"] == "active"
    assert rotated["expires_at"] == issued["expires_at"]  # never outlives the original's cap
    assert rotated["scopes"] == issued["scopes"]
    old = rotated["rotated"]
    assert (old["id"], old["status"], old["successor_id"]) == (
        issued["id"],
        "rotating",
        rotated["id"],
    )
    grace = datetime.fromisoformat(old["grace_ends_at"]) - datetime.now(UTC)
    assert timedelta(minutes=59) < grace <= timedelta(hours=1)

    table = _ok(_run(database_url, "keys", "list", "--company", "Acme Learning")).stdout
    assert re.search(rf"{issued['id']}.*rotating until \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\dZ", table)
    listed = _json(_run(database_url, "keys", "list", "--company", company, "--json"))
    assert [(k["id"], k["status"]) for k in listed] == [
        (issued["id"], "rotating"),
        (rotated["id"], "active"),
    ]
    for text in (table, json.dumps(listed)):
        assert not _keys_in(text)
        assert {"last_used_at", "expires_at", "created_at"} <= listed[0].keys()

    again = _run(database_url, "keys", "rotate", issued["id"])
    assert again.exit_code == 1
    assert f"rotate its successor {rotated['id']}" in again.stderr


def test_rotation_with_no_grace_ends_the_old_key_at_once(database_url: str, company: str) -> None:
    issued = _json(_run(database_url, "keys", "issue", "--company", company, "--json"))
    human = _ok(_run(database_url, "keys", "rotate", issued["id"], "--grace", "0"))
    assert "Store this key now" in human.stdout
    assert len(_keys_in(human.stdout)) == 1
    listed = _json(_run(database_url, "keys", "list", "--company", company, "--json"))
    assert listed[0]["status"] == "rotated"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rotate", "NoSuchKey123"), "No API key 'NoSuchKey123'"),
        (("rotate", "NoSuchKey123", "--grace", "31d"), "between 0 and 30 days"),
        (("rotate", "NoSuchKey123", "--grace", "soon"), "not a duration"),
        (("issue", "--company", "x", "--expires-in", "0"), "longer than 0"),
        (("revoke",), "either KEY_ID or --key -"),
        (("revoke", "NoSuchKey123"), "No API key 'NoSuchKey123'"),
    ],
)
def test_mistakes_are_explained(
    sqlite_database_url: str, args: tuple[str, ...], message: str
) -> None:
    result = _run(sqlite_database_url, "keys", *args)
    assert result.exit_code in (1, 2)
    assert message in result.stderr


def test_revoke_by_id_records_the_actor(database_url: str, company: str) -> None:
    issued = _json(_run(database_url, "keys", "issue", "--company", company, "--json"))
    revoked = _json(
        _run(database_url, "keys", "revoke", issued["id"], "--actor", "sec-team", "--json")
    )
    assert (revoked["status"], revoked["revoked_now"]) == ("revoked", True)
    again = _ok(_run(database_url, "keys", "revoke", issued["id"]))
    assert "already revoked" in again.stdout
    events = _json(_run(database_url, "keys", "events", "--company", company, "--json"))
    assert [(e["event"], e["actor"], e["key_id"]) for e in events] == [
        ("revoked", "sec-team", issued["id"]),
        ("issued", "operator-ann", issued["id"]),  # $USER when there is no --actor
    ]
    table = _ok(_run(database_url, "keys", "events")).stdout
    assert "sec-team" in table and "revoked" in table


def test_a_leaked_key_is_revoked_by_pasting_it_and_never_echoed(
    database_url: str, company: str
) -> None:
    issued = _json(_run(database_url, "keys", "issue", "--company", company, "--json"))
    key = issued["key"]

    on_the_command_line = _run(database_url, "keys", "revoke", "--key", key)
    assert on_the_command_line.exit_code == 2
    assert key not in on_the_command_line.output

    mistyped = key[:-1] + ("a" if key[-1] != "a" else "b")
    refused = _run(database_url, "keys", "revoke", "--key", "-", input=mistyped + "\n")
    assert refused.exit_code == 1 and "not a well-formed API key" in refused.stderr
    assert mistyped not in refused.output

    pasted = _run(database_url, "keys", "revoke", "--key", "-", "--json", input=key + "\n")
    assert _json(pasted)["id"] == issued["id"] and _json(pasted)["status"] == "revoked"
    assert key not in pasted.output and key[-38:] not in pasted.output


def test_the_help_carries_the_scanner_regex() -> None:
    result = CliRunner().invoke(app, ["keys", "--help"], env={"GATEWAY_KEY_PEPPER": None})
    assert result.exit_code == 0
    assert API_KEY_PATTERN in result.stdout
    assert "revoke --key -" in result.stdout
    assert re.fullmatch(API_KEY_PATTERN.replace("\\b", ""), "cgw_" + "A" * 12 + "_" + "b" * 38)


def test_peppers_report_and_record_a_rotation(database_url: str, company: str) -> None:
    url = database_url
    old = _json(_run(url, "keys", "issue", "--company", company, "--json"))
    peppers = json.dumps({"current": 2, "peppers": {"1": TEST_PEPPER.decode(), "2": NEW_PEPPER}})
    env = {"GATEWAY_KEY_PEPPER": None, "GATEWAY_KEY_PEPPERS": peppers}
    new = _json(_run(url, "keys", "issue", "--company", company, "--json", **env))
    assert (old["pepper_version"], new["pepper_version"]) == (1, 2)

    report = _json(_run(url, "keys", "peppers", "--json", **env))
    assert report["current"] == 2 and report["recorded_rotation"] is True
    assert [(v["version"], v["keys"], v["current"]) for v in report["versions"]] == [
        (1, 1, False),
        (2, 1, True),
    ]
    assert _json(_run(url, "keys", "peppers", "--json", **env))["recorded_rotation"] is False
    table = _ok(_run(url, "keys", "peppers", **env)).stdout
    for output in (table, json.dumps(report)):
        assert NEW_PEPPER not in output and TEST_PEPPER.decode() not in output
    [event] = [e for e in _json(_run(url, "keys", "events", "--json")) if e["key_id"] is None]
    assert (event["event"], event["actor"]) == ("pepper_rotated", "operator-ann")
