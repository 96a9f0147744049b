"""The metrics API over a real database: shapes and field names of DESIGN §4, exact figures,
team sums by membership at the time, real-time state, and who may see what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.metrics.domain.kpis import agent_buckets, agent_fields
from services.metrics.domain.timeline import replay
from services.metrics.ingest.care_breaks import apply_care_batch
from services.metrics.ingest.service import apply_cti_batch, apply_roster_batch
from shared.events import EventType, make_event
from shared.events.care import CareBreakGranted
from shared.events.roster import ScheduledActivity, SchedulePublished, TeamChanged
from tests.metrics.events import DAY, agent_events, at, event

a1 = agent_events("a1")
a2 = agent_events("a2")
AGENT_FIELDS = {
    "logged_in_s",
    "available_s",
    "talk_s",
    "hold_s",
    "acw_s",
    "aux_s",
    "aux_by_reason",
    "answered",
    "handled",
    "handle_s",
    "aht_s",
    "occupancy",
    "utilization",
    "aux_ratio",
    "csat_count",
    "csat_avg",
    "csat_top2",
    "fcr_rate",
    "qa_count",
    "qa_avg",
    "complaints",
    "escalated_complaints",
}


def window(hours: int = 4, granularity: str = "interval") -> dict[str, str]:
    return {
        "start": at("08:00").isoformat(),
        "end": (at("08:00") + timedelta(hours=hours)).isoformat(),
        "granularity": granularity,
    }


def joined(team: str, person: str, minutes_after_midnight: int = 0):
    when = DAY + timedelta(minutes=minutes_after_midnight)
    data = TeamChanged(
        team_id=team,
        name=team,
        lead_id=None,
        member_ids=[person],
        joined=[person],
        effective_at=when,
    )
    return make_event(EventType.TEAM_CHANGED, data, source="roster", time=when)


A1_EVENTS = [
    a1.login("09:00"),
    a1.answer("09:05", "c1"),
    a1.end("09:09", "c1"),
    a1.wrap("09:10", "c1"),
    a1.aux("09:40", "lunch"),
    a1.survey("09:12", "c1", 5, fcr=True),
    a1.logout("10:10"),
]
A2_EVENTS = [
    a2.login("09:30"),
    a2.answer("09:31", "c2"),
    a2.end("09:35", "c2"),
    a2.wrap("09:36", "c2"),
    a2.logout("09:50"),
]


@pytest.fixture
async def floor(mdb):
    await apply_roster_batch(mdb, [joined("t1", "a1"), joined("t1", "a2")])
    await apply_cti_batch(mdb, A1_EVENTS + A2_EVENTS)


async def test_agent_figures_have_the_contract_shape_and_exact_values(
    metrics_client, metrics_token, floor
) -> None:
    response = await metrics_client.get(
        "/v1/metrics/agents/a1", params=window(), headers=metrics_token("a1", "agent", ["t1"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"agent_id", "start", "end", "granularity", "buckets", "total"}
    assert body["agent_id"] == "a1" and body["granularity"] == "interval"
    assert all(set(b) == AGENT_FIELDS | {"start", "end"} for b in body["buckets"])
    timeline = replay(A1_EVENTS)
    quality = [e for e in A1_EVENTS if e.type == "cti.survey.completed"]
    expected = {k: agent_fields(v) for k, v in agent_buckets(timeline, quality).items()}
    assert [b["logged_in_s"] for b in body["buckets"]] == [
        f["logged_in_s"] for _, f in sorted(expected.items())
    ]
    total = body["total"]
    assert total["logged_in_s"] == 70 * 60
    assert (total["talk_s"], total["acw_s"], total["handled"], total["aht_s"]) == (
        240.0,
        60.0,
        1,
        300.0,
    )
    assert total["aux_by_reason"] == {"lunch": 30 * 60.0}
    assert (total["csat_count"], total["csat_avg"], total["fcr_rate"]) == (1, 5.0, 1.0)
    assert total["qa_avg"] is None


async def test_day_granularity_rolls_up_by_local_day(metrics_client, metrics_token, floor) -> None:
    body = (
        await metrics_client.get(
            "/v1/metrics/agents/a1",
            params={
                "start": (DAY - timedelta(days=1)).isoformat(),
                "end": (DAY + timedelta(days=2)).isoformat(),
                "granularity": "day",
            },
            headers=metrics_token("ops1", "ops"),
        )
    ).json()
    assert [b["start"][:10] for b in body["buckets"]] == [DAY.date().isoformat()]
    assert body["buckets"][0]["logged_in_s"] == body["total"]["logged_in_s"] == 4200.0


async def test_team_figures_are_sums_of_members(metrics_client, metrics_token, floor) -> None:
    body = (
        await metrics_client.get(
            "/v1/metrics/teams/t1",
            params=window(),
            headers=metrics_token("l1", "team_lead", ["t1"]),
        )
    ).json()
    assert body["total"]["logged_in_s"] == 70 * 60 + 20 * 60
    assert body["total"]["handled"] == 2
    assert body["total"]["aht_s"] == (300 + 300) / 2


async def test_queue_figures(metrics_client, metrics_token, mdb) -> None:
    await apply_cti_batch(
        mdb,
        [
            event(EventType.CALL_OFFERED, "09:00:00", call_id="k1", queue_id="billing"),
            event(
                EventType.CALL_ANSWERED, "09:00:12", call_id="k1", queue_id="billing", agent_id="a1"
            ),
            event(EventType.CALL_OFFERED, "09:01:00", call_id="k2", queue_id="billing"),
            event(EventType.CALL_ABANDONED, "09:01:50", call_id="k2", queue_id="billing"),
        ],
    )
    body = (
        await metrics_client.get(
            "/v1/metrics/queues/billing", params=window(), headers=metrics_token("m", "manager")
        )
    ).json()
    assert body["total"] == {
        "offered": 2,
        "answered": 1,
        "abandoned": 1,
        "short_abandoned": 0,
        "answered_in_sl": 1,
        "asa_s": 12.0,
        "service_level": 0.5,
        "abandon_rate": 0.5,
    }


async def test_access(metrics_client, metrics_token, floor) -> None:
    async def status(path: str, headers) -> int:
        return (await metrics_client.get(path, params=window(), headers=headers)).status_code

    assert await status("/v1/metrics/agents/a1", metrics_token("a2", "agent", ["t1"])) == 404
    assert await status("/v1/metrics/agents/a1", metrics_token("l9", "team_lead", ["t9"])) == 404
    assert await status("/v1/metrics/agents/a1", metrics_token("l1", "team_lead", ["t1"])) == 200
    assert await status("/v1/metrics/agents/a1", metrics_token("q", "qa")) == 200
    assert await status("/v1/metrics/teams/t1", metrics_token("a1", "agent", ["t1"])) == 404
    assert await status("/v1/metrics/teams/t1", metrics_token("l9", "team_lead", ["t9"])) == 404
    assert await status("/v1/metrics/queues/q1", metrics_token("a1", "agent", ["t1"])) == 404
    assert (await metrics_client.get("/v1/metrics/agents/a1", params=window())).status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T09:00:00Z"},
        {"start": "2026-11-23T10:00:00", "end": "2026-11-23T11:00:00Z"},
        {"start": "2026-01-01T00:00:00Z", "end": "2026-11-23T00:00:00Z"},
        {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z", "granularity": "week"},
        {"end": "2026-11-23T11:00:00Z"},
    ],
)
async def test_bad_windows_are_422(metrics_client, metrics_token, params) -> None:
    response = await metrics_client.get(
        "/v1/metrics/agents/a1", params=params, headers=metrics_token("m", "manager")
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_realtime_agents_and_queues(metrics_client, metrics_token, mdb, floor) -> None:
    await apply_cti_batch(
        mdb,
        [
            a2.login("11:00"),
            a2.answer("11:01", "c9"),
            event(EventType.CALL_OFFERED, "11:02:00", call_id="w1", queue_id="billing"),
        ],
    )
    agents = (
        await metrics_client.get(
            "/v1/realtime/agents",
            params={"team_id": "t1"},
            headers=metrics_token("l1", "team_lead", ["t1"]),
        )
    ).json()
    by_id = {a["agent_id"]: a for a in agents}
    assert by_id["a1"]["state"] == "logged_out"
    assert (by_id["a2"]["state"], by_id["a2"]["call_id"], by_id["a2"]["team_id"]) == (
        "talk",
        "c9",
        "t1",
    )
    own = (
        await metrics_client.get(
            "/v1/realtime/agents", headers=metrics_token("a1", "agent", ["t1"])
        )
    ).json()
    assert [a["agent_id"] for a in own] == ["a1"]
    assert (
        await metrics_client.get(
            "/v1/realtime/agents",
            params={"team_id": "t1"},
            headers=metrics_token("a1", "agent", ["t1"]),
        )
    ).status_code == 404
    queues = (
        await metrics_client.get("/v1/realtime/queues", headers=metrics_token("o", "ops"))
    ).json()
    assert isinstance(queues, list)


def schedule(agent: str, version: int, *activities: tuple[str, str, str]):
    data = SchedulePublished(
        schedule_id=f"s-{agent}",
        agent_id=agent,
        team_id="t1",
        day=DAY.date(),
        timezone="UTC",
        version=version,
        activities=[ScheduledActivity(kind=k, start=at(s), end=at(e)) for k, s, e in activities],
    )
    return make_event(EventType.SCHEDULE_PUBLISHED, data, source="roster")


async def test_day_figures_carry_adherence_attendance_and_lateness(
    metrics_client, metrics_token, mdb, floor
) -> None:
    # a1 is logged in 09:00-10:10, on lunch aux from 09:40;
    # scheduled: work 08:50-09:40, lunch 09:40-10:10.
    older = schedule("a1", 1, ("work", "08:00", "09:00"))
    await apply_roster_batch(
        mdb,
        [schedule("a1", 2, ("work", "08:50", "09:40"), ("lunch", "09:40", "10:10")), older],
    )
    params = {
        "start": DAY.isoformat(),
        "end": (DAY + timedelta(days=1)).isoformat(),
        "granularity": "day",
    }
    body = (
        await metrics_client.get(
            "/v1/metrics/agents/a1", params=params, headers=metrics_token("m", "manager")
        )
    ).json()
    [day] = body["buckets"]
    assert day["adherence"] == (40 + 30) / 80  # 10 late minutes out of 80 scheduled
    assert (day["attendance_rate"], day["late_s"]) == (1.0, 600.0)
    assert body["total"]["adherence"] == day["adherence"]
    interval = (
        await metrics_client.get(
            "/v1/metrics/agents/a1",
            params={**params, "granularity": "interval"},
            headers=metrics_token("m", "manager"),
        )
    ).json()
    assert "adherence" not in interval["total"]
    team = (
        await metrics_client.get(
            "/v1/metrics/teams/t1", params=params, headers=metrics_token("m", "manager")
        )
    ).json()
    assert (team["total"]["attendance_rate"], team["total"]["late_s"]) == (1.0, 600.0)
    unscheduled = (
        await metrics_client.get(
            "/v1/metrics/agents/a2", params=params, headers=metrics_token("m", "manager")
        )
    ).json()
    assert unscheduled["total"]["adherence"] is None and unscheduled["total"]["late_s"] is None


async def test_only_a_care_break_granted_through_care_is_sanctioned(
    metrics_client, metrics_token, mdb
) -> None:
    ev = agent_events("b1")
    await apply_cti_batch(
        mdb,
        [
            ev.login("09:00"),
            ev.aux("09:20", "care_break"),
            ev.ready("09:40"),
            ev.logout("10:00"),
        ],
    )
    await apply_roster_batch(mdb, [schedule("b1", 1, ("work", "09:00", "10:00"))])
    params = {
        "start": DAY.isoformat(),
        "end": (DAY + timedelta(days=1)).isoformat(),
        "granularity": "day",
    }

    async def adherence() -> float:
        body = (
            await metrics_client.get(
                "/v1/metrics/agents/b1", params=params, headers=metrics_token("m", "manager")
            )
        ).json()
        return body["total"]["adherence"]

    assert await adherence() == 40 / 60  # taken on the agent's own say-so: unscheduled aux
    granted = CareBreakGranted(
        record_id="r1", agent_id="b1", granted_by="lead", start=at("09:20"), end=at("09:35")
    )
    event = make_event(EventType.CARE_BREAK_GRANTED, granted, source="care")
    await apply_care_batch(mdb, [event, event])  # at-least-once delivery
    assert await adherence() == 55 / 60  # the 5 minutes past the grant still count against
