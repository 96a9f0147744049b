"""Detecting signals and publishing them through the outbox, once per episode.

Event-driven rules run inside the batch that brought their facts (hard calls and streaks,
CSAT drops, QA patterns, late logins, AHT drift); time-driven ones (long aux, absence,
adherence breach) run in a periodic scan. Both fire through :func:`raise_once` /
:func:`track_condition`, so neither a redelivered batch, a second replica nor the next scan
repeats an episode.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ARRAY,
    BigInteger,
    DateTime,
    Integer,
    Select,
    Text,
    bindparam,
    column,
    func,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.db import outbox
from services.metrics.domain.adherence import Planned, in_granted_break, matches
from services.metrics.domain.timeline import Segment, from_us, to_us
from services.metrics.ingest.bulk import any_of, arrays, insert_from_arrays
from services.metrics.ingest.care_breaks import granted_breaks_of
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
from shared.events import CloudEvent, EventType, make_event
from shared.events.signals import SignalRaised


@dataclass(frozen=True)
class Signal:
    """A signal about to be raised; ``(kind, subject, episode)`` is its once-only key."""

    kind: str
    subject: str
    episode: str
    at: datetime
    facts: dict
    agent_id: str | None = None
    team_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.subject, self.episode


EPISODE_KEY = ("kind", "subject", "episode")
INSERT_EPISODES = (
    insert_from_arrays(SignalEpisode.__table__, EPISODE_KEY)
    .on_conflict_do_nothing()
    .returning(*(SignalEpisode.__table__.c[name] for name in EPISODE_KEY))
)


async def raise_all(session: AsyncSession, candidates: list[Signal]) -> list[Signal]:
    """Raise every episode never signalled before, in one statement; returns those raised."""
    unique: dict[tuple[str, str, str], Signal] = {}
    for candidate in candidates:
        unique.setdefault(candidate.key, candidate)
    if not unique:
        return []
    rows = [{"kind": k, "subject": s, "episode": e} for k, s, e in unique]
    inserted = await session.execute(
        INSERT_EPISODES, arrays(SignalEpisode.__table__, rows, EPISODE_KEY)
    )
    fresh = {tuple(row) for row in inserted}
    raised = [signal for key, signal in unique.items() if key in fresh]
    if raised:
        await outbox.add(session, *(signal_event(s) for s in raised))
    return raised


def signal_event(signal: Signal) -> CloudEvent:
    data = SignalRaised(
        kind=signal.kind,
        episode=":".join(signal.key),
        agent_id=signal.agent_id,
        team_id=signal.team_id,
        detected_at=signal.at,
        facts=signal.facts,
    )
    return make_event(EventType.SIGNAL_RAISED, data, source="metrics")


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
    signal = Signal(kind, subject, episode, at, facts, agent_id, team_id)
    return bool(await raise_all(session, [signal]))


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


class Memberships:
    """Who was in which team when, for a set of people, read in one query."""

    def __init__(self, spans: list[tuple[str, datetime, datetime | None, str | None]]) -> None:
        self._by_person: dict[str, list[tuple[datetime, datetime | None, str | None]]] = (
            defaultdict(list)
        )
        for person_id, valid_from, valid_to, team_id in spans:
            self._by_person[person_id].append((valid_from, valid_to, team_id))

    QUERY = select(
        TeamMembership.person_id,
        TeamMembership.valid_from,
        TeamMembership.valid_to,
        TeamMembership.team_id,
    ).where(any_of(TeamMembership.person_id, "person_ids"))

    @classmethod
    async def load(cls, session: AsyncSession, person_ids: Iterable[str]) -> Memberships:
        rows = await session.execute(cls.QUERY, {"person_ids": sorted(set(person_ids))})
        return cls([tuple(row) for row in rows])

    def team_at(self, person_id: str, at: datetime) -> str | None:
        for valid_from, valid_to, team_id in self._by_person.get(person_id, ()):
            if valid_from <= at and (valid_to is None or valid_to > at):
                return team_id
        return None


async def on_batch(
    session: AsyncSession, events: list[CloudEvent], settings: MetricsSettings
) -> None:
    """The event-driven rules, each with a fixed number of queries whatever the batch size."""
    by_type: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        by_type[event.type].append(event)
    tagged = by_type[EventType.CALL_TAGGED]
    evaluated = by_type[EventType.QA_EVALUATION_COMPLETED]
    logins = by_type[EventType.AGENT_LOGGED_IN]
    people = {e.data.agent_id for e in (*tagged, *evaluated, *logins)}
    teams = await Memberships.load(session, people) if people else Memberships([])
    if tagged:
        await _hard_calls(session, tagged, teams, settings)
    surveyed = sorted({e.data.agent_id for e in by_type[EventType.SURVEY_COMPLETED]})
    if surveyed:
        await _csat(session, surveyed, settings)
    if evaluated:
        await _qa_patterns(session, evaluated, teams, settings)
    if logins:
        await _late_logins(session, logins, teams, settings)
    wrapped = sorted({e.data.agent_id for e in by_type[EventType.CALL_WRAPUP_ENDED]})
    if wrapped:
        await _aht_drift(session, wrapped, settings)


AFTER = bindparam("after", type_=DateTime(timezone=True))
UNTIL = bindparam("until", type_=DateTime(timezone=True))
TAGS_OF_AGENTS = select(
    CtiEvent.agent_id, CtiEvent.time, CtiEvent.call_id, CtiEvent.envelope["data"]["tags"]
).where(
    any_of(CtiEvent.agent_id, "agent_ids"),
    CtiEvent.type == EventType.CALL_TAGGED.value,
    CtiEvent.time > AFTER,
    CtiEvent.time <= UNTIL,
)


async def _hard_calls(
    session: AsyncSession, tagged: list[CloudEvent], teams: Memberships, settings: MetricsSettings
) -> None:
    """A hard call fires once per call; a streak once per spell of the agent's hard calls.

    Each tagged event looks at the agent's hard calls within two windows either side of it;
    the agents' tags over the batch's whole span are read in one query.
    """
    hard = [(event, tags) for event in tagged if (tags := rules.hard_tags(event.data.tags))]
    if not hard:
        return
    window = timedelta(seconds=settings.hard_call_streak_window_s)
    window_us = settings.hard_call_streak_window_s * 1_000_000
    rows = await session.execute(
        TAGS_OF_AGENTS,
        {
            "agent_ids": sorted({e.data.agent_id for e, _ in hard}),
            "after": min(e.time for e, _ in hard) - 2 * window,
            "until": max(e.time for e, _ in hard) + 2 * window,
        },
    )
    hard_by_agent: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for agent_id, at, call_id, tags in rows:
        if rules.hard_tags(tags):
            hard_by_agent[agent_id].append((at, call_id))
    candidates = []
    for event, tags in hard:
        agent_id, call_id = event.data.agent_id, event.data.call_id
        team_id = teams.team_at(agent_id, event.time)
        candidates.append(
            Signal(
                "hard_call",
                agent_id,
                call_id,
                event.time,
                {"call_id": call_id, "tags": tags},
                agent_id,
                team_id,
            )
        )
        first_tagged: dict[str, int] = {}
        for at, call in hard_by_agent[agent_id]:
            if event.time - 2 * window < at <= event.time + 2 * window:
                first_tagged[call] = min(first_tagged.get(call, to_us(at)), to_us(at))
        calls = sorted((t, c) for c, t in first_tagged.items())  # tagged twice counts once
        for trigger in rules.streak_triggers(
            [t for t, _ in calls], window_us=window_us, min_count=settings.hard_call_streak_count
        ):
            candidates.append(
                Signal(
                    "hard_call_streak",
                    agent_id,
                    str(trigger),
                    from_us(trigger),
                    {
                        "calls": [c for t, c in calls if trigger - window_us < t <= trigger],
                        "window_minutes": settings.hard_call_streak_window_s // 60,
                    },
                    agent_id,
                    team_id,
                )
            )
    await raise_all(session, candidates)


ACTIVE_SUBJECTS = select(SignalCondition.subject).where(
    SignalCondition.kind == bindparam("kind"),
    any_of(SignalCondition.subject, "subjects"),
    SignalCondition.active.is_(True),
)


async def active_subjects(session: AsyncSession, kind: str, subjects: list[str]) -> set[str]:
    """Subjects whose condition currently holds, in one query (most batches change none)."""
    return set(await session.scalars(ACTIVE_SUBJECTS, {"kind": kind, "subjects": subjects}))


CURRENT_TEAMS = select(TeamMembership.person_id, TeamMembership.team_id).where(
    any_of(TeamMembership.person_id, "person_ids"), TeamMembership.valid_to.is_(None)
)


async def current_teams(session: AsyncSession, person_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(CURRENT_TEAMS, {"person_ids": person_ids})
    return {person: team for person, team in rows if team is not None}


def _latest_surveys_statement() -> Select:
    """The last ``:count`` surveys of each of ``:agent_ids``: a few entries of the surveys'
    partial index per agent, whatever the length of its history."""
    agents = (
        func.unnest(bindparam("agent_ids", type_=ARRAY(Text)))
        .table_valued(column("agent_id", Text))
        .render_derived(name="agents")
    )
    latest = (
        select(
            CtiEvent.event_id,
            CtiEvent.time,
            CtiEvent.envelope["data"]["csat"].astext.cast(Integer).label("csat"),
        )
        .where(
            CtiEvent.agent_id == agents.c.agent_id,
            CtiEvent.type == EventType.SURVEY_COMPLETED.value,
        )
        .order_by(CtiEvent.time.desc(), CtiEvent.event_id.desc())
        .limit(bindparam("count"))
        .lateral("latest")
    )
    return select(agents.c.agent_id, latest.c.event_id, latest.c.time, latest.c.csat).select_from(
        agents.join(latest, true())
    )


LATEST_SURVEYS = _latest_surveys_statement()


async def _csat(session: AsyncSession, agent_ids: list[str], settings: MetricsSettings) -> None:
    """Each surveyed agent's last surveys, fetched for the whole batch in one query."""
    rows = (
        await session.execute(
            LATEST_SURVEYS, {"agent_ids": agent_ids, "count": settings.csat_drop_surveys}
        )
    ).all()
    latest: dict[str, list] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.agent_id, r.time, r.event_id)):  # oldest first
        latest[row.agent_id].append(row)
    active = await active_subjects(session, "csat_drop", agent_ids)
    teams = await current_teams(session, agent_ids)
    for agent_id in agent_ids:
        surveys = latest.get(agent_id, [])
        scores = [r.csat for r in surveys]
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


