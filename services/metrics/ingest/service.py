"""Applying a batch of events: store them, advance each agent's machine, fold queue facts.

Order and duplicates never change a final number:

* the event store and the inbox are idempotent by event id;
* an agent's events newer than its snapshot are applied incrementally; an event older than
  what was applied (late or replayed) triggers recomputation of that agent's timeline from
  the last logout before it (a logout resets the machine, so nothing earlier can change);
* a call's queue facts keep the earliest offer and the earliest outcome, whatever order the
  events arrive in; an outcome whose offer is missing waits for it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import (
    DateTime,
    Text,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.timeline import (
    STATE_EVENTS,
    AgentMachine,
    AgentState,
    OpenContact,
    sort_key,
    to_us,
)
from services.metrics.ingest.bulk import any_of, arrays, insert_from_arrays
from services.metrics.ingest.models import (
    AgentAnswer,
    AgentContact,
    AgentSegment,
    AgentSnapshot,
    CtiEvent,
    PublishedSchedule,
    QueueCall,
    TeamMembership,
)
from services.metrics.settings import MetricsSettings
from services.metrics.signals import service as signals
from shared.events import CloudEvent, EventType, validate_event
from shared.events.roster import PersonSnapshot, SchedulePublished, TeamChanged

OFFERED, ANSWERED = EventType.CALL_OFFERED.value, EventType.CALL_ANSWERED.value
QUEUE_EVENTS = frozenset({OFFERED, ANSWERED, EventType.CALL_ABANDONED.value})
LOGGED_OUT = EventType.AGENT_LOGGED_OUT.value


async def apply_cti_batch(
    session: AsyncSession, events: list[CloudEvent], settings: MetricsSettings | None = None
) -> None:
    """Apply a batch; with ``settings``, also detect the signals its events raise."""
    if not events:
        return
    envelopes = "[" + ",".join(e.model_dump_json() for e in events) + "]"
    await session.execute(
        STORE_AND_FOLD,
        {"envelopes": envelopes} | arrays(QueueCall.__table__, call_facts(events), CALL_FACTS),
    )
    by_agent: dict[str, list[CloudEvent]] = defaultdict(list)
    for event in events:
        if event.type in STATE_EVENTS:
            by_agent[event.data.agent_id].append(event)
    if by_agent:
        await advance_agents(session, by_agent)
    if settings is not None:
        await signals.on_batch(session, events, settings)


def _store_statement() -> Insert:
    """The batch's envelopes, sent as one JSON array, into the event store; the server reads
    the id, type, time and the ids of the data from each (one parameter instead of seven
    arrays of 500 values to encode)."""
    envelope = (
        func.jsonb_array_elements(cast(bindparam("envelopes", type_=Text), JSONB))
        .table_valued(column("value", JSONB))
        .render_derived(name="envelope")
        .c.value
    )
    data = envelope["data"]
    return (
        insert(CtiEvent)
        .from_select(
            ["event_id", "type", "time", "agent_id", "call_id", "queue_id", "envelope"],
            select(
                envelope["id"].astext,
                envelope["type"].astext,
                envelope["time"].astext.cast(DateTime(timezone=True)),
                data["agent_id"].astext,
                data["call_id"].astext,
                data["queue_id"].astext,
                envelope,
            ),
        )
        .on_conflict_do_nothing()
    )


CALL_FACTS = ("call_id", "queue_id", "offered_us", "outcome", "outcome_us", "outcome_event_id")


def call_facts(events: list[CloudEvent]) -> list[dict]:
    """Each call's earliest offer and earliest outcome in ``events`` (ties broken by id)."""
    calls: dict[str, dict] = {}
    queued = sorted((e for e in events if e.type in QUEUE_EVENTS), key=lambda e: (e.time, e.id))
    for event in queued:
        at = to_us(event.time)
        call = calls.setdefault(
            event.data.call_id,
            {
                "call_id": event.data.call_id,
                "queue_id": event.data.queue_id,
                "offered_us": None,
                "outcome": None,
                "outcome_us": None,
                "outcome_event_id": None,
            },
        )
        if event.type == OFFERED:
            if call["offered_us"] is None:
                call["offered_us"] = at
        elif call["outcome_us"] is None:
            call["outcome"] = "answered" if event.type == ANSWERED else "abandoned"
            call["outcome_us"], call["outcome_event_id"] = at, event.id
    return list(calls.values())


