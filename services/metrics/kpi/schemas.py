from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel, Field

from shared.errors import ValidationFailed

MAX_WINDOW_DAYS = 93
Granularity = Literal["interval", "day"]


class WindowQuery(BaseModel):
    start: datetime
    end: datetime
    granularity: Granularity


async def window_query(
    start: Annotated[AwareDatetime, Query(description="inclusive, RFC 3339 with offset")],
    end: Annotated[AwareDatetime, Query(description="exclusive, RFC 3339 with offset")],
    granularity: Annotated[Granularity, Query()] = "interval",
) -> WindowQuery:
    problems = []
    if end <= start:
        problems.append(
            {"field": "query.end", "message": "end must be after start", "type": "order"}
        )
    elif (end - start).days > MAX_WINDOW_DAYS:
        problems.append(
            {"field": "query.end", "message": f"at most {MAX_WINDOW_DAYS} days", "type": "span"}
        )
    if problems:
        raise ValidationFailed(f"Invalid window: {problems[0]['message']}", errors=problems)
    return WindowQuery(start=start, end=end, granularity=granularity)


WindowDep = Annotated[WindowQuery, Depends(window_query)]


class Figures(BaseModel):
    """``buckets`` hold ``start``, ``end`` and the DESIGN §4 fields; ``total`` covers the window."""

    start: str
    end: str
    granularity: str
    buckets: list[dict[str, Any]]
    total: dict[str, Any]


class AgentFigures(Figures):
    agent_id: str


class TeamFigures(Figures):
    team_id: str


class QueueFigures(Figures):
    queue_id: str


class AgentNow(BaseModel):
    agent_id: str
    team_id: str | None
    state: str
    reason: str | None
    since: str | None
    call_id: str | None


class QueueNow(BaseModel):
    queue_id: str
    calls_waiting: int
    longest_wait_s: float | None
    service_level_today: float | None = Field(
        description="running service level since local midnight"
    )
    offered_today: int
    answered_today: int
    abandoned_today: int