TEAM_SPANS = select(
    TeamMembership.team_id,
    TeamMembership.person_id,
    TeamMembership.valid_from,
    TeamMembership.valid_to,
).where(any_of(TeamMembership.team_id, "team_ids"))
REVIEWS_OF_AGENTS = select(
    CtiEvent.agent_id, CtiEvent.time, CtiEvent.envelope["data"]["errors"]
).where(
    CtiEvent.type == EventType.QA_EVALUATION_COMPLETED.value,
    any_of(CtiEvent.agent_id, "agent_ids"),
    CtiEvent.time > AFTER,
    CtiEvent.time <= UNTIL,
)


async def _qa_patterns(
    session: AsyncSession,
    evaluations: list[CloudEvent],
    teams: Memberships,
    settings: MetricsSettings,
) -> None:
    """The same QA error for enough agents of one team within the window.

    Each evaluation counts the reviews of its team's members over the window before it (a
    mistake counts for the team the agent was in when it was reviewed); spans and reviews of
    every team in the batch are read in two queries.
    """
    teamed = [(e, team) for e in evaluations if (team := teams.team_at(e.data.agent_id, e.time))]
    if not teamed:
        return
    window = timedelta(days=settings.qa_pattern_window_days)
    team_ids = sorted({team for _, team in teamed})
    spans = (await session.execute(TEAM_SPANS, {"team_ids": team_ids})).all()
    reviews = (
        await session.execute(
            REVIEWS_OF_AGENTS,
            {
                "agent_ids": sorted({person for _, person, _, _ in spans}),
                "after": min(e.time for e, _ in teamed) - window,
                "until": max(e.time for e, _ in teamed),
            },
        )
    ).all()
    subjects = sorted({f"{team}:{error}" for e, team in teamed for error in e.data.errors})
    active = await active_subjects(session, "team_qa_pattern", subjects)
    members: dict[str, list[tuple[str, datetime, datetime | None]]] = defaultdict(list)
    for team, person, start, end in spans:
        members[team].append((person, start, end))
    for event, team_id in teamed:
        since = event.time - window
        agents_by_error: dict[str, set[str]] = defaultdict(set)
        for agent_id, at, errors in reviews:
            in_team = any(  # the mistake counts for the team the agent was in at the review
                person == agent_id and start <= at and (end is None or at < end)
                for person, start, end in members[team_id]
            )
            if since < at <= event.time and in_team:
                for error in errors or ():
                    agents_by_error[error].add(agent_id)
        for error in event.data.errors:
            agents = sorted(agents_by_error.get(error, ()))
            subject = f"{team_id}:{error}"
            holds = len(agents) >= settings.qa_pattern_agents
            if holds == (subject in active):
                continue
            await track_condition(
                session,
                "team_qa_pattern",
                subject,
                holds,
                episode=event.id,
                at=event.time,
                team_id=team_id,
                facts={
                    "error_category": error,
                    "agents": agents,
                    "window_days": settings.qa_pattern_window_days,
                },
            )
            if holds:
                active.add(subject)
            else:
                active.discard(subject)


