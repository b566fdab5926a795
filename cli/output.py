"""Printing command results: aligned tables for people, JSON for scripts.

::

    print_table(["ID", "NAME"], [["co_1", "Acme Learning"]])
    print_json({"id": "co_1", "created_at": datetime.now(UTC)})  # datetimes as ISO 8601
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import typer

__all__ = ["format_time", "print_json", "print_table"]


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def print_json(data: Any) -> None:
    """One JSON document on stdout (datetimes ISO 8601, sets as sorted lists)."""
    typer.echo(json.dumps(data, default=_default, indent=2, ensure_ascii=False))


def format_time(value: datetime | None) -> str:
    """A short UTC time for tables; ``-`` for none."""
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%SZ")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Left-aligned columns, two spaces apart, with a header row."""
    cells = [[str(header) for header in headers], *([str(cell) for cell in row] for row in rows)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]
    for row in cells:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        typer.echo(line.rstrip())
