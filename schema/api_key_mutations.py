"""The payload of ``rotateApiKey``: the new key (its secret shown this once) and the old one.

::

    mutation { rotateApiKey(id: "AbCdEf012345", graceSeconds: 3600) {
        apiKey { id prefix } key rotatedApiKey { status graceEndsAt }
        userErrors { field message code } } }
"""

from __future__ import annotations

import strawberry

from schema.api_keys import ApiKey
from schema.mutations import UserError

__all__ = ["RotateApiKeyPayload"]


@strawberry.type(description="The result of rotateApiKey.")
class RotateApiKeyPayload:
    api_key: ApiKey | None = strawberry.field(
        description="The new key (the successor); null when userErrors is not empty."
    )
    key: str | None = strawberry.field(
        description="The new key itself. Shown only in this response: store it now."
    )
    rotated_api_key: ApiKey | None = strawberry.field(
        description="The key that was rotated; it keeps working until its `graceEndsAt`."
    )
    user_errors: list[UserError] = strawberry.field(description="What to fix, if anything.")
