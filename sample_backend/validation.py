"""Request-body validation with DRF's rules and messages, type-strict where the contract is.

Each ``validate_*`` function takes the parsed JSON body and returns the cleaned values or
raises :class:`~sample_backend.responses.ApiError` (400) with DRF's error dictionary::

    validate_revoke({"reason": ""})
    # ApiError 400 {"reason": ["This field may not be blank."]}
    validate_credential_create({"badge": "5", "recipient": {"email": "x"}}, badges, today)
    # ApiError 400 {"badge": ["Incorrect type. Expected pk value, received str."],
    #               "recipient": {"email": ["Enter a valid email address."]}}
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from urllib.parse import urlsplit

from sample_backend.models import Badge
from sample_backend.responses import ApiError

__all__ = [
    "CredentialInput",
    "is_valid_email",
    "is_valid_url",
    "parse_iso_date",
    "validate_credential_create",
    "validate_refresh",
    "validate_revoke",
    "validate_token_obtain",
]


class _Missing:
    """The value of a field that is absent from the body (DRF's ``empty``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
NOT_A_STRING = "Not a valid string."
INVALID_EMAIL = "Enter a valid email address."
INVALID_URL = "Enter a valid URL."
INVALID_BOOLEAN = "Must be a valid boolean."
INVALID_DATE = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
EXPIRES_BEFORE_ISSUED = "expires_on must be after issued_on."


class _Invalid(Exception):
    """One field's errors: a list of messages, or a dictionary for a nested serializer."""

    def __init__(self, detail: list[str] | dict[str, Any]) -> None:
        super().__init__(detail)
        self.detail = detail


# --------------------------------------------------------------------------- validators
# Ports of django.core.validators.EmailValidator and URLValidator.

_USER_RE = re.compile(
    r"(^[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*\Z"
    r'|^"([\001-\010\013\014\016-\037!#-\[\]-\177]|\\[\001-\011\013\014\016-\177])*"\Z)',
    re.IGNORECASE,
)
_DOMAIN_RE = re.compile(
    r"((?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+)(?:[A-Z0-9-]{2,63}(?<!-))\Z", re.IGNORECASE
)
_LITERAL_RE = re.compile(r"\[([A-F0-9:.]+)\]\Z", re.IGNORECASE)


def _valid_domain_part(domain: str) -> bool:
    if _DOMAIN_RE.match(domain):
        return True
    literal = _LITERAL_RE.match(domain)
    if literal:
        try:
            ipaddress.ip_address(literal[1])
        except ValueError:
            return False
        return True
    return False


def is_valid_email(value: str) -> bool:
    """Django's EmailValidator."""
    if not value or "@" not in value or len(value) > 320:
        return False
    user_part, domain_part = value.rsplit("@", 1)
    if not _USER_RE.match(user_part):
        return False
    if domain_part == "localhost" or _valid_domain_part(domain_part):
        return True
    try:
        ascii_domain = domain_part.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return _valid_domain_part(ascii_domain)


_UL = "\u00a1-\uffff"
_IPV4 = (
    r"(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)"
    r"(?:\.(?:0|25[0-5]|2[0-4][0-9]|1[0-9]?[0-9]?|[1-9][0-9]?)){3}"
)
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOSTNAME = r"[a-z" + _UL + r"0-9](?:[a-z" + _UL + r"0-9-]{0,61}[a-z" + _UL + r"0-9])?"
_DOMAIN = r"(?:\.(?!-)[a-z" + _UL + r"0-9-]{1,63}(?<!-))*"
_TLD = r"\.(?!-)(?:[a-z" + _UL + "-]{2,63}" + r"|xn--[a-z0-9]{1,59})(?<!-)\.?"
_HOST = "(" + _HOSTNAME + _DOMAIN + _TLD + "|localhost)"
_URL_RE = re.compile(
    r"^(?:[a-z0-9.+-]*)://"
    r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    r"(?:" + _IPV4 + "|" + _IPV6 + "|" + _HOST + ")"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#][^\s]*)?"
    r"\Z",
    re.IGNORECASE,
)
_URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps"})


def is_valid_url(value: str) -> bool:
    """Django's URLValidator (schemes http, https, ftp, ftps)."""
    if len(value) > 2048 or any(ch in value for ch in "\t\r\n"):
        return False
    if value.split("://", maxsplit=1)[0].lower() not in _URL_SCHEMES:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if not _URL_RE.match(value):
        return False
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
    return len(host) <= 253


# --------------------------------------------------------------------------- fields

_DATE_RE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


def parse_iso_date(value: object) -> date | None:
    """Django's ``parse_date``: the date, or None when the text is no ISO 8601 date."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        match = _DATE_RE.match(value)
        if match is None:
            return None
        try:
            return date(int(match["year"]), int(match["month"]), int(match["day"]))
        except ValueError:
            return None


def _char(
    value: Any,
    *,
    required: bool = True,
    allow_blank: bool = False,
    allow_null: bool = False,
    max_length: int | None = None,
    min_length: int | None = None,
    validator: tuple[Callable[[str], bool], str] | None = None,
) -> Any:
    """DRF's CharField (and EmailField/URLField with ``validator``)."""
    if value is MISSING:
        if required:
            raise _Invalid([REQUIRED])
        return MISSING
    if value is None:
        if allow_null:
            return None
        raise _Invalid([NULL])
    if value == "" or str(value).strip() == "":
        if not allow_blank:
            raise _Invalid([BLANK])
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid([NOT_A_STRING])
    text = str(value).strip()
    errors: list[str] = []
    if max_length is not None and len(text) > max_length:
        errors.append(f"Ensure this field has no more than {max_length} characters.")
    if min_length is not None and len(text) < min_length:
        errors.append(f"Ensure this field has at least {min_length} characters.")
    if "\x00" in text:
        errors.append("Null characters are not allowed.")
    if validator is not None and not validator[0](text):
        errors.append(validator[1])
    if errors:
        raise _Invalid(errors)
    return text


# DRF's BooleanField.TRUE_VALUES / FALSE_VALUES (True == 1 and False == 0 == 0.0 in a set).
_TRUE: Final[frozenset[object]] = frozenset(
    {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1}
)
_FALSE: Final[frozenset[object]] = frozenset(
    {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0}
)


def _boolean(value: Any, *, default: bool) -> bool:
    """DRF's BooleanField (not nullable, with a default)."""
    if value is MISSING:
        return default
    if value is None:
        raise _Invalid([NULL])
    try:
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    except TypeError:  # unhashable: a list or an object
        pass
    raise _Invalid([INVALID_BOOLEAN])


def _date(value: Any, *, allow_null: bool) -> Any:
    """DRF's DateField (optional), ISO 8601 only."""
    if value is MISSING:
        return MISSING
    if value is None:
        if allow_null:
            return None
        raise _Invalid([NULL])
    parsed = parse_iso_date(value)
    if parsed is None:
        raise _Invalid([INVALID_DATE])
    return parsed


def _primary_key(value: Any, objects: Mapping[int, Badge]) -> Badge:
    """DRF's PrimaryKeyRelatedField, but type-strict: the id must be a JSON integer."""
    if value is MISSING:
        raise _Invalid([REQUIRED])
    if value is None:
        raise _Invalid([NULL])
    if type(value) is not int:
        raise _Invalid([f"Incorrect type. Expected pk value, received {type(value).__name__}."])
    found = objects.get(value)
    if found is None:
        raise _Invalid([f'Invalid pk "{value}" - object does not exist.'])
    return found


# --------------------------------------------------------------------------- serializers


def _root(data: Any) -> Mapping[str, Any]:
    """The checks a DRF serializer makes on the whole body before its fields."""
    if data is None:
        raise ApiError(400, {"non_field_errors": ["No data provided"]})
    if not isinstance(data, Mapping):
        raise ApiError(
            400,
            {
                "non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
                ]
            },
        )
    return data


