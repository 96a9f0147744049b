from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

ActivityKind = Literal["work", "break", "lunch", "training", "meeting", "coaching"]


class ActivityIn(BaseModel):
    kind: ActivityKind
    start: AwareDatetime
    end: AwareDatetime


class ActivityRead(BaseModel):
    kind: ActivityKind
    start: datetime
    end: datetime


class ScheduleWrite(BaseModel):
    activities: list[ActivityIn] = Field(max_length=50)


class ScheduleRead(BaseModel):
    id: str
    agent_id: str
    day: date
    status: Literal["draft", "published"]
    version: int = Field(description="Published version; 0 before the first publication")
    published_at: datetime | None
    activities: list[ActivityRead]
    updated_at: datetime


class PublishRequest(BaseModel):
    day: date
    team_id: str | None = Field(default=None, description="Only this team's drafts")


class PublishResult(BaseModel):
    day: date
    published: list[ScheduleRead]
