"""Scrubbing what leaves the process for diagnostics: error reports, stored traces.

Two strengths. :func:`scrub` (for Sentry events) removes secrets and personal data but
keeps everything else readable: secret-named keys (``password``, ``authorization``,
``x-api-key``, ``cookie``, ``*_token``...) lose their values, API keys, bearer tokens and
JWTs are cut out of any text (:func:`observability.logging.redact`), and so are email
addresses. :func:`redact_variables` (for a request's GraphQL variables in the trace
store) is stricter: it keeps numbers, booleans, IDs, enum values, dates and opaque
tokens, and masks every other string, free text and names included::

    scrub({"password": "hunter2", "note": "mail ada@example.com"})
    # {"password": "[REDACTED]", "note": "mail [EMAIL]"}
    redact_variables({"badgeId": "42", "recipient": {"email": "ada@example.com"}})
    # {"badgeId": "42", "recipient": {"email": "[REDACTED]"}}
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from observability.logging import REDACTED, redact

__all__ = [
    "EMAIL",
    "REDACTED",
    "is_personal_key",
    "is_secret_key",
    "redact_variables",
    "scrub",
    "scrub_text",
]

EMAIL: Final = "[EMAIL]"
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# user:password@ in URLs (database URLs, DSNs), and password=... in free text.
_USERINFO: Final = re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@")
_ASSIGNED: Final = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|pepper|dsn)(\s*[=:]\s*)[^\s,;&]+"
)
_WORDS: Final = re.compile(r"[a-z0-9]+")
_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
# A name is secret when one of its words is one of these ("backend_password",
# "X-API-Key", "accessToken", "set-cookie") ...
_SECRET_WORDS: Final = frozenset(
    {
        "authorization",
        "auth",
        "password",
        "passwd",
        "pwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "pepper",
        "peppers",
        "cookie",
        "cookies",
        "jwt",
        "dsn",
        "apikey",
        "credentials",
        "session",
        "signature",
    }
)
# ... or when it is one of these whole.
_SECRET_NAMES: Final = frozenset(
    {"key", "raw_key", "api_key", "x_api_key", "access", "refresh", "private_key", "key_hash"}
)
# Personal data about recipients and people.
_PERSONAL_WORDS: Final = frozenset(
    {"email", "emails", "phone", "address", "ip", "firstname", "lastname", "fullname"}
)
_PERSONAL_NAMES: Final = frozenset(
    {"first_name", "last_name", "full_name", "given_name", "family_name", "username",
     "remote_addr", "x_forwarded_for", "x_real_ip", "ip_address", "user"}
)  # fmt: skip
# Variables whose values are free text, whatever they look like.
_FREE_TEXT_NAMES: Final = frozenset(
    {"name", "reason", "search", "query", "message", "note", "notes", "description",
     "comment", "comments", "text", "title", "evidence_url", "url", "narrative", "recipient"}
)  # fmt: skip
_MAX_DEPTH: Final = 12
_MAX_ITEMS: Final = 100
_MAX_KEPT_STRING: Final = 200
# Strings a variable may keep: numbers, UUIDs, dates, ENUM_VALUES, opaque tokens
# (cursors, ULIDs, idempotency keys: letters and digits mixed, no spaces).
_KEEP: Final = re.compile(
    r"-?\d{1,30}(?:\.\d{1,30})?"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|[A-Z][A-Z0-9_]{0,63}"
    r"|(?=[A-Za-z0-9+/=_.:-]*[0-9])(?=[A-Za-z0-9+/=_.:-]*[A-Za-z])[A-Za-z0-9+/=_.:-]{8,200}"
)


def _normal(name: object) -> str:
    """``"X-API-Key"``, ``"apiKey"`` and ``"API_KEY"`` all become ``"x_api_key"``-style."""
    text = _CAMEL.sub("_", str(name))
    return "_".join(_WORDS.findall(text.lower()))


def is_secret_key(name: object) -> bool:
    """Whether a mapping key or header name names a secret (``backend_password``,
    ``Authorization``, ``X-API-Key``, ``accessToken``, ``Cookie``...)."""
    normal = _normal(name)
    return normal in _SECRET_NAMES or not _SECRET_WORDS.isdisjoint(normal.split("_"))


def is_personal_key(name: object) -> bool:
    """Whether a mapping key names personal data (``email``, ``firstName``, ``phone``...)."""
    normal = _normal(name)
    return normal in _PERSONAL_NAMES or not _PERSONAL_WORDS.isdisjoint(normal.split("_"))


def scrub_text(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without API keys, bearer tokens, JWTs, URL passwords, ``password=...``
    assignments, email addresses, or any of the known ``secrets`` (exact values)."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(REDACTED + "@", redact(text))
    text = _ASSIGNED.sub(lambda m: m[1] + m[2] + REDACTED, text)
    return _EMAIL.sub(EMAIL, text)


def scrub(value: Any, *, secrets: Sequence[str] = (), _depth: int = 0) -> Any:
    """A copy of ``value`` with secrets and personal data removed, recursing into mappings,
    lists and tuples (other values are returned as they are). ``secrets`` are exact values
    known to be secret (the configured passwords), removed wherever they appear."""
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"), secrets)
    if _depth > _MAX_DEPTH:
        return REDACTED if isinstance(value, Mapping | list | tuple) else value
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if is_secret_key(key) or is_personal_key(key)
            else scrub(item, secrets=secrets, _depth=_depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(item, secrets=secrets, _depth=_depth + 1) for item in value]
    return value


def redact_variables(value: Any, *, _depth: int = 0, _masked: bool = False) -> Any:
    """GraphQL variables as they may be stored: numbers, booleans, nulls, IDs, enum values,
    dates and opaque tokens kept; names, emails, free text and secrets masked; lists cut
    to 100 items (a last item says how many more) and nesting to 12 levels."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        if _masked or len(value) > _MAX_KEPT_STRING or not _KEEP.fullmatch(value):
            return REDACTED
        return REDACTED if redact(value) != value else value  # an API key or a JWT
    if _depth > _MAX_DEPTH:
        return REDACTED
    if isinstance(value, Mapping):
        masked: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index == _MAX_ITEMS:
                masked["…"] = f"{len(value) - _MAX_ITEMS} more"
                break
            name = str(key)[:64]
            if is_secret_key(name):
                masked[name] = REDACTED if item is not None else None
            else:
                hide = _masked or is_personal_key(name) or _normal(name) in _FREE_TEXT_NAMES
                masked[name] = redact_variables(item, _depth=_depth + 1, _masked=hide)
        return masked
    if isinstance(value, list | tuple):
        items = [
            redact_variables(item, _depth=_depth + 1, _masked=_masked)
            for item in value[:_MAX_ITEMS]
        ]
        if len(value) > _MAX_ITEMS:
            items.append(f"… {len(value) - _MAX_ITEMS} more")
        return items
    return REDACTED
