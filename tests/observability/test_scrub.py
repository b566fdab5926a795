"""What may leave the process: scrubbed error reports, redacted variables for stored traces."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from observability.scrub import (
    REDACTED,
    is_personal_key,
    is_secret_key,
    redact_variables,
    scrub,
    scrub_text,
)

API_KEY = "cgw_AbCdEf012345_" + "Q" * 32 + "9z8y7x"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLWhlcmU"

emails = st.from_regex(
    r"[a-z][a-z0-9._+-]{0,20}@[a-z0-9-]{1,20}\.(com|org|co\.uk|io)", fullmatch=True
)
secrets = st.sampled_from([API_KEY, JWT, f"Bearer {API_KEY}"])
leaves = st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=30), emails, secrets)
keys = st.sampled_from(
    ["id", "badgeId", "email", "note", "items", "after", "status", "firstName", "x", "search"]
)
documents = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=20,
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (str(k), *_strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


@given(documents, emails, secrets)
def test_no_email_or_key_survives_either_scrubber(doc: Any, email: str, secret: str) -> None:
    wrapped = {"a": doc, "b": [email, f"mail {email} now", secret, f"key={secret}"]}
    for cleaned in (scrub(wrapped), redact_variables(wrapped)):
        text = json.dumps(cleaned)
        assert email not in text
        assert API_KEY not in text and JWT not in text


@given(documents)
def test_redacted_variables_keep_their_shape_and_numbers(doc: Any) -> None:
    cleaned = redact_variables({"v": doc})["v"]
    if isinstance(doc, bool | int) or doc is None:
        assert cleaned == doc
    elif isinstance(doc, str):
        assert cleaned in (doc, REDACTED)
    elif isinstance(doc, list):
        assert isinstance(cleaned, list) and len(cleaned) == len(doc)
    elif isinstance(doc, dict):
        assert isinstance(cleaned, dict) and set(cleaned) == set(doc)


def test_variables_keep_ids_enums_dates_and_cursors_but_not_people_or_text() -> None:
    variables = {
        "id": "3f2a4b1c-1111-2222-3333-444455556666",
        "badgeId": "42",
        "first": 20,
        "after": "YXJyYXljb25uZWN0aW9uOjE5",
        "status": "ACTIVE",
        "issuedAfter": "2026-01-01",
        "sendEmail": False,
        "graceSeconds": 3600,
        "idempotencyKey": "order-2026-0001",
        "input": {
            "badgeId": "7",
            "recipient": {"email": "ada@example.com", "firstName": "Ada", "lastName": "L"},
            "evidenceUrl": "https://example.com/u/ada/work",
        },
        "reason": "left the company",
        "search": "Python",
        "nickname": "Ada Lovelace",
        "apiKey": "anything",
        "token": None,
    }
    assert redact_variables(variables) == {
        **variables,
        "input": {
            "badgeId": "7",
            "recipient": {"email": REDACTED, "firstName": REDACTED, "lastName": REDACTED},
            "evidenceUrl": REDACTED,
        },
        "reason": REDACTED,
        "search": REDACTED,
        "nickname": REDACTED,
        "apiKey": REDACTED,
        "token": None,
    }


def test_long_lists_and_deep_nesting_are_bounded() -> None:
    cleaned = redact_variables({"ids": list(range(250))})
    assert cleaned["ids"][:100] == list(range(100))
    assert cleaned["ids"][100:] == ["… 150 more"]
    deep: Any = 1
    for _ in range(30):
        deep = {"n": deep}
    assert "1" not in json.dumps(redact_variables(deep))


def test_key_names_in_every_spelling() -> None:
    for name in ("Authorization", "X-API-Key", "x_api_key", "apiKey", "backend_password",
                 "accessToken", "Cookie", "set-cookie", "key", "raw_key", "GATEWAY_KEY_PEPPER"):  # fmt: skip
        assert is_secret_key(name), name
    for name in ("key_id", "id", "badgeId", "company_id", "operation", "credential_id"):
        assert not is_secret_key(name), name
    for name in ("email", "recipientEmail", "firstName", "last_name", "REMOTE_ADDR", "phone"):
        assert is_personal_key(name), name


def test_text_loses_urls_passwords_assignments_and_known_values() -> None:
    text = scrub_text(
        "connect postgresql://gw:pa55word@db:5432/x failed; password=abc123 "
        "token: t0k3n and the pepper-value-xyz",
        secrets=("pepper-value-xyz",),
    )
    assert text == (
        "connect postgresql://[REDACTED]@db:5432/x failed; password=[REDACTED] "
        "token: [REDACTED] and the [REDACTED]"
    )
