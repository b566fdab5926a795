"""The one duration syntax of the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
import typer

from cli.durations import duration_option, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 90D ", timedelta(days=90)),
        ("0", timedelta(0)),
        ("0s", timedelta(0)),
    ],
)
def test_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1", "h", "1x", "-5m", "1.5h", "5 m", "1h-", "99999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(typer.BadParameter):
        duration_option(text)


@pytest.mark.parametrize(
    "duration",
    [
        timedelta(0),
        timedelta(seconds=45),
        timedelta(hours=24),
        timedelta(days=10),
        timedelta(weeks=2),
        timedelta(days=1, hours=2, minutes=3, seconds=4),
    ],
)
def test_format_reads_back(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration
    assert format_duration(timedelta(hours=24)) == "1d"
