from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

TeamName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TeamCreate(BaseModel):
    name: TeamName
    lead_id: str | None = None


class TeamUpdate(BaseModel):
    name: TeamName | None = None
    lead_id: str | None = Field(default=None, description="null removes the lead")


class MembersAdd(BaseModel):
    person_ids: list[str] = Field(min_length=1, max_length=500)


class TeamWarning(BaseModel):
    code: str
    message: str


class TeamRead(BaseModel):
    id: str
    name: str
    lead_id: str | None
    member_ids: list[str]
    agent_count: int = Field(description="Agents (not departed) in this team")
    span_of_control: int | None = Field(
        description="Agents in all teams this team's lead leads; null without a lead"
    )
    warnings: list[TeamWarning]
    created_at: datetime
    updated_at: datetime
