"""What every resolver of one request can reach: who is calling, and how to fetch.

Built by the GraphQL endpoint once per request and passed as graphql-core's
``context_value``; resolvers read it as ``info.context``::

    context = RequestContext(principal, api, settings, meter)
    context.loaders.badge(42)
"""

from __future__ import annotations

from collections.abc import Callable

from auth.lifecycle import KeyLifecycle
from auth.principal import Principal
from backend.api import CredentialsApi
from metering.meter import Meter
from resolvers.loaders import Loaders
from settings import Settings
from storage.database import Database

__all__ = ["RequestContext"]


class RequestContext:
    __slots__ = (
        "_database",
        "_keys",
        "_loaders",
        "_release_deadline",
        "api",
        "meter",
        "principal",
        "settings",
    )

    def __init__(
        self,
        principal: Principal,
        api: CredentialsApi,
        settings: Settings,
        meter: Meter,
        keys: KeyLifecycle | None = None,
        database: Database | None = None,
        release_deadline: Callable[[], None] | None = None,
    ) -> None:
        self.principal = principal
        self._database = database
        self.api = api
        self.settings = settings
        self.meter = meter
        self._keys = keys
        self._loaders: Loaders | None = None
        self._release_deadline = release_deadline

    def outlive_deadline(self) -> None:
        """From now on the request runs to its end: its deadline no longer cancels it.

        For an operation whose result must reach the partner once it has started
        (``rotateApiKey``: the new key is shown only in its answer). What runs after it
        is still bounded by the backend client's own timeouts and retries."""
        if self._release_deadline is not None:
            self._release_deadline()
            self._release_deadline = None

    def close(self) -> None:
        """The request is answered: batches its loaders still run are cancelled (after a
        504, no more backend calls for it)."""
        if self._loaders is not None:
            self._loaders.close()

    @property
    def keys(self) -> KeyLifecycle:
        """The company's API keys (self-service); one object per process, no per-request cost."""
        if self._keys is None:
            raise RuntimeError("this gateway was built without key management")
        return self._keys

    @property
    def database(self) -> Database:
        """The gateway's own storage (the usage ledger), for the partner's usage reports."""
        if self._database is None:
            raise RuntimeError("this gateway was built without storage")
        return self._database

    @property
    def loaders(self) -> Loaders:
        # Built on first use: most queries never touch a loader.
        if self._loaders is None:
            self._loaders = Loaders(self.api, self.principal.organization_id)
        return self._loaders

    @property
    def organization_id(self) -> int:
        return self.principal.organization_id
