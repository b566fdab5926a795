"""Resolvers of the partner mutations: issuing and revoking credentials.

Both check the target belongs to the caller's organization before writing, answer
another organization's record exactly as a missing one (``NOT_FOUND``), and report
problems as ``userErrors``. Issuing always sends an Idempotency-Key, so neither a
partner's retry nor the gateway's own can issue twice::

    mutation { issueCredential(input: {badgeId: "7", recipient: {email: "a@b.co"},
                                       idempotencyKey: "order-1234"}) { credential { id } } }
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from errors import BackendConflict, BackendValidationError, BadUserInput
from resolvers.context import RequestContext
from resolvers.ids import parse_badge_id, parse_credential_id
from resolvers.user_errors import (
    ISSUE_CREDENTIAL_FIELDS,
    NOT_FOUND,
    REVOKE_CREDENTIAL_FIELDS,
    user_error,
    user_errors_from_drf,
)
from resolvers.validation import (
    MAX_NAME,
    MAX_REASON,
    check_email,
    check_idempotency_key,
    check_text,
    check_url,
)
from schema.mutations import (
    IssueCredentialInput,
    IssueCredentialPayload,
    RevokeCredentialInput,
    RevokeCredentialPayload,
    UserError,
)
from schema.types import Credential

__all__ = ["backend_idempotency_key", "issue_credential", "revoke_credential"]

Ctx = Info[RequestContext, None]
_T = TypeVar("_T")


def backend_idempotency_key(company_id: str, partner_key: str | None) -> str:
    """The backend's keys are global: namespace a partner's so companies never collide."""
    if partner_key is None:
        return f"gw-{uuid.uuid4().hex}"  # still makes the gateway's own retries safe
    digest = hashlib.sha256(f"{company_id}\x00{partner_key}".encode()).hexdigest()
    return f"gwp-{digest}"


@dataclass(frozen=True, slots=True)
class _IssueRequest:
    """An issueCredential input that passed every check, as it will be sent."""

    badge_id: int
    email: str
    body: dict[str, Any]
    idempotency_key: str | None


class _Checks:
    """Runs a mutation's input checks, each failure a userError at its field's path."""

    def __init__(self) -> None:
        self.errors: list[UserError] = []

    def run(self, check: Callable[[], _T]) -> _T | None:
        try:
            return check()
        except BadUserInput as error:
            path = ["input", *(error.field or "").split(".")] if error.field else ["input"]
            self.errors.append(user_error(path, error.public_message))
            return None


def _check_issue_input(input: IssueCredentialInput) -> _IssueRequest | list[UserError]:
    """The input as it will be sent, or what is wrong with it, every field at once."""
    checks = _Checks()
    recipient = input.recipient
    badge_id = checks.run(lambda: parse_badge_id(input.badge_id, field="badgeId"))
    email = checks.run(lambda: check_email(recipient.email, field="recipient.email"))
    names: dict[str, str | None] = {}
    if recipient.first_name is not None:
        first_name = recipient.first_name
        names["first_name"] = checks.run(
            lambda: check_text(first_name, field="recipient.firstName", max_length=MAX_NAME)
        )
    if recipient.last_name is not None:
        last_name = recipient.last_name
        names["last_name"] = checks.run(
            lambda: check_text(last_name, field="recipient.lastName", max_length=MAX_NAME)
        )
    issued_on, expires_on = input.issued_on, input.expires_on
    if issued_on is not None and expires_on is not None and expires_on <= issued_on:
        message = "`expiresOn` must be after `issuedOn`."
        checks.errors.append(user_error(["input", "expiresOn"], message))
    evidence_url = None
    if input.evidence_url is not None:
        url = input.evidence_url
        evidence_url = checks.run(lambda: check_url(url, field="evidenceUrl"))
    key = input.idempotency_key
    if key is not None:
        partner_key = key
        key = checks.run(lambda: check_idempotency_key(partner_key))
    if checks.errors or badge_id is None or email is None:
        return checks.errors
    body: dict[str, Any] = {
        "badge": badge_id,
        "recipient": {"email": email, **names},
        "send_email": input.send_email,
    }
    if issued_on is not None:
        body["issued_on"] = issued_on.isoformat()
    if expires_on is not None:
        body["expires_on"] = expires_on.isoformat()
    if evidence_url is not None:
        body["evidence_url"] = evidence_url
    return _IssueRequest(badge_id=badge_id, email=email, body=body, idempotency_key=key)


async def issue_credential(
    info: Ctx,
    input: Annotated[
        IssueCredentialInput, strawberry.argument(description="What to issue, to whom.")
    ],
) -> IssueCredentialPayload:
    context = info.context
    checked = _check_issue_input(input)
    if isinstance(checked, list):
        return IssueCredentialPayload(credential=None, user_errors=checked)
    badge_id = checked.badge_id
    badge = await context.loaders.badge(badge_id)
    if badge is None:
        return IssueCredentialPayload(
            credential=None,
            user_errors=[user_error(["input", "badgeId"], "Badge not found.", NOT_FOUND)],
        )
    if badge.get("status") != "published":
        message = "Only published badges can be issued; this one is " + str(badge.get("status"))
        return IssueCredentialPayload(
            credential=None, user_errors=[user_error(["input", "badgeId"], message + ".")]
        )
    try:
        record = await context.api.create_credential(
            checked.body,
            idempotency_key=backend_idempotency_key(
                context.principal.company_id, checked.idempotency_key
            ),
        )
    except BackendValidationError as error:
        return IssueCredentialPayload(
            credential=None,
            user_errors=user_errors_from_drf(error.field_errors, ISSUE_CREDENTIAL_FIELDS),
        )
    if not _is_replay_of(record, checked.email, badge_id, context.organization_id):
        # The backend replayed an earlier issue made with this key for other input.
        message = "This idempotencyKey was already used to issue a different credential."
        return IssueCredentialPayload(
            credential=None,
            user_errors=[
                user_error(["input", "idempotencyKey"], message, "IDEMPOTENCY_KEY_REUSED")
            ],
        )
    return IssueCredentialPayload(
        credential=Credential.from_backend(record, context.loaders), user_errors=[]
    )


def _is_replay_of(record: dict[str, Any], email: str, badge_id: int, organization_id: int) -> bool:
    """Whether the backend's answer is the credential this input asked for."""
    return (
        record.get("organization") == organization_id
        and record.get("badge") == badge_id
        and str(record.get("recipient", {}).get("email", "")).lower() == email.lower()
    )