class _Collector:
    """Runs field validations and gathers their errors in field order."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, Any] = {}

    def run(self, name: str, check: Callable[[Any], Any]) -> Any:
        try:
            return check(self.data.get(name, MISSING))
        except _Invalid as exc:
            self.errors[name] = exc.detail
            return MISSING

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise ApiError(400, self.errors)


def validate_token_obtain(data: Any) -> tuple[str, str]:
    """SimpleJWT's TokenObtainPairSerializer fields: ``(username, password)``."""
    fields = _Collector(_root(data))
    username = fields.run("username", _char)
    password = fields.run("password", _char)
    fields.raise_if_invalid()
    return str(username), str(password)


def validate_refresh(data: Any) -> str:
    """SimpleJWT's TokenRefreshSerializer field: the refresh token."""
    fields = _Collector(_root(data))
    refresh = fields.run("refresh", _char)
    fields.raise_if_invalid()
    return str(refresh)


def validate_revoke(data: Any) -> tuple[str, bool]:
    """The revoke action's serializer: ``(reason, notify_recipient)``."""
    fields = _Collector(_root(data))
    reason = fields.run("reason", lambda value: _char(value, min_length=1, max_length=500))
    notify = fields.run("notify_recipient", lambda value: _boolean(value, default=True))
    fields.raise_if_invalid()
    return str(reason), bool(notify)


