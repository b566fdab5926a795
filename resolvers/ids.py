"""Parsing partner-supplied IDs before they go anywhere near a backend path.

Badge IDs are the backend's integers; credential IDs are UUIDs. Anything else is a
clear ``BAD_USER_INPUT`` rather than a backend round trip::

    parse_badge_id("42")  # 42
    parse_credential_id("not-a-uuid")  # raises BadUserInput
"""

from __future__ import annotations

import uuid

from errors import BadUserInput

__all__ = ["parse_badge_id", "parse_credential_id"]

_MAX_BADGE_ID = 2**63 - 1


def parse_badge_id(value: str | int, *, field: str = "id") -> int:
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _MAX_BADGE_ID:
        raise BadUserInput(f"`{field}` must be a badge ID (a positive integer).", field=field)
    return int(text)


def parse_credential_id(value: str, *, field: str = "id") -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise BadUserInput(f"`{field}` must be a credential ID (a UUID).", field=field) from None
