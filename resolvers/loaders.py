"""Per-request batch loaders: batched, cached, and scoped to the caller's organization.

Every read of a single badge, credential or organization goes through here, so the
tenant check lives in one place: a record of another organization is ``None``, exactly
like one that does not exist::

    loaders = Loaders(api, organization_id=1)
    await loaders.badge(42)   # dict, or None when missing or not organization 1's
"""

from __future__ import annotations

import asyncio
from typing import Any

from backend.api import CredentialsApi
from errors import BackendNotFound
from resolvers.batch_loader import BatchLoader

__all__ = ["Loaders"]

Record = dict[str, Any]

# The backend caps ``ids=`` batches and page sizes at 100.
_BATCH_SIZE = 100


class Loaders:
    """The loaders of one request; build a new one per request so caches never leak."""

    __slots__ = ("_badges", "_credentials", "_fetch", "_organizations", "organization_id")

    def __init__(self, api: CredentialsApi, organization_id: int) -> None:
        self._fetch = _Fetch(api, organization_id)
        self.organization_id = organization_id
        # Each loader is built on first use: most requests need one of the three.
        self._badges: BatchLoader[int, Record | None] | None = None
        self._credentials: BatchLoader[str, Record | None] | None = None
        self._organizations: BatchLoader[int, Record | None] | None = None

    @property
    def _badge_loader(self) -> BatchLoader[int, Record | None]:
        if self._badges is None:
            self._badges = BatchLoader(self._fetch.badges, max_batch_size=_BATCH_SIZE)
        return self._badges

    @property
    def _credential_loader(self) -> BatchLoader[str, Record | None]:
        if self._credentials is None:
            self._credentials = BatchLoader(self._fetch.credentials, max_batch_size=_BATCH_SIZE)
        return self._credentials

    @property
    def _organization_loader(self) -> BatchLoader[int, Record | None]:
        if self._organizations is None:
            self._organizations = BatchLoader(self._fetch.organizations)
        return self._organizations

    async def badge(self, badge_id: int) -> Record | None:
        return await self._badge_loader.load(badge_id)

    async def badges(self, badge_ids: list[int]) -> dict[int, Record]:
        """Several badges in one batch (a page's), by id; missing ones are left out."""
        records = await self._badge_loader.load_many(list(dict.fromkeys(badge_ids)))
        return {r["id"]: r for r in records if r is not None}

    async def credential(self, credential_id: str) -> Record | None:
        return await self._credential_loader.load(credential_id)

    async def organization(self, organization_id: int | str) -> Record | None:
        if str(organization_id) != str(self.organization_id):
            return None  # only the caller's own organization exists for it
        return await self._organization_loader.load(self.organization_id)

    def close(self) -> None:
        """Cancel the batches still running: nobody will read them (see RequestContext)."""
        for loader in (self._badges, self._credentials, self._organizations):
            if loader is not None:
                loader.cancel()


class _Fetch:
    """The loaders' batch functions, kept apart from :class:`Loaders`: a batch function
    bound to the ``Loaders`` that holds its ``BatchLoader`` would make a reference cycle,
    and each request's loaders, caches and records would wait for the garbage collector
    instead of going when the request does (docs/performance.md, "Garbage")."""

    __slots__ = ("_api", "organization_id")

    def __init__(self, api: CredentialsApi, organization_id: int) -> None:
        self._api = api
        self.organization_id = organization_id

    async def badges(self, ids: list[int]) -> list[Record | None]:
        page = await self._api.list_badges(
            organization=self.organization_id, ids=ids, page=1, page_size=_BATCH_SIZE
        )
        found = {
            record["id"]: record
            for record in page["results"]
            if record.get("organization") == self.organization_id
        }
        return [found.get(badge_id) for badge_id in ids]

    async def credentials(self, ids: list[str]) -> list[Record | None]:
        # The contract has no batch lookup by UUID: fetch them concurrently instead.
        return list(await asyncio.gather(*(self.credential(uuid) for uuid in ids)))

    async def credential(self, credential_id: str) -> Record | None:
        try:
            record: Record = await self._api.get_credential(credential_id)
        except BackendNotFound:
            return None
        return record if record.get("organization") == self.organization_id else None

    async def organizations(self, ids: list[int]) -> list[Record | None]:
        results: list[Record | None] = []
        for organization_id in ids:
            try:
                results.append(await self._api.get_organization(organization_id))
            except BackendNotFound:
                results.append(None)
        return results
