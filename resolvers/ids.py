"""Parsing partner-supplied IDs before they go anywhere near a backend path.

Badge IDs are the backend's integers (ASCII digits, 1 and up); credential IDs are
UUIDs, as 32 hexadecimal digits with or without the usual hyphens, in either case.
Anything else (braces, ``urn:uuid:``, spaces, underscores, other scripts' digits, all of
which Python's parsers would quietly accept) is a clear ``BAD_USER_INPUT`` rather than a
backend round trip::

    parse_badge_id("42")  # 42
    parse_credential_id("6F9619FF-8B86-D011-B42D-00C04FC964FF")  # "6f9619ff-8b86-..."
    parse_credential_id("not-a-uuid")  # raises BadUserInput
"""

from __future__ import annotations

import re
import uuid

from errors import BadUserInput

__all__ = ["parse_badge_id", "parse_credential_id"]

_MAX_BADGE_ID = 2**63 - 1
_UUID = re.compile(
    r"[0-9a-fA-F]{8}(-?)[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{4}\1[0-9a-fA-F]{12}"
)


def parse_badge_id(value: str | int, *, field: str = "id") -> int:
    text = str(value)
    if (
        not text.isascii()
        or not text.isdigit()
        or len(text) > 19
        or not 0 < int(text) <= _MAX_BADGE_ID
    ):
        raise BadUserInput(f"`{field}` must be a badge ID (a positive integer).", field=field)
    return int(text)


def parse_credential_id(value: str, *, field: str = "id") -> str:
    text = str(value)
    if _UUID.fullmatch(text) is None:
        raise BadUserInput(f"`{field}` must be a credential ID (a UUID).", field=field)
    return str(uuid.UUID(text))
