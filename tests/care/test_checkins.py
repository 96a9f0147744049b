"""Check-ins: own check-ins only, who reads them, pagination, and the trend maths."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from services.care.app import create_app
from services.care.checkins import service, trend
from services.care.checkins.models import CheckIn
from services.care.directory.service import apply_roster_batch
from shared.auth import Principal, Role
from shared.events import EventType
from tests.care.conftest import T0, person_event
from tests.conftest import wire_app

URL = "/v1/care/checkins"


def checkin(agent_id: str, at: datetime, mood: int, stress: int, note: str | None = None):
    return CheckIn(
        agent_id=agent_id, team_id="T1", mood=mood, stress=stress, note=note, created_at=at
    )


async def add(cdb, *rows: CheckIn) -> None:
    cdb.add_all(rows)
    await cdb.flush()


# --- recording -------------------------------------------------------------------------------


async def test_agent_records_own_checkin(care_client, floor, cdb) -> None:
    before = datetime.now(UTC)
    resp = await care_client.post(
        URL,
        json={"mood": 4, "stress": 2, "note": "calm day", "agent_id": "A2"},
        headers=floor.agent("A1"),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["agent_id"], body["team_id"], body["mood"], body["stress"], body["note"]) == (
        "A1",
        "T1",
        4,
        2,
        "calm day",
    )
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() == timedelta(0)
    assert before <= created <= datetime.now(UTC)
    row = await cdb.get(CheckIn, body["id"])
    assert row is not None and row.agent_id == "A1"  # a body agent_id is ignored
    assert await cdb.scalar(select(func.count()).where(CheckIn.agent_id == "A2")) == 0


async def test_note_is_optional(care_client, floor) -> None:
    resp = await care_client.post(URL, json={"mood": 1, "stress": 5}, headers=floor.agent("B1"))
    assert resp.status_code == 201
    assert (resp.json()["team_id"], resp.json()["note"]) == ("T2", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mood": 0, "stress": 3}, "body.mood"),
        ({"mood": 6, "stress": 3}, "body.mood"),
        ({"mood": 3, "stress": 0}, "body.stress"),
        ({"mood": 3, "stress": 6}, "body.stress"),
        ({"stress": 3}, "body.mood"),
        ({"mood": "good", "stress": 3}, "body.mood"),
        ({"mood": 3, "stress": 3, "note": "x" * 2001}, "body.note"),
    ],
)
async def test_invalid_checkins_are_refused(care_client, floor, cdb, body, field) -> None:
    resp = await care_client.post(URL, json=body, headers=floor.agent("A1"))
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in resp.json()["errors"]]
    assert await cdb.scalar(select(func.count()).select_from(CheckIn)) == 0


async def test_only_current_staff_record(care_client, floor, cdb, token) -> None:
    stranger = await care_client.post(
        URL, json={"mood": 3, "stress": 3}, headers=token("ZZ", "agent", ["T1"])
    )
    assert stranger.status_code == 403
    await apply_roster_batch(
        cdb,
        [
            person_event(
                "A3",
                team_id="T1",
                status="departed",
                at=T0 + timedelta(days=1),
                type_=EventType.PERSON_DEPARTED,
            )
        ],
    )
    departed = await care_client.post(URL, json={"mood": 3, "stress": 3}, headers=floor.agent("A3"))
    assert departed.status_code == 403
    assert departed.headers["content-type"] == "application/problem+json"
    assert await cdb.scalar(select(func.count()).select_from(CheckIn)) == 0


# --- who reads -------------------------------------------------------------------------------

READERS = [
    ("agent self", lambda f: f.agent("A1"), 200),
    ("other agent, same team", lambda f: f.agent("A2"), 404),
    ("agent of another team", lambda f: f.agent("B1", "T2"), 404),
    ("lead of the team", lambda f: f.lead("L1"), 200),
    ("lead of another team", lambda f: f.lead("L2", ("T2",)), 404),
    ("manager", lambda f: f.role("M", "manager"), 200),
    ("admin", lambda f: f.role("AD", "admin"), 200),
    ("ops", lambda f: f.role("OP", "ops"), 404),
    ("qa", lambda f: f.role("QA", "qa"), 404),
    ("trainer", lambda f: f.role("TR", "trainer"), 404),
]


@pytest.mark.parametrize(("who", "headers", "expected"), READERS, ids=[r[0] for r in READERS])
@pytest.mark.parametrize("path", ["", "/trend"])
async def test_access_matrix(care_client, floor, cdb, who, headers, expected, path) -> None:
    await add(cdb, checkin("A1", datetime.now(UTC) - timedelta(hours=1), 2, 4, note="rough"))
    resp = await care_client.get(URL + path, params={"agent_id": "A1"}, headers=headers(floor))
    assert resp.status_code == expected, resp.text
    if expected == 404:
        assert resp.headers["content-type"] == "application/problem+json"
        assert "rough" not in resp.text
    elif path == "":
        [item] = resp.json()["items"]
        assert (item["agent_id"], item["note"]) == ("A1", "rough")  # notes reach leads too
    else:
        assert resp.json()["last"]["mood"] == 2


async def test_unknown_agent_is_404_even_for_a_manager(care_client, floor) -> None:
    resp = await care_client.get(
        URL, params={"agent_id": "nobody"}, headers=floor.role("M", "manager")
    )
    assert resp.status_code == 404


async def test_agent_id_defaults_to_the_caller(care_client, floor, cdb) -> None:
    now = datetime.now(UTC)
    await add(cdb, checkin("A1", now, 3, 3), checkin("A2", now, 1, 1))
    resp = await care_client.get(URL, headers=floor.agent("A2"))
    assert [i["agent_id"] for i in resp.json()["items"]] == ["A2"]
    trend_resp = await care_client.get(URL + "/trend", headers=floor.agent("A2"))
    assert (trend_resp.json()["agent_id"], trend_resp.json()["last"]["mood"]) == ("A2", 1)


async def test_list_is_newest_first_and_pages(care_client, floor, cdb) -> None:
    base = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    # two share a timestamp: the id breaks the tie, so no page skips or repeats one
    times = [base, base + timedelta(hours=1), base + timedelta(hours=1), base + timedelta(days=1)]
    rows = [checkin("A1", at, 3, 3) for at in times] + [checkin("A2", base, 3, 3)]
    await add(cdb, *rows)
    expected = [
        r.id
        for r in sorted(
            (r for r in rows if r.agent_id == "A1"),
            key=lambda r: (r.created_at, r.id),
            reverse=True,
        )
    ]
    seen: list[str] = []
    params = {"agent_id": "A1", "limit": 1}
    while True:
        page = (await care_client.get(URL, params=params, headers=floor.lead())).json()
        seen += [i["id"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == expected
    assert len(seen) == 4


@pytest.mark.parametrize("cursor", ["nonsense!", "WyJ4Il0", "WzEsMl0"])  # ["x"], [1,2]
async def test_bad_cursor_is_422(care_client, floor, cursor) -> None:
    resp = await care_client.get(URL, params={"cursor": cursor}, headers=floor.agent("A1"))
    assert resp.status_code == 422


# --- trend -----------------------------------------------------------------------------------


async def test_trend_on_hand_computed_data(care_client, floor, cdb) -> None:
    today = datetime.now(UTC).date()

    def at(days_ago: int, hour: int) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=UTC)

    await add(
        cdb,
        checkin("A1", at(40, 9), 5, 1),  # outside a 30-day window
        checkin("A1", at(5, 9), 4, 2),
        checkin("A1", at(5, 16), 3, 3),  # day average: mood 3.5, stress 2.5
        checkin("A1", at(2, 9), 2, 4),
        checkin("A1", at(1, 9), 1, 5),
        checkin("A2", at(1, 9), 5, 1),  # someone else
    )
    body = (await care_client.get(URL + "/trend", headers=floor.agent("A1"))).json()
    assert body["agent_id"] == "A1" and body["days"] == 30
    assert body["points"] == [
        {"date": str(today - timedelta(days=5)), "mood": 3.5, "stress": 2.5},
        {"date": str(today - timedelta(days=2)), "mood": 2.0, "stress": 4.0},
        {"date": str(today - timedelta(days=1)), "mood": 1.0, "stress": 5.0},
    ]
    assert body["last"]["mood"] == 1 and body["last"]["stress"] == 5
    assert datetime.fromisoformat(body["last"]["created_at"]) == at(1, 9)
    # last three: moods 3, 2, 1 fall; stress 3, 4, 5 rises
    assert (body["mood_direction"], body["stress_direction"]) == ("falling", "rising")

    wide = (await care_client.get(URL + "/trend?days=45", headers=floor.agent("A1"))).json()
    assert wide["points"][0] == {
        "date": str(today - timedelta(days=40)),
        "mood": 5.0,
        "stress": 1.0,
    }

    short = (await care_client.get(URL + "/trend?days=2", headers=floor.agent("A1"))).json()
    assert [p["date"] for p in short["points"]] == [str(today - timedelta(days=1))]
    assert (short["mood_direction"], short["stress_direction"]) == (None, None)


async def test_trend_without_checkins(care_client, floor) -> None:
    resp = await care_client.get(URL + "/trend", params={"agent_id": "A3"}, headers=floor.lead())
    body = resp.json()
    assert body == {
        "agent_id": "A3",
        "days": 30,
        "points": [],
        "last": None,
        "mood_direction": None,
        "stress_direction": None,
    }


@pytest.mark.parametrize("days", [0, -1, 367, "x"])
async def test_trend_days_is_validated(care_client, floor, days) -> None:
    resp = await care_client.get(URL + "/trend", params={"days": days}, headers=floor.agent("A1"))
    assert resp.status_code == 422


async def test_trend_uses_the_center_time_zone(care_settings, care_engine, cdb, floor) -> None:
    """The route passes the configured zone: 02:00 UTC is the evening before in New York."""
    new_york = care_settings.model_copy(update={"center_timezone": "America/New_York"})
    app = wire_app(create_app(new_york), new_york, care_engine, cdb)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    early = datetime.combine(yesterday, time(2), tzinfo=UTC)
    noon = datetime.combine(yesterday, time(12), tzinfo=UTC)
    await add(cdb, checkin("A1", early, 2, 4), checkin("A1", noon, 4, 2))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://care") as client:
        body = (await client.get(URL + "/trend", headers=floor.agent("A1"))).json()
    local = ZoneInfo("America/New_York")
    assert body["points"] == [
        {"date": str(early.astimezone(local).date()), "mood": 2.0, "stress": 4.0},
        {"date": str(noon.astimezone(local).date()), "mood": 4.0, "stress": 2.0},
    ]
    assert early.astimezone(local).date() == yesterday - timedelta(days=1)


async def test_trend_days_are_local_days(cdb, floor) -> None:
    """New York is UTC-5 in November: 03:30 UTC on the 10th is the evening of the 9th there."""
    lead = Principal(id="L1", role=Role.TEAM_LEAD, team_ids=frozenset({"T1"}))
    now = datetime(2026, 11, 12, 18, 0, tzinfo=UTC)
    await add(
        cdb,
        checkin("A1", datetime(2026, 11, 10, 3, 30, tzinfo=UTC), 2, 4),  # 9th, 22:30 local
        checkin("A1", datetime(2026, 11, 10, 15, 0, tzinfo=UTC), 4, 2),  # 10th, 10:00 local
        checkin("A1", datetime(2026, 11, 10, 20, 0, tzinfo=UTC), 5, 1),  # 10th, 15:00 local
        checkin("A1", datetime(2026, 11, 12, 19, 0, tzinfo=UTC), 1, 5),  # after `now`
    )
    result = await service.trend(cdb, lead, "A1", days=7, timezone="America/New_York", now=now)
    assert [(p.date, p.mood, p.stress) for p in result.points] == [
        (date(2026, 11, 9), 2.0, 4.0),
        (date(2026, 11, 10), 4.5, 1.5),
    ]
    assert result.last is not None and result.last.mood == 5
    assert (result.mood_direction, result.stress_direction) == ("rising", "falling")

    in_utc = await service.trend(cdb, lead, "A1", days=7, timezone="UTC", now=now)
    assert [(p.date, p.mood) for p in in_utc.points] == [(date(2026, 11, 10), 3.67)]


async def test_trend_window_starts_at_local_midnight(cdb, floor) -> None:
    agent = Principal(id="A1", role=Role.AGENT, team_ids=frozenset({"T1"}))
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    await add(
        cdb,
        checkin("A1", datetime(2026, 11, 13, 23, 59, 59, tzinfo=UTC), 1, 1),
        checkin("A1", datetime(2026, 11, 14, 0, 0, tzinfo=UTC), 2, 2),
    )
    result = await service.trend(cdb, agent, "A1", days=7, timezone="UTC", now=now)
    assert [p.date for p in result.points] == [date(2026, 11, 14)]


# --- trend maths, without I/O ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([3], None),
        ([3, 2], None),
        ([1, 2, 3], "rising"),
        ([3, 2, 1], "falling"),
        ([3, 3, 2], "steady"),
        ([2, 3, 3], "steady"),
        ([1, 3, 2], "steady"),
        ([4, 4, 4], "steady"),
        ([5, 1, 2, 3], "rising"),  # only the last three count
        ([1, 5, 4, 3], "falling"),
        ([5, 4, 3, 3], "steady"),
    ],
)
def test_direction(values, expected) -> None:
    assert trend.direction(values) == expected


@pytest.mark.parametrize(
    ("moods", "falling"),
    [
        ([5, 4, 3], True),
        ([1, 5, 4, 3], True),
        ([5, 4, 3, 4], False),
        ([4, 4, 3], False),
        ([3, 4, 5], False),
        ([4, 3], False),
        ([], False),
    ],
)
def test_mood_falling(moods, falling) -> None:
    assert trend.mood_falling(moods) is falling


def test_daily_points_average_per_local_day() -> None:
    def sample(day: int, hour: int, mood: int, stress: int) -> trend.Sample:
        return trend.Sample(datetime(2026, 11, day, hour, tzinfo=UTC), mood, stress)

    samples = [
        sample(11, 8, 2, 4),
        sample(10, 8, 1, 5),
        sample(10, 12, 2, 4),
        sample(10, 20, 2, 4),  # 10th: mood (1+2+2)/3 = 1.67, stress (5+4+4)/3 = 4.33
        sample(12, 1, 5, 1),  # Berlin (UTC+1): still the 12th; New York: the 11th
    ]
    assert trend.daily_points(samples, "Europe/Berlin") == [
        trend.DailyPoint(date(2026, 11, 10), 1.67, 4.33),
        trend.DailyPoint(date(2026, 11, 11), 2.0, 4.0),
        trend.DailyPoint(date(2026, 11, 12), 5.0, 1.0),
    ]
    assert trend.daily_points(samples, "America/New_York")[-1] == trend.DailyPoint(
        date(2026, 11, 11), 3.5, 2.5
    )
    assert trend.daily_points([], "UTC") == []


def test_window_start_is_local_midnight_across_a_dst_change() -> None:
    # New York leaves summer time on 1 November 2026: that midnight is still EDT (UTC-4).
    now = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
    start = trend.window_start(now, 2, "America/New_York")
    assert start.astimezone(UTC) == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
    assert trend.window_start(now, 1, "UTC") == datetime(2026, 11, 2, tzinfo=UTC)


async def test_a_nul_character_in_text_is_refused_not_a_crash(care_client, floor, cdb) -> None:
    """Found by fuzzing the gateway: PostgreSQL cannot store U+0000, and that was a 500."""
    body = {"mood": 3, "stress": 3, "note": "fine\u0000really"}
    resp = await care_client.post(URL, json=body, headers=floor.agent("A1"))
    assert resp.status_code == 422
    assert resp.headers["content-type"] == "application/problem+json"
    assert "NUL" in resp.json()["detail"]
    assert await cdb.scalar(select(func.count()).select_from(CheckIn)) == 0
