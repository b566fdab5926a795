"""The scopes an API key can carry, kept in one place.

A key's scopes decide which operations it may run: ``read`` for queries, ``write`` for
mutations. Scopes are stored as one normalized string (sorted, space-separated, like
OAuth's ``scope`` parameter)::

    scopes = parse_scopes(["write", "read"])  # frozenset({Scope.READ, Scope.WRITE})
    format_scopes(scopes)                    # "read write"
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["DEFAULT_SCOPES", "Scope", "format_scopes", "parse_scopes"]


class Scope(StrEnum):
    """Every scope the gateway knows; add new ones here (e.g. ``keys:manage``)."""

    READ = "read"
    WRITE = "write"


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


def format_scopes(scopes: Iterable[str]) -> str:
    """The normalized storage form: sorted, de-duplicated, space-separated."""
    return " ".join(sorted({str(scope) for scope in scopes}))
