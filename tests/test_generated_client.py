"""A typed Python client generated from schema.graphql runs every documented example.

ariadne-codegen (its own venv, .venv/codegen: it needs graphql-core below 3.3) generates
an async client from the committed schema.graphql and docs/examples/operations.graphql
into a temporary directory, as a partner would; nothing generated is committed. Every
example operation then runs through it against the real gateway with the org1 key, and
the answers come back as the generated pydantic models, with the right values.
"""

from __future__ import annotations

import datetime
import importlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate

from tests.fixtures.gateway import Gateway, all_backend_results, backend_get
from tests.fixtures.sample_backend import SampleBackend

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema.graphql"
OPERATIONS = ROOT / "docs" / "examples" / "operations.graphql"
CODEGEN = ROOT / ".venv" / "codegen" / "bin" / "ariadne-codegen"
PACKAGE = "partner_client"

CONFIG = """
[tool.ariadne-codegen]
schema_path = "{schema}"
queries_path = "{operations}"
target_package_name = "{package}"
target_package_path = "{target}"
client_name = "PartnerClient"
async_client = true
multipart_uploads = false
include_comments = "none"

[tool.ariadne-codegen.scalars.Date]
type = "datetime.date"

[tool.ariadne-codegen.scalars.DateTime]
type = "datetime.datetime"

[tool.ariadne-codegen.scalars.JSON]
type = "typing.Any"
"""


