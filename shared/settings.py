"""Settings common to every service.

Each service declares one settings class that subclasses :class:`ServiceSettings` and sets its
own ``env_prefix`` (``ROSTER_``, ``METRICS_`` …). A prefixed variable wins over the common one,
so ``ROSTER_DATABASE_URL`` overrides ``DATABASE_URL`` for the roster alone. Only the fields in
:data:`SHARED_FIELDS` fall back to an unprefixed variable; ``PORT`` and the like never leak
from one service to another.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import SecretStr, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEV_JWT_SECRET = "callpulse-development-secret-change-me-please"
"""Used only outside production; a production service refuses to start with it."""

SHARED_FIELDS = frozenset(
    {
        "environment",
        "database_url",
        "kafka_bootstrap_servers",
        "kafka_topic_partitions",
        "kafka_replication_factor",
        "jwt_secret",
        "jwt_algorithm",
        "jwks_url",
        "jwt_issuer",
        "access_token_ttl_s",
        "log_level",
        "log_json",
        "center_timezone",
    }
)


class _UnprefixedSharedEnv(EnvSettingsSource):
    """Reads the shared fields from unprefixed variables (``DATABASE_URL`` …)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        if field_name not in SHARED_FIELDS:
            return None, field_name, False
        return super().get_field_value(field, field_name)


class ServiceSettings(BaseSettings):
    """Fields every service needs; subclasses set ``env_prefix`` and their own fields."""

    model_config = SettingsConfigDict(extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/callpulse"
    db_pool_size: int = 10
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_partitions: int = 6
    kafka_replication_factor: int = 1
    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "RS256"] = "HS256"
    jwks_url: str | None = None
    jwt_issuer: str = "callpulse"
    access_token_ttl_s: int = 8 * 3600
    log_level: str = "INFO"
    log_json: bool = True
    center_timezone: str = "UTC"
    outbox_poll_interval_s: float = 0.5

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        unprefixed = _UnprefixedSharedEnv(settings_cls, env_prefix="")
        return init_settings, env_settings, unprefixed, dotenv_settings, file_secret_settings

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> ServiceSettings:
        if (
            self.environment == "production"
            and self.jwt_algorithm == "HS256"
            and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        ):
            raise ValueError("JWT_SECRET must be set to a real secret in production")
        if self.jwt_algorithm == "HS256" and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 characters (RFC 7518 §3.2)")
        if self.jwt_algorithm == "RS256" and not self.jwks_url:
            raise ValueError("JWKS_URL is required when JWT_ALGORITHM=RS256")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the asyncpg driver, whatever scheme was configured."""
        url = self.database_url
        for scheme in ("postgresql://", "postgres://"):
            if url.startswith(scheme):
                return "postgresql+asyncpg://" + url[len(scheme) :]
        return url