def _fold_calls_statement() -> Insert:
    """Upsert call facts keeping the earliest offer and the earliest outcome: LEAST and the
    row comparison make the result independent of the order batches arrive in."""
    stmt = insert_from_arrays(QueueCall.__table__, CALL_FACTS)
    new, old = stmt.excluded, QueueCall.__table__.c
    earlier_outcome = and_(
        new.outcome_us.is_not(None),
        or_(
            old.outcome_us.is_(None),
            tuple_(new.outcome_us, new.outcome_event_id)
            < tuple_(old.outcome_us, old.outcome_event_id),
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["call_id"],
        set_={
            "queue_id": func.coalesce(old.queue_id, new.queue_id),
            "offered_us": func.least(old.offered_us, new.offered_us),
            "outcome": case((earlier_outcome, new.outcome), else_=old.outcome),
            "outcome_us": case((earlier_outcome, new.outcome_us), else_=old.outcome_us),
            "outcome_event_id": case(
                (earlier_outcome, new.outcome_event_id), else_=old.outcome_event_id
            ),
        },
    )


FOLD_CALLS = _fold_calls_statement()
STORE_AND_FOLD = FOLD_CALLS.add_cte(_store_statement().cte("stored"))
"""The batch's events into the store and its call facts folded, in one statement."""


async def fold_queue_facts(session: AsyncSession, events: list[CloudEvent]) -> None:
    """Fold the queue facts of ``events`` into their calls (one upsert)."""
    facts = call_facts(events)
    if facts:
        await session.execute(FOLD_CALLS, arrays(QueueCall.__table__, facts, CALL_FACTS))


SNAPSHOT = AgentSnapshot.__table__.c
SNAPSHOTS_FOR_UPDATE = (
    select(
        SNAPSHOT.agent_id,
        SNAPSHOT.state,
        SNAPSHOT.last_time_us,
        SNAPSHOT.last_order,
        SNAPSHOT.last_event_id,
    )
    .where(any_of(SNAPSHOT.agent_id, "agent_ids"))
    .with_for_update()
)


async def advance_agents(session: AsyncSession, by_agent: dict[str, list[CloudEvent]]) -> None:
    """Advance every agent of a batch; snapshots read and outputs written in one statement
    each."""
    rows = await session.execute(SNAPSHOTS_FOR_UPDATE, {"agent_ids": sorted(by_agent)})
    snapshots = {row.agent_id: row for row in rows}
    outputs = Outputs()
    for agent_id in sorted(by_agent):
        keyed = sorted((sort_key(e), e) for e in {e.id: e for e in by_agent[agent_id]}.values())
        snapshot = snapshots.get(agent_id)
        if snapshot is not None:
            last = (snapshot.last_time_us, snapshot.last_order, snapshot.last_event_id)
            if keyed[0][0] <= last:
                await recompute_agent(session, agent_id, keyed[0][0])
                continue
        machine = AgentMachine(load_state(snapshot.state) if snapshot else None)
        for key, event in keyed:
            machine.apply(event, key)
        outputs.add(agent_id, machine)
    await outputs.write(session)


async def recompute_agent(session: AsyncSession, agent_id: str, late_key: tuple) -> None:
    """Rebuild the agent's timeline from the last logout before ``late_key``."""
    late_time = _from_us(late_key[0])
    logouts = await session.scalars(
        select(CtiEvent.envelope).where(
            CtiEvent.agent_id == agent_id, CtiEvent.type == LOGGED_OUT, CtiEvent.time <= late_time
        )
    )
    checkpoints = [k for k in (sort_key(validate_event(e)) for e in logouts) if k < late_key]
    checkpoint = max(checkpoints, default=None)
    query = select(CtiEvent.envelope).where(
        CtiEvent.agent_id == agent_id, CtiEvent.type.in_(STATE_EVENTS)
    )
    if checkpoint is not None:
        cp = checkpoint[0]
        query = query.where(CtiEvent.time >= _from_us(cp))
        await session.execute(
            delete(AgentSegment).where(
                AgentSegment.agent_id == agent_id, AgentSegment.start_us >= cp
            )
        )
        await session.execute(
            delete(AgentContact).where(
                AgentContact.agent_id == agent_id, AgentContact.handled_us > cp
            )
        )
        await session.execute(
            delete(AgentAnswer).where(
                AgentAnswer.agent_id == agent_id, AgentAnswer.answered_us > cp
            )
        )
    else:
        for model in (AgentSegment, AgentContact, AgentAnswer):
            await session.execute(delete(model).where(model.agent_id == agent_id))
    replayed = sorted((validate_event(e) for e in await session.scalars(query)), key=sort_key)
    machine = AgentMachine()
    for event in replayed:
        if checkpoint is None or sort_key(event) > checkpoint:
            machine.apply(event)
    outputs = Outputs()
    outputs.add(agent_id, machine)
    await outputs.write(session)


SEGMENTS = ("agent_id", "start_us", "end_us", "state", "reason", "call_id")
CONTACTS = ("agent_id", "handled_us", "call_id", "answered_us", "talk_us", "hold_us", "acw_us")
ANSWERS = ("agent_id", "answered_us", "call_id")
SNAPSHOTS = ("agent_id", "state", "last_time_us", "last_order", "last_event_id")


def _write_outputs_statement() -> Insert:
    """Segments, contacts and answers inserted and snapshots upserted, in one statement
    (data-modifying CTEs; an empty array inserts nothing)."""
    tables = AgentSegment.__table__, AgentContact.__table__, AgentAnswer.__table__
    segments = insert_from_arrays(tables[0], SEGMENTS).cte("new_segments")
    contacts = insert_from_arrays(tables[1], CONTACTS).on_conflict_do_nothing().cte("new_contacts")
    answers = insert_from_arrays(tables[2], ANSWERS).on_conflict_do_nothing().cte("new_answers")
    snapshots = insert_from_arrays(AgentSnapshot.__table__, SNAPSHOTS)
    return snapshots.on_conflict_do_update(
        index_elements=["agent_id"],
        set_={name: getattr(snapshots.excluded, name) for name in SNAPSHOTS[1:]}
        | {"updated_at": func.now()},
    ).add_cte(segments, contacts, answers)


WRITE_OUTPUTS = _write_outputs_statement()


class Outputs:
    """What machines produced, written with one statement."""

    def __init__(self) -> None:
        self.segments: list[dict] = []
        self.contacts: list[dict] = []
        self.answers: list[dict] = []
        self.snapshots: list[dict] = []

    def add(self, agent_id: str, machine: AgentMachine) -> None:
        self.segments += [
            {
                "agent_id": agent_id,
                "start_us": s.start,
                "end_us": s.end,
                "state": s.state,
                "reason": s.reason,
                "call_id": s.call_id,
            }
            for s in machine.segments
        ]
        self.contacts += [
            {
                "agent_id": agent_id,
                "handled_us": c.handled_at,
                "call_id": c.call_id,
                "answered_us": c.answered_at,
                "talk_us": c.talk_us,
                "hold_us": c.hold_us,
                "acw_us": c.acw_us,
            }
            for c in machine.contacts
        ]
        self.answers += [
            {"agent_id": agent_id, "answered_us": t, "call_id": c} for t, c in machine.answers
        ]
        state = machine.state
        if state.last_event is not None:
            self.snapshots.append(
                {
                    "agent_id": agent_id,
                    "state": orjson.dumps(dump_state(state)).decode(),
                    "last_time_us": state.last_event[0],
                    "last_order": state.last_event[1],
                    "last_event_id": state.last_event[2],
                }
            )

    async def write(self, session: AsyncSession) -> None:
        if not (self.segments or self.contacts or self.answers or self.snapshots):
            return
        await session.execute(
            WRITE_OUTPUTS,
            arrays(AgentSegment.__table__, self.segments, SEGMENTS)
            | arrays(AgentContact.__table__, self.contacts, CONTACTS)
            | arrays(AgentAnswer.__table__, self.answers, ANSWERS)
            | arrays(AgentSnapshot.__table__, self.snapshots, SNAPSHOTS),
        )


def dump_state(state: AgentState) -> dict:
    """The snapshot's JSON: every field of :class:`AgentState` (``load_state`` reads it)."""
    contact = state.contact
    return {
        "state": state.state,
        "reason": state.reason,
        "since": state.since,
        "contact": None
        if contact is None
        else {
            "call_id": contact.call_id,
            "answered_at": contact.answered_at,
            "talk_us": contact.talk_us,
            "hold_us": contact.hold_us,
            "acw_us": contact.acw_us,
        },
        "after_contact": list(state.after_contact) if state.after_contact else None,
        "last_closed_call": state.last_closed_call,
        "last_event": list(state.last_event) if state.last_event else None,
    }


def load_state(data: dict) -> AgentState:
    contact = data.get("contact")
    return AgentState(
        state=data["state"],
        reason=data.get("reason"),
        since=data.get("since"),
        contact=OpenContact(**contact) if contact else None,
        after_contact=tuple(data["after_contact"]) if data.get("after_contact") else None,
        last_closed_call=data.get("last_closed_call"),
        last_event=tuple(data["last_event"]) if data.get("last_event") else None,
    )


def _from_us(us: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


async def apply_roster_batch(session: AsyncSession, events: list[CloudEvent]) -> None:
    """Team membership over time and the latest published schedules."""
    for event in sorted(events, key=lambda e: (e.time, e.id)):
        data = event.data
        if isinstance(data, TeamChanged):
            for person_id in data.joined:
                await set_team(session, person_id, data.team_id, event.time)
            for person_id in data.left:
                await set_team(session, person_id, None, event.time, only_if_team=data.team_id)
        elif isinstance(data, PersonSnapshot) and event.type == EventType.PERSON_CREATED:
            if data.team_id:
                await set_first_team(session, data, event.time)
        elif isinstance(data, SchedulePublished):
            await store_schedule(session, data)
    await session.flush()


async def set_team(
    session: AsyncSession,
    person_id: str,
    team_id: str | None,
    at: datetime,
    *,
    only_if_team: str | None = None,
) -> None:
    current = await session.scalar(
        select(TeamMembership)
        .where(TeamMembership.person_id == person_id, TeamMembership.valid_to.is_(None))
        .with_for_update()
    )
    if current is not None:
        if only_if_team is not None and current.team_id != only_if_team:
            return
        if current.team_id == team_id:
            return
        current.valid_to = at
    if team_id is not None:
        existing = await session.get(TeamMembership, (person_id, at))
        if existing is None:
            session.add(TeamMembership(person_id=person_id, valid_from=at, team_id=team_id))
    await session.flush()


async def set_first_team(session: AsyncSession, person: PersonSnapshot, at: datetime) -> None:
    """A person entered with a team has been in it since they were hired.

    Roster records are often keyed in after the fact; counting the team's figures only from
    the moment of data entry would drop the person's earlier work from their team.
    """
    hired = (
        datetime.combine(person.hire_date, datetime.min.time(), tzinfo=UTC)
        if person.hire_date
        else at
    )
    since = min(hired, at)
    rows = list(
        await session.scalars(
            select(TeamMembership).where(TeamMembership.person_id == person.person_id)
        )
    )
    if any(r.team_id != person.team_id for r in rows):
        return  # later moves are already known; they stand as they are
    for row in rows:
        if row.valid_to is None and row.valid_from > since:
            await session.delete(row)
            await session.flush()
    if not await session.get(TeamMembership, (person.person_id, since)):
        current = next((r for r in rows if r.valid_to is None and r.valid_from <= since), None)
        if current is None:
            session.add(
                TeamMembership(person_id=person.person_id, valid_from=since, team_id=person.team_id)
            )
    await session.flush()


async def store_schedule(session: AsyncSession, data: SchedulePublished) -> None:
    values = {
        "agent_id": data.agent_id,
        "day": data.day.isoformat(),
        "version": data.version,
        "timezone": data.timezone,
        "activities": [a.model_dump(mode="json") for a in data.activities],
    }
    await session.execute(
        insert(PublishedSchedule)
        .values(values)
        .on_conflict_do_update(
            index_elements=["agent_id", "day"],
            set_=values,
            where=PublishedSchedule.version < data.version,
        )
    )
