"""Detecting signals and publishing them through the outbox, once per episode.

Event-driven rules run inside the batch that brought their facts (hard calls and streaks,
CSAT drops, QA patterns, late logins, AHT drift); time-driven ones (long aux, absence,
adherence breach) run in a periodic scan. Both fire through :func:`raise_once` /
:func:`track_condition`, so neither a redelivered batch, a second replica nor the next scan
repeats an episode.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.db import outbox
from services.metrics.domain.adherence import Planned, in_granted_break, matches
from services.metrics.domain.timeline import Segment, from_us, to_us
from services.metrics.ingest.care_breaks import granted_breaks
from services.metrics.ingest.models import (
    AgentContact,
    AgentSegment,
    AgentSnapshot,
    CtiEvent,
    PublishedSchedule,
    TeamMembership,
)
from services.metrics.settings import MetricsSettings
from services.metrics.signals import rules
from services.metrics.signals.models import SignalCondition, SignalEpisode
from shared.events import CloudEvent, EventType, make_event, validate_event
from shared.events.signals import SignalRaised


async def raise_once(
    session: AsyncSession,
    kind: str,
    subject: str,
    episode: str,
    *,
    at: datetime,
    facts: dict,
    agent_id: str | None = None,
    team_id: str | None = None,
) -> bool:
    inserted = await session.scalar(
        insert(SignalEpisode)
        .values(kind=kind, subject=subject, episode=episode)
        .on_conflict_do_nothing()
        .returning(SignalEpisode.kind)
    )
    if inserted is None:
        return False
    data = SignalRaised(
        kind=kind,
        episode=f"{kind}:{subject}:{episode}",
        agent_id=agent_id,
        team_id=team_id,
        detected_at=at,
        facts=facts,
    )
    await outbox.add(session, make_event(EventType.SIGNAL_RAISED, data, source="metrics"))
    return True


async def track_condition(
    session: AsyncSession,
    kind: str,
    subject: str,
    holds: bool,
    *,
    episode: str,
    at: datetime,
    facts: dict,
    agent_id: str | None = None,
    team_id: str | None = None,
) -> None:
    """Fire when the condition starts to hold; re-arm when it stops."""
    row = await session.get(SignalCondition, (kind, subject), with_for_update=True)
    if row is None:
        row = SignalCondition(kind=kind, subject=subject, active=False)
        session.add(row)
    if holds and not row.active:
        row.active, row.episode = True, episode
        await session.flush()
        await raise_once(
            session,
            kind,
            subject,
            episode,
            at=at,
            facts=facts,
            agent_id=agent_id,
            team_id=team_id,
        )
    elif not holds and row.active:
        row.active = False
    await session.flush()


async def team_at(session: AsyncSession, person_id: str, at: datetime) -> str | None:
    return await session.scalar(
        select(TeamMembership.team_id).where(
            TeamMembership.person_id == person_id,
            TeamMembership.valid_from <= at,
            (TeamMembership.valid_to.is_(None)) | (TeamMembership.valid_to > at),
        )
    )


async def on_batch(
    session: AsyncSession, events: list[CloudEvent], settings: MetricsSettings
) -> None:
    by_type: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        by_type[event.type].append(event)
    for event in by_type[EventType.CALL_TAGGED]:
        await _hard_call(session, event, settings)
    surveyed = sorted({e.data.agent_id for e in by_type[EventType.SURVEY_COMPLETED]})
    if surveyed:
        await _csat(session, surveyed, settings)
    for event in by_type[EventType.QA_EVALUATION_COMPLETED]:
        await _qa_pattern(session, event, settings)
    for event in by_type[EventType.AGENT_LOGGED_IN]:
        await _late_login(session, event.data.agent_id, event.time, settings)
    wrapped = sorted({e.data.agent_id for e in by_type[EventType.CALL_WRAPUP_ENDED]})
    if wrapped:
        await _aht_drift(session, wrapped, settings)


async def _hard_call(session: AsyncSession, event: CloudEvent, settings: MetricsSettings) -> None:
    tags = rules.hard_tags(event.data.tags)
    if not tags:
        return
    agent_id = event.data.agent_id
    team_id = await team_at(session, agent_id, event.time)
    await raise_once(
        session,
        "hard_call",
        agent_id,
        event.data.call_id,
        at=event.time,
        agent_id=agent_id,
        team_id=team_id,
        facts={"call_id": event.data.call_id, "tags": tags},
    )
    window = timedelta(seconds=settings.hard_call_streak_window_s)
    rows = await session.scalars(
        select(CtiEvent.envelope).where(
            CtiEvent.agent_id == agent_id,
            CtiEvent.type == EventType.CALL_TAGGED.value,
            CtiEvent.time > event.time - 2 * window,
            CtiEvent.time <= event.time + 2 * window,
        )
    )
    first_tagged: dict[str, int] = {}
    for tagged in map(validate_event, rows):
        if rules.hard_tags(tagged.data.tags):
            at_us = to_us(tagged.time)
            call = tagged.data.call_id
            first_tagged[call] = min(first_tagged.get(call, at_us), at_us)
    hard = sorted((t, c) for c, t in first_tagged.items())  # a call tagged twice counts once
    for trigger in rules.streak_triggers(
        [t for t, _ in hard],
        window_us=int(window.total_seconds() * 1e6),
        min_count=settings.hard_call_streak_count,
    ):
        calls = [c for t, c in hard if trigger - window.total_seconds() * 1e6 < t <= trigger]
        await raise_once(
            session,
            "hard_call_streak",
            agent_id,
            str(trigger),
            at=from_us(trigger),
            agent_id=agent_id,
            team_id=team_id,
            facts={"calls": calls, "window_minutes": settings.hard_call_streak_window_s // 60},
        )


async def active_subjects(session: AsyncSession, kind: str, subjects: list[str]) -> set[str]:
    """Subjects whose condition currently holds, in one query (most batches change none)."""
    return set(
        await session.scalars(
            select(SignalCondition.subject).where(
                SignalCondition.kind == kind,
                SignalCondition.subject.in_(subjects),
                SignalCondition.active.is_(True),
            )
        )
    )


async def current_teams(session: AsyncSession, person_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        select(TeamMembership.person_id, TeamMembership.team_id).where(
            TeamMembership.person_id.in_(person_ids), TeamMembership.valid_to.is_(None)
        )
    )
    return {person: team for person, team in rows.all() if team is not None}


async def _csat(session: AsyncSession, agent_ids: list[str], settings: MetricsSettings) -> None:
    """Each surveyed agent's last surveys, fetched for the whole batch in one query."""
    recency = (
        func.row_number()
        .over(
            partition_by=CtiEvent.agent_id,
            order_by=(CtiEvent.time.desc(), CtiEvent.event_id.desc()),
        )
        .label("recency")
    )
    ranked = (
        select(CtiEvent.agent_id, CtiEvent.event_id, CtiEvent.time, CtiEvent.envelope, recency)
        .where(CtiEvent.agent_id.in_(agent_ids), CtiEvent.type == EventType.SURVEY_COMPLETED.value)
        .subquery()
    )
    rows = (
        await session.execute(select(ranked).where(ranked.c.recency <= settings.csat_drop_surveys))
    ).all()
    latest: dict[str, list] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.agent_id, -r.recency)):
        latest[row.agent_id].append(row)
    active = await active_subjects(session, "csat_drop", agent_ids)
    teams = await current_teams(session, agent_ids)
    for agent_id in agent_ids:
        surveys = latest.get(agent_id, [])
        scores = [r.envelope["data"]["csat"] for r in surveys]
        holds = rules.csat_dropped(
            scores, window=settings.csat_drop_surveys, threshold=settings.csat_drop_threshold
        )
        if holds == (agent_id in active):
            continue
        await track_condition(
            session,
            "csat_drop",
            agent_id,
            holds,
            episode=surveys[-1].event_id if surveys else "",
            at=surveys[-1].time if surveys else datetime.now(UTC),
            agent_id=agent_id,
            team_id=teams.get(agent_id),
            facts={"last_scores": scores, "threshold": settings.csat_drop_threshold},
        )


