"""The simulator: deterministic for a seed, canonical events, agents who follow schedules."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from services.metrics.domain.kpis import agent_buckets, agent_fields
from services.metrics.domain.timeline import replay
from services.metrics.simulator import Activity, DaySimulation, SimAgent
from shared.events import parse_event
from tests.metrics.events import DAY, at


def center(n: int = 12) -> list[SimAgent]:
    agents = []
    for i in range(n):
        start = at("08:00") + timedelta(hours=i % 3)
        plan = (
            Activity("work", start, start + timedelta(hours=2)),
            Activity("break", start + timedelta(hours=2), start + timedelta(hours=2, minutes=15)),
            Activity("work", start + timedelta(hours=2, minutes=15), start + timedelta(hours=4)),
            Activity("lunch", start + timedelta(hours=4), start + timedelta(hours=4, minutes=30)),
            Activity("work", start + timedelta(hours=4, minutes=30), start + timedelta(hours=8)),
        )
        agents.append(SimAgent(f"agent-{i}", "billing" if i % 2 else "tech", plan))
    return agents


def simulate(seed: int = 1):
    return DaySimulation(center(), seed=seed, timezone="UTC").run(DAY, DAY + timedelta(days=1))


def test_same_seed_same_day() -> None:
    first, again = simulate(3), simulate(3)
    assert [e.to_json() for e in first] == [e.to_json() for e in again]
    assert [e.id for e in simulate(4)] != [e.id for e in first]


def test_events_are_canonical_and_calls_complete() -> None:
    events = simulate()
    assert len({e.id for e in events}) == len(events)
    for event in events:
        assert parse_event(event.to_json()) == event
    counts = Counter(e.type for e in events)
    assert counts["cti.call.offered"] > 100
    finished = counts["cti.call.answered"] + counts["cti.call.abandoned"]
    assert counts["cti.call.offered"] == finished
    assert (
        counts["cti.call.answered"] == counts["cti.call.ended"] == counts["cti.call.wrapup_ended"]
    )
    assert counts["cti.call.held"] == counts["cti.call.resumed"]
    assert counts["cti.survey.completed"] > 0 and counts["cti.call.tagged"] > 0


def test_agents_take_their_breaks_and_the_identity_holds() -> None:
    events = simulate()
    agent_events = [e for e in events if getattr(e.data, "agent_id", None) == "agent-0"]
    timeline = replay(agent_events)
    reasons = {s.reason for s in timeline.segments if s.state == "aux"}
    assert {"break", "lunch"} <= reasons
    for bucket in agent_buckets(timeline).values():
        f = agent_fields(bucket)
        parts = f["available_s"] + f["talk_s"] + f["hold_s"] + f["acw_s"] + f["aux_s"]
        assert abs(f["logged_in_s"] - parts) < 1e-6
    assert timeline.state.state == "logged_out"
