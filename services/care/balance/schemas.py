from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from services.care.balance.model import State


class TouchesByCategory(BaseModel):
    career: int = 0
    needs: int = 0
    wellbeing: int = 0


class AgentBalance(BaseModel):
    agent_id: str
    name: str
    team_id: str | None
    state: State
    last_touch_at: datetime | None
    last_touch_kind: str | None
    days_since_touch: float = Field(description="Since the last touch, or since care knew them")
    touches_30d: TouchesByCategory = Field(description="Meaningful touches by kind of care")
    interventions_in_window: int
    open_tasks: int
    deferred_tasks: int
    suppressed_30d: int = Field(description="Triggers merged, deferred or cooled down")


class BalanceSummary(BaseModel):
    team_id: str | None = Field(description="null for the whole selection")
    agents: int
    under_cared: int
    balanced: int
    over_cared: int
    open_tasks: int
    suppressed_30d: int
    median_days_since_touch: float | None


class BalanceRead(BaseModel):
    as_of: datetime
    team_id: str | None
    summary: BalanceSummary
    teams: list[BalanceSummary]
    agents: list[AgentBalance]
