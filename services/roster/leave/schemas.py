from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

LeaveKind = Literal["annual", "sick", "personal", "parental", "unpaid", "other"]
LeaveStatus = Literal["pending", "approved", "denied", "cancelled"]
MAX_LEAVE_DAYS = 366


class LeaveCreate(BaseModel):
    kind: LeaveKind
    start_date: date
    end_date: date
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates(self) -> LeaveCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date must not be before start_date")
        if (self.end_date - self.start_date).days >= MAX_LEAVE_DAYS:
            raise ValueError(f"a request covers at most {MAX_LEAVE_DAYS} days")
        return self


class LeaveDeny(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class LeaveApprove(BaseModel):
    reason: str | None = Field(default=None, max_length=2000)


class LeaveRead(BaseModel):
    id: str
    agent_id: str
    kind: LeaveKind
    start_date: date
    end_date: date
    note: str | None
    status: LeaveStatus
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None
    created_at: datetime
