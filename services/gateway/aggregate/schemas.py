from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.gateway.aggregate.service import Status

PARTS = Field(
    description="Each part's status: ok, hidden (the caller may not see it) or unavailable "
    "(its service did not answer in time)"
)


class PersonOverview(BaseModel):
    profile: dict[str, Any] | None = Field(description="The roster's person record")
    kpis_today: dict[str, Any] | None = Field(description="Today's KPI totals (metrics)")
    realtime: dict[str, Any] | None = Field(description="Current state (metrics)")
    open_care_tasks: list[dict[str, Any]] | None
    last_checkin: dict[str, Any] | None
    risk: dict[str, Any] | None = Field(description="Attrition risk with its factors (care)")
    parts: dict[str, Status] = PARTS


class TeamDashboard(BaseModel):
    team: dict[str, Any] | None
    kpis_today: dict[str, Any] | None = Field(description="Today's team KPI totals (metrics)")
    agent_states: list[dict[str, Any]] | None
    care_balance: dict[str, Any] | None = Field(description="The team's care balance summary")
    open_care_tasks: list[dict[str, Any]] | None
    parts: dict[str, Status] = PARTS
