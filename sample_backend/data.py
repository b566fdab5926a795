"""Seeded, deterministic sample data: three organizations, their badges and credentials.

Everything derives from one fixed random seed and one fixed epoch (:data:`SEED_EPOCH`, the
"now" of the seed), so two builds are identical and tests can rely on exact values::

    seed = build_seed()
    seed.organizations[0].name      # "Universidad Andina de Bogotá"
    internal_values()               # every seeded value of an x-internal field

Badge ids are global (organization 1 has 1-32, organization 2 has 33-60, organization 3
has 61-86); credentials are listed newest first.
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from sample_backend import catalog
from sample_backend.models import Badge, Credential, Organization, Recipient, Skill

__all__ = [
    "INTERNAL_FIELDS",
    "SEED",
    "SEED_EPOCH",
    "SIGNATURE_ALG",
    "SeedData",
    "build_seed",
    "deterministic_uuid",
    "email_hash",
    "internal_values",
    "search_text",
]

SEED = 20240611
SEED_EPOCH = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SIGNATURE_ALG = "RSASSA-PSS-SHA256"

INTERNAL_FIELDS = frozenset(
    {
        "billing_email",
        "stripe_customer_id",
        "internal_notes",
        "account_manager_id",
        "created_by",
        "s3_image_key",
        "moderation_flags",
        "template_engine_version",
        "national_id",
        "phone",
        "pdf_s3_key",
        "blockchain_tx",
        "internal_meta",
        "signature_alg",
        "signing_key_id",
    }
)
"""Names of every ``x-internal: true`` field of the contract."""


@dataclass(slots=True)
class SeedData:
    """A fresh copy of the seeded records (mutable: the store owns it)."""

    organizations: list[Organization]
    badges: list[Badge]
    recipients: list[Recipient]
    credentials: list[Credential]  # newest first


def deterministic_uuid(rng: random.Random) -> str:
    """A version-4-looking UUID drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def email_hash(email: str) -> str:
    """The verification endpoint's ``sha256$<hex>`` of the lower-cased email."""
    return "sha256$" + hashlib.sha256(email.lower().encode()).hexdigest()


def search_text(name: str, description: str) -> str:
    """What the ``search`` filter matches against (name and description, case-folded)."""
    return f"{name}\n{description}".lower()


# --------------------------------------------------------------------------- skills


def _build_skills(rng: random.Random) -> dict[str, Skill]:
    skills: dict[str, Skill] = {}
    for index, (name, in_esco) in enumerate(catalog.SKILL_NAMES, start=1):
        uri = catalog.ESCO_SKILL_BASE + deterministic_uuid(rng) if in_esco else None
        skills[name] = Skill(id=index, name=name, esco_uri=uri)
    return skills


# --------------------------------------------------------------------------- organizations


def _build_organization(spec: catalog.OrgSpec, rng: random.Random) -> Organization:
    return Organization(
        id=spec.id,
        name=spec.name,
        slug=spec.slug,
        country=spec.country,
        website=spec.website,
        logo_url=f"https://cdn.credentials-platform.example/orgs/{spec.slug}/logo.png",
        is_active=True,
        created_at=spec.created_at,
        billing_email=spec.billing_email,
        stripe_customer_id=spec.stripe_customer_id,
        internal_notes=spec.internal_notes,
        account_manager_id=spec.account_manager_id,
        signing_key_id=(f"arn:aws:kms:us-east-1:491827365021:key/{deterministic_uuid(rng)}"),
    )


# --------------------------------------------------------------------------- badges


