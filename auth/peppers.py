"""The server-side peppers that API key hashes are keyed with, and where they come from.

Each stored hash records the version of the pepper it was made with. A :class:`PepperSet`
holds every version still accepted and the ``current`` one that new hashes use, so a
pepper can be rotated without invalidating a single key: add version 2, make it current,
and keys move to it as they are used (the authenticator re-hashes them in the background).

Three sources, exactly one of them set (see ``settings.py``)::

    GATEWAY_KEY_PEPPER=<16+ characters>                     # one pepper, version 1
    GATEWAY_KEY_PEPPERS='{"current": 2, "peppers": {"1": "...", "2": "..."}}'
    GATEWAY_KEY_PEPPER_SECRET_ID=arn:aws:secretsmanager:...  # either form, read at start-up

    peppers = load_peppers(settings)
    peppers.current, peppers.current_pepper  # 2, b"..."
    peppers.get(1)                           # still verifies version-1 hashes

No message raised here ever quotes a pepper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from settings import Settings

__all__ = [
    "MIN_PEPPER_LENGTH",
    "PepperError",
    "PepperSet",
    "load_peppers",
    "parse_pepper_set",
    "pepper_set_from_secret",
    "read_secret_peppers",
]

MIN_PEPPER_LENGTH = 16
_VERSION = re.compile(r"[1-9][0-9]{0,5}")
_SECRET_ARN = re.compile(r"arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):")


class PepperError(ValueError):
    """The pepper configuration is unusable; the message says why, never what it holds."""


@dataclass(frozen=True, slots=True)
class PepperSet:
    """Every accepted pepper by version, and the version new hashes use."""

    current: int
    peppers: Mapping[int, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if self.current not in self.peppers:
            raise PepperError(f"the current pepper version {self.current} has no pepper")
        # Read-only, so one set can be shared by every part of the process.
        object.__setattr__(self, "peppers", MappingProxyType(dict(self.peppers)))

    @classmethod
    def single(cls, pepper: bytes, version: int = 1) -> Self:
        return cls(current=version, peppers={version: pepper})

    @property
    def current_pepper(self) -> bytes:
        return self.peppers[self.current]

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self.peppers))

    def get(self, version: int) -> bytes | None:
        """The pepper of ``version``, or None if it is no longer (or never was) configured."""
        return self.peppers.get(version)


def _check_pepper(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise PepperError(f"{where} must be a string")
    if len(value) < MIN_PEPPER_LENGTH:
        raise PepperError(f"{where} must be at least {MIN_PEPPER_LENGTH} characters")
    return value.encode()


def parse_pepper_set(text: str) -> PepperSet:
    """Parse ``{"current": 2, "peppers": {"1": "...", "2": "..."}}``.

    Raises :class:`PepperError`.
    """
    try:
        data = json.loads(text)
    except ValueError:
        raise PepperError('must be JSON: {"current": 1, "peppers": {"1": "..."}}') from None
    if not isinstance(data, dict) or set(data) != {"current", "peppers"}:
        raise PepperError('must be an object with exactly "current" and "peppers"')
    current, peppers = data["current"], data["peppers"]
    if not isinstance(peppers, dict) or not peppers:
        raise PepperError('"peppers" must map versions ("1", "2", ...) to peppers')
    parsed: dict[int, bytes] = {}
    for version, pepper in peppers.items():
        if not _VERSION.fullmatch(version):
            raise PepperError(f"pepper version {version[:8]!r} is not a positive integer")
        parsed[int(version)] = _check_pepper(pepper, f"pepper version {version}")
    if isinstance(current, bool) or not isinstance(current, int) or current not in parsed:
        raise PepperError('"current" must be one of the versions in "peppers"')
    return PepperSet(current=current, peppers=parsed)


def pepper_set_from_secret(value: str) -> PepperSet:
    """A secret holds either the JSON of :func:`parse_pepper_set` or one plain pepper (v1)."""
    if value.lstrip().startswith("{"):
        return parse_pepper_set(value)
    return PepperSet.single(_check_pepper(value.strip(), "the pepper secret"))


def _secrets_client(secret_id: str) -> SecretsManagerClient:
    import boto3  # noqa: PLC0415 - only deployments that keep the pepper in AWS pay for it

    # An ARN names its region; otherwise boto3's usual chain (AWS_REGION, config) decides.
    match = _SECRET_ARN.match(secret_id)
    return boto3.client("secretsmanager", region_name=match.group(1) if match else None)


def read_secret_peppers(secret_id: str, client: SecretsManagerClient | None = None) -> PepperSet:
    """Fetch the secret once and parse it; raises :class:`PepperError` naming the secret id."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        response = (client or _secrets_client(secret_id)).get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise PepperError(f"could not read the pepper secret {secret_id!r}: {code}") from None
    except BotoCoreError as error:
        raise PepperError(
            f"could not read the pepper secret {secret_id!r}: {type(error).__name__}"
        ) from None
    value = response.get("SecretString")
    if value is None:
        raise PepperError(f"the pepper secret {secret_id!r} has no SecretString")
    try:
        return pepper_set_from_secret(value)
    except PepperError as error:
        raise PepperError(f"the pepper secret {secret_id!r}: {error}") from None


def load_peppers(settings: Settings, client: SecretsManagerClient | None = None) -> PepperSet:
    """The peppers from whichever source the settings name (AWS is read here, once)."""
    if settings.key_pepper is not None:
        return PepperSet.single(settings.key_pepper.get_secret_value().encode())
    if settings.key_peppers is not None:
        return parse_pepper_set(settings.key_peppers.get_secret_value())
    assert settings.key_pepper_secret_id is not None  # settings insist on one source
    return read_secret_peppers(settings.key_pepper_secret_id, client)
