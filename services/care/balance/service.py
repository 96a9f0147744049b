from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.care import access
from services.care.balance import model
from services.care.balance.schemas import (
    AgentBalance,
    BalanceRead,
    BalanceSummary,
    TouchesByCategory,
)
from services.care.directory.models import Person
from services.care.policy.service import policies_for
from services.care.records.models import CareRecord
from services.care.settings import CareSettings
from services.care.tasks.models import CareTask, TaskTrigger
from services.care.tasks.rules import INTERVENTION_KINDS, MEANINGFUL_TOUCH_KINDS
from shared.auth import Principal

SHOWN_STATUSES = ("active", "onboarding", "on_leave")
LOOKBACK = timedelta(days=30)


async def balance(
    session: AsyncSession,
    settings: CareSettings,
    principal: Principal,
    team_id: str | None,
    now: datetime,
) -> BalanceRead:
    if team_id is not None:
        access.check_team(principal, team_id)
        teams: frozenset[str] | None = frozenset({team_id})
    else:
        teams = access.led_teams(principal)
    query = select(Person).where(Person.role == "agent", Person.status.in_(SHOWN_STATUSES))
    if teams is not None:
        query = query.where(Person.team_id.in_(teams))
    people = list(await session.scalars(query.order_by(Person.name, Person.id)))
    ids = [p.id for p in people]
    since = now - LOOKBACK
    last_touch = dict(
        (row.agent_id, (row.at, row.kind))
        for row in await session.execute(
            select(CareRecord.agent_id, CareRecord.occurred_at.label("at"), CareRecord.kind)
            .ext(distinct_on(CareRecord.agent_id))
            .where(
                CareRecord.agent_id.in_(ids),
                CareRecord.kind.in_(MEANINGFUL_TOUCH_KINDS),
                CareRecord.occurred_at <= now,
            )
            .order_by(CareRecord.agent_id, CareRecord.occurred_at.desc())
        )
    )
    touches: dict[str, Counter[str]] = defaultdict(Counter)
    interventions: dict[str, list[datetime]] = defaultdict(list)
    for row in await session.execute(
        select(
            CareRecord.agent_id, CareRecord.kind, CareRecord.category, CareRecord.occurred_at
        ).where(
            CareRecord.agent_id.in_(ids),
            CareRecord.occurred_at > since,
            CareRecord.occurred_at <= now,
        )
    ):
        if row.kind in MEANINGFUL_TOUCH_KINDS:
            touches[row.agent_id][row.category] += 1
    for agent_id, at in await session.execute(
        select(CareRecord.agent_id, CareRecord.occurred_at).where(
            CareRecord.agent_id.in_(ids),
            CareRecord.kind.in_(INTERVENTION_KINDS),
            CareRecord.task_id.is_(None),
            CareRecord.occurred_at > since,
            CareRecord.occurred_at <= now,
        )
    ):
        interventions[agent_id].append(at)
    for agent_id, at in await session.execute(
        select(CareTask.agent_id, CareTask.opened_at).where(
            CareTask.agent_id.in_(ids),
            CareTask.urgent.is_(False),
            CareTask.opened_at > since,
            CareTask.opened_at <= now,
        )
    ):
        interventions[agent_id].append(at)
    task_counts = {
        (row.agent_id, row.status): row.n
        for row in await session.execute(
            select(CareTask.agent_id, CareTask.status, func.count().label("n"))
            .where(CareTask.agent_id.in_(ids), CareTask.status.in_(("open", "deferred")))
            .group_by(CareTask.agent_id, CareTask.status)
        )
    }
    suppressed = dict(
        (
            await session.execute(
                select(TaskTrigger.agent_id, func.count())
                .where(
                    TaskTrigger.agent_id.in_(ids),
                    TaskTrigger.outcome != "opened",
                    TaskTrigger.occurred_at > since,
                )
                .group_by(TaskTrigger.agent_id)
            )
        ).all()
    )
    policies = await policies_for(session, settings, {p.team_id for p in people})
    agents = []
    for person in people:
        touched = last_touch.get(person.id)
        history = model.CareHistory(
            known_since=person.known_since,
            last_touch_at=touched[0] if touched else None,
            interventions=tuple(interventions[person.id]),
        )
        policy = policies[person.team_id]
        agents.append(
            AgentBalance(
                agent_id=person.id,
                name=person.name,
                team_id=person.team_id,
                state=model.state(history, policy, now),
                last_touch_at=history.last_touch_at,
                last_touch_kind=touched[1] if touched else None,
                days_since_touch=round(model.days_since_touch(history, now), 1),
                touches_30d=TouchesByCategory(**touches[person.id]),
                interventions_in_window=model.interventions_in_window(history, policy, now),
                open_tasks=task_counts.get((person.id, "open"), 0),
                deferred_tasks=task_counts.get((person.id, "deferred"), 0),
                suppressed_30d=suppressed.get(person.id, 0),
            )
        )
    team_ids = sorted({a.team_id for a in agents if a.team_id} | ({team_id} if team_id else set()))
    return BalanceRead(
        as_of=now,
        team_id=team_id,
        summary=_summary(None, agents),
        teams=[_summary(t, [a for a in agents if a.team_id == t]) for t in team_ids],
        agents=agents,
    )


def _summary(team_id: str | None, agents: list[AgentBalance]) -> BalanceSummary:
    states = Counter(a.state for a in agents)
    return BalanceSummary(
        team_id=team_id,
        agents=len(agents),
        under_cared=states["under_cared"],
        balanced=states["balanced"],
        over_cared=states["over_cared"],
        open_tasks=sum(a.open_tasks for a in agents),
        suppressed_30d=sum(a.suppressed_30d for a in agents),
        median_days_since_touch=model.median_days(a.days_since_touch for a in agents),
    )
