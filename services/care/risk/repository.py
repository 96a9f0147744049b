"""The risk model's facts, a handful of set-based queries for a whole set of agents at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.checkins.models import CheckIn
from services.care.directory.models import LeaveDecision, Person, Team
from services.care.records.models import CareRecord
from services.care.tasks.models import ReceivedSignal


async def team_exists(session: AsyncSession, team_id: str) -> bool:
    return await session.get(Team, team_id) is not None


def current_agents(team_ids: Sequence[str] | None) -> Select[tuple[Person]]:
    """Agents who have not departed, of the given teams (``None``: everyone's agents)."""
    query = select(Person).where(Person.role == "agent", Person.status != "departed")
    if team_ids is not None:
        query = query.where(Person.team_id.in_(team_ids))
    return query


async def agents(session: AsyncSession, team_ids: Sequence[str] | None) -> list[Person]:
    return list((await session.scalars(current_agents(team_ids))).all())


def _ids(team_ids: Sequence[str] | None) -> Select[tuple[str]]:
    return current_agents(team_ids).with_only_columns(Person.id)


async def last_checkins(
    session: AsyncSession, team_ids: Sequence[str] | None, now: datetime, per_agent: int
) -> list[Any]:
    """Each agent's latest ``per_agent`` check-ins up to ``now``."""
    ranked = (
        select(
            CheckIn.agent_id,
            CheckIn.created_at,
            CheckIn.mood,
            CheckIn.stress,
            func.row_number()
            .over(
                partition_by=CheckIn.agent_id,
                order_by=(CheckIn.created_at.desc(), CheckIn.id.desc()),
            )
            .label("n"),
        )
        .where(CheckIn.agent_id.in_(_ids(team_ids)), CheckIn.created_at <= now)
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.agent_id, ranked.c.created_at, ranked.c.mood, ranked.c.stress).where(
            ranked.c.n <= per_agent
        )
    )
    return list(rows.all())


async def signals(
    session: AsyncSession,
    team_ids: Sequence[str] | None,
    kinds: Sequence[str],
    since: datetime,
    now: datetime,
) -> list[Any]:
    """Signals of these kinds in ``[since, now]``, one row per episode (the first delivery)."""
    rows = await session.execute(
        select(
            ReceivedSignal.agent_id,
            ReceivedSignal.kind,
            ReceivedSignal.detected_at,
            ReceivedSignal.facts,
        )
        .where(
            ReceivedSignal.agent_id.in_(_ids(team_ids)),
            ReceivedSignal.kind.in_(kinds),
            ReceivedSignal.detected_at >= since,
            ReceivedSignal.detected_at <= now,
        )
        .ext(distinct_on(ReceivedSignal.agent_id, ReceivedSignal.kind, ReceivedSignal.episode))
        .order_by(
            ReceivedSignal.agent_id,
            ReceivedSignal.kind,
            ReceivedSignal.episode,
            ReceivedSignal.detected_at,
        )
    )
    return list(rows.all())


async def last_records(
    session: AsyncSession, team_ids: Sequence[str] | None, now: datetime
) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Per agent: the latest recognition and the latest warning up to ``now``."""
    rows = await session.execute(
        select(
            CareRecord.agent_id,
            func.max(CareRecord.occurred_at).filter(CareRecord.kind == "recognition"),
            func.max(CareRecord.occurred_at).filter(CareRecord.kind == "warning"),
        )
        .where(
            CareRecord.agent_id.in_(_ids(team_ids)),
            CareRecord.kind.in_(("recognition", "warning")),
            CareRecord.occurred_at <= now,
        )
        .group_by(CareRecord.agent_id)
    )
    return {agent_id: (recognised, warned) for agent_id, recognised, warned in rows.all()}


async def last_denied_leave(
    session: AsyncSession, team_ids: Sequence[str] | None, now: datetime
) -> dict[str, datetime]:
    rows = await session.execute(
        select(LeaveDecision.agent_id, func.max(LeaveDecision.decided_at))
        .where(
            LeaveDecision.agent_id.in_(_ids(team_ids)),
            LeaveDecision.status == "denied",
            LeaveDecision.decided_at <= now,
        )
        .group_by(LeaveDecision.agent_id)
    )
    return {agent_id: at for agent_id, at in rows.all()}
