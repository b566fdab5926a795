"""``gateway keys rotate`` and ``gateway keys revoke``.

::

    gateway keys rotate AbCdEf012345 [--grace 24h] [--actor alice] [--json]
    gateway keys revoke AbCdEf012345 [--actor alice] [--json]
    gateway keys revoke --key -          # paste a leaked key on stdin; never echoed

Both take effect on every gateway process within a second (at once with Redis).
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from auth.lifecycle import (
    DEFAULT_GRACE,
    KeyAlreadyRevoked,
    KeyNotFound,
    KeyNotRotatable,
    RotatedKey,
)
from cli.common import EXIT_SETTINGS, fail, load_settings_or_exit
from cli.durations import DURATION_HELP, duration_option, format_duration
from cli.key_output import key_json, print_new_key
from cli.key_service import ActorOption, default_actor, open_key_lifecycle
from cli.output import format_time, print_json
from errors import Unauthenticated
from storage.records import ApiKeyRecord, KeyStatus

__all__ = ["revoke", "rotate"]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
KeyIdArgument = Annotated[
    str, typer.Argument(metavar="KEY_ID", help="The key's id (see `gateway keys list`).")
]


def _not_rotatable(error: KeyNotRotatable) -> str:
    key = error.key
    if error.status in (KeyStatus.ROTATING, KeyStatus.ROTATED) and key.successor_id:
        return f"API key {key.id} was already rotated; rotate its successor {key.successor_id}."
    if error.status is KeyStatus.ROTATING:
        return f"API key {key.id} was rotated meanwhile by someone else."
    return f"API key {key.id} is {error.status}: only an active key can be rotated."


def rotate(
    key_id: KeyIdArgument,
    grace: Annotated[
        timedelta | None,
        typer.Option(
            "--grace",
            parser=duration_option,
            metavar="DURATION",
            help=f"How long the old key keeps working ({DURATION_HELP}; 0 ends it at once). "
            f"Default: {format_duration(DEFAULT_GRACE)}.",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace a key by a new one (same company, scopes and expiry), printed once.

    The old key keeps working until the grace period ends, then is refused as rotated.
    """
    settings = load_settings_or_exit()

    async def run() -> RotatedKey:
        async with open_key_lifecycle(settings) as (_database, keys):
            try:
                return await keys.rotate(
                    key_id,
                    actor=default_actor(actor),
                    grace=DEFAULT_GRACE if grace is None else grace,
                )
            except KeyNotFound:
                fail(f"No API key {key_id!r}; see `gateway keys list`.")
            except KeyNotRotatable as error:
                fail(_not_rotatable(error))
            except ValueError as error:
                fail(str(error), EXIT_SETTINGS)

    rotated = asyncio.run(run())
    old, new = rotated.rotated, rotated.successor
    print_new_key(
        new,
        rotated.key,
        headline=(
            f"Rotated API key {old.id}: its successor is {new.id} "
            f"(scopes: {' '.join(sorted(new.scopes))}). The old key works until "
            f"{format_time(old.grace_ends_at)}."
        ),
        as_json=as_json,
        extra={"rotated": key_json(old, datetime.now(UTC))},
    )


def _read_pasted_key() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Paste the key (it is not echoed): ")
    return sys.stdin.readline()


def revoke(
    key_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[KEY_ID]", help="The key's id (or use --key -).", show_default=False
        ),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="-",
            help="Revoke a key found leaked: pass - and give the full key on standard input.",
            show_default=False,
        ),
    ] = None,
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Revoke a key now, on every gateway process (within a second)."""
    if (key_id is None) == (key is None):
        fail("Give either KEY_ID or --key - (and the key on standard input).", EXIT_SETTINGS)
    if key is not None and key != "-":
        # Never repeat what was typed: it may be the key itself.
        fail(
            "--key only takes -: paste the key on standard input, as a key on the command "
            "line ends up in shell history and process lists.",
            EXIT_SETTINGS,
        )
    pasted = _read_pasted_key() if key is not None else None
    settings = load_settings_or_exit()

    async def run() -> tuple[ApiKeyRecord, bool]:
        async with open_key_lifecycle(settings) as (_database, keys):
            who = default_actor(actor)
            try:
                if pasted is not None:
                    return await keys.revoke_presented(pasted, actor=who), True
                assert key_id is not None
                return await keys.revoke(key_id, actor=who), True
            except Unauthenticated:
                fail("That is not a well-formed API key (its check digits do not match).")
            except KeyNotFound as error:
                if pasted is not None:
                    fail(f"No stored API key matches the key given (key id {error.key_id}).")
                fail(f"No API key {error.key_id!r}; see `gateway keys list`.")
            except KeyAlreadyRevoked as error:
                return error.key, False

    record, revoked_now = asyncio.run(run())
    if as_json:
        print_json({**key_json(record, datetime.now(UTC)), "revoked_now": revoked_now})
    elif revoked_now:
        typer.echo(f"Revoked API key {record.id} (company {record.company_id}).")
    else:
        typer.echo(f"API key {record.id} was already revoked at {format_time(record.revoked_at)}.")
