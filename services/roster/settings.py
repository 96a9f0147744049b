from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class RosterSettings(ServiceSettings):
    """Roster settings: each field reads ``ROSTER_<NAME>``; shared ones fall back to ``<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="ROSTER_", extra="ignore")

    port: int = 8001
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/roster"
    span_of_control_limit: int = 20
    mentor_min_tenure_days: int = 180
    mentee_max_tenure_days: int = 90
    login_max_failures: int = 5
    login_lockout_s: int = 300
