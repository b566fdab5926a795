"""The gateway's tables as typed SQLAlchemy 2 models.

Company ids are ``co_`` + 16 lowercase hex characters (64 random bits), short enough to
type in the CLI and prefixed so they are never confused with a key id. An API key's id is
the public key id embedded in the key itself (see :mod:`auth.api_keys`)::

    company = Company(name="Acme Learning", organization_id=1)
    company.id  # "co_3f9a0c1d2b4e5f60"

Every timestamp is timezone-aware UTC, also on SQLite (which stores naive text).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    func,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "COMPANY_ID_PREFIX",
    "ApiKey",
    "ApiKeyEvent",
    "Base",
    "Company",
    "RequestTrace",
    "UTCDateTime",
    "UsageEvent",
    "new_company_id",
    "utc_now",
]

COMPANY_ID_PREFIX = "co_"

# Named constraints keep later (batch) migrations on SQLite and PostgreSQL deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_company_id() -> str:
    return COMPANY_ID_PREFIX + secrets.token_hex(8)


class UTCDateTime(TypeDecorator[datetime]):
    """A ``timestamptz`` on PostgreSQL; on SQLite, naive UTC text read back as aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Company(Base):
    """A partner company; its keys act on the backend organization ``organization_id``."""

    __tablename__ = "companies"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_company_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    organization_id: Mapped[int] = mapped_column(Integer)
    plan: Mapped[str] = mapped_column(String(32), default="standard", server_default="standard")
    # This company's own numbers on top of its plan, e.g. {"monthly_quota": 10000000}.
    plan_overrides: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )


class ApiKey(Base):
    """One API key. Only the HMAC of the key is stored, never the key or its secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("companies.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(32))
    key_hash: Mapped[str] = mapped_column(String(64))
    pepper_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    scopes: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utc_now, server_default=func.now()
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rotation: the key that replaced this one, and when this one stops working.
    successor_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"))
    grace_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyEvent(Base):
    """The audit trail of keys: issued, rotated, revoked, refused after rotation, peppers.

    ``actor`` is who did it: a CLI user, ``partner:<key id>`` for self-service, or
    ``gateway``. ``dedupe_key`` (unique) lets several processes record an event that must
    happen once (a pepper version, a refusal per key per hour) without coordinating.
    """

    __tablename__ = "api_key_events"
    __table_args__ = (Index("ix_api_key_events_company_id_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now, index=True)
    event: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    company_id: Mapped[str | None] = mapped_column(ForeignKey("companies.id"))
    key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    detail: Mapped[str] = mapped_column(String(500), default="", server_default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)


class UsageEvent(Base):
    """The usage ledger: one row per request, executed or refused, written before the answer.

    ``event_id`` is the gateway's own, always-new ID and the row's identity, so a replayed
    write never counts twice. ``request_id`` ties the row to logs and traces; it is not
    unique, because a client may send its own (a partner reusing one must not go unbilled).
    ``billable_cost`` is the actual cost of executed operations and 0 for refused ones.
    """

    __tablename__ = "usage_events"
    __table_args__ = (Index("ix_usage_events_company_id_at", "company_id", "at"),)

    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    company_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    operation_name: Mapped[str | None] = mapped_column(String(128))
    operation_type: Mapped[str | None] = mapped_column(String(16))
    document_hash: Mapped[str | None] = mapped_column(String(64))
    requested_cost: Mapped[int] = mapped_column(Integer)
    actual_cost: Mapped[int] = mapped_column(Integer)
    billable_cost: Mapped[int] = mapped_column(Integer)
    backend_calls: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    error_codes: Mapped[str] = mapped_column(String(300))
    duration_ms: Mapped[float] = mapped_column(Float)


class RequestTrace(Base):
    """One request's diagnostic trace, kept for a retention period (14 days by default).

    Written off the hot path by :class:`observability.trace_store.TraceWriter`: what the
    request was (operation, outcome, status, duration), its public error messages, its
    variables with names, emails and free text masked, and each backend call (method,
    path template, status, duration, attempt, retry reason) with its offset from the
    request's start. ``request_id`` is not unique (a client may reuse its own);
    ``trace_id`` is the W3C trace the request's spans belong to.
    """

    __tablename__ = "request_traces"
    __table_args__ = (Index("ix_request_traces_company_id_at", "company_id", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    request_id: Mapped[str] = mapped_column(String(128), index=True)
    trace_id: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # the purge reads by age
    company_id: Mapped[str | None] = mapped_column(String(32))
    key_id: Mapped[str | None] = mapped_column(String(32))
    operation_name: Mapped[str | None] = mapped_column(String(128))
    operation_type: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[int] = mapped_column(Integer)
    error_codes: Mapped[str] = mapped_column(String(300))
    # [{"code": ..., "message": ..., "path": [...]}]: the messages the partner was sent.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    duration_ms: Mapped[float] = mapped_column(Float)
    variables: Mapped[Any] = mapped_column(JSON, nullable=True)
    # [{"method", "path", "status", "duration_ms", "offset_ms", "attempt", "retry_reason",
    #   "error"}], in the order the calls ended.
    backend_calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
