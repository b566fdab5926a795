"""Pepper sets: parsing, the three sources (AWS through moto), and no pepper in any message."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from auth.peppers import (
    PepperError,
    PepperSet,
    load_peppers,
    parse_pepper_set,
    pepper_set_from_secret,
)
from settings import Settings, SettingsError, load_settings

OLD = "old-pepper-0123456789abcdef"
NEW = "new-pepper-fedcba9876543210"
SET_JSON = json.dumps({"current": 2, "peppers": {"1": OLD, "2": NEW}})


def _settings(**values: str) -> Settings:
    return Settings(backend_username="svc", backend_password="pw", **values)  # type: ignore[arg-type]


def test_a_pepper_set_parses_and_hides_its_peppers() -> None:
    peppers = parse_pepper_set(SET_JSON)
    assert peppers.current == 2
    assert peppers.current_pepper == NEW.encode()
    assert peppers.get(1) == OLD.encode()
    assert peppers.get(3) is None
    assert peppers.versions == (1, 2)
    assert OLD not in repr(peppers) and NEW not in repr(peppers)
    with pytest.raises(TypeError):
        peppers.peppers[3] = b"x" * 16  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    [
        "not json " + OLD,
        json.dumps([OLD]),
        json.dumps({"current": 1}),
        json.dumps({"current": 3, "peppers": {"1": OLD}}),
        json.dumps({"current": True, "peppers": {"1": OLD}}),
        json.dumps({"current": 1, "peppers": {"one": OLD}}),
        json.dumps({"current": 1, "peppers": {"1": "short"}}),
        json.dumps({"current": 1, "peppers": {"1": OLD}, "extra": NEW}),
        json.dumps({"current": 1, "peppers": {}}),
    ],
)
def test_bad_pepper_sets_are_refused_without_quoting_a_pepper(text: str) -> None:
    with pytest.raises(PepperError) as raised:
        parse_pepper_set(text)
    assert OLD not in str(raised.value) and NEW not in str(raised.value)
    assert "short" not in str(raised.value).replace("shorter", "")


def test_a_secret_holds_a_set_or_one_plain_pepper() -> None:
    assert pepper_set_from_secret(SET_JSON).current == 2
    single = pepper_set_from_secret(f"  {OLD}\n")
    assert (single.current, single.current_pepper) == (1, OLD.encode())
    with pytest.raises(PepperError):
        pepper_set_from_secret("short")


def test_env_sources() -> None:
    assert load_peppers(_settings(key_pepper=OLD)) == PepperSet.single(OLD.encode())
    assert load_peppers(_settings(key_peppers=SET_JSON)).current == 2


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("GATEWAY_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("GATEWAY_BACKEND_USERNAME", "svc")
    monkeypatch.setenv("GATEWAY_BACKEND_PASSWORD", "pw")
    return monkeypatch


def test_exactly_one_pepper_source(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_KEY_PEPPER is required"):
        load_settings()
    clean_env.setenv("GATEWAY_KEY_PEPPER", OLD)
    clean_env.setenv("GATEWAY_KEY_PEPPERS", SET_JSON)
    with pytest.raises(SettingsError, match="only one of") as raised:
        load_settings()
    assert OLD not in str(raised.value)
    clean_env.delenv("GATEWAY_KEY_PEPPER")
    assert load_settings().key_peppers is not None


def test_a_bad_pepper_set_in_the_environment_is_named_not_echoed(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("GATEWAY_KEY_PEPPERS", json.dumps({"current": 2, "peppers": {"1": OLD}}))
    with pytest.raises(SettingsError, match="GATEWAY_KEY_PEPPERS") as raised:
        load_settings()
    assert OLD not in str(raised.value)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield


def test_peppers_from_secrets_manager(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    created = client.create_secret(Name="gateway/pepper", SecretString=SET_JSON)
    by_name = load_peppers(_settings(key_pepper_secret_id="gateway/pepper"))
    assert (by_name.current, by_name.get(1)) == (2, OLD.encode())
    # An ARN names its own region, whatever the default is.
    by_arn = load_peppers(_settings(key_pepper_secret_id=created["ARN"]))
    assert by_arn == by_name

    client.create_secret(Name="gateway/plain", SecretString=OLD)
    assert load_peppers(_settings(key_pepper_secret_id="gateway/plain")).current == 1


def test_an_unreadable_secret_is_named_not_shown(aws: None) -> None:
    client = boto3.client("secretsmanager", region_name="eu-west-1")
    with pytest.raises(PepperError, match=r"'gateway/missing'.*ResourceNotFoundException"):
        load_peppers(_settings(key_pepper_secret_id="gateway/missing"))
    client.create_secret(
        Name="gateway/bad", SecretString=json.dumps({"current": 5, "peppers": {"1": OLD}})
    )
    with pytest.raises(PepperError, match="gateway/bad") as raised:
        load_peppers(_settings(key_pepper_secret_id="gateway/bad"))
    assert OLD not in str(raised.value)
    client.create_secret(Name="gateway/binary", SecretBinary=b"\x00" * 32)
    with pytest.raises(PepperError, match="no SecretString"):
        load_peppers(_settings(key_pepper_secret_id="gateway/binary"))
