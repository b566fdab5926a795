"""Enums of the partner schema, mirrored from the backend's enums.

The backend's values are lower-case strings; partners see GraphQL's UPPER_CASE names::

    BadgeStatus("published") is BadgeStatus.PUBLISHED
"""

from __future__ import annotations

from enum import Enum

import strawberry

__all__ = ["BadgeLevel", "BadgeStatus", "CredentialStatus"]


@strawberry.enum(description="Where a badge is in its life: only published badges can be issued.")
class BadgeStatus(Enum):
    DRAFT = strawberry.enum_value("draft", description="Being written; not issuable yet.")
    PUBLISHED = strawberry.enum_value("published", description="Live and issuable.")
    ARCHIVED = strawberry.enum_value("archived", description="Retired; no longer issued.")


@strawberry.enum(description="The level of achievement a badge represents.")
class BadgeLevel(Enum):
    BEGINNER = strawberry.enum_value("beginner", description="Entry level.")
    INTERMEDIATE = strawberry.enum_value("intermediate", description="Some experience.")
    ADVANCED = strawberry.enum_value("advanced", description="Solid experience.")
    EXPERT = strawberry.enum_value("expert", description="Mastery.")


@strawberry.enum(description="Whether an issued credential still stands.")
class CredentialStatus(Enum):
    ACTIVE = strawberry.enum_value("active", description="Valid.")
    REVOKED = strawberry.enum_value("revoked", description="Withdrawn by the issuer.")
    EXPIRED = strawberry.enum_value("expired", description="Past its expiry date.")
