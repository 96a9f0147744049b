"""Now: each agent's state from their snapshot, each queue's waiting calls and today's SL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.queues import queue_fields
from services.metrics.domain.timeline import from_us, to_us
from services.metrics.ingest.models import AgentSnapshot, QueueCall, TeamMembership
from services.metrics.kpi.schemas import AgentNow, QueueNow
from services.metrics.kpi.service import queue_window_buckets, sum_buckets


async def agents_now(session: AsyncSession, team_ids: list[str] | None) -> list[AgentNow]:
    query = (
        select(AgentSnapshot, TeamMembership.team_id)
        .join(
            TeamMembership,
            (TeamMembership.person_id == AgentSnapshot.agent_id)
            & TeamMembership.valid_to.is_(None),
            isouter=True,
        )
        .order_by(AgentSnapshot.agent_id)
    )
    if team_ids is not None:
        query = query.where(TeamMembership.team_id.in_(team_ids))
    result = []
    for snapshot, team_id in (await session.execute(query)).all():
        state = snapshot.state
        since = state.get("since")
        result.append(
            AgentNow(
                agent_id=snapshot.agent_id,
                team_id=team_id,
                state=state["state"],
                reason=state.get("reason"),
                since=from_us(since).isoformat() if since is not None else None,
                call_id=(state.get("contact") or {}).get("call_id"),
            )
        )
    return result


async def queues_now(
    session: AsyncSession, now: datetime, timezone: str, threshold_s: float
) -> list[QueueNow]:
    midnight = datetime.combine(
        now.astimezone(ZoneInfo(timezone)).date(), datetime.min.time(), tzinfo=ZoneInfo(timezone)
    )
    lo, now_us = to_us(midnight), to_us(now)
    queue_ids = sorted(
        set(
            await session.scalars(
                select(QueueCall.queue_id).where(
                    QueueCall.queue_id.is_not(None),
                    (QueueCall.offered_us >= lo) | (QueueCall.outcome_us >= lo),
                )
            )
        )
    )
    result = []
    for queue_id in queue_ids:
        waiting = list(
            await session.scalars(
                select(QueueCall.offered_us).where(
                    QueueCall.queue_id == queue_id,
                    QueueCall.outcome.is_(None),
                    QueueCall.offered_us.is_not(None),
                    QueueCall.offered_us >= lo,
                )
            )
        )
        today = sum_buckets(
            (await queue_window_buckets(session, queue_id, lo, now_us + 1, threshold_s)).values()
        )
        figures = queue_fields(today)
        result.append(
            QueueNow(
                queue_id=queue_id,
                calls_waiting=len(waiting),
                longest_wait_s=max((now_us - w) / 1e6 for w in waiting) if waiting else None,
                service_level_today=figures["service_level"],  # type: ignore[arg-type]
                offered_today=today.offered,
                answered_today=today.answered,
                abandoned_today=today.abandoned,
            )
        )
    return result
