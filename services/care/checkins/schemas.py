from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.care.checkins.trend import Direction

MAX_TREND_DAYS = 366


class CheckInCreate(BaseModel):
    mood: int = Field(ge=1, le=5, description="1 (very low) to 5 (very good)")
    stress: int = Field(ge=1, le=5, description="1 (calm) to 5 (very stressed)")
    note: str | None = Field(default=None, max_length=2000)


class CheckInRead(BaseModel):
    id: str
    agent_id: str
    team_id: str | None
    mood: int
    stress: int
    note: str | None
    created_at: datetime


class TrendPoint(BaseModel):
    date: date
    mood: float
    stress: float


class LastCheckIn(BaseModel):
    mood: int
    stress: int
    created_at: datetime


class CheckInTrend(BaseModel):
    agent_id: str
    days: int
    points: list[TrendPoint]
    last: LastCheckIn | None
    mood_direction: Direction | None
    stress_direction: Direction | None
