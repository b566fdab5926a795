"""The partner schema's object types, and the one place backend records become them.

Each ``from_backend`` reads a whitelist of public fields out of a backend record, so
an internal field (``x-internal`` in the contract) has no way into a response::

    Badge.from_backend({"id": 7, "name": "Python", "s3_image_key": "..."}).name  # "Python"

Badges and credentials, the types that come by the hundred, convert their costlier
fields only when an operation reads them (:mod:`schema.records`).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar, Self, cast

import strawberry
from strawberry.federation.schema_directives import Cost, ListSize
from strawberry.types import Info

from errors import NotFound
from metering.buckets import next_month_start
from resolvers.context import RequestContext
from resolvers.ids import parse_badge_id, parse_credential_id
from resolvers.loaders import Loaders
from resolvers.usage import usage_for
from schema.api_keys import ApiKey
from schema.metering import Quota, RateLimit, Usage
from schema.records import Converter, FromRecord
from schema.scalars import BadgeLevel, BadgeStatus, CredentialStatus

__all__ = [
    "Badge",
    "Company",
    "Credential",
    "CredentialVerification",
    "Organization",
    "Recipient",
    "Skill",
    "Viewer",
]


# Backend value -> enum member: a dict lookup instead of ``Enum(value)``, which showed
# in the profile of a page of 100 credentials (docs/performance.md).
_CREDENTIAL_STATUS = {member.value: member for member in CredentialStatus}
_BADGE_STATUS = {member.value: member for member in BadgeStatus}
_BADGE_LEVEL = {member.value: member for member in BadgeLevel}


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


@strawberry.federation.type(keys=["id"], description="An organization that issues badges.")
class Organization:
    id: strawberry.ID = strawberry.field(description="The organization's ID.")
    name: str = strawberry.field(description="Display name.")
    slug: str = strawberry.field(description="URL-safe short name.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    website: str | None = strawberry.field(description="Public website.")
    logo_url: str | None = strawberry.field(description="URL of the organization's logo.")
    created_at: datetime | None = strawberry.field(description="When it joined the platform.")

    @classmethod
    def from_backend(cls, data: dict[str, Any]) -> Self:
        return cls(
            id=strawberry.ID(str(data["id"])),
            name=data["name"],
            slug=data["slug"],
            country=data.get("country") or None,
            website=data.get("website"),
            logo_url=data.get("logo_url"),
            created_at=_datetime(data.get("created_at")),
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[RequestContext, None], id: strawberry.ID
    ) -> Self | None:
        data = await info.context.loaders.organization(id)
        return None if data is None else cls.from_backend(data)


@strawberry.type(description="A skill a badge certifies, linked to the ESCO classification.")
class Skill:
    name: str = strawberry.field(description="Skill name.")
    esco_uri: str | None = strawberry.field(description="ESCO URI of the skill, when mapped.")


@strawberry.federation.type(keys=["id"], description="A badge an organization can issue.")
class Badge:
    id: strawberry.ID = strawberry.field(description="The badge's ID.")
    name: str = strawberry.field(description="Badge name.")
    description: str = strawberry.field(description="What the badge recognises.")
    criteria: str = strawberry.field(description="Earning criteria, in Markdown.")
    image_url: str | None = strawberry.field(description="URL of the badge image.")
    level: BadgeLevel | None = strawberry.field(description="Level of achievement.")
    duration_hours: float | None = strawberry.field(description="Hours of learning behind it.")
    language: str | None = strawberry.field(description="BCP 47 language tag, e.g. es-CO.")
    skills: list[Skill] = strawberry.field(
        description="Skills the badge certifies.",
        directives=[ListSize(assumed_size=5, slicing_arguments=None, sized_fields=None)],
    )
    status: BadgeStatus = strawberry.field(description="Draft, published or archived.")
    issued_count: int = strawberry.field(description="How many times it has been issued.")
    created_at: datetime | None = strawberry.field(description="When it was created.")
    updated_at: datetime | None = strawberry.field(description="When it last changed.")

    @classmethod
    def from_backend(cls, data: dict[str, Any]) -> Badge:
        return _BadgeRecord(data)

    @classmethod
    async def resolve_reference(
        cls, info: Info[RequestContext, None], id: strawberry.ID
    ) -> Badge | None:
        data = await info.context.loaders.badge(parse_badge_id(id))
        return None if data is None else cls.from_backend(data)


def _level(record: dict[str, Any]) -> BadgeLevel | None:
    level = record.get("level")
    return _BADGE_LEVEL[level] if level else None


def _skills(record: dict[str, Any]) -> list[Skill]:
    return [
        Skill(name=skill["name"], esco_uri=skill.get("esco_uri"))
        for skill in record.get("skills") or ()
    ]


class _BadgeRecord(FromRecord, Badge):
    """A :class:`Badge` whose fields beyond ID, name and status are read on first use."""

    converters: ClassVar[Mapping[str, Converter]] = {
        "description": lambda record: record.get("description") or "",
        "criteria": lambda record: record.get("criteria") or "",
        "image_url": lambda record: record.get("image_url"),
        "level": _level,
        "duration_hours": lambda record: record.get("duration_hours"),
        "language": lambda record: record.get("language"),
        "skills": _skills,
        "issued_count": lambda record: record.get("issued_count") or 0,
        "created_at": lambda record: _datetime(record.get("created_at")),
        "updated_at": lambda record: _datetime(record.get("updated_at")),
    }

    def __init__(self, record: dict[str, Any]) -> None:  # not Badge's: the rest is lazy
        self._record = record
        self.id = strawberry.ID(str(record["id"]))
        self.name = record["name"]
        self.status = _BADGE_STATUS[record["status"]]


@strawberry.type(description="The person a credential was issued to.")
class Recipient:
    email: str = strawberry.field(description="The recipient's email address.")
    first_name: str | None = strawberry.field(description="Given name.")
    last_name: str | None = strawberry.field(description="Family name.")


@strawberry.federation.type(keys=["id"], description="A badge issued to a recipient.")
class Credential:
    id: strawberry.ID = strawberry.field(description="The credential's ID (a UUID).")
    recipient: Recipient = strawberry.field(description="Who holds it.")
    status: CredentialStatus = strawberry.field(description="Active, revoked or expired.")
    issued_on: date = strawberry.field(description="Date of issue.")
    expires_on: date | None = strawberry.field(description="Expiry date, if any.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked, if it was.")
    revocation_reason: str | None = strawberry.field(description="Why it was revoked.")
    evidence_url: str | None = strawberry.field(description="Link to evidence of the work.")
    public_url: str | None = strawberry.field(description="Public verification page.")
    created_at: datetime | None = strawberry.field(description="When the record was created.")
    # Either the Badge itself (a list resolver fetched the page's badges in one batch) or
    # a BadgeOnDemand that graphql-core awaits only if the operation selects it. A plain
    # attribute, not a resolver: no Strawberry resolver machinery per item of a page.
    badge: Badge = strawberry.field(description="The badge this credential awards.")

    @classmethod
    def from_backend(
        cls, data: dict[str, Any], loaders: Loaders, badge: Badge | None = None
    ) -> Credential:
        return _CredentialRecord(data, badge or cast(Badge, BadgeOnDemand(loaders, data["badge"])))

    @classmethod
    async def resolve_reference(
        cls, info: Info[RequestContext, None], id: strawberry.ID
    ) -> Credential | None:
        loaders = info.context.loaders
        data = await loaders.credential(parse_credential_id(id))
        return None if data is None else cls.from_backend(data, loaders)


def _recipient(record: dict[str, Any]) -> Recipient:
    recipient = record["recipient"]
    return Recipient(
        email=recipient["email"],
        first_name=recipient.get("first_name"),
        last_name=recipient.get("last_name"),
    )


class _CredentialRecord(FromRecord, Credential):
    """A :class:`Credential` whose fields beyond ID, status and badge are read on first use."""

    converters: ClassVar[Mapping[str, Converter]] = {
        "recipient": _recipient,
        "issued_on": lambda record: date.fromisoformat(record["issued_on"]),
        "expires_on": lambda record: _date(record.get("expires_on")),
        "revoked_at": lambda record: _datetime(record.get("revoked_at")),
        "revocation_reason": lambda record: record.get("revocation_reason"),
        "evidence_url": lambda record: record.get("evidence_url"),
        "public_url": lambda record: record.get("public_url"),
        "created_at": lambda record: _datetime(record.get("created_at")),
    }

    def __init__(self, record: dict[str, Any], badge: Badge) -> None:  # the rest is lazy
        self._record = record
        self.id = strawberry.ID(record["uuid"])
        self.status = _CREDENTIAL_STATUS[record["status"]]
        self.badge = badge


class BadgeOnDemand:
    """A credential's badge, loaded (batched, scoped) only when something awaits it."""

    __slots__ = ("_badge_id", "_loaders")

    def __init__(self, loaders: Loaders, badge_id: int) -> None:
        self._loaders = loaders
        self._badge_id = badge_id

    def __await__(self) -> Generator[Any, None, Badge]:
        return self._load().__await__()

    async def _load(self) -> Badge:
        data = await self._loaders.badge(self._badge_id)
        if data is None:  # the backend's own data is inconsistent; never guess
            raise NotFound("The badge of this credential was not found.")
        return Badge.from_backend(data)