async def _qa_pattern(session: AsyncSession, event: CloudEvent, settings: MetricsSettings) -> None:
    team_id = await team_at(session, event.data.agent_id, event.time)
    if team_id is None:
        return
    since = event.time - timedelta(days=settings.qa_pattern_window_days)
    spans = (
        await session.execute(
            select(TeamMembership.person_id, TeamMembership.valid_from, TeamMembership.valid_to)
            .where(TeamMembership.team_id == team_id, TeamMembership.valid_from <= event.time)
            .where((TeamMembership.valid_to.is_(None)) | (TeamMembership.valid_to > since))
        )
    ).all()
    rows = await session.execute(
        select(CtiEvent.agent_id, CtiEvent.time, CtiEvent.envelope).where(
            CtiEvent.type == EventType.QA_EVALUATION_COMPLETED.value,
            CtiEvent.agent_id.in_({person for person, _, _ in spans}),
            CtiEvent.time > since,
            CtiEvent.time <= event.time,
        )
    )
    agents_by_error: dict[str, set[str]] = defaultdict(set)
    for agent_id, at, envelope in rows.all():
        in_team = any(
            p == agent_id and start <= at and (end is None or at < end) for p, start, end in spans
        )
        if in_team:  # the mistake counts for the team the agent was in when it was reviewed
            for error in envelope["data"].get("errors", []):
                agents_by_error[error].add(agent_id)
    for error in event.data.errors:
        agents = sorted(agents_by_error.get(error, ()))
        await track_condition(
            session,
            "team_qa_pattern",
            f"{team_id}:{error}",
            len(agents) >= settings.qa_pattern_agents,
            episode=event.id,
            at=event.time,
            team_id=team_id,
            facts={
                "error_category": error,
                "agents": agents,
                "window_days": settings.qa_pattern_window_days,
            },
        )


