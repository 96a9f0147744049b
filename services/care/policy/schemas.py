from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.care.tasks.rules import SIGNAL_RULES

COOLDOWN_RULES = SIGNAL_RULES - {"hard_call", "hard_call_streak"} | {
    "checkin_request",
    "under_cared",
}


class PolicyWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    touch_interval_days: int = Field(ge=1, le=90, description="Longest gap between touches")
    max_interventions: int = Field(ge=1, le=20, description="Non-urgent interventions per window")
    intervention_window_days: int = Field(ge=1, le=30)
    checkin_interval_days: int = Field(ge=1, le=90)
    rule_cooldown_hours: dict[str, float] = Field(
        default_factory=dict, description="Per rule; urgent rules have none"
    )

    @field_validator("rule_cooldown_hours")
    @classmethod
    def _known_rules(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - COOLDOWN_RULES)
        if unknown:
            raise ValueError(f"no cool-down for {', '.join(unknown)} (urgent or unknown rules)")
        if any(hours < 0 or hours > 24 * 90 for hours in value.values()):
            raise ValueError("cool-downs are 0 to 2160 hours")
        return value


class PolicyRead(PolicyWrite):
    team_id: str
    source: Literal["team", "default"]
    updated_by: str | None = None
    updated_at: datetime | None = None