@dataclass(frozen=True, slots=True)
class CredentialInput:
    """A validated CredentialCreate body."""

    badge: Badge
    email: str
    first_name: str
    last_name: str
    issued_on: date
    expires_on: date | None
    evidence_url: str | None
    send_email: bool


def _recipient(value: Any) -> dict[str, str]:
    if value is MISSING:
        raise _Invalid([REQUIRED])
    if value is None:
        raise _Invalid([NULL])
    if not isinstance(value, Mapping):
        raise _Invalid(
            {
                "non_field_errors": [
                    f"Invalid data. Expected a dictionary, but got {type(value).__name__}."
                ]
            }
        )
    fields = _Collector(value)
    email = fields.run(
        "email", lambda v: _char(v, max_length=254, validator=(is_valid_email, INVALID_EMAIL))
    )
    names = {
        name: fields.run(name, lambda v: _char(v, required=False, allow_blank=True, max_length=150))
        for name in ("first_name", "last_name")
    }
    if fields.errors:
        raise _Invalid(fields.errors)
    return {
        "email": str(email),
        **{name: "" if text is MISSING else str(text) for name, text in names.items()},
    }


def validate_credential_create(
    data: Any, badges: Mapping[int, Badge], today: date
) -> CredentialInput:
    """The CredentialCreate serializer; ``issued_on`` defaults to ``today``."""
    fields = _Collector(_root(data))
    badge = fields.run("badge", lambda value: _primary_key(value, badges))
    recipient = fields.run("recipient", _recipient)
    issued_on = fields.run("issued_on", lambda value: _date(value, allow_null=False))
    expires_on = fields.run("expires_on", lambda value: _date(value, allow_null=True))
    evidence_url = fields.run(
        "evidence_url",
        lambda value: _char(
            value,
            required=False,
            allow_blank=True,
            allow_null=True,
            max_length=200,
            validator=(is_valid_url, INVALID_URL),
        ),
    )
    send_email = fields.run("send_email", lambda value: _boolean(value, default=True))
    fields.raise_if_invalid()
    if issued_on is MISSING:
        issued_on = today
    if expires_on is MISSING:
        expires_on = None
    if expires_on is not None and expires_on <= issued_on:
        raise ApiError(400, {"non_field_errors": [EXPIRES_BEFORE_ISSUED]})
    return CredentialInput(
        badge=badge,
        email=recipient["email"],
        first_name=recipient["first_name"],
        last_name=recipient["last_name"],
        issued_on=issued_on,
        expires_on=expires_on,
        evidence_url=None if evidence_url is MISSING else evidence_url,
        send_email=bool(send_email),
    )