async def revoke_credential(
    info: Ctx,
    input: Annotated[
        RevokeCredentialInput, strawberry.argument(description="Which credential, and why.")
    ],
) -> RevokeCredentialPayload:
    context = info.context
    checks = _Checks()
    credential_id = checks.run(lambda: parse_credential_id(input.id))
    reason = checks.run(
        lambda: check_text(
            input.reason, field="reason", min_length=1, max_length=MAX_REASON, multi_line=True
        )
    )
    if checks.errors or credential_id is None or reason is None:
        return RevokeCredentialPayload(credential=None, user_errors=checks.errors)
    if await context.loaders.credential(credential_id) is None:
        return RevokeCredentialPayload(
            credential=None,
            user_errors=[user_error(["input", "id"], "Credential not found.", NOT_FOUND)],
        )
    try:
        record = await context.api.revoke_credential(
            credential_id, reason=reason, notify_recipient=input.notify_recipient
        )
    except BackendValidationError as error:
        return RevokeCredentialPayload(
            credential=None,
            user_errors=user_errors_from_drf(error.field_errors, REVOKE_CREDENTIAL_FIELDS),
        )
    except BackendConflict:
        return RevokeCredentialPayload(
            credential=None,
            user_errors=[
                user_error(
                    ["input", "id"], "This credential is already revoked.", "ALREADY_REVOKED"
                )
            ],
        )
    return RevokeCredentialPayload(
        credential=Credential.from_backend(record, context.loaders), user_errors=[]
    )
