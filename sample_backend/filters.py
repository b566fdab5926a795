"""List filters parsed the way django-filter and DRF's SearchFilter parse them.

Invalid values answer 400 with django-filter's field errors; empty values are ignored::

    parse_credential_query({"status": "bogus"}, organizations, badges)
    # ApiError 400 {"status": ["Select a valid choice. bogus is not one of the available choices."]}
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sample_backend.responses import ApiError

__all__ = [
    "BADGE_STATUSES",
    "CREDENTIAL_STATUSES",
    "MAX_IDS",
    "BadgeQuery",
    "CredentialQuery",
    "parse_badge_query",
    "parse_credential_query",
    "search_terms",
]

BADGE_STATUSES = ("draft", "published", "archived")
CREDENTIAL_STATUSES = ("active", "revoked", "expired")
MAX_IDS = 100

_INVALID_MODEL_CHOICE = "Select a valid choice. That choice is not one of the available choices."
_DATE_INPUT_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%d %b, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%d %B, %Y",
)


@dataclass(frozen=True, slots=True)
class BadgeQuery:
    """The badge list's filters (None / empty = not filtered)."""

    organization: int | None = None
    status: str | None = None
    search: tuple[str, ...] = ()
    ids: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class CredentialQuery:
    """The credential list's filters (None = not filtered); the email is lower-cased."""

    organization: int | None = None
    badge: int | None = None
    recipient_email: str | None = None
    status: str | None = None
    issued_after: date | None = None
    issued_before: date | None = None


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ApiError(400, dict(self.errors))


def _model_choice(
    params: Mapping[str, str], name: str, existing: Container[int], errors: _Errors
) -> int | None:
    """django-filter's ModelChoiceFilter on a foreign key: the pk must exist."""
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        errors.add(name, _INVALID_MODEL_CHOICE)
        return None
    if "\x00" in raw or value not in existing:
        errors.add(name, _INVALID_MODEL_CHOICE)
        return None
    return value


def _choice(
    params: Mapping[str, str], name: str, choices: tuple[str, ...], errors: _Errors
) -> str | None:
    """django-filter's ChoiceFilter."""
    raw = params.get(name)
    if not raw:
        return None
    if raw not in choices:
        errors.add(name, f"Select a valid choice. {raw} is not one of the available choices.")
        return None
    return raw


def _date(params: Mapping[str, str], name: str, errors: _Errors) -> date | None:
    """django-filter's DateFilter (Django's DATE_INPUT_FORMATS)."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    for fmt in _DATE_INPUT_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    errors.add(name, "Enter a valid date.")
    return None


def _ids(params: Mapping[str, str], errors: _Errors) -> tuple[int, ...] | None:
    """A NumberInFilter on ``id``: comma-separated numbers, at most :data:`MAX_IDS`."""
    raw = params.get("ids")
    if not raw:
        return None
    items = raw.split(",")
    values: list[int] = []
    for item in items:
        try:
            number = Decimal(item.strip())
        except InvalidOperation:
            errors.add("ids", "Enter a number.")
            return None
        if not number.is_finite():
            errors.add("ids", "Enter a number.")
            return None
        if number == number.to_integral_value():
            values.append(int(number))
    if len(items) > MAX_IDS:
        errors.add(
            "ids",
            f"List contains {len(items)} items, it should contain no more than {MAX_IDS}.",
        )
        return None
    return tuple(values)


# DRF's search_smart_split: whitespace/comma separated terms, quoted phrases kept whole.
_SMART_SPLIT_RE = re.compile(
    r"""
    ((?:
        [^\s'"]*
        (?:
            (?:"(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*')
            [^\s'"]*
        )+
    ) | \S+)
""",
    re.VERBOSE,
)


def search_terms(raw: str) -> tuple[str, ...]:
    """DRF SearchFilter's terms of a ``search`` value, lower-cased for matching."""
    terms: list[str] = []
    for match in _SMART_SPLIT_RE.finditer(raw.replace("\x00", "")):
        term = match[0].strip(",")
        if len(term) >= 2 and term[0] in "\"'" and term[0] == term[-1]:
            quote = term[0]
            terms.append(term[1:-1].replace("\\" + quote, quote).replace("\\\\", "\\"))
        else:
            terms.extend(part.strip() for part in term.split(",") if part)
    return tuple(term.lower() for term in terms if term)


def parse_badge_query(params: Mapping[str, str], organizations: Container[int]) -> BadgeQuery:
    """The badge list's filters, or ApiError 400."""
    errors = _Errors()
    organization = _model_choice(params, "organization", organizations, errors)
    status = _choice(params, "status", BADGE_STATUSES, errors)
    ids = _ids(params, errors)
    errors.raise_if_any()
    return BadgeQuery(
        organization=organization,
        status=status,
        search=search_terms(params.get("search", "")),
        ids=ids,
    )


def parse_credential_query(
    params: Mapping[str, str], organizations: Container[int], badges: Container[int]
) -> CredentialQuery:
    """The credential list's filters, or ApiError 400."""
    errors = _Errors()
    organization = _model_choice(params, "organization", organizations, errors)
    badge = _model_choice(params, "badge", badges, errors)
    email = (params.get("recipient_email") or "").strip()
    status = _choice(params, "status", CREDENTIAL_STATUSES, errors)
    issued_after = _date(params, "issued_after", errors)
    issued_before = _date(params, "issued_before", errors)
    errors.raise_if_any()
    return CredentialQuery(
        organization=organization,
        badge=badge,
        recipient_email=email.lower() or None,
        status=status,
        issued_after=issued_after,
        issued_before=issued_before,
    )
