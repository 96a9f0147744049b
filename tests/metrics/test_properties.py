"""Properties over random event sets: order and duplicates never change a number, and
``logged_in_s = available_s + talk_s + hold_s + acw_s + aux_s`` always holds."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.metrics.domain.kpis import agent_buckets, agent_fields
from services.metrics.domain.timeline import replay
from tests.metrics.events import DAY, agent_events

ev = agent_events("a1")
CALLS = ("c1", "c2", "c3")
ACTIONS = st.one_of(
    st.tuples(st.just("login"), st.none()),
    st.tuples(st.just("logout"), st.none()),
    st.tuples(st.just("aux"), st.sampled_from(("break", "lunch", "care_break"))),
    st.tuples(st.just("ready"), st.none()),
    *(
        st.tuples(st.just(a), st.sampled_from(CALLS))
        for a in ("answer", "hold", "resume", "end", "wrap")
    ),
    st.tuples(st.just("survey"), st.sampled_from(CALLS)),
)


def build(steps):
    events = []
    for offset, (action, arg) in steps:
        when = DAY + timedelta(seconds=offset)
        if action == "aux":
            events.append(ev.aux(when, arg))
        elif action == "survey":
            events.append(ev.survey(when, arg, 4))
        elif arg is None:
            events.append(getattr(ev, action)(when))
        else:
            events.append(getattr(ev, action)(when, arg))
    return events


STEPS = st.lists(
    st.tuples(st.integers(min_value=0, max_value=4 * 3600), ACTIONS), min_size=1, max_size=40
)
UNTIL = DAY + timedelta(hours=5)


def figures(events):
    timeline = replay(events, until=UNTIL)
    quality = [e for e in events if e.type == "cti.survey.completed"]
    return {k: agent_fields(v) for k, v in agent_buckets(timeline, quality).items()}, timeline


@settings(max_examples=300, deadline=None)
@given(STEPS, st.randoms(use_true_random=False))
def test_any_shuffle_with_duplicates_gives_identical_figures(steps, rnd: random.Random) -> None:
    events = build(steps)
    redelivered = events + [rnd.choice(events) for _ in range(rnd.randint(0, len(events)))]
    rnd.shuffle(redelivered)
    assert figures(redelivered)[0] == figures(events)[0]


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_logged_in_is_the_sum_of_its_parts_and_time_is_never_double_counted(steps) -> None:
    by_interval, timeline = figures(build(steps))
    segments = sorted(timeline.segments, key=lambda s: s.start)
    for earlier, later in pairwise(segments):
        assert earlier.end <= later.start
    total_us = sum(s.end - s.start for s in segments)
    logged_in_s = sum(f["logged_in_s"] for f in by_interval.values())
    assert logged_in_s == pytest.approx(total_us / 1e6, abs=1e-6)
    for f in by_interval.values():
        parts = f["available_s"] + f["talk_s"] + f["hold_s"] + f["acw_s"] + f["aux_s"]
        assert abs(f["logged_in_s"] - parts) < 1e-6
        assert abs(f["aux_s"] - sum(f["aux_by_reason"].values())) < 1e-6
        assert f["logged_in_s"] <= 900.0
    handled = sum(c.handle_us for c in timeline.contacts)
    on_contact = sum(s.end - s.start for s in segments if s.state in ("talk", "hold", "acw"))
    assert handled <= on_contact
