from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class MetricsSettings(ServiceSettings):
    """Metrics settings: fields read ``METRICS_<NAME>``; shared ones fall back to ``<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="METRICS_", extra="ignore")

    port: int = 8002
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/metrics"
    service_level_threshold_s: float = 20.0
    # signals (issue 3 §3)
    long_aux_thresholds_s: dict[str, float] = {
        "break": 15 * 60,
        "lunch": 45 * 60,
        "personal": 10 * 60,
        "care_break": 30 * 60,
        "system": 5 * 60,
    }
    long_aux_default_s: float = 20 * 60
    hard_call_streak_count: int = 3
    hard_call_streak_window_s: int = 60 * 60
    aht_drift_window_s: int = 2 * 3600
    aht_drift_factor: float = 1.5
    aht_drift_min_contacts: int = 5
    adherence_breach_s: int = 10 * 60
    absent_after_s: int = 15 * 60
    late_login_grace_s: int = 0
    qa_pattern_agents: int = 3
    qa_pattern_window_days: int = 7
    csat_drop_surveys: int = 3
    csat_drop_threshold: float = 2.0
    signal_scan_interval_s: float = 30.0
