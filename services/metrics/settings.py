from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """Metrics settings: fields read ``METRICS_<NAME>``; shared ones fall back to ``<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    port: int = 8002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/metrics"
    service_level_threshold_s: float = 20.0
    consumer_batch_size: int = 500
    consumer_batch_wait_ms: int = 100
