"""Rebuild what the metrics service derived from its event store, for a time range.

``python -m services.metrics.rebuild --start 2026-11-22T00:00:00Z --end 2026-11-23T00:00:00Z``
(or ``make rebuild START=… END=…``): every agent with events in the range is recomputed from
the last logout before its first event there, and every call with queue events in the range
is folded again from its stored events. The event store itself is never changed.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.timeline import STATE_EVENTS, sort_key
from services.metrics.ingest.models import CtiEvent, QueueCall
from services.metrics.ingest.service import QUEUE_EVENTS, fold_queue_facts, recompute_agent
from services.metrics.settings import MetricsSettings
from shared.db import make_engine, make_sessionmaker
from shared.events import validate_event


async def rebuild(session: AsyncSession, start: datetime, end: datetime) -> tuple[int, int]:
    """Returns how many agents and calls were rebuilt."""
    in_range = (CtiEvent.time >= start) & (CtiEvent.time < end)
    agents = list(
        await session.scalars(
            select(CtiEvent.agent_id)
            .distinct()
            .where(in_range, CtiEvent.type.in_(STATE_EVENTS), CtiEvent.agent_id.is_not(None))
        )
    )
    for agent_id in sorted(agents):
        envelopes = await session.scalars(
            select(CtiEvent.envelope).where(
                in_range, CtiEvent.agent_id == agent_id, CtiEvent.type.in_(STATE_EVENTS)
            )
        )
        first = min(sort_key(validate_event(e)) for e in envelopes)
        await recompute_agent(session, agent_id, first)
    calls = list(
        await session.scalars(
            select(CtiEvent.call_id).distinct().where(in_range, CtiEvent.type.in_(QUEUE_EVENTS))
        )
    )
    if calls:
        await session.execute(delete(QueueCall).where(QueueCall.call_id.in_(calls)))
        envelopes = await session.scalars(
            select(CtiEvent.envelope).where(
                CtiEvent.call_id.in_(calls), CtiEvent.type.in_(QUEUE_EVENTS)
            )
        )
        await fold_queue_facts(session, [validate_event(e) for e in envelopes])
    return len(agents), len(calls)


async def main(start: datetime, end: datetime) -> None:
    engine = make_engine(MetricsSettings().sqlalchemy_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            agents, calls = await rebuild(session, start, end)
        print(f"rebuilt {agents} agents and {calls} calls for [{start}, {end})")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=datetime.fromisoformat, required=True)
    parser.add_argument("--end", type=datetime.fromisoformat, required=True)
    args = parser.parse_args()
    if args.start.tzinfo is None or args.end.tzinfo is None or args.end <= args.start:
        parser.error("--start and --end need a UTC offset, and end must be after start")
    asyncio.run(main(args.start, args.end))
