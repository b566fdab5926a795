"""issueCredential and revokeCredential refuse bad input before any backend call.

The resolvers run against a stand-in backend that records what reaches it. Hostile input
comes back as ``userErrors`` naming the field, and nothing reaches the backend; whatever
does reach it, the sample backend's own serializer accepts (Hypothesis searches for a
counterexample).
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import pytest
import strawberry
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from resolvers.mutations import issue_credential, revoke_credential
from sample_backend.models import Badge
from sample_backend.responses import ApiError
from sample_backend.validation import validate_credential_create, validate_revoke
from schema.mutations import (
    IssueCredentialInput,
    IssueCredentialPayload,
    RecipientInput,
    RevokeCredentialInput,
    RevokeCredentialPayload,
)

BADGE_ID = 7
CREDENTIAL_ID = "6f9619ff-8b86-d011-b42d-00c04fc964ff"


class Sent(Exception):
    """Raised by the stand-in backend once a write reached it: the test reads the body."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("a write reached the backend")
        self.body = body


class StandInBackend:
    """Loaders and API at once: reads answer a published badge and a credential; writes raise."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def badge(self, badge_id: int) -> dict[str, Any]:
        self.calls.append(f"GET badge {badge_id}")
        return {"id": badge_id, "organization": 1, "status": "published"}

    async def credential(self, credential_id: str) -> dict[str, Any]:
        self.calls.append(f"GET credential {credential_id}")
        return {"uuid": credential_id, "organization": 1}

    async def create_credential(self, body: dict[str, Any], *, idempotency_key: str) -> None:
        self.calls.append("POST credential")
        raise Sent(body)

    async def revoke_credential(
        self, credential_id: str, *, reason: str, notify_recipient: bool
    ) -> None:
        self.calls.append("POST revoke")
        raise Sent({"reason": reason, "notify_recipient": notify_recipient})


def _info(backend: StandInBackend) -> Any:
    context = SimpleNamespace(
        api=backend,
        loaders=backend,
        principal=SimpleNamespace(company_id="co_test", organization_id=1),
        organization_id=1,
    )
    return SimpleNamespace(context=context)


def _issue_input(
    *,
    badge_id: str = str(BADGE_ID),
    email: str = "ana@example.com",
    first_name: str | None = None,
    last_name: str | None = None,
    issued_on: date | None = None,
    expires_on: date | None = None,
    evidence_url: str | None = None,
    idempotency_key: str | None = None,
) -> IssueCredentialInput:
    return IssueCredentialInput(
        badge_id=strawberry.ID(badge_id),
        recipient=RecipientInput(email=email, first_name=first_name, last_name=last_name),
        issued_on=issued_on,
        expires_on=expires_on,
        evidence_url=evidence_url,
        send_email=False,
        idempotency_key=idempotency_key,
    )


async def _issue(input: IssueCredentialInput) -> tuple[IssueCredentialPayload | Sent, list[str]]:
    backend = StandInBackend()
    try:
        return await issue_credential(_info(backend), input), backend.calls
    except Sent as sent:
        return sent, backend.calls


async def _revoke(input: RevokeCredentialInput) -> tuple[RevokeCredentialPayload | Sent, list[str]]:
    backend = StandInBackend()
    try:
        return await revoke_credential(_info(backend), input), backend.calls
    except Sent as sent:
        return sent, backend.calls


def _fields(payload: IssueCredentialPayload | RevokeCredentialPayload | Sent) -> list[list[str]]:
    assert isinstance(payload, IssueCredentialPayload | RevokeCredentialPayload), "sent"
    assert payload.credential is None
    assert {error.code for error in payload.user_errors} == {"BAD_USER_INPUT"}
    return [error.field or [] for error in payload.user_errors]


LONG = "x" * 100_000

HOSTILE_ISSUES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("badge id not a number", {"badge_id": "1; DROP TABLE"}, ["input", "badgeId"]),
    ("badge id zero", {"badge_id": "0"}, ["input", "badgeId"]),
    ("badge id path", {"badge_id": "../../admin"}, ["input", "badgeId"]),
    ("email malformed", {"email": "not-an-email"}, ["input", "recipient", "email"]),
    ("email NUL", {"email": "ana\x00@example.com"}, ["input", "recipient", "email"]),
    ("email huge", {"email": LONG + "@example.com"}, ["input", "recipient", "email"]),
    ("name NUL", {"first_name": "Ana\x00"}, ["input", "recipient", "firstName"]),
    ("name bidi", {"last_name": "\u202egnaL"}, ["input", "recipient", "lastName"]),
    ("name newline", {"first_name": "Ana\nBcc: x"}, ["input", "recipient", "firstName"]),
    ("name too long", {"last_name": "L" * 151}, ["input", "recipient", "lastName"]),
    ("name huge", {"first_name": LONG}, ["input", "recipient", "firstName"]),
    ("url javascript", {"evidence_url": "javascript:alert(1)"}, ["input", "evidenceUrl"]),
    ("url data", {"evidence_url": "data:text/html,<b>x</b>"}, ["input", "evidenceUrl"]),
    ("url ftp", {"evidence_url": "ftp://example.com/x"}, ["input", "evidenceUrl"]),
    ("url userinfo", {"evidence_url": "https://a:b@example.com/"}, ["input", "evidenceUrl"]),
    ("url too long", {"evidence_url": "https://e.co/" + "a" * 200}, ["input", "evidenceUrl"]),
    ("url control", {"evidence_url": "https://e.co/\x07"}, ["input", "evidenceUrl"]),
    ("key empty", {"idempotency_key": ""}, ["input", "idempotencyKey"]),
    ("key too long", {"idempotency_key": "k" * 201}, ["input", "idempotencyKey"]),
    ("key control", {"idempotency_key": "order-1\r\nX: y"}, ["input", "idempotencyKey"]),
    (
        "expiry before issue",
        {"issued_on": date(2026, 5, 1), "expires_on": date(2026, 4, 1)},
        ["input", "expiresOn"],
    ),
]


@pytest.mark.parametrize(
    ("bad", "fields", "path"), HOSTILE_ISSUES, ids=[c[0] for c in HOSTILE_ISSUES]
)
async def test_hostile_issue_input_is_a_user_error_and_no_backend_call(
    bad: str, fields: dict[str, Any], path: list[str]
) -> None:
    payload, calls = await _issue(_issue_input(**fields))
    assert _fields(payload) == [path]
    assert calls == []
    assert isinstance(payload, IssueCredentialPayload)
    message = payload.user_errors[0].message
    assert f"`{'.'.join(path[1:])}`" in message or "`expiresOn`" in message
    assert len(message) < 120  # names the field, never repeats the value


async def test_every_bad_field_is_reported_at_once() -> None:
    payload, calls = await _issue(
        _issue_input(
            badge_id="x",
            email="@",
            first_name="\x00",
            evidence_url="javascript:x",
            idempotency_key="",
        )
    )
    assert _fields(payload) == [
        ["input", "badgeId"],
        ["input", "recipient", "email"],
        ["input", "recipient", "firstName"],
        ["input", "evidenceUrl"],
        ["input", "idempotencyKey"],
    ]
    assert calls == []


async def test_good_input_is_sent_stripped_as_the_backend_would_store_it() -> None:
    sent, calls = await _issue(
        _issue_input(
            email=" Ana@Example.com\n",
            first_name=" Ana ",
            evidence_url=" https://example.com/work ",
            issued_on=date(2026, 1, 15),
            expires_on=date(2027, 1, 15),
        )
    )
    assert isinstance(sent, Sent)
    assert calls == [f"GET badge {BADGE_ID}", "POST credential"]
    assert sent.body == {
        "badge": BADGE_ID,
        "recipient": {"email": "Ana@Example.com", "first_name": "Ana"},
        "send_email": False,
        "issued_on": "2026-01-15",
        "expires_on": "2027-01-15",
        "evidence_url": "https://example.com/work",
    }


async def test_a_blank_evidence_url_is_no_evidence_url() -> None:
    sent, _calls = await _issue(_issue_input(evidence_url="  "))
    assert isinstance(sent, Sent)
    assert "evidence_url" not in sent.body


HOSTILE_REVOKES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("id not a uuid", {"id": "42"}, ["input", "id"]),
    ("id loose uuid", {"id": "{" + CREDENTIAL_ID + "}"}, ["input", "id"]),
    ("id huge", {"id": LONG}, ["input", "id"]),
    ("reason blank", {"reason": "   "}, ["input", "reason"]),
    ("reason too long", {"reason": "r" * 501}, ["input", "reason"]),
    ("reason NUL", {"reason": "Issued\x00in error"}, ["input", "reason"]),
    ("reason escape", {"reason": "Issued \x1b[31min error"}, ["input", "reason"]),
    ("reason huge", {"reason": LONG}, ["input", "reason"]),
]


@pytest.mark.parametrize(
    ("bad", "fields", "path"), HOSTILE_REVOKES, ids=[c[0] for c in HOSTILE_REVOKES]
)
async def test_hostile_revoke_input_is_a_user_error_and_no_backend_call(
    bad: str, fields: dict[str, Any], path: list[str]
) -> None:
    values = {"id": CREDENTIAL_ID, "reason": "Issued in error", **fields}
    payload, calls = await _revoke(RevokeCredentialInput(notify_recipient=False, **values))
    assert _fields(payload) == [path]
    assert calls == []


async def test_a_multi_line_reason_is_sent_stripped() -> None:
    reason = "Issued in error.\r\n\tSee ticket 1234."
    sent, calls = await _revoke(
        RevokeCredentialInput(id=strawberry.ID(CREDENTIAL_ID.upper()), reason=f" {reason}\n")
    )
    assert isinstance(sent, Sent)
    assert sent.body["reason"] == reason
    assert calls == [f"GET credential {CREDENTIAL_ID}", "POST revoke"]


# --------------------------------------------------------------------------- properties

T = TypeVar("T")


def _mostly(good: st.SearchStrategy[T], bad: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """``good`` five times in six: most inputs then have every field right but one."""
    return st.integers(0, 5).flatmap(lambda n: bad if n == 0 else good)


texts = st.text() | st.text(st.characters(max_codepoint=0xFF), max_size=300)
names = st.none() | st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Zl", "Zp"]))
dates = st.none() | st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
issue_inputs = st.builds(
    _issue_input,
    badge_id=_mostly(st.just("7"), st.sampled_from(["0", "x", "07", " 7"]) | st.text(max_size=5)),
    email=_mostly(st.emails(), texts),
    first_name=_mostly(names, texts),
    last_name=_mostly(names, texts),
    issued_on=dates,
    expires_on=dates,
    evidence_url=_mostly(
        st.none() | urls(), st.from_regex(r"\A(https?|ftp|javascript):.{0,40}\Z") | texts
    ),
    idempotency_key=_mostly(st.none() | st.text(min_size=1, max_size=200), texts),
)

_BADGES = {BADGE_ID: cast(Badge, object())}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(issue_inputs)
async def test_whatever_reaches_the_backend_its_serializer_accepts(
    input: IssueCredentialInput,
) -> None:
    payload, calls = await _issue(input)
    event("refused" if isinstance(payload, IssueCredentialPayload) else "sent")
    if isinstance(payload, IssueCredentialPayload):
        assert calls == []  # refused: the backend heard nothing
        assert payload.user_errors
        assert all(e.field and e.field[0] == "input" for e in payload.user_errors)
        return
    body = payload.body
    assert body["badge"] == BADGE_ID
    refused = _serializer_errors(body)
    if refused is not None:
        # Only what the gateway cannot know: an expiry before the backend's "today".
        assert refused == {"non_field_errors": ["expires_on must be after issued_on."]}
        assert "issued_on" not in body


def _serializer_errors(body: dict[str, Any]) -> dict[str, Any] | None:
    """The sample backend's 400 for a CredentialCreate body, None if it accepts it."""
    try:
        validate_credential_create(body, _BADGES, today=date(2000, 1, 1))
    except ApiError as error:
        return error.payload
    return None


@settings(max_examples=200)
@given(_mostly(st.uuids().map(str), st.text()), _mostly(st.text(min_size=1, max_size=500), texts))
async def test_whatever_revoke_sends_the_backend_accepts(credential_id: str, reason: str) -> None:
    payload, calls = await _revoke(
        RevokeCredentialInput(id=strawberry.ID(credential_id), reason=reason)
    )
    event("refused" if isinstance(payload, RevokeCredentialPayload) else "sent")
    if isinstance(payload, RevokeCredentialPayload):
        assert calls == [] and payload.user_errors
        return
    assert validate_revoke(payload.body) == (payload.body["reason"], True)
