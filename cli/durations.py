"""Durations as people type them, for every CLI option that takes one.

A number and a unit (``s``, ``m``, ``h``, ``d``, ``w``), several of them in a row, or ``0``::

    parse_duration("30s")     # timedelta(seconds=30)
    parse_duration("1h30m")   # timedelta(hours=1, minutes=30)
    parse_duration("7d")      # timedelta(days=7)
    format_duration(timedelta(hours=24))  # "24h"

    grace: Annotated[timedelta, typer.Option(parser=duration_option)] = DAY
"""

from __future__ import annotations

import re
from datetime import timedelta

import typer

__all__ = ["DURATION_HELP", "duration_option", "format_duration", "parse_duration"]

DURATION_HELP = "e.g. 30s, 15m, 24h, 7d, 1h30m"
_UNITS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_PART = re.compile(r"(\d{1,7})([wdhms])")
_WHOLE = re.compile(r"(?:\d{1,7}[wdhms])+")
# Far beyond any sensible grace or lifetime, and well inside datetime's range.
_MAX = timedelta(days=100 * 365)


def parse_duration(text: str) -> timedelta:
    """``30s``, ``15m``, ``24h``, ``7d``, ``2w``, ``1h30m`` or ``0``; raises ``ValueError``."""
    value = text.strip().lower()
    if value == "0":
        return timedelta(0)
    if not _WHOLE.fullmatch(value):
        raise ValueError(f"{text!r} is not a duration ({DURATION_HELP}, or 0)")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(value))
    duration = timedelta(seconds=seconds)
    if duration > _MAX:
        raise ValueError(f"{text!r} is longer than 100 years")
    return duration


def duration_option(text: str) -> timedelta:
    """:func:`parse_duration` for typer's ``parser=``: a usage error (exit 2) on bad input."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


def format_duration(duration: timedelta) -> str:
    """The shortest spelling :func:`parse_duration` reads back (``"0"`` for nothing)."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "0"
    parts = []
    for unit, size in _UNITS.items():
        if unit == "w" and seconds % size:
            continue  # "10d" reads better than "1w3d"
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
