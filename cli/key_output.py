"""How ``gateway keys`` commands show keys: public fields only, a new key once.

::

    print_json(key_json(record, now))          # id, prefix, scopes, status, times
    status_text(record, now)                    # "rotating until 2026-12-01 10:00:00Z"
    print_new_key(record, key, as_json=False)   # the only place a key is printed
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from cli.output import format_time, print_json
from storage.records import ApiKeyRecord, KeyStatus

__all__ = ["SHOWN_ONCE", "key_json", "print_new_key", "status_text"]

SHOWN_ONCE = "Store this key now: it will not be shown again."


def key_json(key: ApiKeyRecord, now: datetime) -> dict[str, Any]:
    """A key's public fields; there is deliberately no hash and no secret here."""
    return {
        "id": key.id,
        "company_id": key.company_id,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "status": str(key.status(now)),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
        "successor_id": key.successor_id,
        "grace_ends_at": key.grace_ends_at,
        "pepper_version": key.pepper_version,
    }


def status_text(key: ApiKeyRecord, now: datetime) -> str:
    """The status for people: ``rotating until <time>`` while a rotation's grace runs."""
    status = key.status(now)
    if status is KeyStatus.ROTATING:
        return f"rotating until {format_time(key.grace_ends_at)}"
    return str(status)


def print_new_key(
    record: ApiKeyRecord, key: str, *, headline: str, as_json: bool, extra: dict[str, Any]
) -> None:
    """Print a just-made key, once: JSON on stdout (the reminder on stderr), or for people."""
    if as_json:
        print_json({**key_json(record, datetime.now(UTC)), "key": key, **extra})
        typer.echo(SHOWN_ONCE, err=True)
        return
    typer.echo(headline)
    typer.echo(f"\n    {key}\n")
    typer.echo(SHOWN_ONCE)