def planned(activities: list[dict]) -> list[Planned]:
    return [
        Planned(
            a["kind"],
            to_us(datetime.fromisoformat(a["start"])),
            to_us(datetime.fromisoformat(a["end"])),
        )
        for a in activities
    ]


SCHEDULES_OF_DAYS = select(
    PublishedSchedule.agent_id, PublishedSchedule.day, PublishedSchedule.activities
).where(any_of(PublishedSchedule.agent_id, "agent_ids"), any_of(PublishedSchedule.day, "days"))


def _logged_in_between_statement() -> Select:
    """Which ``(agent, until)`` of the arrays had a segment ending after ``since``, before
    ``until``: the last segment that started before ``until`` tells, timelines never overlap."""
    checks = (
        func.unnest(
            bindparam("agent_ids", type_=ARRAY(Text)),
            bindparam("since", type_=ARRAY(BigInteger)),
            bindparam("until", type_=ARRAY(BigInteger)),
        )
        .table_valued(
            column("agent_id", Text), column("since", BigInteger), column("until", BigInteger)
        )
        .render_derived(name="checks")
    )
    last_end = (
        select(AgentSegment.end_us)
        .where(AgentSegment.agent_id == checks.c.agent_id, AgentSegment.start_us < checks.c.until)
        .order_by(AgentSegment.start_us.desc())
        .limit(1)
        .scalar_subquery()
    )
    return select(checks.c.agent_id, checks.c.until).where(last_end > checks.c.since)


