"""Scope names and the principal's scope check."""

from __future__ import annotations

import pytest

from auth.principal import Principal
from auth.scopes import DEFAULT_SCOPES, Scope, parse_scopes


def test_parse_scopes_normalizes() -> None:
    assert parse_scopes(["write", "READ", "read"]) == {Scope.READ, Scope.WRITE}
    assert parse_scopes(["read, write"]) == DEFAULT_SCOPES
    assert parse_scopes([]) == frozenset()
    assert parse_scopes(["read keys:manage"]) == {Scope.READ, Scope.KEYS_MANAGE}


def test_unknown_scopes_are_named() -> None:
    with pytest.raises(
        ValueError, match=r"Unknown scope 'admin'; known scopes: read, write, keys:manage\."
    ):
        parse_scopes(["read", "admin"])


def test_principal_has_scope_takes_enum_or_name() -> None:
    principal = Principal("co_1", "Acme", 1, "standard", "AAAAAAAAAAAA", frozenset({"read"}))
    assert principal.has_scope(Scope.READ)
    assert principal.has_scope("read")
    assert not principal.has_scope(Scope.WRITE)
    with pytest.raises(AttributeError):
        principal.plan = "enterprise"  # type: ignore[misc]
