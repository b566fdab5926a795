"""The backend's operations, one typed method each, over :class:`BackendClient`.

Returns the backend's JSON objects as they come, internal fields included: the schema
layer (``schema.types``) copies out the public ones. Arguments are checked for type
here so nothing but an id or a UUID can reach a path, and only the contract's query
parameters reach a query string::

    api = CredentialsApi(client)
    badge = await api.get_badge(42)
    page = await api.list_badges(organization=1, page=1, page_size=100, ids=[42, 43])
    page["count"], page["results"]
    issued = await api.create_credential(
        {"badge": 42, "recipient": {"email": "a@b.co"}}, idempotency_key="gw-7f3a"
    )
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

from backend.client import BackendClient
from errors import BackendUnavailable, BadUserInput

__all__ = ["MAX_IDS", "MAX_PAGE_SIZE", "CredentialsApi", "Record"]

#: A backend JSON object (a badge, a credential, a page ...), internal fields included.
Record = dict[str, Any]

#: The backend cuts larger page sizes to this; an ``ids=`` batch holds at most this many.
MAX_PAGE_SIZE: Final = 100
MAX_IDS: Final = 100

_ORGANIZATION: Final = "/api/v1/organizations/{id}/"
_BADGES: Final = "/api/v1/badges/"
_BADGE: Final = "/api/v1/badges/{id}/"
_CREDENTIALS: Final = "/api/v1/credentials/"
_CREDENTIAL: Final = "/api/v1/credentials/{uuid}/"
_REVOKE: Final = "/api/v1/credentials/{uuid}/revoke/"
_VERIFY: Final = "/api/v1/credentials/{uuid}/verify/"


def _record(data: object, what: str) -> Record:
    if not isinstance(data, dict):
        raise BackendUnavailable(f"backend sent a {type(data).__name__} for {what}, not an object")
    return data


def _int(value: object, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise BadUserInput(f"`{name}` must be an integer >= {minimum}.", field=name)
    return value


def _list_params(organization: int, page: int, page_size: int) -> dict[str, str | int]:
    return {
        "organization": _int(organization, "organization", minimum=0),
        "page": _int(page, "page"),
        "page_size": _int(page_size, "page_size"),  # the backend cuts it to 100
    }


class CredentialsApi:
    """The backend's REST contract (``openapi.yaml``) as coroutines returning its JSON."""

    __slots__ = ("_client",)

    def __init__(self, client: BackendClient) -> None:
        self._client = client

    @property
    def client(self) -> BackendClient:
        return self._client

    async def get_organization(self, org_id: int) -> Record:
        """``GET /api/v1/organizations/{id}/``; ``BackendNotFound`` when missing."""
        data = await self._client.get(_ORGANIZATION, {"id": _int(org_id, "org_id", minimum=0)})
        return _record(data, "an organization")

    async def list_badges(
        self,
        *,
        organization: int,
        page: int,
        page_size: int,
        status: str | None = None,
        search: str | None = None,
        ids: Sequence[int] | None = None,
    ) -> Record:
        """``GET /api/v1/badges/``: a page ``{"count", "next", "previous", "results"}``.

        ``ids`` batches at most :data:`MAX_IDS` ids (ask ``page_size=100`` to get them all
        on one page). A page past the last one is ``BackendNotFound`` (DRF's "Invalid page.").
        """
        params = _list_params(organization, page, page_size)
        if status is not None:
            params["status"] = status
        if search is not None:
            params["search"] = search
        if ids is not None:
            if not 0 < len(ids) <= MAX_IDS:
                raise ValueError(f"ids= takes 1 to {MAX_IDS} badge ids, not {len(ids)}")
            params["ids"] = ",".join(str(_int(i, "ids", minimum=0)) for i in ids)
        return _record(await self._client.get(_BADGES, params=params), "a page of badges")

    async def get_badge(self, badge_id: int) -> Record:
        """``GET /api/v1/badges/{id}/``; ``BackendNotFound`` when missing."""
        data = await self._client.get(_BADGE, {"id": _int(badge_id, "badge_id", minimum=0)})
        return _record(data, "a badge")

    async def list_credentials(
        self,
        *,
        organization: int,
        page: int,
        page_size: int,
        badge: int | None = None,
        recipient_email: str | None = None,
        status: str | None = None,
        issued_after: date | None = None,
        issued_before: date | None = None,
    ) -> Record:
        """``GET /api/v1/credentials/``: a page of credentials, newest first."""
        params = _list_params(organization, page, page_size)
        if badge is not None:
            params["badge"] = _int(badge, "badge", minimum=0)
        if recipient_email is not None:
            params["recipient_email"] = recipient_email
        if status is not None:
            params["status"] = status
        if issued_after is not None:
            params["issued_after"] = issued_after.isoformat()
        if issued_before is not None:
            params["issued_before"] = issued_before.isoformat()
        data = await self._client.get(_CREDENTIALS, params=params)
        return _record(data, "a page of credentials")

    async def get_credential(self, uuid: str) -> Record:
        """``GET /api/v1/credentials/{uuid}/``; ``BackendNotFound`` when missing."""
        return _record(await self._client.get(_CREDENTIAL, {"uuid": uuid}), "a credential")

    async def create_credential(
        self, body: Mapping[str, Any], *, idempotency_key: str | None
    ) -> Record:
        """``POST /api/v1/credentials/``: issue a credential (201).

        With an ``idempotency_key`` the call is retried like a GET and the backend issues
        at most once; without one it is sent exactly once. Field errors come back as
        ``BackendValidationError.field_errors`` (DRF's, nested as sent).
        """
        data = await self._client.post(_CREDENTIALS, json=body, idempotency_key=idempotency_key)
        return _record(data, "an issued credential")

    async def revoke_credential(self, uuid: str, *, reason: str, notify_recipient: bool) -> Record:
        """``POST /api/v1/credentials/{uuid}/revoke/``; ``BackendConflict`` if already revoked."""
        data = await self._client.post(
            _REVOKE, {"uuid": uuid}, json={"reason": reason, "notify_recipient": notify_recipient}
        )
        return _record(data, "a revoked credential")

    async def verify_credential(self, uuid: str) -> Record:
        """``GET /api/v1/credentials/{uuid}/verify/``: the verification result."""
        return _record(await self._client.get(_VERIFY, {"uuid": uuid}), "a verification")
