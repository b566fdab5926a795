"""The seed, the representations against the contract, internal values, create_app()."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from aiohttp import test_utils

from sample_backend.app import STATE_KEY, create_app
from sample_backend.config import BackendConfig
from sample_backend.data import INTERNAL_FIELDS, build_seed, internal_values
from sample_backend.serializers import (
    badge_repr,
    credential_repr,
    organization_repr,
    recipient_repr,
)

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "backend" / "openapi.yaml"
SEED = build_seed()


def _contract_schemas() -> dict[str, Any]:
    if not CONTRACT.exists():
        pytest.skip(f"the backend contract is not at {CONTRACT}")
    schemas: dict[str, Any] = yaml.safe_load(CONTRACT.read_text())["components"]["schemas"]
    return schemas


def test_the_seed_is_deterministic() -> None:
    again = build_seed()
    assert [c.uuid for c in again.credentials] == [c.uuid for c in SEED.credentials]
    assert [b.name for b in again.badges] == [b.name for b in SEED.badges]
    assert orjson.dumps([credential_repr(c) for c in again.credentials]) == orjson.dumps(
        [credential_repr(c) for c in SEED.credentials]
    )


def test_the_seed_is_varied() -> None:
    assert [org.id for org in SEED.organizations] == [1, 2, 3]
    assert {org.country for org in SEED.organizations} == {"CO", "ES", "US"}
    for org in SEED.organizations:
        badges = [b for b in SEED.badges if b.organization == org.id]
        credentials = [c for c in SEED.credentials if c.organization == org.id]
        assert len(badges) >= 25
        assert len(credentials) >= (250 if org.id == 1 else 60)
        assert {b.status for b in badges} == {"draft", "published", "archived"}
        assert {c.status for c in credentials} == {"active", "revoked", "expired"}
    assert {b.level for b in SEED.badges} >= {"beginner", "intermediate", "advanced"}
    assert {"es-CO", "es-ES", "en-US"} <= {b.language for b in SEED.badges}
    assert all(
        s.esco_uri is None or s.esco_uri.startswith("http://data.europa.eu/esco/skill/")
        for b in SEED.badges
        for s in b.skills
    )
    assert all(uuid.UUID(c.uuid).version == 4 for c in SEED.credentials)
    assert len({c.uuid for c in SEED.credentials}) == len(SEED.credentials)
    assert all(
        c.expires_on < c.issued_on.replace(year=2100) for c in SEED.credentials if c.expires_on
    )
    assert all(c.expires_on is None or c.expires_on > c.issued_on for c in SEED.credentials)


@pytest.mark.parametrize(
    ("schema", "rendered"),
    [
        ("Organization", organization_repr(SEED.organizations[0])),
        ("Badge", badge_repr(SEED.badges[0])),
        ("Recipient", recipient_repr(SEED.recipients[0])),
        ("Credential", credential_repr(SEED.credentials[0])),
    ],
)
def test_representations_carry_every_contract_field(schema: str, rendered: dict[str, Any]) -> None:
    properties = _contract_schemas()[schema]["properties"]
    assert list(rendered) == list(properties)


def test_internal_fields_match_the_contract() -> None:
    marked = {
        name
        for schema in _contract_schemas().values()
        for name, spec in schema.get("properties", {}).items()
        if isinstance(spec, dict) and spec.get("x-internal")
    }
    assert marked == INTERNAL_FIELDS


def _public_strings(value: Any, key: str | None = None) -> list[str]:
    if key in INTERNAL_FIELDS:
        return []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _public_strings(v, k)]
    if isinstance(value, list):
        return [s for item in value for s in _public_strings(item)]
    return [value] if isinstance(value, str) else []


def test_internal_values_are_distinctive() -> None:
    values = internal_values()
    assert any(v.startswith("cus_") for v in values)
    assert any(v.startswith("s3://") for v in values)
    assert any(re.fullmatch(r"0x[0-9a-f]{64}", v) for v in values)
    assert any(v.startswith(("CC ", "DNI ", "SSN ")) for v in values)
    assert all(len(v) >= 8 for v in values)
    public = "\n".join(
        _public_strings([organization_repr(o) for o in SEED.organizations])
        + _public_strings([badge_repr(b) for b in SEED.badges])
        + _public_strings([credential_repr(c) for c in SEED.credentials])
    )
    assert [v for v in values if v in public] == []


async def test_create_app_serves_in_process() -> None:
    app = create_app(BackendConfig(access_log=False))
    async with test_utils.TestClient(test_utils.TestServer(app)) as client:
        login = await client.post(
            "/api/token/",
            json={"username": "gateway-service", "password": "sample-backend-password"},
        )
        access = (await login.json())["access"]
        badge = await client.get("/api/v1/badges/1/", headers={"Authorization": f"Bearer {access}"})
        assert badge.status == 200
        assert (await badge.json())["id"] == 1
        assert len(app[STATE_KEY].recorder) == 2
