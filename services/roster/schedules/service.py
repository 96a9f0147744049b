"""Schedules: drafted per agent and day, published for metrics to measure adherence against.

Editing a published schedule turns it back into a draft; the last published version stays in
force for metrics until the day is published again (each publication bumps ``version``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import can_manage_person, can_read_schedule
from services.roster.db import outbox
from services.roster.people import repository as people_repo
from services.roster.people.models import Person
from services.roster.schedules import repository
from services.roster.schedules.models import Schedule, ScheduleActivity
from services.roster.schedules.rules import Activity, Cert, has_valid_go_live, schedule_violation
from services.roster.schedules.schemas import ActivityIn, ActivityRead, ScheduleRead
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound, RuleViolation
from shared.events import EventType, make_event
from shared.events.roster import ScheduledActivity, SchedulePublished
from shared.pagination import PageParams


def to_read(schedule: Schedule) -> ScheduleRead:
    return ScheduleRead(
        id=schedule.id,
        agent_id=schedule.agent_id,
        day=schedule.day,
        status=schedule.status,  # type: ignore[arg-type]
        version=schedule.version,
        published_at=schedule.published_at,
        activities=[
            ActivityRead(kind=a.kind, start=a.start_at, end=a.end_at)  # type: ignore[arg-type]
            for a in schedule.activities
        ],
        updated_at=schedule.updated_at,
    )


async def _visible_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Person:
    agent = await people_repo.get(session, agent_id)
    if agent is None or not can_read_schedule(principal, agent.id, agent.team_id):
        raise NotFound(f"Person {agent_id} not found.")
    return agent


async def get(session: AsyncSession, principal: Principal, agent_id: str, day: date) -> Schedule:
    await _visible_agent(session, principal, agent_id)
    schedule = await repository.get(session, agent_id, day)
    if schedule is None:
        raise NotFound(f"No schedule for {agent_id} on {day.isoformat()}.")
    return schedule


async def put(
    session: AsyncSession,
    principal: Principal,
    agent_id: str,
    day: date,
    activities: list[ActivityIn],
    timezone: str,
) -> Schedule:
    """Create or replace an agent's draft for a day, after every scheduling rule passed."""
    agent = await _visible_agent(session, principal, agent_id)
    if not can_manage_person(principal, agent.id, agent.team_id):
        raise Forbidden("Only the agent's team lead, managers and admins schedule them.")
    if agent.status == "departed":
        raise RuleViolation("person_departed", "A departed person cannot be scheduled.")
    if agent.role != "agent":
        raise RuleViolation("not_an_agent", "Schedules are kept for agents.")
    planned = [Activity(a.kind, a.start, a.end) for a in activities]
    violation = schedule_violation(planned, day, timezone)
    if violation is not None:
        raise RuleViolation(*violation)
    certs = [Cert(c.name, c.passed_at, c.expires_at) for c in agent.certifications]
    if any(a.kind == "work" for a in planned) and not has_valid_go_live(certs, day):
        raise RuleViolation(
            "go_live_required",
            "An agent without a valid go_live certification cannot be scheduled for work.",
        )
    if await repository.approved_leave_on(session, agent.id, day):
        raise RuleViolation("leave_approved", "The agent has approved leave on that day.")
    schedule = await repository.get(session, agent.id, day, for_update=True)
    if schedule is None:
        schedule = Schedule(agent_id=agent.id, day=day, version=0, activities=[])
        session.add(schedule)
    schedule.activities = [
        ScheduleActivity(kind=a.kind, start_at=a.start, end_at=a.end)
        for a in sorted(planned, key=lambda a: a.start)
    ]
    schedule.status = "draft"
    schedule.updated_at = datetime.now(UTC)
    await session.flush()
    return schedule


def _publish_scope(principal: Principal, team_id: str | None) -> list[str] | None:
    if principal.sees_everything:
        return [team_id] if team_id else None
    if principal.role != Role.TEAM_LEAD:
        raise Forbidden("Only team leads, managers and admins publish schedules.")
    if team_id is not None:
        if team_id not in principal.team_ids:
            raise NotFound(f"Team {team_id} not found.")
        return [team_id]
    return sorted(principal.team_ids)


async def publish_day(
    session: AsyncSession, principal: Principal, day: date, team_id: str | None, timezone: str
) -> list[Schedule]:
    """Publish the day's drafts in the caller's scope: one event per agent schedule."""
    drafts = await repository.drafts_for_day(
        session, day, team_ids=_publish_scope(principal, team_id)
    )
    for schedule in drafts:
        await _publish(session, schedule, timezone)
    return drafts


async def clear_for_leave(
    session: AsyncSession, agent_id: str, start: date, end: date, timezone: str
) -> None:
    """Approved leave empties the agent's schedules over those days.

    A schedule that was ever published is republished empty, so metrics stops expecting the
    agent; a never-published draft is simply removed.
    """
    for schedule in await repository.in_range(session, agent_id, start, end):
        if schedule.version == 0:
            await session.delete(schedule)
            continue
        schedule.activities = []
        await session.flush()
        await _publish(session, schedule, timezone)
    await session.flush()


async def _publish(session: AsyncSession, schedule: Schedule, timezone: str) -> None:
    agent = await people_repo.get(session, schedule.agent_id)
    now = datetime.now(UTC)
    schedule.version += 1
    schedule.status = "published"
    schedule.published_at = now
    schedule.updated_at = now
    await session.flush()
    data = SchedulePublished(
        schedule_id=schedule.id,
        agent_id=schedule.agent_id,
        team_id=agent.team_id if agent else None,
        day=schedule.day,
        timezone=timezone,
        version=schedule.version,
        activities=[
            ScheduledActivity(kind=a.kind, start=a.start_at, end=a.end_at)  # type: ignore[arg-type]
            for a in schedule.activities
        ],
    )
    await outbox.add(session, make_event(EventType.SCHEDULE_PUBLISHED, data, source="roster"))


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    agent_id: str | None,
    team_id: str | None,
    start: date | None,
    end: date | None,
    status: str | None,
) -> tuple[list[Schedule], str | None]:
    if principal.sees_everything or principal.role == Role.OPS:
        team_ids, self_id = None, None
    else:
        team_ids = sorted(principal.team_ids) if principal.role == Role.TEAM_LEAD else []
        self_id = principal.id
    after = (
        (str(page.after[0]), str(page.after[1])) if page.after and len(page.after) == 2 else None
    )
    rows = await repository.list_schedules(
        session,
        team_ids=team_ids,
        self_id=self_id,
        agent_id=agent_id,
        team_id=team_id,
        start=start,
        end=end,
        status=status,
        after=after,
        limit=page.limit,
    )
    return page.page(rows, key=lambda s: [s.day.isoformat(), s.id])