LOGGED_IN_BETWEEN = _logged_in_between_statement()


async def _late_logins(
    session: AsyncSession, logins: list[CloudEvent], teams: Memberships, settings: MetricsSettings
) -> None:
    """A login after the start of the day's published shift, with no earlier session in it.

    Schedules come in one query and "was the agent logged in from an hour before the shift
    until this login" in another.
    """
    zone = ZoneInfo(settings.center_timezone)
    days = {e.id: e.time.astimezone(zone).date().isoformat() for e in logins}
    schedules = await session.execute(
        SCHEDULES_OF_DAYS,
        {
            "agent_ids": sorted({e.data.agent_id for e in logins}),
            "days": sorted(set(days.values())),
        },
    )
    plans = {(agent_id, day): planned(activities) for agent_id, day, activities in schedules}
    due = []
    for event in logins:
        plan = plans.get((event.data.agent_id, days[event.id]))
        if plan:
            shift_start, shift_end = min(p.start for p in plan), max(p.end for p in plan)
            login = to_us(event.time)
            late_by = login - shift_start
            if settings.late_login_grace_s * 1_000_000 < late_by and login < shift_end:
                due.append((event, shift_start, login, late_by))
    if not due:
        return
    earlier = {
        (agent_id, login)
        for agent_id, login in await session.execute(
            LOGGED_IN_BETWEEN,
            {
                "agent_ids": [e.data.agent_id for e, _, _, _ in due],
                "since": [start - 3600 * 1_000_000 for _, start, _, _ in due],
                "until": [login for _, _, login, _ in due],
            },
        )
    }
    await raise_all(
        session,
        [
            Signal(
                "late_login",
                event.data.agent_id,
                days[event.id],
                event.time,
                {"shift_start": from_us(shift_start).isoformat(), "late_s": late_by / 1e6},
                event.data.agent_id,
                teams.team_at(event.data.agent_id, event.time),
            )
            for event, shift_start, login, late_by in due
            if (event.data.agent_id, login) not in earlier
        ],
    )