def _dt(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant in [start, end), with microseconds like Django stores."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(max(span, 1)), microseconds=rng.randrange(10**6))


def _badge_names(
    org_id: int, count: int, rng: random.Random
) -> list[tuple[str, str, str | None, catalog.Topic]]:
    combos: list[tuple[str, str, str | None, catalog.Topic]] = []
    for language, topics in catalog.TOPICS[org_id]:
        for topic in topics:
            for prefix, level in catalog.PREFIXES[language]:
                combos.append((language, f"{prefix} {topic[0]}", level, topic))
    rng.shuffle(combos)
    # Keep the primary language first so every organization's first badge is "typical".
    combos.sort(key=lambda combo: combo[0] != catalog.TOPICS[org_id][0][0])
    if len(combos) < count:  # pragma: no cover - guarded by the topic tables
        raise RuntimeError(f"not enough badge names for organization {org_id}")
    return combos[:count]


def _build_badges(
    spec: catalog.OrgSpec, first_id: int, skills: dict[str, Skill], rng: random.Random
) -> list[Badge]:
    badges: list[Badge] = []
    for offset, (language, name, prefix_level, topic) in enumerate(
        _badge_names(spec.id, spec.badge_count, rng)
    ):
        badge_id = first_id + offset
        badge_uuid = deterministic_uuid(rng)
        description = catalog.DESCRIPTIONS[language].format(frag=topic[1])
        criteria_lang = "ca" if language == "ca-ES" else language[:2]
        criteria = catalog.CRITERIA[criteria_lang].format(
            attendance=rng.choice([75, 80, 85, 90]),
            grade=rng.choice(["3.5", "4.0", "7/10", "70%"]),
            hours=rng.choice([10, 20, 30, 40]),
        )
        if offset < 3:
            status = "published"  # the first badges of each organization are issuable
        else:
            status = rng.choices(["published", "draft", "archived"], weights=[70, 15, 15])[0]
        level = prefix_level
        if level is None:
            level = rng.choice(["beginner", "intermediate", "advanced", "expert", None])
        created_at = _dt(rng, spec.created_at, SEED_EPOCH - timedelta(days=400))
        updated_at = _dt(rng, created_at, SEED_EPOCH - timedelta(days=30))
        flags = rng.sample(catalog.MODERATION_FLAGS, k=rng.choice([0, 1, 1, 2]))
        badges.append(
            Badge(
                id=badge_id,
                uuid=badge_uuid,
                organization=spec.id,
                name=name,
                description=description,
                criteria=criteria,
                image_url=f"https://cdn.credentials-platform.example/badges/{badge_uuid}.png",
                level=level,
                duration_hours=rng.choice(catalog.DURATIONS) if rng.random() < 0.9 else None,
                language=language,
                skills=[skills[skill] for skill in topic[2]],
                status=status,
                issued_count=0,
                created_at=created_at,
                updated_at=updated_at,
                created_by=rng.choice(spec.staff_ids),
                s3_image_key=(
                    f"s3://credentials-prod-media/badges/org-{spec.id}/{badge_uuid}/original.png"
                ),
                moderation_flags=flags,
                template_engine_version=rng.choice(catalog.TEMPLATE_ENGINES),
                search_text=search_text(name, description),
            )
        )
    return badges


# --------------------------------------------------------------------------- recipients

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _ascii(text: str) -> str:
    normalized = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in normalized if not unicodedata.combining(ch)).lower()


def _national_id(country: str, rng: random.Random) -> str:
    if country == "CO":
        number = rng.randrange(1_000_000_000, 1_099_999_999)
        return "CC " + f"{number:,}".replace(",", ".")
    if country == "ES":
        number = rng.randrange(10_000_000, 79_999_999)
        return f"DNI {number:08d}{_DNI_LETTERS[number % 23]}"
    area = rng.choice([n for n in range(101, 899) if n != 666])
    return f"SSN {area:03d}-{rng.randrange(10, 99):02d}-{rng.randrange(1000, 9999):04d}"


def _phone(country: str, rng: random.Random) -> str:
    if country == "CO":
        return (
            f"+57 3{rng.randrange(0, 25):02d} {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}"
        )
    if country == "ES":
        digits = rng.randrange(600_000_000, 699_999_999)
        text = str(digits)
        return f"+34 {text[:3]} {text[3:5]} {text[5:7]} {text[7:]}"
    return f"+1 ({rng.randrange(201, 989)}) 555-01{rng.randrange(0, 99):02d}"