async def schedule_for(session: AsyncSession, agent_id: str, day: date) -> list[Planned]:
    schedule = await session.get(PublishedSchedule, (agent_id, day.isoformat()))
    if schedule is None:
        return []
    return [
        Planned(
            a["kind"],
            to_us(datetime.fromisoformat(a["start"])),
            to_us(datetime.fromisoformat(a["end"])),
        )
        for a in schedule.activities
    ]


async def _late_login(
    session: AsyncSession, agent_id: str, at: datetime, settings: MetricsSettings
) -> None:
    day = at.astimezone(ZoneInfo(settings.center_timezone)).date()
    plan = await schedule_for(session, agent_id, day)
    if not plan:
        return
    shift_start = min(p.start for p in plan)
    shift_end = max(p.end for p in plan)
    login = to_us(at)
    earlier = await session.scalar(
        select(func.count())
        .select_from(AgentSegment)
        .where(
            AgentSegment.agent_id == agent_id,
            AgentSegment.end_us > shift_start - 3600 * 1_000_000,
            AgentSegment.start_us < login,
        )
    )
    late_by = login - shift_start
    if earlier or not (settings.late_login_grace_s * 1_000_000 < late_by) or login >= shift_end:
        return
    await raise_once(
        session,
        "late_login",
        agent_id,
        day.isoformat(),
        at=at,
        agent_id=agent_id,
        team_id=await team_at(session, agent_id, at),
        facts={"shift_start": from_us(shift_start).isoformat(), "late_s": late_by / 1e6},
    )


async def _aht_drift(
    session: AsyncSession, agent_ids: list[str], settings: MetricsSettings
) -> None:
    """Rolling AHT of each agent that just handled contacts against their team's median.

    One query for the window's contacts and one for memberships, whatever the batch size.
    """
    now_us = await session.scalar(
        select(func.max(AgentContact.handled_us)).where(AgentContact.agent_id.in_(agent_ids))
    )
    if now_us is None:
        return
    at = from_us(now_us)
    teams = await current_teams(session, agent_ids)
    members = (
        select(TeamMembership.person_id, TeamMembership.team_id)
        .where(TeamMembership.team_id.in_(set(teams.values())), TeamMembership.valid_to.is_(None))
        .subquery()
    )
    since = now_us - settings.aht_drift_window_s * 1_000_000
    handle = AgentContact.talk_us + AgentContact.hold_us + AgentContact.acw_us
    rows = (
        await session.execute(
            select(AgentContact.agent_id, members.c.team_id, handle)
            .join(members, members.c.person_id == AgentContact.agent_id, isouter=True)
            .where(AgentContact.handled_us > since, AgentContact.handled_us <= now_us)
            .where((members.c.team_id.is_not(None)) | AgentContact.agent_id.in_(agent_ids))
        )
    ).all()
    by_agent: dict[str, list[float]] = defaultdict(list)
    by_team: dict[str, list[float]] = defaultdict(list)
    for who, team, us in rows:
        by_agent[who].append(us / 1e6)
        if team is not None:
            by_team[team].append(us / 1e6)
    active = await active_subjects(session, "aht_drift", agent_ids)
    for agent_id in agent_ids:
        team_id = teams.get(agent_id)
        holds, aht, median = rules.aht_drifted(
            by_agent.get(agent_id, []),
            by_team.get(team_id, []) if team_id else [],
            factor=settings.aht_drift_factor,
            min_contacts=settings.aht_drift_min_contacts,
        )
        if holds == (agent_id in active):
            continue  # nothing starts or ends: no write
        await track_condition(
            session,
            "aht_drift",
            agent_id,
            holds,
            episode=str(now_us),
            at=at,
            agent_id=agent_id,
            team_id=team_id,
            facts={
                "rolling_aht_s": aht,
                "team_median_s": median,
                "contacts": len(by_agent.get(agent_id, [])),
                "window_minutes": settings.aht_drift_window_s // 60,
            },
        )


