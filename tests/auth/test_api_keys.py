"""The key format: shape, checksum, hashing; property-tested with Hypothesis."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auth.api_keys import (
    API_KEY_LENGTH,
    API_KEY_PATTERN,
    BASE62_ALPHABET,
    KEY_ID_LENGTH,
    SECRET_LENGTH,
    format_api_key,
    generate_api_key,
    hash_api_key,
    parse_api_key,
    verify_api_key,
)
from errors import Unauthenticated

PEPPER = b"pepper-for-format-tests-0123456789"
base62 = st.sampled_from(BASE62_ALPHABET)
key_ids = st.text(base62, min_size=KEY_ID_LENGTH, max_size=KEY_ID_LENGTH)
secrets_ = st.text(base62, min_size=SECRET_LENGTH, max_size=SECRET_LENGTH)


def test_generated_key_shape() -> None:
    generated = generate_api_key()
    assert len(generated.key) == API_KEY_LENGTH == 55
    assert re.fullmatch(API_KEY_PATTERN, generated.key)
    assert generated.key.startswith(generated.prefix + "_")
    assert generated.prefix == "cgw_" + generated.key_id
    assert generated.key not in repr(generated)
    parsed = parse_api_key(generated.key)
    assert parsed.key_id == generated.key_id
    assert generated.key not in repr(parsed)


def test_generated_keys_differ() -> None:
    assert len({generate_api_key().key for _ in range(100)}) == 100


def test_scanner_pattern_finds_keys_in_text() -> None:
    key = generate_api_key().key
    text = f"export GATEWAY_KEY={key}\ncurl -H 'Authorization: Bearer {key}'"
    assert re.findall(API_KEY_PATTERN, text) == [key, key]
    assert re.findall(API_KEY_PATTERN, "x" + key) == []


@given(key_ids, secrets_)
def test_formatted_keys_always_parse(key_id: str, secret: str) -> None:
    key = format_api_key(key_id, secret)
    assert re.fullmatch(API_KEY_PATTERN, key)
    assert parse_api_key(key).key_id == key_id


@given(key_ids, secrets_, st.data())
def test_any_single_character_change_is_rejected(
    key_id: str, secret: str, data: st.DataObject
) -> None:
    key = format_api_key(key_id, secret)
    position = data.draw(st.integers(0, len(key) - 1), label="position")
    replacement = data.draw(
        st.characters(codec="utf-8").filter(lambda c: c != key[position]), label="replacement"
    )
    with pytest.raises(Unauthenticated, match=r"^Malformed API key\.$"):
        parse_api_key(key[:position] + replacement + key[position + 1 :])


@given(key_ids, secrets_, st.data())
def test_dropped_or_added_characters_are_rejected(
    key_id: str, secret: str, data: st.DataObject
) -> None:
    key = format_api_key(key_id, secret)
    position = data.draw(st.integers(0, len(key) - 1))
    with pytest.raises(Unauthenticated):
        parse_api_key(key[:position] + key[position + 1 :])
    with pytest.raises(Unauthenticated):
        parse_api_key(key[:position] + data.draw(base62) + key[position:])


@given(st.text())
def test_random_strings_are_rejected(raw: str) -> None:
    with pytest.raises(Unauthenticated):
        parse_api_key(raw)


@given(st.text(base62, min_size=38, max_size=38), key_ids)
def test_well_shaped_strings_with_random_checksums_are_rejected(tail: str, key_id: str) -> None:
    raw = f"cgw_{key_id}_{tail}"
    if raw == format_api_key(key_id, tail[:SECRET_LENGTH]):
        return  # a 1-in-4-billion valid checksum
    with pytest.raises(Unauthenticated):
        parse_api_key(raw)


@pytest.mark.parametrize(
    "raw",
    ["", "cgw_", "Bearer x", "cgw_" + "a" * 51, " " * 55, "\x00" * 55, "cgw_" + "é" * 51],
)
def test_malformed_examples(raw: str) -> None:
    with pytest.raises(Unauthenticated) as caught:
        parse_api_key(raw)
    assert caught.value.public_message == "Malformed API key."


def test_error_messages_never_contain_the_key() -> None:
    key = generate_api_key().key
    broken = key[:-1] + ("0" if key[-1] != "0" else "1")
    with pytest.raises(Unauthenticated) as caught:
        parse_api_key(broken)
    assert broken not in str(caught.value)
    assert broken[20:40] not in repr(caught.value)


def test_hash_is_hmac_sha256_hex_and_verifies() -> None:
    key = generate_api_key().key
    digest = hash_api_key(key, PEPPER)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest == hash_api_key(key, PEPPER)
    assert digest != hash_api_key(key, PEPPER + b"x")
    assert verify_api_key(key, PEPPER, digest)
    assert not verify_api_key(generate_api_key().key, PEPPER, digest)
    assert not verify_api_key(key, b"another-pepper-0123456789", digest)
