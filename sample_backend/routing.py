"""URL routing like the backend's Django URLconf and DRF router.

Collection paths are a dictionary lookup; detail paths are split once. A path segment
matches DRF's lookup pattern ``[^/.]+``::

    resolve("/api/v1/badges/5/")   # (Route(name="Badge Instance", ...), "5")
    resolve("/api/v1/badges/5")    # None (the dispatcher then tries the slash: 301)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sample_backend import handlers
from sample_backend.handlers import View

__all__ = ["Route", "resolve"]

_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


@dataclass(frozen=True, slots=True)
class Route:
    """One URL pattern: its views by method and whether it needs a staff JWT."""

    name: str
    views: Mapping[str, View]
    authenticated: bool
    allow: str
    """The ``Allow`` header DRF sends: the view's methods plus HEAD and OPTIONS."""

    @classmethod
    def of(cls, name: str, views: Mapping[str, View], *, authenticated: bool = True) -> Route:
        """A route whose Allow header lists ``views`` the way DRF orders them."""
        methods = set(views) | {"OPTIONS"}
        if "GET" in views:
            methods.add("HEAD")
        allow = ", ".join(method for method in _METHOD_ORDER if method in methods)
        return cls(name=name, views=dict(views), authenticated=authenticated, allow=allow)


_TOKEN = Route.of("Token Obtain Pair", {"POST": handlers.token_obtain_pair}, authenticated=False)
_REFRESH = Route.of("Token Refresh", {"POST": handlers.token_refresh}, authenticated=False)
_BADGES = Route.of("Badge List", {"GET": handlers.badge_list})
_CREDENTIALS = Route.of(
    "Credential List", {"GET": handlers.credential_list, "POST": handlers.credential_create}
)
_STATIC: dict[str, Route] = {
    "/api/token/": _TOKEN,
    "/api/token/refresh/": _REFRESH,
    "/api/v1/badges/": _BADGES,
    "/api/v1/credentials/": _CREDENTIALS,
}
_DETAIL: dict[str, Route] = {
    "organizations": Route.of("Organization Instance", {"GET": handlers.organization_retrieve}),
    "badges": Route.of("Badge Instance", {"GET": handlers.badge_retrieve}),
    "credentials": Route.of("Credential Instance", {"GET": handlers.credential_retrieve}),
}
_CREDENTIAL_ACTIONS: dict[str, Route] = {
    "revoke": Route.of("Revoke", {"POST": handlers.credential_revoke}),
    "verify": Route.of("Verify", {"GET": handlers.credential_verify}),
}


def resolve(path: str) -> tuple[Route, str | None] | None:
    """The route of a (decoded) path and its lookup value, or None for no match."""
    route = _STATIC.get(path)
    if route is not None:
        return route, None
    if not path.startswith("/api/v1/") or not path.endswith("/"):
        return None
    parts = path[8:-1].split("/")
    if len(parts) == 2:
        route = _DETAIL.get(parts[0])
    elif len(parts) == 3 and parts[0] == "credentials":
        route = _CREDENTIAL_ACTIONS.get(parts[2])
    else:
        return None
    lookup = parts[1]
    if route is None or not lookup or "." in lookup:
        return None
    return route, lookup
