"""Builders of canonical CTI events for the metrics tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from shared.events import PAYLOADS, CloudEvent, EventType

DAY = datetime(2026, 11, 23, tzinfo=UTC)
_ids = itertools.count()


def at(clock: str, day: datetime = DAY) -> datetime:
    """``"09:01:30"`` (or ``"09:01"``) on the test day, UTC."""
    parts = [int(p) for p in clock.split(":")]
    hours, minutes, secs = [*parts, 0, 0][:3]
    return day + timedelta(hours=hours, minutes=minutes, seconds=secs)


def event(type_: EventType, clock: str | datetime, *, id: str | None = None, **data) -> CloudEvent:
    when = at(clock) if isinstance(clock, str) else clock
    payload = PAYLOADS[type_].model_validate(data)
    return CloudEvent(
        id=id or f"e{next(_ids)}",
        type=type_.value,
        source="test",
        time=when,
        subject=data.get("agent_id"),
        data=payload,
    )


def agent_events(agent: str = "a1"):
    """Short-hands bound to one agent: ``ev.login("09:00")``, ``ev.answer("09:01", "c1")`` …"""

    class Bound:
        @staticmethod
        def login(clock, **extra):
            return event(EventType.AGENT_LOGGED_IN, clock, agent_id=agent, **extra)

        @staticmethod
        def logout(clock):
            return event(EventType.AGENT_LOGGED_OUT, clock, agent_id=agent)

        @staticmethod
        def aux(clock, reason):
            return event(
                EventType.AGENT_STATE_CHANGED, clock, agent_id=agent, state="aux", reason=reason
            )

        @staticmethod
        def ready(clock):
            return event(EventType.AGENT_STATE_CHANGED, clock, agent_id=agent, state="available")

        @staticmethod
        def answer(clock, call, queue="q1"):
            return event(
                EventType.CALL_ANSWERED, clock, agent_id=agent, call_id=call, queue_id=queue
            )

        @staticmethod
        def hold(clock, call):
            return event(EventType.CALL_HELD, clock, agent_id=agent, call_id=call)

        @staticmethod
        def resume(clock, call):
            return event(EventType.CALL_RESUMED, clock, agent_id=agent, call_id=call)

        @staticmethod
        def end(clock, call):
            return event(EventType.CALL_ENDED, clock, agent_id=agent, call_id=call)

        @staticmethod
        def wrap(clock, call):
            return event(EventType.CALL_WRAPUP_ENDED, clock, agent_id=agent, call_id=call)

        @staticmethod
        def survey(clock, call, csat, fcr=None):
            return event(
                EventType.SURVEY_COMPLETED, clock, agent_id=agent, call_id=call, csat=csat, fcr=fcr
            )

        @staticmethod
        def qa(clock, call, score, errors=()):
            return event(
                EventType.QA_EVALUATION_COMPLETED,
                clock,
                agent_id=agent,
                call_id=call,
                score=score,
                errors=list(errors),
            )

        @staticmethod
        def complaint(clock, escalated=False):
            return event(
                EventType.COMPLAINT_RECEIVED,
                clock,
                agent_id=agent,
                severity="high",
                escalated=escalated,
            )

        @staticmethod
        def tag(clock, call, *tags):
            return event(
                EventType.CALL_TAGGED, clock, agent_id=agent, call_id=call, tags=list(tags)
            )

    return Bound
