from __future__ import annotations

from typing import Literal

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Gateway settings: fields read ``GATEWAY_<NAME>``; shared ones fall back to ``<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    port: int = 8000
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/gateway"
    # the services behind the door
    roster_url: str = "http://127.0.0.1:8001"
    metrics_url: str = "http://127.0.0.1:8002"
    care_url: str = "http://127.0.0.1:8003"
    upstream_connect_timeout_s: float = 1.0
    upstream_timeout_s: float = 10.0
    upstream_read_retries: int = 2
    """Extra attempts for idempotent reads (GET/HEAD) when a service cannot be reached."""
    upstream_max_connections: int = 200
    upstream_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    """``aiohttp`` (httpx-aiohttp) or ``httpx`` (httpx's own transport)."""
    # aggregations
    part_timeout_s: float = 2.0
    """How long one part of an overview or dashboard may take before it is marked unavailable."""
    # edge
    max_body_bytes: int = 1_048_576
    cors_origins: list[str] = []
    """Web origins allowed to call the API from a browser, e.g. ["https://app.example.com"]."""
    hsts: bool = False
    """Send Strict-Transport-Security (when clients reach the gateway over TLS)."""
    rate_limit_user_per_minute: float = 600
    rate_limit_user_burst: int = 100
    rate_limit_api_key_per_minute: float = 1200
    rate_limit_api_key_burst: int = 200
    rate_limit_anonymous_per_minute: float = 30
    """Requests without a valid credential (sign-in attempts included), per client address."""
    rate_limit_anonymous_burst: int = 10
    # live stream (GET /v1/stream)
    stream_poll_interval_s: float = 1.0
    """How often metrics' real-time agents and queues are read while anyone is connected."""
    stream_heartbeat_s: float = 15.0
    stream_buffer_size: int = 1000
    """Recent events kept for clients resuming with Last-Event-ID."""
    stream_client_queue_size: int = 200
    """Events a client may fall behind by before it is dropped."""
    stream_retry_ms: int = 3000
    """The reconnect delay suggested to EventSource."""
    stream_send_timeout_s: float = 10.0
    """A client that does not take a write within this long is disconnected."""
    # CTI ingest (/v1/cti/…)
    cti_max_events: int = 1000
    """Events per POST /v1/cti/events batch; a longer batch is refused whole (413)."""
    cti_max_body_bytes: int = 5_242_880
    """Body limit of the ingest endpoints (Amazon Connect records run to a few KiB each)."""
    cti_publish_timeout_s: float = 5.0
    """How long a publish may wait for the broker's acknowledgements before a 503."""
    api_key_cache_ttl_s: float = 1.0
    """How long a key lookup is trusted: another replica's revocation applies within this."""
    api_key_last_used_every_s: float = 60.0
    """A key's last_used_at is written at most this often (per key and replica)."""
    identities_refresh_s: float = 1.0
    """How often the in-memory copy of the roster's CTI ids checks its table for changes."""
    cti_identities_consumer: bool = True
    """Run the roster.changes consumer that keeps the CTI ids table. Every replica reads the
    table; one consuming replica is enough (replicas that consume share the work)."""
