"""Object types built from a backend record, their costlier fields read on first use.

A page of 100 credentials converted every field of every record (four dates, the
recipient, the badge's skills) though most operations select two or three of them: about
a tenth of the page's CPU (docs/performance.md). A record-backed subclass of a schema
type sets its cheap fields at once and names a converter for each of the others; a
converter runs the first time its field is read, and its value is kept::

    class _CredentialRecord(FromRecord, Credential):
        converters = {"issued_on": lambda record: date.fromisoformat(record["issued_on"])}

        def __init__(self, record: dict[str, Any]) -> None:
            self._record = record
            self.id = strawberry.ID(record["uuid"])

The record is the backend's whole answer, internal fields included, but nothing reads it
except the converters, one per public field: what a partner can see is still the
whitelist in ``schema.types``. The subclass is an instance of the schema type, so
Strawberry and graphql-core treat it as one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

__all__ = ["Converter", "FromRecord"]

Converter = Callable[[dict[str, Any]], Any]


class FromRecord:
    """Mixin: the fields in ``converters`` come from ``_record`` when first read."""

    converters: ClassVar[Mapping[str, Converter]] = {}
    _record: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        # Only called for an attribute not set yet: a field's first read.
        convert = type(self).converters.get(name)
        record = self.__dict__.get("_record")
        if convert is None or record is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = convert(record)
        self.__dict__[name] = value
        return value
