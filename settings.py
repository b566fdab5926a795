"""The gateway's one typed settings object, read from ``GATEWAY_*`` environment variables.

The server and the ``gateway`` CLI both call :func:`load_settings`; a missing or invalid
setting stops start-up with a :class:`SettingsError` naming the variable::

    settings = load_settings()
    settings.backend_url  # "http://127.0.0.1:8001"
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from auth.peppers import MIN_PEPPER_LENGTH, parse_pepper_set

__all__ = ["ENV_PREFIX", "Settings", "SettingsError", "load_settings"]

ENV_PREFIX = "GATEWAY_"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the environment variable."""


class Settings(BaseSettings):
    """Every knob of the gateway. Field ``x`` is read from ``GATEWAY_X``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # The backend and its service account.
    backend_url: str = "http://127.0.0.1:8001"
    backend_username: str
    backend_password: SecretStr
    backend_connect_timeout: float = Field(2.0, gt=0)
    backend_read_timeout: float = Field(10.0, gt=0)
    backend_max_retries: int = Field(2, ge=0, le=10)
    backend_retry_backoff: float = Field(0.05, ge=0)
    backend_retry_after_cap: float = Field(5.0, ge=0)
    backend_pool_size: int = Field(100, ge=1)
    backend_token_refresh_margin: float = Field(30.0, ge=0)
    backend_circuit_failures: int = Field(5, ge=1)  # consecutive failed attempts: open
    backend_circuit_reset: float = Field(5.0, gt=0)  # seconds open before one probe

    # Storage and keys. Exactly one pepper source: one pepper, a versioned set, or AWS.
    database_url: str = "sqlite+aiosqlite:///gateway.db"
    key_pepper: SecretStr | None = None
    key_peppers: SecretStr | None = None
    key_pepper_secret_id: str | None = None
    key_cache_ttl: float = Field(1.0, ge=0, le=1.0)
    key_flush_interval: float = Field(30.0, gt=0)
    auth_failure_limit: int = Field(20, ge=1)
    auth_failure_window: float = Field(60.0, gt=0)

    # Redis (optional): instant key invalidation and shared failed-authentication counts.
    redis_url: SecretStr | None = None
    redis_prefix: str = Field("gateway", pattern=r"^[A-Za-z0-9:._-]{1,64}$")

    # The partner schema.
    max_page_size: int = Field(100, ge=1, le=100)
    default_page_size: int = Field(20, ge=1, le=100)
    graphiql: bool = True
    explorer_dir: Path | None = None  # GraphiQL's build (npm); None: explorer/dist here
    introspection: bool = True  # for authenticated partners: the explorer and codegen need it
    field_suggestions: bool = False
    get_queries: bool = False  # queries over GET (mutations never): cacheable, but keys in URLs
    request_deadline: float = Field(15.0, gt=0)  # seconds to execute, backend retries included
    max_body_bytes: int = Field(1_048_576, ge=1024)
    max_query_tokens: int = Field(10_000, ge=100)

    # Metering: operation limits and cost (plans hold the per-company numbers).
    max_depth: int = Field(12, ge=1)
    max_aliases: int = Field(30, ge=0)
    max_root_fields: int = Field(10, ge=1)
    max_directives: int = Field(20, ge=0)
    default_list_size: int = Field(10, ge=1)

    # Serving and logs.
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # Seconds an idle client connection stays open: longer than the load balancer's own
    # idle timeout (ALB: 60 s), or the balancer may send a request on a connection the
    # gateway is closing, and the partner gets a 502.
    keep_alive: int = Field(75, ge=1, le=3600)
    log_format: Literal["json", "console"] = "json"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # A federation router in front (docs/federation.md): only a request carrying this secret
    # in X-Router-Secret has its X-Forwarded-For taken as the client's address.
    router_secret: SecretStr | None = None
    # During a rotation of that secret: the old one, still accepted until it is removed.
    router_secret_previous: SecretStr | None = None
    # Load balancers (CIDRs, comma-separated) whose last X-Forwarded-For entry names the
    # client, e.g. the ALB's subnets; empty: the socket peer is the client.
    trusted_proxies: str = ""

    # Usage and metrics: the monthly export's S3 bucket, /metrics, CloudWatch EMF lines.
    usage_export_bucket: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    usage_export_prefix: str = Field("", max_length=512)
    metrics_token: SecretStr | None = None
    metrics_max_operations: int = Field(50, ge=1, le=1000)
    emf_enabled: bool = False
    emf_namespace: str = Field("PartnerGateway", min_length=1, max_length=255)
    emf_dimensions: str = "company,operation"

    # Tracing and error reporting.
    otlp_endpoint: str | None = None  # OTLP/HTTP collector, e.g. http://collector:4318
    otlp_service_name: str = Field("partner-gateway", min_length=1, max_length=128)
    trace_sample_rate: float = Field(1.0, ge=0, le=1)  # share of new traces recorded
    trace_store: Literal["all", "errors", "off"] = "all"
    trace_retention: timedelta = timedelta(days=14)
    sentry_dsn: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GATEWAY_SENTRY_DSN", "SENTRY_DSN")
    )
    sentry_environment: str | None = Field(None, max_length=64)
    sentry_release: str | None = Field(None, max_length=200)
    sentry_sample_rate: float = Field(1.0, ge=0, le=1)  # share of errors sent
    sentry_traces_sample_rate: float = Field(0.0, ge=0, le=1)

    @field_validator("otlp_endpoint")
    @classmethod
    def _otlp_endpoint_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("trace_retention", mode="before")
    @classmethod
    def _retention_is_a_duration(cls, value: object) -> object:
        if isinstance(value, str):  # as the CLI spells durations: 14d, 24h, 2w
            from cli.durations import parse_duration  # noqa: PLC0415 - only when given

            return parse_duration(value)
        return value

    @field_validator("trace_retention")
    @classmethod
    def _retention_is_positive(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1):
            raise ValueError("must be at least 1h")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_networks(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",") if part.strip()):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry[:50]!r} is not an address or a CIDR network") from None
        return value

    @field_validator("router_secret", "router_secret_previous")
    @classmethod
    def _router_secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("emf_dimensions")
    @classmethod
    def _emf_dimensions_are_known(cls, value: str) -> str:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = sorted(set(names) - {"company", "operation", "outcome"})
        if unknown:
            raise ValueError(f"unknown dimensions {unknown}; use company, operation, outcome")
        if len(set(names)) != len(names):
            raise ValueError("a dimension is named twice")
        return ",".join(names)

    @field_validator("backend_url")
    @classmethod
    def _backend_url_is_http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("key_pepper")
    @classmethod
    def _pepper_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_PEPPER_LENGTH:
            raise ValueError(f"must be at least {MIN_PEPPER_LENGTH} characters")
        return value

    @field_validator("key_peppers")
    @classmethod
    def _peppers_are_a_pepper_set(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parse_pepper_set(value.get_secret_value())  # its errors never quote a pepper
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url_is_redis(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("redis://", "rediss://", "unix://")
        ):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @model_validator(mode="after")
    def _one_pepper_source(self) -> Self:
        sources = [self.key_pepper, self.key_peppers, self.key_pepper_secret_id]
        given = sum(source is not None for source in sources)
        if given == 0:
            raise ValueError(
                f"{ENV_PREFIX}KEY_PEPPER is required (or {ENV_PREFIX}KEY_PEPPERS, "
                f"or {ENV_PREFIX}KEY_PEPPER_SECRET_ID)"
            )
        if given > 1:
            raise ValueError(
                f"set only one of {ENV_PREFIX}KEY_PEPPER, {ENV_PREFIX}KEY_PEPPERS and "
                f"{ENV_PREFIX}KEY_PEPPER_SECRET_ID"
            )
        return self

    @model_validator(mode="after")
    def _previous_router_secret_has_a_successor(self) -> Self:
        previous = self.router_secret_previous
        if previous is not None and self.router_secret is None:
            raise ValueError(
                f"{ENV_PREFIX}ROUTER_SECRET_PREVIOUS is for a rotation: set the new secret "
                f"as {ENV_PREFIX}ROUTER_SECRET too"
            )
        if previous is not None and previous == self.router_secret:
            raise ValueError(
                f"{ENV_PREFIX}ROUTER_SECRET_PREVIOUS equals {ENV_PREFIX}ROUTER_SECRET: "
                "a rotation needs a new secret"
            )
        return self

    @field_validator("database_url")
    @classmethod
    def _database_is_async(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must be a sqlite+aiosqlite:// or postgresql+asyncpg:// URL")
        return value


def load_settings() -> Settings:
    """Read the settings from the environment, or raise a :class:`SettingsError`."""
    try:
        return Settings()  # required fields come from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if not error["loc"]:  # a rule over several settings names them itself
                problems.append(error["msg"].removeprefix("Value error, "))
                continue
            name = ENV_PREFIX + str(error["loc"][0]).upper()
            reason = "is required" if error["type"] == "missing" else error["msg"]
            problems.append(f"{name} {reason}")
        raise SettingsError("Invalid settings: " + "; ".join(problems)) from None
