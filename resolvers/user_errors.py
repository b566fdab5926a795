"""DRF validation errors, turned into ``userErrors`` with the partner's field names.

The backend answers 400 with errors keyed by its own (snake_case, nested) field names;
partners see paths into their mutation input. A backend field the partner never sent
is not named: its error becomes a generic one, so no internal name leaks::

    user_errors_from_drf({"recipient": {"email": ["Enter a valid email address."]}}, ISSUE)
    # [UserError(field=["input", "recipient", "email"], message="Enter a valid ...", code=...)]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from schema.mutations import UserError

__all__ = [
    "ISSUE_CREDENTIAL_FIELDS",
    "REVOKE_CREDENTIAL_FIELDS",
    "user_error",
    "user_errors_from_drf",
]

BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
_MAX_MESSAGE = 300

ISSUE_CREDENTIAL_FIELDS: Mapping[str, str] = {
    "badge": "badgeId",
    "recipient": "recipient",
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "issued_on": "issuedOn",
    "expires_on": "expiresOn",
    "evidence_url": "evidenceUrl",
    "send_email": "sendEmail",
}
REVOKE_CREDENTIAL_FIELDS: Mapping[str, str] = {
    "reason": "reason",
    "notify_recipient": "notifyRecipient",
}


def user_error(path: list[str] | None, message: str, code: str = BAD_USER_INPUT) -> UserError:
    return UserError(field=path, message=message, code=code)


def _rename_fields(message: str, names: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return names.get(match.group(0), match.group(0))

    return re.sub(r"\b[a-z]+(?:_[a-z]+)+\b", replace, message)[:_MAX_MESSAGE]


def user_errors_from_drf(
    errors: Mapping[str, Any], names: Mapping[str, str], prefix: tuple[str, ...] = ("input",)
) -> list[UserError]:
    result: list[UserError] = []
    for key, value in errors.items():
        if key == "non_field_errors":
            path = list(prefix)
        elif key in names:
            path = [*prefix, names[key]]
        else:
            result.append(user_error(None, "Invalid input."))
            continue
        if isinstance(value, Mapping):
            result.extend(user_errors_from_drf(value, names, tuple(path)))
            continue
        for message in value if isinstance(value, list) else [value]:
            text = _rename_fields(str(message), names)
            code = NOT_FOUND if "does not exist" in text else BAD_USER_INPUT
            result.append(user_error(path, text, code))
    return result or [user_error(list(prefix), "Invalid input.")]
