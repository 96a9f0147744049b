from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class MentorshipCreate(BaseModel):
    mentor_id: str
    mentee_id: str
    started_at: AwareDatetime | None = Field(default=None, description="defaults to now")


class MentorshipEnd(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class MentorshipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    mentor_id: str
    mentee_id: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    active: bool
