from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.care.assessments.quadrant import Approach, QuadrantName

Colour = Literal["red", "blue", "yellow", "green"]
Score = Annotated[
    int,
    Field(ge=1, le=5, strict=True, description="1 (low) to 5 (high); 3 and above counts as high"),
]


class AssessmentCreate(BaseModel):
    agent_id: str = Field(min_length=1, max_length=36)
    ability: Score
    cooperation: Score
    colour: Colour | None = None
    note: str | None = Field(default=None, max_length=4000)


class AssessmentRead(BaseModel):
    id: str
    agent_id: str
    team_id: str | None
    author_id: str
    ability: int
    cooperation: int
    quadrant: QuadrantName
    approach: Approach
    advice: str
    colour: Colour | None
    colour_tips: list[str]
    note: str | None
    assessed_at: datetime


class AgentLatest(BaseModel):
    agent_id: str
    name: str
    assessment: AssessmentRead | None


class TeamLatest(BaseModel):
    """The latest assessment of each current agent of a team (none yet: ``null``)."""

    team_id: str
    agents: list[AgentLatest]
