from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class RiskFactorRead(BaseModel):
    factor: str
    weight: float
    active: bool
    contribution: float
    evidence: dict[str, Any]


class AgentRiskRead(BaseModel):
    agent_id: str
    name: str
    team_id: str | None
    score: int
    factors: list[RiskFactorRead]


class RiskReport(BaseModel):
    as_of: datetime
    team_id: str | None
    weights: dict[str, float]
    agents: list[AgentRiskRead]