LATEST_CONTACT = select(func.max(AgentContact.handled_us)).where(
    any_of(AgentContact.agent_id, "agent_ids")
)
TEAMMATES = select(TeamMembership.person_id, TeamMembership.team_id).where(
    TeamMembership.valid_to.is_(None),
    TeamMembership.team_id.in_(
        select(TeamMembership.team_id).where(
            any_of(TeamMembership.person_id, "agent_ids"), TeamMembership.valid_to.is_(None)
        )
    ),
)
"""The current members of the current teams of ``:agent_ids``."""
HANDLE_TIMES = (
    select(
        AgentContact.agent_id,
        func.array_agg(AgentContact.talk_us + AgentContact.hold_us + AgentContact.acw_us),
    )
    .where(any_of(AgentContact.agent_id, "agent_ids"))
    .where(
        AgentContact.handled_us > bindparam("since", type_=BigInteger),
        AgentContact.handled_us <= bindparam("until", type_=BigInteger),
    )
    .group_by(AgentContact.agent_id)
)


async def _aht_drift(
    session: AsyncSession, agent_ids: list[str], settings: MetricsSettings
) -> None:
    """Rolling AHT of each agent that just handled contacts against their team's median.

    Three queries whatever the batch size: the latest contact, the teams' current members,
    and the window's handle times per agent (over the primary key, agent by agent).
    """
    now_us = await session.scalar(LATEST_CONTACT, {"agent_ids": agent_ids})
    if now_us is None:
        return
    at = from_us(now_us)
    rows = await session.execute(TEAMMATES, {"agent_ids": agent_ids})
    members = {person_id: team_id for person_id, team_id in rows}
    handles = await session.execute(
        HANDLE_TIMES,
        {
            "agent_ids": sorted(set(agent_ids) | set(members)),
            "since": now_us - settings.aht_drift_window_s * 1_000_000,
            "until": now_us,
        },
    )
    by_agent: dict[str, list[float]] = {}
    by_team: dict[str, list[float]] = defaultdict(list)
    for who, agent_handles in handles:
        by_agent[who] = [us / 1e6 for us in agent_handles]
        if who in members:
            by_team[members[who]] += by_agent[who]
    active = await active_subjects(session, "aht_drift", agent_ids)
    for agent_id in agent_ids:
        team_id = members.get(agent_id)
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


SNAPSHOT_STATES = select(AgentSnapshot.__table__.c.agent_id, AgentSnapshot.__table__.c.state)
SCHEDULES_OF_DAY = select(PublishedSchedule.agent_id, PublishedSchedule.activities).where(
    PublishedSchedule.day == bindparam("day")
)


async def scan(session: AsyncSession, settings: MetricsSettings, now: datetime) -> None:
    """Time-driven rules: long aux, absence and adherence breaches as of ``now``.

    A fixed number of queries per scan, whatever the number of agents; a condition is only
    written when it starts or stops holding.
    """
    now_us = to_us(now)
    day = now.astimezone(ZoneInfo(settings.center_timezone)).date()
    states: dict[str, dict] = {
        agent_id: state for agent_id, state in await session.execute(SNAPSHOT_STATES)
    }
    on_long_aux = await active_subjects(session, "long_aux", sorted(states))
    changed = []
    for agent_id, state in states.items():
        in_aux = state["state"] == "aux" and state.get("since") is not None
        reason = state.get("reason") or "unspecified"
        limit = rules.long_aux_threshold_s(
            reason, settings.long_aux_thresholds_s, settings.long_aux_default_s
        )
        holds = in_aux and now_us - state["since"] > limit * 1_000_000
        if holds != (agent_id in on_long_aux):
            changed.append((agent_id, state, holds, in_aux, reason, limit))
    schedules = await session.execute(SCHEDULES_OF_DAY, {"day": day.isoformat()})
    plans = {agent_id: plan for agent_id, activities in schedules if (plan := planned(activities))}
    people = {agent_id for agent_id, *_ in changed} | set(plans)
    teams = await Memberships.load(session, people) if people else Memberships([])
    for agent_id, state, holds, in_aux, reason, limit in changed:
        await track_condition(
            session,
            "long_aux",
            agent_id,
            holds,
            episode=str(state.get("since")),
            at=now,
            agent_id=agent_id,
            team_id=teams.team_at(agent_id, now),
            facts={
                "reason": reason,
                "since": from_us(state["since"]).isoformat() if in_aux else None,
                "threshold_s": limit,
            },
        )
    if plans:
        await _absence_and_adherence(session, plans, states, teams, now, settings)


