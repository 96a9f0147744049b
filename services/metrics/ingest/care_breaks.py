"""Care breaks granted through the care service (``care.events``): aux ``care_break`` inside
one is sanctioned, never counted against adherence (issue 3 §1)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import BigInteger, bindparam, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.timeline import to_us
from services.metrics.ingest.bulk import any_of
from services.metrics.ingest.models import GrantedCareBreak
from shared.events import CloudEvent
from shared.events.care import CareBreakGranted


async def apply_care_batch(session: AsyncSession, events: list[CloudEvent]) -> None:
    rows = [
        {
            "record_id": e.data.record_id,
            "agent_id": e.data.agent_id,
            "start_us": to_us(e.data.start),
            "end_us": to_us(e.data.end),
        }
        for e in events
        if isinstance(e.data, CareBreakGranted)
    ]
    if rows:
        await session.execute(insert(GrantedCareBreak).values(rows).on_conflict_do_nothing())


async def granted_breaks(
    session: AsyncSession, agent_id: str, lo_us: int, hi_us: int
) -> list[tuple[int, int]]:
    """The agent's granted care breaks overlapping ``[lo_us, hi_us)``."""
    rows = await session.execute(
        select(GrantedCareBreak.start_us, GrantedCareBreak.end_us).where(
            GrantedCareBreak.agent_id == agent_id,
            GrantedCareBreak.start_us < hi_us,
            GrantedCareBreak.end_us > lo_us,
        )
    )
    return [(start, end) for start, end in rows]


BREAKS_OF_AGENTS = select(
    GrantedCareBreak.agent_id, GrantedCareBreak.start_us, GrantedCareBreak.end_us
).where(
    any_of(GrantedCareBreak.agent_id, "agent_ids"),
    GrantedCareBreak.start_us < bindparam("until", type_=BigInteger),
    GrantedCareBreak.end_us > bindparam("since", type_=BigInteger),
)


async def granted_breaks_of(
    session: AsyncSession, agent_ids: list[str], lo_us: int, hi_us: int
) -> dict[str, list[tuple[int, int]]]:
    """Each agent's granted care breaks overlapping ``[lo_us, hi_us)``, in one query."""
    rows = await session.execute(
        BREAKS_OF_AGENTS, {"agent_ids": agent_ids, "since": lo_us, "until": hi_us}
    )
    breaks: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for agent_id, start, end in rows:
        breaks[agent_id].append((start, end))
    return breaks
