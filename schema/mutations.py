"""Inputs and payloads of the partner mutations.

Mutations answer with a payload whose ``userErrors`` say what to fix, field by field,
rather than failing the whole request::

    mutation { issueCredential(input: {...}) {
        credential { id } userErrors { field message code } } }
"""

from __future__ import annotations

from datetime import date

import strawberry

from schema.types import Credential

__all__ = [
    "IssueCredentialInput",
    "IssueCredentialPayload",
    "RecipientInput",
    "RevokeCredentialInput",
    "RevokeCredentialPayload",
    "UserError",
]


@strawberry.type(description="A problem with the input of a mutation, for the caller to fix.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "recipient", "email"].'
    )
    message: str = strawberry.field(description="What is wrong, in plain words.")
    code: str = strawberry.field(
        description="BAD_USER_INPUT, NOT_FOUND or ALREADY_REVOKED; for rotateApiKey also "
        "ALREADY_ROTATED and EXPIRED."
    )


@strawberry.input(description="The person to issue a credential to; matched by email.")
class RecipientInput:
    email: str = strawberry.field(
        description="Email address (at most 254 characters); it identifies the recipient."
    )
    first_name: str | None = strawberry.field(
        default=None, description="Given name (at most 150 characters)."
    )
    last_name: str | None = strawberry.field(
        default=None, description="Family name (at most 150 characters)."
    )


@strawberry.input(description="What to issue, to whom.")
class IssueCredentialInput:
    badge_id: strawberry.ID = strawberry.field(
        description="A published badge of yours (draft and archived ones are refused)."
    )
    recipient: RecipientInput = strawberry.field(description="Who receives it.")
    issued_on: date | None = strawberry.field(default=None, description="Defaults to today.")
    expires_on: date | None = strawberry.field(
        default=None, description="Must be after issuedOn; none means it never expires."
    )
    evidence_url: str | None = strawberry.field(
        default=None,
        description="Link to evidence of the work: an http or https URL of at most 200 "
        "characters, without a user name or password.",
    )
    send_email: bool = strawberry.field(
        default=True, description="Email the recipient about the credential."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Any unique string of 1 to 200 characters. Retrying with the same key within "
            "24 hours returns the first result instead of issuing twice; reusing it for "
            "different input is refused (IDEMPOTENCY_KEY_REUSED)."
        ),
    )


@strawberry.type(description="The result of issueCredential.")
class IssueCredentialPayload:
    credential: Credential | None = strawberry.field(
        description="The issued credential; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(description="What to fix, if anything.")


@strawberry.input(description="Which credential to revoke, and why.")
class RevokeCredentialInput:
    id: strawberry.ID = strawberry.field(description="The credential's ID.")
    reason: str = strawberry.field(description="Why it is revoked (1 to 500 characters).")
    notify_recipient: bool = strawberry.field(
        default=True, description="Email the recipient about the revocation."
    )


@strawberry.type(description="The result of revokeCredential.")
class RevokeCredentialPayload:
    credential: Credential | None = strawberry.field(
        description="The revoked credential; null when userErrors is not empty."
    )
    user_errors: list[UserError] = strawberry.field(description="What to fix, if anything.")