async def _absence_and_adherence(
    session: AsyncSession,
    plans: dict[str, list[Planned]],
    states: dict[str, dict],
    teams: Memberships,
    now: datetime,
    settings: MetricsSettings,
) -> None:
    """Absence and adherence of every agent scheduled today, in four queries."""
    now_us = to_us(now)
    agents = sorted(plans)
    shifts = {a: (min(p.start for p in plans[a]), max(p.end for p in plans[a])) for a in agents}
    seen = {
        agent_id
        for agent_id, _ in await session.execute(
            LOGGED_IN_BETWEEN,
            {
                "agent_ids": agents,
                "since": [shifts[a][0] for a in agents],
                "until": [now_us] * len(agents),
            },
        )
    }
    in_breach = await active_subjects(session, "adherence_breach", agents)
    absent, working = [], []
    for agent_id in agents:
        shift_start, shift_end = shifts[agent_id]
        state = states.get(agent_id, {"state": "logged_out"})
        logged_in_now = state["state"] != "logged_out"
        present = agent_id in seen or logged_in_now
        if shift_start + settings.absent_after_s * 1_000_000 <= now_us < shift_end and not present:
            absent.append(
                Signal(
                    "absent",
                    agent_id,
                    from_us(shift_start).date().isoformat(),
                    now,
                    {
                        "shift_start": from_us(shift_start).isoformat(),
                        "minutes_into_shift": (now_us - shift_start) // 60_000_000,
                    },
                    agent_id,
                    teams.team_at(agent_id, now),
                )
            )
        current = next((p for p in plans[agent_id] if p.start <= now_us < p.end), None)
        if current is None or not present:  # no shift started: "absent" covers it
            if agent_id in in_breach:
                await track_condition(
                    session, "adherence_breach", agent_id, False, episode="", at=now, facts={}
                )
            continue
        segment = (
            Segment(state["since"], now_us, state["state"], state.get("reason"))
            if logged_in_now and state.get("since") is not None
            else None
        )
        working.append((agent_id, current, state, segment))
    await raise_all(session, absent)
    if not working:
        return
    out_since = {a: max(c.start, s.get("since") or c.start) for a, c, s, _ in working}
    granted = await granted_breaks_of(
        session, [a for a, *_ in working], min(out_since.values()), now_us + 1
    )
    for agent_id, current, state, segment in working:
        since = out_since[agent_id]
        breaks = [(s, e) for s, e in granted.get(agent_id, ()) if e > since]
        if segment is not None and segment.reason == "care_break":
            # A granted care break is adherent time: out of adherence only from its end.
            since = max([since, *(end for _, end in breaks if end <= now_us)])
        holds = (
            not matches(current.kind, segment)
            and not in_granted_break(segment, now_us, breaks)
            and now_us - since > settings.adherence_breach_s * 1_000_000
        )
        if holds == (agent_id in in_breach):
            continue
        await track_condition(
            session,
            "adherence_breach",
            agent_id,
            holds,
            episode=f"{current.start}:{since}",
            at=now,
            agent_id=agent_id,
            team_id=teams.team_at(agent_id, now),
            facts={
                "scheduled": current.kind,
                "actual": state["state"],
                "reason": state.get("reason"),
                "out_since": from_us(since).isoformat(),
            },
        )