def operation_names() -> list[str]:
    document = parse(OPERATIONS.read_text())
    return [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


def test_the_example_operations_are_valid_against_the_published_schema() -> None:
    document = parse(OPERATIONS.read_text())
    assert validate(build_schema(SCHEMA.read_text()), document) == []
    assert operation_names() == [
        "Me",
        "Badges",
        "Badge",
        "Credentials",
        "Credential",
        "Issue",
        "Revoke",
        "Verify",
    ]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, imported from a temporary directory."""
    assert CODEGEN.exists(), f"{CODEGEN} is missing: run `make install`"
    target = tmp_path_factory.mktemp("generated")
    config = target / "codegen.toml"
    config.write_text(
        CONFIG.format(schema=SCHEMA, operations=OPERATIONS, package=PACKAGE, target=target)
    )
    done = subprocess.run(
        [str(CODEGEN), "--config", str(config)],
        cwd=target,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(target))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(target))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_the_generated_client_has_a_typed_method_per_operation(generated: ModuleType) -> None:
    client = generated.PartnerClient
    for name in operation_names():
        method = getattr(client, name.lower())
        model = getattr(generated, name)  # Me, Badges, ...: pydantic models
        assert method.__annotations__["return"] is model
        assert issubclass(model, generated.BaseModel)
    assert {member.name for member in generated.CredentialStatus} == {
        "ACTIVE",
        "REVOKED",
        "EXPIRED",
    }


@pytest.fixture
async def client(generated: ModuleType, gateway: Gateway) -> AsyncIterator[Any]:
    """The generated client on the gateway with the org1 key; every answer is also kept
    for the session's scan for internal data."""

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        gateway.responses.append(response.text)

    http = httpx.AsyncClient(
        headers={"Authorization": f"Bearer {gateway.keys['org1']}"},
        event_hooks={"response": [keep]},
        timeout=30,
    )
    async with generated.PartnerClient(url=f"{gateway.url}/graphql", http_client=http) as client:
        yield client


async def test_every_example_operation_runs_through_the_generated_client(
    generated: ModuleType, client: Any, gateway: Gateway, gateway_backend: SampleBackend
) -> None:
    g = generated
    organization = backend_get(gateway_backend, "/api/v1/organizations/1/")

    # Me: who you are, your limits and your usage.
    today = datetime.datetime.now(datetime.UTC).date()
    me = await client.me(from_=today.replace(day=1), to=today)
    assert isinstance(me, g.Me) and isinstance(me.viewer, g.MeViewer)
    assert me.viewer.company.name == "Acme Learning"
    assert me.viewer.company.plan == gateway.companies["org1"]["plan"] == "enterprise"
    assert (me.viewer.organization.id, me.viewer.organization.name) == ("1", organization["name"])
    assert me.viewer.rate_limit.maximum_available >= me.viewer.rate_limit.max_operation_cost > 0
    assert isinstance(me.viewer.rate_limit.restore_rate, float)
    assert isinstance(me.viewer.quota.resets_at, datetime.datetime)
    assert me.viewer.quota.remaining == me.viewer.quota.limit - me.viewer.quota.used
    assert g.ApiKeyStatus.ACTIVE in {key.status for key in me.viewer.api_keys}
    assert all(key.prefix.startswith("cgw_") for key in me.viewer.api_keys)
    assert me.viewer.usage.requests >= 0 and isinstance(me.viewer.usage.amount, str)

    # Badges: two pages of published badges, as the backend has them.
    published = [
        str(b["id"])
        for b in all_backend_results(
            gateway_backend, "/api/v1/badges/", organization=1, status="published"
        )
    ]
    first = await client.badges(first=2, status=g.BadgeStatus.PUBLISHED)
    assert isinstance(first, g.Badges)
    assert first.badges.total_count == len(published) > 2
    assert first.badges.page_info.has_next_page is True
    second = await client.badges(
        first=2, after=first.badges.page_info.end_cursor, status=g.BadgeStatus.PUBLISHED
    )
    ids = [b.id for b in first.badges.nodes + second.badges.nodes]
    assert ids == published[:4]
    assert {b.status for b in first.badges.nodes} == {g.BadgeStatus.PUBLISHED}

    # Badge: one, with its skills as typed objects.
    badge_id = first.badges.nodes[0].id
    record = backend_get(gateway_backend, f"/api/v1/badges/{badge_id}/")
    badge = (await client.badge(id=badge_id)).badge
    assert isinstance(badge, g.BadgeBadge)
    assert (badge.id, badge.name, badge.criteria) == (badge_id, record["name"], record["criteria"])
    assert badge.status is g.BadgeStatus.PUBLISHED
    assert [s.name for s in badge.skills] == [s["name"] for s in record["skills"]]
    assert badge.level is None or isinstance(badge.level, g.BadgeLevel)
    # A badge of no one's: the typed client raises, with the error's code.
    with pytest.raises(g.GraphQLClientGraphQLMultiError) as missing:
        await client.badge(id="999999")
    assert [e.extensions["code"] for e in missing.value.errors] == ["NOT_FOUND"]

    # Issue, with an idempotency key: a retry with the same key gives the same credential.
    email = f"codegen-{uuid.uuid4().hex[:10]}@example.com"
    issue_input = g.IssueCredentialInput(
        badge_id=badge_id,
        recipient=g.RecipientInput(email=email, first_name="Ana", last_name="Gómez"),
        send_email=False,
        idempotency_key=f"codegen-{email}",
    )
    issued = (await client.issue(input=issue_input)).issue_credential
    assert isinstance(issued, g.IssueIssueCredential)
    assert issued.user_errors == []
    credential = issued.credential
    assert credential is not None
    assert credential.status is g.CredentialStatus.ACTIVE
    assert credential.issued_on == today
    assert credential.recipient.email == email
    assert credential.badge.name == badge.name
    retried = (await client.issue(input=issue_input)).issue_credential
    assert retried.credential is not None and retried.credential.id == credential.id

    # Credentials: page through this badge's credentials; the new one is there, badges named.
    found = None
    after = None
    for _ in range(50):
        page = (await client.credentials(first=20, after=after, badge_id=badge_id)).credentials
        assert {node.badge.name for node in page.nodes} == {badge.name}
        found = found or next((n for n in page.nodes if n.id == credential.id), None)
        if found or not page.page_info.has_next_page:
            break
        after = page.page_info.end_cursor
    assert found is not None
    assert (found.recipient.email, found.recipient.first_name) == (email, "Ana")
    assert found.recipient.last_name == "Gómez"

    # Credential: one, by its ID.
    one = (await client.credential(id=credential.id)).credential
    assert one is not None and one.id == credential.id and one.badge.id == badge_id
    assert one.revoked_at is None

    # Verify: valid while active.
    check = (await client.verify(id=credential.id)).verify_credential
    assert check is not None
    assert (check.valid, check.status) == (True, g.CredentialStatus.ACTIVE)
    assert (check.badge_name, check.issuer_name) == (badge.name, organization["name"])
    assert isinstance(check.checked_at, datetime.datetime)

    # Revoke; then it no longer verifies, and a second revocation is a userError.
    revoke_input = g.RevokeCredentialInput(
        id=credential.id, reason="Issued by mistake.", notify_recipient=False
    )
    revoked = (await client.revoke(input=revoke_input)).revoke_credential
    assert revoked.user_errors == []
    assert revoked.credential is not None
    assert revoked.credential.status is g.CredentialStatus.REVOKED
    assert revoked.credential.revocation_reason == "Issued by mistake."
    assert isinstance(revoked.credential.revoked_at, datetime.datetime)
    after_revoke = (await client.verify(id=credential.id)).verify_credential
    assert (after_revoke.valid, after_revoke.status) == (False, g.CredentialStatus.REVOKED)
    again = (await client.revoke(input=revoke_input)).revoke_credential
    assert again.credential is None
    assert [e.code for e in again.user_errors] == ["ALREADY_REVOKED"]
    assert again.user_errors[0].field == ["input", "id"]
