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
from typing import Annotated, Any

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
from schema.mutations import (
    IssueCredentialInput,
    IssueCredentialPayload,
    RevokeCredentialInput,
    RevokeCredentialPayload,
)
from schema.types import Credential

__all__ = ["backend_idempotency_key", "issue_credential", "revoke_credential"]

Ctx = Info[RequestContext, None]
_MAX_IDEMPOTENCY_KEY = 200


def backend_idempotency_key(company_id: str, partner_key: str | None) -> str:
    """The backend's keys are global: namespace a partner's so companies never collide."""
    if partner_key is None:
        return f"gw-{uuid.uuid4().hex}"  # still makes the gateway's own retries safe
    digest = hashlib.sha256(f"{company_id}\x00{partner_key}".encode()).hexdigest()
    return f"gwp-{digest}"


def _issue_body(input: IssueCredentialInput, badge_id: int) -> dict[str, Any]:
    recipient: dict[str, Any] = {"email": input.recipient.email}
    if input.recipient.first_name is not None:
        recipient["first_name"] = input.recipient.first_name
    if input.recipient.last_name is not None:
        recipient["last_name"] = input.recipient.last_name
    body: dict[str, Any] = {
        "badge": badge_id,
        "recipient": recipient,
        "send_email": input.send_email,
    }
    if input.issued_on is not None:
        body["issued_on"] = input.issued_on.isoformat()
    if input.expires_on is not None:
        body["expires_on"] = input.expires_on.isoformat()
    if input.evidence_url is not None:
        body["evidence_url"] = input.evidence_url
    return body


async def issue_credential(
    info: Ctx,
    input: Annotated[
        IssueCredentialInput, strawberry.argument(description="What to issue, to whom.")
    ],
) -> IssueCredentialPayload:
    context = info.context
    try:
        badge_id = parse_badge_id(input.badge_id, field="badgeId")
    except BadUserInput as error:
        return IssueCredentialPayload(
            credential=None, user_errors=[user_error(["input", "badgeId"], error.public_message)]
        )
    key = input.idempotency_key
    if key is not None and not 1 <= len(key) <= _MAX_IDEMPOTENCY_KEY:
        message = f"`idempotencyKey` must be 1 to {_MAX_IDEMPOTENCY_KEY} characters."
        return IssueCredentialPayload(
            credential=None, user_errors=[user_error(["input", "idempotencyKey"], message)]
        )
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
            _issue_body(input, badge_id),
            idempotency_key=backend_idempotency_key(context.principal.company_id, key),
        )
    except BackendValidationError as error:
        return IssueCredentialPayload(
            credential=None,
            user_errors=user_errors_from_drf(error.field_errors, ISSUE_CREDENTIAL_FIELDS),
        )
    if not _is_replay_of(record, input, badge_id, context.organization_id):
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


def _is_replay_of(
    record: dict[str, Any], input: IssueCredentialInput, badge_id: int, organization_id: int
) -> bool:
    """Whether the backend's answer is the credential this input asked for."""
    return (
        record.get("organization") == organization_id
        and record.get("badge") == badge_id
        and str(record.get("recipient", {}).get("email", "")).lower()
        == input.recipient.email.lower()
    )


async def revoke_credential(
    info: Ctx,
    input: Annotated[
        RevokeCredentialInput, strawberry.argument(description="Which credential, and why.")
    ],
) -> RevokeCredentialPayload:
    context = info.context
    try:
        credential_id = parse_credential_id(input.id)
    except BadUserInput as error:
        return RevokeCredentialPayload(
            credential=None, user_errors=[user_error(["input", "id"], error.public_message)]
        )
    if await context.loaders.credential(credential_id) is None:
        return RevokeCredentialPayload(
            credential=None,
            user_errors=[user_error(["input", "id"], "Credential not found.", NOT_FOUND)],
        )
    try:
        record = await context.api.revoke_credential(
            credential_id, reason=input.reason, notify_recipient=input.notify_recipient
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