async def scan(session: AsyncSession, settings: MetricsSettings, now: datetime) -> None:
    """Time-driven rules: long aux, absence and adherence breaches as of ``now``."""
    now_us = to_us(now)
    day = now.astimezone(ZoneInfo(settings.center_timezone)).date()
    snapshots = {s.agent_id: s for s in await session.scalars(select(AgentSnapshot))}
    for agent_id, snapshot in snapshots.items():
        state = snapshot.state
        in_aux = state["state"] == "aux" and state.get("since") is not None
        reason = state.get("reason") or "unspecified"
        limit = rules.long_aux_threshold_s(
            reason, settings.long_aux_thresholds_s, settings.long_aux_default_s
        )
        holds = in_aux and now_us - state["since"] > limit * 1_000_000
        await track_condition(
            session,
            "long_aux",
            agent_id,
            holds,
            episode=str(state.get("since")),
            at=now,
            agent_id=agent_id,
            team_id=await team_at(session, agent_id, now),
            facts={
                "reason": reason,
                "since": from_us(state["since"]).isoformat() if in_aux else None,
                "threshold_s": limit,
            },
        )
    schedules = await session.scalars(
        select(PublishedSchedule).where(PublishedSchedule.day == day.isoformat())
    )
    for schedule in schedules:
        plan = await schedule_for(session, schedule.agent_id, day)
        if plan:
            await _absence_and_adherence(
                session, schedule.agent_id, plan, snapshots.get(schedule.agent_id), now, settings
            )


async def _absence_and_adherence(
    session: AsyncSession,
    agent_id: str,
    plan: list[Planned],
    snapshot: AgentSnapshot | None,
    now: datetime,
    settings: MetricsSettings,
) -> None:
    now_us = to_us(now)
    shift_start, shift_end = min(p.start for p in plan), max(p.end for p in plan)
    state = snapshot.state if snapshot else {"state": "logged_out"}
    logged_in_now = state["state"] != "logged_out"
    seen = await session.scalar(
        select(func.count())
        .select_from(AgentSegment)
        .where(
            AgentSegment.agent_id == agent_id,
            AgentSegment.end_us > shift_start,
            AgentSegment.start_us < now_us,
        )
    )
    team_id = await team_at(session, agent_id, now)
    if shift_start + settings.absent_after_s * 1_000_000 <= now_us < shift_end and not (
        seen or logged_in_now
    ):
        await raise_once(
            session,
            "absent",
            agent_id,
            from_us(shift_start).date().isoformat(),
            at=now,
            agent_id=agent_id,
            team_id=team_id,
            facts={
                "shift_start": from_us(shift_start).isoformat(),
                "minutes_into_shift": (now_us - shift_start) // 60_000_000,
            },
        )
    current = next((p for p in plan if p.start <= now_us < p.end), None)
    if current is None or not (seen or logged_in_now):  # no shift started: "absent" covers it
        await track_condition(
            session, "adherence_breach", agent_id, False, episode="", at=now, facts={}
        )
        return
    segment = (
        Segment(state["since"], now_us, state["state"], state.get("reason"))
        if logged_in_now and state.get("since") is not None
        else None
    )
    out_since = max(current.start, state.get("since") or current.start)
    granted = await granted_breaks(session, agent_id, out_since, now_us + 1)
    if segment is not None and segment.reason == "care_break":
        # A granted care break is adherent time: out of adherence only from its end.
        out_since = max([out_since, *(end for _, end in granted if end <= now_us)])
    holds = (
        not matches(current.kind, segment)
        and not in_granted_break(segment, now_us, granted)
        and now_us - out_since > settings.adherence_breach_s * 1_000_000
    )
    await track_condition(
        session,
        "adherence_breach",
        agent_id,
        holds,
        episode=f"{current.start}:{out_since}",
        at=now,
        agent_id=agent_id,
        team_id=team_id,
        facts={
            "scheduled": current.kind,
            "actual": state["state"],
            "reason": state.get("reason"),
            "out_since": from_us(out_since).isoformat(),
        },
    )