@strawberry.type(description="The result of checking a credential.")
class CredentialVerification:
    id: strawberry.ID = strawberry.field(description="The credential's ID.")
    valid: bool = strawberry.field(description="True when the credential is active and unexpired.")
    status: CredentialStatus = strawberry.field(description="Active, revoked or expired.")
    checked_at: datetime = strawberry.field(description="When the check was made.")
    issuer_name: str | None = strawberry.field(description="Name of the issuing organization.")
    badge_name: str | None = strawberry.field(description="Name of the badge.")

    @classmethod
    def from_backend(cls, data: dict[str, Any]) -> Self:
        return cls(
            id=strawberry.ID(data["uuid"]),
            valid=bool(data["valid"]),
            status=CredentialStatus(data["status"]),
            checked_at=datetime.fromisoformat(data["checked_at"]),
            issuer_name=(data.get("issuer") or {}).get("name"),
            badge_name=(data.get("badge") or {}).get("name"),
        )


@strawberry.type(description="A partner company using this API.")
class Company:
    id: strawberry.ID = strawberry.field(description="The company's ID.")
    name: str = strawberry.field(description="The company's name.")
    plan: str = strawberry.field(description="The company's plan.")


@strawberry.type(description="Who is calling: the API key's company and its organization.")
class Viewer:
    company: Company = strawberry.field(description="The company the API key belongs to.")
    organization_id: strawberry.Private[int]

    @strawberry.field(
        description="Your cost bucket, read without spending.", directives=[Cost(weight=0)]
    )
    async def rate_limit(self, info: Info[RequestContext, None]) -> RateLimit:
        meter, principal = info.context.meter, info.context.principal
        plan = meter.plan_for(principal)
        status, _ = await meter.store.peek(principal.company_id, plan)
        return RateLimit(
            maximum_available=status.maximum_available,
            currently_available=int(status.currently_available),
            restore_rate=status.restore_rate,
            max_operation_cost=plan.max_operation_cost,
        )

    @strawberry.field(
        description="Your monthly quota, read without spending.", directives=[Cost(weight=0)]
    )
    async def quota(self, info: Info[RequestContext, None]) -> Quota:
        meter, principal = info.context.meter, info.context.principal
        plan = meter.plan_for(principal)
        _, used = await meter.store.peek(principal.company_id, plan)
        return Quota(
            limit=plan.monthly_quota,
            used=used,
            remaining=max(0, plan.monthly_quota - used),
            resets_at=next_month_start(),
        )

    @strawberry.field(
        description="Your company's API keys, oldest first: status and times, never a secret."
    )
    async def api_keys(self, info: Info[RequestContext, None]) -> list[ApiKey]:
        keys = await info.context.keys.list_for_company(info.context.principal.company_id)
        now = datetime.now(UTC)
        return [ApiKey.from_record(key, now) for key in keys]

    @strawberry.field(description="Your usage between two days (UTC), both included.")
    async def usage(
        self,
        info: Info[RequestContext, None],
        from_: Annotated[
            date, strawberry.argument(name="from", description="The first day (UTC).")
        ],
        to: Annotated[date, strawberry.argument(description="The last day (UTC), included.")],
    ) -> Usage:
        return await usage_for(info.context, from_, to)

    @strawberry.field(description="The company's organization: its public profile.")
    async def organization(self, info: Info[RequestContext, None]) -> Organization:
        data = await info.context.loaders.organization(self.organization_id)
        if data is None:
            raise NotFound("Your organization was not found.")
        return Organization.from_backend(data)
