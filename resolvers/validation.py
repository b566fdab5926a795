"""Partner input checked before it goes anywhere near the backend.

Each ``check_*`` function returns the value as it will be sent (surrounding whitespace
stripped, as the backend's serializers strip it) or raises :class:`BadUserInput` whose
``field`` is the partner's name for the field (``"recipient.email"``) and whose message
names it and never repeats the value::

    check_email(" ana@example.co ", field="recipient.email")  # "ana@example.co"
    check_url("javascript:alert(1)", field="evidenceUrl")    # raises BadUserInput
    check_text("Ana\\x00", field="recipient.firstName", max_length=150)  # raises

The limits are the backend contract's (``openapi.yaml``, the sample backend's
serializers): names 150 characters, a revocation reason 1 to 500, emails 254, evidence
URLs 200. Text never holds control characters: C0 and C1 controls (tab, CR and LF only
in multi-line text), surrogates, line and paragraph separators, and the bidirectional
overrides and isolates that make text read other than it is stored.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

from errors import BadUserInput

__all__ = [
    "MAX_EMAIL",
    "MAX_IDEMPOTENCY_KEY",
    "MAX_NAME",
    "MAX_REASON",
    "MAX_SEARCH",
    "MAX_URL",
    "check_email",
    "check_idempotency_key",
    "check_text",
    "check_url",
    "has_control_characters",
]

MAX_EMAIL: Final = 254
MAX_NAME: Final = 150
MAX_REASON: Final = 500
MAX_URL: Final = 200
MAX_IDEMPOTENCY_KEY: Final = 200
MAX_SEARCH: Final = 200

_ALWAYS_REFUSED = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab, LF, CR; DEL; C1
    "\ud800-\udfff"  # surrogates: not text, and not encodable as UTF-8
    "\u2028\u2029"  # line and paragraph separators
    "\u202a-\u202e\u2066-\u2069"  # bidirectional embeddings, overrides and isolates
)
_MULTI_LINE_REFUSED = re.compile(f"[{_ALWAYS_REFUSED}]")
_SINGLE_LINE_REFUSED = re.compile(f"[\t\n\r{_ALWAYS_REFUSED}]")
_URL_REFUSED = re.compile(rf"[\s{_ALWAYS_REFUSED}]")

# Django's EmailValidator, which the backend's EmailField applies.
_EMAIL_USER = re.compile(
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
    re.IGNORECASE,
)
_EMAIL_DOMAIN = re.compile(
    r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z", re.IGNORECASE
)
_EMAIL_LITERAL = re.compile(r"\[([A-F0-9:.]+)\]\Z", re.IGNORECASE)

# A public host name, once IDNA-encoded: dot-separated labels and a top-level domain.
_HOST_NAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\.?\Z"
)
_URL_SCHEMES: Final = frozenset({"http", "https"})


def has_control_characters(value: str, *, multi_line: bool = False) -> bool:
    """Whether ``value`` holds a character no partner text may hold (see the module)."""
    pattern = _MULTI_LINE_REFUSED if multi_line else _SINGLE_LINE_REFUSED
    return pattern.search(value) is not None


def check_text(
    value: str, *, field: str, max_length: int, min_length: int = 0, multi_line: bool = False
) -> str:
    """Names and free text: stripped, ``min_length`` to ``max_length``, no control characters."""
    text = value.strip()
    if not min_length <= len(text) <= max_length:
        if min_length:
            message = f"`{field}` must be {min_length} to {max_length} characters."
        else:
            message = f"`{field}` is limited to {max_length} characters."
        raise BadUserInput(message, field=field)
    if has_control_characters(text, multi_line=multi_line):
        raise BadUserInput(f"`{field}` must not contain control characters.", field=field)
    return text


def _is_email_domain(domain: str) -> bool:
    if domain == "localhost" or _EMAIL_DOMAIN.match(domain):
        return True
    literal = _EMAIL_LITERAL.match(domain)
    if literal is None:
        return False
    try:
        ipaddress.ip_address(literal[1])
    except ValueError:
        return False
    return True


def check_email(value: str, *, field: str) -> str:
    """An email address the backend accepts (Django's rules), at most 254 characters."""
    email = value.strip()
    message = f"`{field}` must be an email address (at most {MAX_EMAIL} characters)."
    if len(email) > MAX_EMAIL or "@" not in email or has_control_characters(email):
        raise BadUserInput(message, field=field)
    user, domain = email.rsplit("@", 1)
    if not _EMAIL_USER.match(user):
        raise BadUserInput(message, field=field)
    if _is_email_domain(domain):
        return email
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadUserInput(message, field=field) from None
    if not _is_email_domain(ascii_domain):
        raise BadUserInput(message, field=field)
    return email


def _is_public_host(host: str) -> bool:
    """An IP address, or a host name with a top-level domain (no ``localhost``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and _HOST_NAME.match(ascii_host.lower()) is not None


def check_url(value: str, *, field: str) -> str | None:
    """An http or https URL of at most 200 characters, without a user name or password.

    A blank value is no URL at all: ``None``.
    """
    url = value.strip()
    if not url:
        return None
    if len(url) > MAX_URL:
        raise BadUserInput(f"`{field}` is limited to {MAX_URL} characters.", field=field)
    if _URL_REFUSED.search(url):
        raise BadUserInput(f"`{field}` must not contain spaces or control characters.", field=field)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of range or not a number
    except ValueError:
        parts = None
        port = None
    if parts is None or parts.scheme.lower() not in _URL_SCHEMES or not parts.netloc:
        raise BadUserInput(f"`{field}` must be an http or https URL.", field=field)
    if "@" in parts.netloc:
        raise BadUserInput(f"`{field}` must not contain a user name or password.", field=field)
    if not _is_public_host(parts.hostname or "") or port == 0:
        raise BadUserInput(f"`{field}` must be an http or https URL.", field=field)
    return url


def check_idempotency_key(value: str, *, field: str = "idempotencyKey") -> str:
    """1 to 200 characters, kept exactly as sent (no stripping), no control characters."""
    if not 1 <= len(value) <= MAX_IDEMPOTENCY_KEY:
        raise BadUserInput(f"`{field}` must be 1 to {MAX_IDEMPOTENCY_KEY} characters.", field=field)
    if has_control_characters(value):
        raise BadUserInput(f"`{field}` must not contain control characters.", field=field)
    return value
