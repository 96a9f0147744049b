from __future__ import annotations

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from services.care.risk.model import effective_weights
from shared.settings import ServiceSettings

DEV_FEEDBACK_QUOTA_KEY = "callpulse-feedback-quota-development-key"


class CareSettings(ServiceSettings):
    """Care settings: fields read ``CARE_<NAME>``; shared ones fall back to ``<NAME>``.

    The policy fields are the defaults of a team without a policy of its own
    (``/v1/care/policies/{team_id}``); the risk weights are the attrition-risk model.
    """

    model_config = SettingsConfigDict(env_prefix="CARE_", extra="ignore")

    port: int = 8003
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/care"
    # degree of care: team policy defaults (issue 4 §4)
    touch_interval_days: int = 14
    max_interventions: int = 3
    intervention_window_days: int = 7
    checkin_interval_days: int = 14
    rule_cooldown_hours: dict[str, float] = {
        "aht_drift": 72,
        "csat_drop": 72,
        "long_aux": 24,
        "absent": 24,
        "late_login": 24,
    }
    # warnings need an earlier conversation (seed 003)
    warning_prior_conversation_days: int = 14
    # anonymous feedback
    feedback_daily_limit: int = 3
    feedback_team_threshold: int = 5
    feedback_quota_key: SecretStr = SecretStr(DEV_FEEDBACK_QUOTA_KEY)
    # care breaks
    care_break_default_minutes: int = 15
    care_break_max_minutes: int = 60
    # attrition risk: factor weights (points out of 100) and their windows
    risk_weights: dict[str, float] = {
        "new_hire": 15,
        "mood_falling": 15,
        "high_stress": 15,
        "hard_calls": 10,
        "adherence_falling": 10,
        "complaints": 10,
        "no_recognition": 10,
        "recent_warning": 10,
        "leave_denied": 5,
    }
    scan_interval_s: float = 60.0

    @model_validator(mode="after")
    def _known_risk_factors(self) -> CareSettings:
        effective_weights(self.risk_weights)  # unknown factors or negative weights fail early
        return self

    @model_validator(mode="after")
    def _real_quota_key_in_production(self) -> CareSettings:
        key = self.feedback_quota_key.get_secret_value()
        if self.environment == "production" and (key == DEV_FEEDBACK_QUOTA_KEY or len(key) < 32):
            raise ValueError("set CARE_FEEDBACK_QUOTA_KEY to a secret of at least 32 characters")
        return self
