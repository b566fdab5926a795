"""The API key format: generate, parse (checksum first, no database), hash and verify.

A key is shown once and looks like GitHub's tokens, so secret scanners can find it and a
typo is caught before any lookup::

    cgw_<key id: 12 base62>_<secret: 32 base62><checksum: 6 base62>
    cgw_4fTq9XbZ2LkA_Vd3k9...(32)...Q1aZ8c

The checksum is CRC32 of everything before it (``cgw_<key id>_<secret>``, ASCII), written
as 6 base62 digits, most significant first, alphabet ``0-9A-Za-z``. The key id is public
(it is the database id and part of the displayable ``prefix``); the secret is 190 random
bits. Only ``HMAC-SHA256(pepper, key)`` is stored::

    generated = generate_api_key()
    parsed = parse_api_key(generated.key)  # raises Unauthenticated if malformed
    stored = hash_api_key(generated.key, pepper)
    verify_api_key(parsed.key, pepper, stored)  # True, in constant time
"""

from __future__ import annotations

import hmac
import re
import secrets
import zlib
from dataclasses import dataclass, field

from errors import Unauthenticated

__all__ = [
    "API_KEY_LENGTH",
    "API_KEY_PATTERN",
    "BASE62_ALPHABET",
    "KEY_ID_LENGTH",
    "KEY_PREFIX",
    "SECRET_LENGTH",
    "GeneratedKey",
    "ParsedKey",
    "checksum",
    "format_api_key",
    "generate_api_key",
    "hash_api_key",
    "hash_api_key_bytes",
    "parse_api_key",
    "verify_api_key",
]

KEY_PREFIX = "cgw_"
KEY_ID_LENGTH = 12
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
API_KEY_LENGTH = len(KEY_PREFIX) + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH

#: The exact shape of a key, for secret scanners (``\b`` works in PCRE, RE2 and Python).
API_KEY_PATTERN = r"\bcgw_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}\b"

_KEY_RE = re.compile(API_KEY_PATTERN)
_CHECKED_LENGTH = API_KEY_LENGTH - CHECKSUM_LENGTH
_MALFORMED = "Malformed API key."
_PAIRS = [high + low for high in BASE62_ALPHABET for low in BASE62_ALPHABET]


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    """A new key. ``key`` is the only copy of the secret: show it once, store its hash."""

    key_id: str
    key: str = field(repr=False)
    prefix: str


@dataclass(frozen=True, slots=True)
class ParsedKey:
    """A well-formed key with a valid checksum (not yet known to exist)."""

    key_id: str
    key: str = field(repr=False)


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(BASE62_ALPHABET) for _ in range(length))


def checksum(body: str) -> str:
    """The 6 base62 digits of CRC32 over ``body`` (everything before the checksum)."""
    value = zlib.crc32(body.encode("ascii"))
    # Three lookups of two digits each: this runs on every request.
    return _PAIRS[value // 62**4 % 3844] + _PAIRS[value // 3844 % 3844] + _PAIRS[value % 3844]


def format_api_key(key_id: str, secret: str) -> str:
    """Assemble a key from its parts (both base62, of the right lengths)."""
    body = f"{KEY_PREFIX}{key_id}_{secret}"
    return body + checksum(body)


def generate_api_key() -> GeneratedKey:
    """A new random key; its ``prefix`` (``cgw_<key id>``) is safe to display."""
    key_id = _random_base62(KEY_ID_LENGTH)
    key = format_api_key(key_id, _random_base62(SECRET_LENGTH))
    return GeneratedKey(key_id=key_id, key=key, prefix=KEY_PREFIX + key_id)


def parse_api_key(raw: str) -> ParsedKey:
    """Check a presented key's shape and checksum; raises ``Unauthenticated`` otherwise.

    Costs about a microsecond and no I/O, so garbage never reaches the database.
    """
    # The length check first keeps the regex off arbitrarily long input.
    if len(raw) != API_KEY_LENGTH or _KEY_RE.fullmatch(raw) is None:
        raise Unauthenticated(_MALFORMED)
    if checksum(raw[:_CHECKED_LENGTH]) != raw[_CHECKED_LENGTH:]:
        raise Unauthenticated(_MALFORMED)
    return ParsedKey(key_id=raw[len(KEY_PREFIX) : len(KEY_PREFIX) + KEY_ID_LENGTH], key=raw)


def hash_api_key_bytes(key: str, pepper: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of ``key`` under ``pepper``."""
    # A digest name (not a constructor) takes OpenSSL's one-shot path: about 20% faster.
    return hmac.digest(pepper, key.encode("ascii"), "sha256")


def hash_api_key(key: str, pepper: bytes) -> str:
    """The stored form: HMAC-SHA256 of the whole key under the server-side pepper, as hex."""
    return hash_api_key_bytes(key, pepper).hex()


def verify_api_key(key: str, pepper: bytes, key_hash: str) -> bool:
    """Whether ``key`` hashes to ``key_hash``, compared in constant time."""
    return hmac.compare_digest(hash_api_key(key, pepper), key_hash)
