"""Idempotency-Key memory: a repeated key within the TTL gets the first response again.

Keys are scoped to the authenticated user; only successful responses are remembered, so a
request that failed validation can be corrected and retried with the same key::

    stored = keys.get(user_id, key)          # (status, body) or None
    keys.put(user_id, key, 201, body)
"""

from __future__ import annotations

import time

__all__ = ["MAX_KEY_LENGTH", "IdempotencyStore"]

MAX_KEY_LENGTH = 255


class IdempotencyStore:
    """(user, key) -> first response, forgotten after ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._entries: dict[tuple[int, str], tuple[float, int, bytes]] = {}

    def get(self, user_id: int, key: str) -> tuple[int, bytes] | None:
        """The remembered ``(status, body)``, or None."""
        entry = self._entries.get((user_id, key))
        if entry is None:
            return None
        if time.monotonic() >= entry[0]:
            del self._entries[(user_id, key)]
            return None
        return entry[1], entry[2]

    def put(self, user_id: int, key: str, status: int, body: bytes) -> None:
        """Remember a response for ``ttl`` seconds."""
        now = time.monotonic()
        if len(self._entries) >= 100_000:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[(user_id, key)] = (now + self._ttl, status, body)

    def clear(self) -> None:
        """Forget every key."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
