"""JSON representations of the records, as the backend's DRF serializers render them.

Every representation carries all the contract's fields, the ``x-internal`` ones included.
Renders are cached on the record (``record.json``) and reused until the record changes::

    organization_json(org)       # b'{"id":1,"name":"Universidad Andina de Bogot\\xc3\\xa1",...}'
    credential_json(credential)  # nested recipient included
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson

from sample_backend.models import Badge, Credential, Organization, Recipient

__all__ = [
    "badge_json",
    "badge_repr",
    "credential_json",
    "credential_repr",
    "format_date",
    "format_datetime",
    "organization_json",
    "organization_repr",
    "recipient_repr",
]


def format_datetime(value: datetime | None) -> str | None:
    """DRF's DateTimeField output: ISO 8601, UTC written as ``Z``."""
    if value is None:
        return None
    text = value.isoformat()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text


def format_date(value: date | None) -> str | None:
    """DRF's DateField output: ``YYYY-MM-DD``."""
    return None if value is None else value.isoformat()


def organization_repr(org: Organization) -> dict[str, Any]:
    """The Organization schema."""
    return {
        "id": org.id,
        "name": org.name,
        "slug": org.slug,
        "country": org.country,
        "website": org.website,
        "logo_url": org.logo_url,
        "is_active": org.is_active,
        "created_at": format_datetime(org.created_at),
        "billing_email": org.billing_email,
        "stripe_customer_id": org.stripe_customer_id,
        "internal_notes": org.internal_notes,
        "account_manager_id": org.account_manager_id,
    }


def badge_repr(badge: Badge) -> dict[str, Any]:
    """The Badge schema."""
    return {
        "id": badge.id,
        "uuid": badge.uuid,
        "organization": badge.organization,
        "name": badge.name,
        "description": badge.description,
        "criteria": badge.criteria,
        "image_url": badge.image_url,
        "level": badge.level,
        "duration_hours": badge.duration_hours,
        "language": badge.language,
        "skills": [
            {"id": skill.id, "name": skill.name, "esco_uri": skill.esco_uri}
            for skill in badge.skills
        ],
        "status": badge.status,
        "issued_count": badge.issued_count,
        "created_at": format_datetime(badge.created_at),
        "updated_at": format_datetime(badge.updated_at),
        "created_by": badge.created_by,
        "s3_image_key": badge.s3_image_key,
        "moderation_flags": list(badge.moderation_flags),
        "template_engine_version": badge.template_engine_version,
    }


def recipient_repr(recipient: Recipient) -> dict[str, Any]:
    """The Recipient schema."""
    return {
        "id": recipient.id,
        "email": recipient.email,
        "first_name": recipient.first_name,
        "last_name": recipient.last_name,
        "national_id": recipient.national_id,
        "phone": recipient.phone,
        "created_at": format_datetime(recipient.created_at),
    }


def credential_repr(credential: Credential) -> dict[str, Any]:
    """The Credential schema."""
    return {
        "uuid": credential.uuid,
        "badge": credential.badge,
        "organization": credential.organization,
        "recipient": recipient_repr(credential.recipient),
        "status": credential.status,
        "issued_on": format_date(credential.issued_on),
        "expires_on": format_date(credential.expires_on),
        "revoked_at": format_datetime(credential.revoked_at),
        "revocation_reason": credential.revocation_reason,
        "evidence_url": credential.evidence_url,
        "public_url": credential.public_url,
        "created_at": format_datetime(credential.created_at),
        "created_by": credential.created_by,
        "pdf_s3_key": credential.pdf_s3_key,
        "blockchain_tx": credential.blockchain_tx,
        "internal_meta": dict(credential.internal_meta),
    }


def organization_json(org: Organization) -> bytes:
    """The cached JSON of :func:`organization_repr`."""
    cached = org.json
    if cached is None:
        cached = org.json = orjson.dumps(organization_repr(org))
    return cached


def badge_json(badge: Badge) -> bytes:
    """The cached JSON of :func:`badge_repr`."""
    cached = badge.json
    if cached is None:
        cached = badge.json = orjson.dumps(badge_repr(badge))
    return cached


def credential_json(credential: Credential) -> bytes:
    """The cached JSON of :func:`credential_repr`."""
    cached = credential.json
    if cached is None:
        cached = credential.json = orjson.dumps(credential_repr(credential))
    return cached
