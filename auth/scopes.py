"""The scopes an API key can carry, kept in one place.

A key's scopes decide which operations it may run: ``read`` for queries, ``write`` for
mutations, and ``keys:manage`` for managing the company's own keys (``rotateApiKey``,
checked in its resolver on top of ``write``). Names given by people (CLI flags, later an
API) go through :func:`parse_scopes`::

    parse_scopes(["write", "read"])  # frozenset({Scope.READ, Scope.WRITE})
    parse_scopes(["read,admin"])     # ValueError: Unknown scope 'admin'; known scopes: ...
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["DEFAULT_SCOPES", "Scope", "parse_scopes"]


class Scope(StrEnum):
    """Every scope the gateway knows; add new ones here."""

    READ = "read"
    WRITE = "write"
    KEYS_MANAGE = "keys:manage"


DEFAULT_SCOPES: frozenset[Scope] = frozenset({Scope.READ, Scope.WRITE})


def parse_scopes(values: Iterable[str]) -> frozenset[Scope]:
    """Validate scope names (each value may itself hold several, space- or comma-separated).

    Raises ``ValueError`` naming the unknown scope and the known ones.
    """
    scopes: set[Scope] = set()
    for value in values:
        for name in value.replace(",", " ").split():
            try:
                scopes.add(Scope(name.strip().lower()))
            except ValueError:
                known = ", ".join(scope.value for scope in Scope)
                raise ValueError(f"Unknown scope {name!r}; known scopes: {known}.") from None
    return frozenset(scopes)
