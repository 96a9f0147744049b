from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class StartWindow(BaseModel):
    """A preferred shift-start window in the center's local time, e.g. 08:00 to 10:00."""

    start: time
    end: time
    days: list[Weekday] = Field(default_factory=list, description="empty means every day")

    @model_validator(mode="after")
    def _ordered(self) -> StartWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class PreferencesWrite(BaseModel):
    preferred_start_windows: list[StartWindow] = Field(default_factory=list, max_length=14)
    preferred_days_off: list[Weekday] = Field(default_factory=list)
    max_consecutive_late_shifts: int | None = Field(default=None, ge=0, le=7)

    @field_validator("preferred_days_off")
    @classmethod
    def _unique_days(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError("each day may appear once")
        return days


class PreferencesRead(PreferencesWrite):
    person_id: str
    updated_at: datetime | None
