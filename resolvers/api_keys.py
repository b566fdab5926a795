"""Partner self-service on API keys: ``rotateApiKey`` (``viewer.apiKeys`` is on ``Viewer``).

Rotation needs the ``keys:manage`` scope (on top of ``write``, which every mutation
needs), acts only on the caller's company's keys, and answers another company's key id
exactly as a missing one (``NOT_FOUND``). The successor's key is in the payload, once;
the audit trail names the actor ``partner:<calling key id>``. Once a rotation starts,
the request's deadline no longer applies: the new key is shown only in this answer, so
the partner gets it late rather than never::

    mutation { rotateApiKey(id: "AbCdEf012345", graceSeconds: 0) { key userErrors { code } } }
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from auth.lifecycle import (
    DEFAULT_GRACE,
    MAX_GRACE,
    KeyNotFound,
    KeyNotRotatable,
    partner_actor,
)
from auth.scopes import Scope
from errors import Forbidden
from resolvers.context import RequestContext
from resolvers.user_errors import NOT_FOUND, user_error
from schema.api_key_mutations import RotateApiKeyPayload
from schema.api_keys import ApiKey
from storage.records import KeyStatus

__all__ = ["rotate_api_key"]

Ctx = Info[RequestContext, None]
_KEY_ID = re.compile(r"[0-9A-Za-z]{12}")
_NOT_ROTATABLE = {
    KeyStatus.ROTATING: ("ALREADY_ROTATED", "This API key was already rotated."),
    KeyStatus.ROTATED: ("ALREADY_ROTATED", "This API key was already rotated."),
    KeyStatus.REVOKED: ("ALREADY_REVOKED", "This API key is revoked."),
    KeyStatus.EXPIRED: ("EXPIRED", "This API key has expired."),
}


def _failed(field: str, message: str, code: str) -> RotateApiKeyPayload:
    return RotateApiKeyPayload(
        api_key=None,
        key=None,
        rotated_api_key=None,
        user_errors=[user_error([field], message, code)],
    )


async def rotate_api_key(
    info: Ctx,
    id: Annotated[
        strawberry.ID, strawberry.argument(description="The id of one of your company's keys.")
    ],
    grace_seconds: Annotated[
        int | None,
        strawberry.argument(
            description="How long the old key keeps working, in seconds: 0 (it stops at once) "
            f"to {int(MAX_GRACE.total_seconds())} (30 days). Default: "
            f"{int(DEFAULT_GRACE.total_seconds())} (24 hours)."
        ),
    ] = None,
) -> RotateApiKeyPayload:
    context = info.context
    principal = context.principal
    if not principal.has_scope(Scope.KEYS_MANAGE):
        raise Forbidden("This API key lacks the `keys:manage` scope needed for rotateApiKey.")
    grace = DEFAULT_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
    if not timedelta(0) <= grace <= MAX_GRACE:
        message = f"`graceSeconds` must be 0 to {int(MAX_GRACE.total_seconds())}."
        return _failed("graceSeconds", message, "BAD_USER_INPUT")
    key_id = str(id)
    if not _KEY_ID.fullmatch(key_id):
        return _failed("id", "API key not found.", NOT_FOUND)  # as any missing key reads
    try:
        context.outlive_deadline()
        rotated = await context.keys.rotate(
            key_id,
            actor=partner_actor(principal.key_id),
            grace=grace,
            company_id=principal.company_id,
        )
    except KeyNotFound:
        return _failed("id", "API key not found.", NOT_FOUND)
    except KeyNotRotatable as error:
        code, message = _NOT_ROTATABLE[error.status]
        return _failed("id", message, code)
    now = datetime.now(UTC)
    return RotateApiKeyPayload(
        api_key=ApiKey.from_record(rotated.successor, now),
        key=rotated.key,
        rotated_api_key=ApiKey.from_record(rotated.rotated, now),
        user_errors=[],
    )
