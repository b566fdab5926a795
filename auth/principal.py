"""Who is calling: the company and key behind an authenticated request.

The :class:`~auth.authenticator.Authenticator` returns one per request; resolvers read it
to scope backend calls to the company's organization and to check scopes::

    principal = await authenticator.authenticate(raw_key)
    if not principal.has_scope(Scope.WRITE):
        raise Forbidden("This API key may only read.")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Principal"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated partner. Holds no secret, so it may be cached and logged."""

    company_id: str
    company_name: str
    organization_id: int
    plan: str
    key_id: str
    scopes: frozenset[str]
    # The company's own numbers on top of its plan, as sorted (name, value) pairs.
    plan_overrides: tuple[tuple[str, Any], ...] = ()

    def has_scope(self, scope: str) -> bool:
        """Whether the key carries ``scope`` (a :class:`~auth.scopes.Scope` or its name)."""
        return scope in self.scopes
