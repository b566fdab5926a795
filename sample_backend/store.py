"""The backend's in-memory database: seeded records, their indexes and the writes.

Retrieves are dictionary lookups; lists start from the narrowest index (organization,
badge or recipient email) and their results are cached until the next write::

    store = Store()
    store.badges[1].name
    store.find_credentials(CredentialQuery(organization=1, status="revoked"))
    store.issue(validated_input, user_id=1)
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

from sample_backend.data import SEED, build_seed, deterministic_uuid, email_hash
from sample_backend.filters import BadgeQuery, CredentialQuery
from sample_backend.models import Badge, Credential, Organization, Recipient
from sample_backend.validation import CredentialInput

__all__ = ["Store", "utc_now"]

_QUERY_CACHE_LIMIT = 2_000
_PAGE_CACHE_LIMIT = 512  # rendered pages are up to ~130 KB each


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (Django's ``timezone.now()``)."""
    return datetime.now(UTC)


class Store:
    """All records plus the indexes the list endpoints use."""

    organizations: dict[int, Organization]
    badges: dict[int, Badge]
    credentials: dict[str, Credential]

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the seeded data."""
        seed = build_seed()
        self.organizations = {org.id: org for org in seed.organizations}
        self.badges = {badge.id: badge for badge in seed.badges}
        self._badge_list = sorted(seed.badges, key=lambda badge: badge.id)
        self._badges_by_org: dict[int, list[Badge]] = {org_id: [] for org_id in self.organizations}
        for badge in self._badge_list:
            self._badges_by_org[badge.organization].append(badge)
        self.credentials = {}
        self._credential_list: list[Credential] = []  # newest first
        self._by_org: dict[int, list[Credential]] = {}
        self._by_badge: dict[int, list[Credential]] = {}
        self._by_email: dict[str, list[Credential]] = {}
        for credential in seed.credentials:
            self._index(credential, prepend=False)
        self.recipients_by_email = {r.email.lower(): r for r in seed.recipients}
        self._next_recipient_id = max(r.id for r in seed.recipients) + 1
        self._rng = random.Random(SEED + 1)  # noqa: S311 - reproducible ids, not security
        self._badge_queries: dict[BadgeQuery, list[Badge]] = {}
        self._credential_queries: dict[CredentialQuery, list[Credential]] = {}
        self._pages: dict[tuple[str, str], bytes] = {}

    # ----------------------------------------------------------------- indexes

    def _index(self, credential: Credential, *, prepend: bool) -> None:
        self.credentials[credential.uuid] = credential
        lists = (
            self._credential_list,
            self._by_org.setdefault(credential.organization, []),
            self._by_badge.setdefault(credential.badge, []),
            self._by_email.setdefault(credential.recipient.email.lower(), []),
        )
        for items in lists:
            if prepend:
                items.insert(0, credential)
            else:
                items.append(credential)

    def _changed(self) -> None:
        self._badge_queries.clear()
        self._credential_queries.clear()
        self._pages.clear()

    def cached_page(self, url: str, path: str) -> bytes | None:
        """A list body rendered earlier for this exact URL (until the next write)."""
        return self._pages.get((url, path))

    def cache_page(self, url: str, path: str, body: bytes) -> None:
        """Remember a rendered list body for :meth:`cached_page`."""
        if len(self._pages) >= _PAGE_CACHE_LIMIT:
            self._pages.clear()
        self._pages[(url, path)] = body

    # ----------------------------------------------------------------- reads

    def get_credential(self, key: str) -> Credential | None:
        """The credential with this uuid (any spelling Django's UUIDField accepts)."""
        found = self.credentials.get(key)
        if found is not None:
            return found
        try:
            normalized = str(uuid.UUID(key))
        except ValueError:
            return None
        return self.credentials.get(normalized)

    def find_badges(self, query: BadgeQuery) -> Sequence[Badge]:
        """Badges matching every filter, ordered by id."""
        cached = self._badge_queries.get(query)
        if cached is not None:
            return cached
        candidates: Sequence[Badge]
        if query.ids is not None:
            found = (self.badges.get(badge_id) for badge_id in sorted(set(query.ids)))
            candidates = [badge for badge in found if badge is not None]
        elif query.organization is not None:
            candidates = self._badges_by_org.get(query.organization, [])
        else:
            candidates = self._badge_list
        result = [
            badge
            for badge in candidates
            if (query.organization is None or badge.organization == query.organization)
            and (query.status is None or badge.status == query.status)
            and all(term in badge.search_text for term in query.search)
        ]
        if len(self._badge_queries) >= _QUERY_CACHE_LIMIT:
            self._badge_queries.clear()
        self._badge_queries[query] = result
        return result

    def find_credentials(self, query: CredentialQuery) -> Sequence[Credential]:
        """Credentials matching every filter, newest first."""
        cached = self._credential_queries.get(query)
        if cached is not None:
            return cached
        indexed: list[list[Credential]] = []
        if query.organization is not None:
            indexed.append(self._by_org.get(query.organization, []))
        if query.badge is not None:
            indexed.append(self._by_badge.get(query.badge, []))
        if query.recipient_email is not None:
            indexed.append(self._by_email.get(query.recipient_email, []))
        candidates = min(indexed, key=len) if indexed else self._credential_list
        after, before = query.issued_after, query.issued_before
        result = [
            credential
            for credential in candidates
            if (query.organization is None or credential.organization == query.organization)
            and (query.badge is None or credential.badge == query.badge)
            and (
                query.recipient_email is None
                or credential.recipient.email.lower() == query.recipient_email
            )
            and (query.status is None or credential.status == query.status)
            and (after is None or credential.issued_on >= after)
            and (before is None or credential.issued_on <= before)
        ]
        if len(self._credential_queries) >= _QUERY_CACHE_LIMIT:
            self._credential_queries.clear()
        self._credential_queries[query] = result
        return result

    # ----------------------------------------------------------------- writes

    def _recipient(self, data: CredentialInput, now: datetime) -> Recipient:
        key = data.email.lower()
        recipient = self.recipients_by_email.get(key)
        if recipient is None:
            recipient = Recipient(
                id=self._next_recipient_id,
                email=data.email,
                first_name=data.first_name,
                last_name=data.last_name,
                national_id=None,
                phone=None,
                created_at=now,
                email_hash=email_hash(data.email),
            )
            self._next_recipient_id += 1
            self.recipients_by_email[key] = recipient
        return recipient

    def issue(
        self, data: CredentialInput, *, user_id: int, today: date, idempotency_key: str | None
    ) -> Credential:
        """Issue a credential: match or create the recipient, count it on the badge."""
        now = utc_now()
        badge = data.badge
        credential_uuid = deterministic_uuid(self._rng)
        expired = data.expires_on is not None and data.expires_on < today
        credential = Credential(
            uuid=credential_uuid,
            badge=badge.id,
            organization=badge.organization,
            recipient=self._recipient(data, now),
            status="expired" if expired else "active",
            issued_on=data.issued_on,
            expires_on=data.expires_on,
            revoked_at=None,
            revocation_reason=None,
            evidence_url=data.evidence_url,
            public_url=f"https://verify.credentials-platform.example/c/{credential_uuid}/",
            created_at=now,
            created_by=user_id,
            pdf_s3_key=(
                f"s3://credentials-prod-pdfs/org-{badge.organization}/"
                f"{data.issued_on:%Y/%m}/{credential_uuid}.pdf"
            ),
            blockchain_tx=None,
            internal_meta={
                "issuance_channel": f"api:user-{user_id}",
                "send_email": data.send_email,
                "idempotency_key": idempotency_key,
                "worker": "issuance-worker@2.31.4-sample",
            },
        )
        self._index(credential, prepend=True)
        badge.issued_count += 1
        badge.json = None
        self._changed()
        return credential

    def revoke(self, credential: Credential, *, reason: str, notify: bool, user_id: int) -> None:
        """Mark a credential revoked now, with the reason."""
        credential.status = "revoked"
        credential.revoked_at = utc_now()
        credential.revocation_reason = reason
        credential.internal_meta = {
            **credential.internal_meta,
            "revoked_by": user_id,
            "revocation_notified": notify,
        }
        credential.json = None
        self._changed()
