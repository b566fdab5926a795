"""Fault injection for the gateway's resilience tests (``/__admin__/faults``).

A fault matches requests by path prefix (default ``/api/``) and optional method, and
applies to the next ``count`` matching requests (-1: until cleared). The first matching
fault in registration order wins::

    faults.add({"kind": "throttle", "path": "/api/v1/badges/", "count": 2, "retry_after": 3})
    fault = faults.take("GET", "/api/v1/badges/1/")   # the fault, or None
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from sample_backend.responses import ApiError

__all__ = ["FAULT_KINDS", "Fault", "FaultRegistry", "error_html_body", "throttled_detail"]

FAULT_KINDS = ("delay", "error_html", "throttle", "drop", "malformed_json", "redirect")
_FIELDS = frozenset(
    {"kind", "path", "method", "count", "delay_ms", "status", "retry_after", "location"}
)


@dataclass(slots=True)
class Fault:
    """One registered fault and how many more requests it applies to."""

    id: int
    kind: str
    path: str
    method: str | None
    remaining: int
    delay_ms: int
    status: int
    retry_after: int
    location: str = ""  # redirect: where the 302 points
    applied: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The fault as the admin API shows it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "path": self.path,
            "method": self.method,
            "count": self.remaining,
            "delay_ms": self.delay_ms,
            "status": self.status,
            "retry_after": self.retry_after,
            "location": self.location,
            "applied": self.applied,
        }


def _integer(
    spec: Mapping[str, Any], name: str, errors: dict[str, Any], *, default: int, low: int, high: int
) -> int:
    value = spec.get(name, default)
    if type(value) is not int:
        errors[name] = ["A valid integer is required."]
        return default
    if not low <= value <= high:
        errors[name] = [f"Must be between {low} and {high}."]
    return value


class FaultRegistry:
    """The registered faults, in registration order."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def __bool__(self) -> bool:
        return bool(self._faults)

    def add(self, spec: Any) -> Fault:
        """Register a fault from the admin API's JSON body, or raise ApiError 400."""
        if not isinstance(spec, Mapping):
            raise ApiError(400, {"non_field_errors": ["Expected a JSON object."]})
        errors: dict[str, Any] = {}
        for name in spec:
            if name not in _FIELDS:
                errors[str(name)] = ["Unknown field."]
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            errors["kind"] = [f"Must be one of: {', '.join(FAULT_KINDS)}."]
        path = spec.get("path")
        if path is None:
            path = "/api/"
        elif not isinstance(path, str) or not path.startswith("/"):
            errors["path"] = ["Must be a path prefix starting with '/'."]
        method = spec.get("method")
        if method is not None and (not isinstance(method, str) or not method.isalpha()):
            errors["method"] = ["Must be an HTTP method such as GET or POST."]
        count = _integer(spec, "count", errors, default=1, low=-1, high=1_000_000_000)
        if count == 0:
            errors["count"] = ["Must be -1 (until cleared) or at least 1."]
        delay_ms = _integer(spec, "delay_ms", errors, default=0, low=0, high=600_000)
        status = _integer(spec, "status", errors, default=503, low=400, high=599)
        retry_after = _integer(spec, "retry_after", errors, default=1, low=0, high=86_400)
        location = spec.get("location", "")
        if not isinstance(location, str) or len(location) > 2000:
            errors["location"] = ["Must be a URL of at most 2000 characters."]
        if errors:
            raise ApiError(400, errors)
        fault = Fault(
            id=self._next_id,
            kind=str(kind),
            path=str(path),
            method=method.upper() if isinstance(method, str) else None,
            remaining=count,
            delay_ms=delay_ms,
            status=status,
            retry_after=retry_after,
            location=str(location),
        )
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, used up by one application."""
        for fault in self._faults:
            if fault.method is not None and fault.method != method:
                continue
            if not path.startswith(fault.path):
                continue
            fault.applied += 1
            if fault.remaining > 0:
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
            return fault
        return None

    def clear(self) -> None:
        """Remove every fault."""
        self._faults.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """The active faults, in the order they apply."""
        return [fault.as_dict() for fault in self._faults]


def error_html_body(status: int) -> bytes:
    """The HTML page a proxy (or Django, for 500) answers with."""
    if status == 500:
        return (
            b'<!doctype html>\n<html lang="en">\n<head>\n  <title>Server Error (500)</title>\n'
            b"</head>\n<body>\n  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n"
        )
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    title = f"{status} {phrase}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    ).encode()


def throttled_detail(wait: int) -> str:
    """DRF's Throttled message."""
    unit = "second" if wait == 1 else "seconds"
    return f"Request was throttled. Expected available in {wait} {unit}."