class _RecipientFactory:
    """Creates recipients with unique emails, numbered globally."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._emails: set[str] = set()
        self.recipients: list[Recipient] = []

    def create(self, country: str, not_before: datetime) -> Recipient:
        rng = self._rng
        first = rng.choice(catalog.FIRST_NAMES[country])
        last = rng.choice(catalog.LAST_NAMES[country])
        domain = rng.choice(catalog.MAIL_DOMAINS[country])
        base = f"{_ascii(first)}.{_ascii(last)}"
        email = f"{base}@{domain}"
        number = 1
        while email in self._emails:
            number += 1
            email = f"{base}{number}@{domain}"
        self._emails.add(email)
        recipient = Recipient(
            id=len(self.recipients) + 1,
            email=email,
            first_name=first,
            last_name=last,
            national_id=_national_id(country, rng) if rng.random() < 0.8 else None,
            phone=_phone(country, rng) if rng.random() < 0.7 else None,
            created_at=_dt(rng, not_before - timedelta(days=30), not_before),
            email_hash=email_hash(email),
        )
        self.recipients.append(recipient)
        return recipient


# --------------------------------------------------------------------------- credentials


def _internal_meta(org_id: int, issued_on: date, rng: random.Random) -> dict[str, Any]:
    return {
        "crm_ref": f"SF-006{rng.getrandbits(48):012X}",
        "import_batch": f"batch-{issued_on:%Y%m%d}-{rng.randrange(1000, 9999)}",
        "issuer_host": (
            f"ip-10-{rng.randrange(16, 32)}-{rng.randrange(256)}-{rng.randrange(1, 255)}"
            ".ec2.internal"
        ),
        "worker": f"issuance-worker@2.{rng.randrange(20, 40)}.{rng.randrange(10)}-org{org_id}",
        "email_delivery_id": f"ses-0100018f{rng.getrandbits(64):016x}-000000",
        "retry_count": rng.choice([0, 0, 0, 1, 2]),
    }


def _build_credentials(
    spec: catalog.OrgSpec,
    org_badges: list[Badge],
    recipients: _RecipientFactory,
    rng: random.Random,
) -> list[Credential]:
    issuable = [badge for badge in org_badges if badge.status != "draft"]
    own_recipients: list[Recipient] = []
    credentials: list[Credential] = []
    start = max(spec.created_at, SEED_EPOCH - timedelta(days=3 * 365))
    for _ in range(spec.credential_count):
        badge = rng.choice(issuable)
        created_at = _dt(rng, start + timedelta(days=30), SEED_EPOCH - timedelta(days=1))
        if own_recipients and rng.random() < 0.2:
            recipient = rng.choice(own_recipients)
        else:
            recipient = recipients.create(spec.country, created_at)
            own_recipients.append(recipient)
        issued_on = created_at.date() - timedelta(days=rng.choice([0, 0, 0, 1, 2, 7]))
        roll = rng.random()
        revoked_at: datetime | None = None
        reason: str | None = None
        if roll < 0.12:
            status = "expired"
            expiry = issued_on + timedelta(days=rng.choice([180, 365, 540]))
            if expiry >= SEED_EPOCH.date():
                expiry = SEED_EPOCH.date() - timedelta(days=rng.randrange(1, 60))
                issued_on = min(issued_on, expiry - timedelta(days=90))
            expires_on: date | None = expiry
        else:
            if rng.random() < 0.45:
                expires_on = None
            else:
                expires_on = SEED_EPOCH.date() + timedelta(days=rng.randrange(730, 1826))
            if roll < 0.25:
                status = "revoked"
                revoked_at = _dt(rng, created_at, SEED_EPOCH)
                reason = rng.choice(catalog.REVOCATION_REASONS[spec.country])
            else:
                status = "active"
        credential_uuid = deterministic_uuid(rng)
        evidence = (
            catalog.EVIDENCE_HOSTS[spec.id] + f"{rng.getrandbits(40):010x}"
            if rng.random() < 0.5
            else None
        )
        chain_share = 0.6 if spec.id == 2 else 0.3
        credentials.append(
            Credential(
                uuid=credential_uuid,
                badge=badge.id,
                organization=spec.id,
                recipient=recipient,
                status=status,
                issued_on=issued_on,
                expires_on=expires_on,
                revoked_at=revoked_at,
                revocation_reason=reason,
                evidence_url=evidence,
                public_url=f"https://verify.credentials-platform.example/c/{credential_uuid}/",
                created_at=created_at,
                created_by=rng.choice(spec.staff_ids),
                pdf_s3_key=(
                    f"s3://credentials-prod-pdfs/org-{spec.id}/{issued_on:%Y/%m}/"
                    f"{credential_uuid}.pdf"
                    if rng.random() < 0.95
                    else None
                ),
                blockchain_tx=(
                    f"0x{rng.getrandbits(256):064x}" if rng.random() < chain_share else None
                ),
                internal_meta=_internal_meta(spec.id, issued_on, rng),
            )
        )
        badge.issued_count += 1
    return credentials


# --------------------------------------------------------------------------- entry points


def build_seed() -> SeedData:
    """Build a fresh, mutable copy of the seeded data (identical on every call)."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible sample data, not security
    skills = _build_skills(rng)
    organizations = [_build_organization(spec, rng) for spec in catalog.ORGANIZATIONS]
    badges: list[Badge] = []
    credentials: list[Credential] = []
    recipients = _RecipientFactory(rng)
    next_badge_id = 1
    for spec in catalog.ORGANIZATIONS:
        org_badges = _build_badges(spec, next_badge_id, skills, rng)
        next_badge_id += len(org_badges)
        badges.extend(org_badges)
    for spec in catalog.ORGANIZATIONS:
        org_badges = [badge for badge in badges if badge.organization == spec.id]
        credentials.extend(_build_credentials(spec, org_badges, recipients, rng))
    credentials.sort(key=lambda credential: credential.created_at, reverse=True)
    recipients.recipients.sort(key=lambda recipient: recipient.id)
    return SeedData(
        organizations=organizations,
        badges=badges,
        recipients=recipients.recipients,
        credentials=credentials,
    )


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


@cache
def _internal_values() -> frozenset[str]:
    seed = build_seed()
    values: list[str] = [SIGNATURE_ALG]
    for organization in seed.organizations:
        values += _strings(
            [
                organization.billing_email,
                organization.stripe_customer_id,
                organization.internal_notes,
                organization.signing_key_id,
            ]
        )
    for badge in seed.badges:
        values += _strings(
            [badge.s3_image_key, badge.moderation_flags, badge.template_engine_version]
        )
    for recipient in seed.recipients:
        values += _strings([recipient.national_id, recipient.phone])
    for credential in seed.credentials:
        values += _strings(
            [credential.pdf_s3_key, credential.blockchain_tx, credential.internal_meta]
        )
    return frozenset(values)


def internal_values() -> set[str]:
    """Every seeded string value of an ``x-internal`` field (for leak scanners).

    Each value is long and distinctive ("cus_…", "s3://…", "0x…", national ids, phone
    numbers, KMS key ARNs, internal notes…), so finding one in a response proves a leak.
    Integer internal fields (``account_manager_id``, ``created_by``) are not included.
    """
    return set(_internal_values())
