"""Anonymous feedback: no trace of the author anywhere, a daily limit with no link to the
entries, the 5-entry threshold, who reads what, and public responses."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import structlog
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.db import OutboxMessage
from services.care.directory.models import Person
from services.care.directory.service import apply_roster_batch
from services.care.feedback import service
from services.care.feedback.models import FeedbackEntry, FeedbackQuota
from services.care.feedback.schemas import FeedbackCreate
from shared.auth import Principal, Role
from shared.errors import TooManyRequests
from shared.events import EventType
from tests.care.conftest import T0, person_event
from tests.logcapture import Capture

URL = "/v1/care/feedback"


def agent(who: str, team: str = "T1") -> Principal:
    return Principal(id=who, role=Role.AGENT, team_ids=frozenset({team}))


def note(scope: str = "team", body: str = "More breaks between calls, please.") -> FeedbackCreate:
    return FeedbackCreate(scope=scope, body=body)


async def seed(
    cdb: AsyncSession,
    count: int,
    *,
    scope: str = "team",
    team_id: str | None = "T1",
    day: date = date(2026, 11, 10),
    response: str | None = None,
) -> list[FeedbackEntry]:
    """Entries as if submitted, one per day going back from ``day``."""
    rows = [
        FeedbackEntry(
            scope=scope,
            team_id=team_id if scope == "team" else None,
            body=f"{scope} {team_id} entry {i}",
            submitted_on=day - timedelta(days=i),
            response=response,
            responded_by="L1" if response else None,
            responded_at=datetime.now(UTC) if response else None,
        )
        for i in range(count)
    ]
    cdb.add_all(rows)
    await cdb.flush()
    return rows


async def count(cdb: AsyncSession, model) -> int:
    return await cdb.scalar(select(func.count()).select_from(model)) or 0


# --- submitting ------------------------------------------------------------------------------


async def test_submit_to_the_team(care_client, floor, cdb) -> None:
    resp = await care_client.post(
        URL,
        json={"scope": "team", "topic": " breaks ", "body": "We need longer breaks."},
        headers=floor.agent("A1"),
    )
    assert resp.status_code == 201, resp.text
    receipt = resp.json()
    assert set(receipt) == {"id", "scope", "team_id", "topic", "submitted_on"}
    assert (receipt["scope"], receipt["team_id"], receipt["topic"]) == ("team", "T1", "breaks")
    assert receipt["submitted_on"] == str(datetime.now(UTC).date())  # tests run the center on UTC
    assert uuid.UUID(receipt["id"]).version == 4  # random, not time-ordered
    entry = await cdb.get(FeedbackEntry, receipt["id"])
    assert entry is not None and entry.body == "We need longer breaks."
    assert (entry.response, entry.responded_by, entry.responded_at) == (None, None, None)


async def test_submit_to_the_center(care_client, floor) -> None:
    resp = await care_client.post(
        URL, json={"scope": "center", "body": "Parking is full by 8."}, headers=floor.agent("B1")
    )
    assert resp.status_code == 201
    assert (resp.json()["scope"], resp.json()["team_id"], resp.json()["topic"]) == (
        "center",
        None,
        None,
    )


async def test_team_feedback_needs_a_team(care_client, floor, cdb) -> None:
    # leads belong to no team in the directory; they may still write to the center
    resp = await care_client.post(
        URL, json={"scope": "team", "body": "hello"}, headers=floor.lead("L1")
    )
    assert resp.status_code == 422
    assert resp.json()["rule"] == "no_team"
    assert await count(cdb, FeedbackQuota) == 0  # a refusal does not use up the day's limit
    assert await count(cdb, FeedbackEntry) == 0
    center = await care_client.post(
        URL, json={"scope": "center", "body": "hello"}, headers=floor.lead("L1")
    )
    assert center.status_code == 201


async def test_only_current_staff_submit(care_client, floor, cdb, token) -> None:
    stranger = await care_client.post(
        URL, json={"scope": "center", "body": "hi"}, headers=token("ZZ", "agent", ["T1"])
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
    departed = await care_client.post(
        URL, json={"scope": "center", "body": "hi"}, headers=floor.agent("A3")
    )
    assert departed.status_code == 403
    assert await count(cdb, FeedbackEntry) == 0
    unauthenticated = await care_client.post(URL, json={"scope": "center", "body": "hi"})
    assert unauthenticated.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "team", "body": ""}, "body.body"),
        ({"scope": "team", "body": "   "}, "body.body"),
        ({"scope": "team"}, "body.body"),
        ({"scope": "team", "body": "x" * 4001}, "body.body"),
        ({"scope": "everyone", "body": "hi"}, "body.scope"),
        ({"body": "hi"}, "body.scope"),
        ({"scope": "team", "topic": "t" * 65, "body": "hi"}, "body.topic"),
    ],
)
async def test_invalid_feedback_is_refused(care_client, floor, cdb, body, field) -> None:
    resp = await care_client.post(URL, json=body, headers=floor.agent("A1"))
    assert resp.status_code == 422
    assert field in [e["field"] for e in resp.json()["errors"]]
    assert await count(cdb, FeedbackEntry) == 0


async def test_no_event_is_emitted(care_client, floor, cdb) -> None:
    before = await count(cdb, OutboxMessage)
    resp = await care_client.post(
        URL, json={"scope": "team", "body": "quiet"}, headers=floor.agent("A1")
    )
    assert resp.status_code == 201
    assert await count(cdb, OutboxMessage) == before


# --- anonymity -------------------------------------------------------------------------------

AUTHOR = "author-zq81x"
BODY = "Distinctive feedback body kv7w3 about the night shift"


async def occurrences(cdb: AsyncSession, needle: str) -> dict[str, int]:
    """Rows holding ``needle`` per table.column, over every column of every table in the
    public schema: as text for all types, and as raw bytes in bytea columns."""
    columns = (
        await cdb.execute(
            text(
                "SELECT c.table_name, c.column_name, c.data_type"
                " FROM information_schema.columns c"
                " JOIN information_schema.tables t"
                "   ON t.table_schema = c.table_schema AND t.table_name = c.table_name"
                " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
            )
        )
    ).all()
    found: dict[str, int] = {}
    for table, column, data_type in columns:
        condition = f'strpos("{column}"::text, :needle) > 0'
        if data_type == "bytea":
            condition += f" OR position(convert_to(:needle, 'UTF8') in \"{column}\") > 0"
        hits = await cdb.scalar(
            text(f'SELECT count(*) FROM "{table}" WHERE {condition}'), {"needle": needle}
        )
        if hits:
            found[f"{table}.{column}"] = hits
    return found


@pytest.fixture
def logs(care_client) -> Iterator[tuple[io.StringIO, Capture]]:
    """Every log line while the test runs, rendered by the app's own formatter into a buffer,
    and as records. Debug lines too, so nothing about the author at any level."""
    with Capture() as capture:
        yield capture.text, capture


async def test_author_leaves_no_trace(care_client, floor, cdb, care_settings, logs) -> None:
    await apply_roster_batch(cdb, [person_event(AUTHOR, team_id="T1")])
    await cdb.flush()
    tables = {r for (r,) in await cdb.execute(text("SELECT tablename FROM pg_tables"))}
    assert {"outbox", "feedback_entries", "feedback_quota", "people"} <= tables
    outbox_before = await count(cdb, OutboxMessage)
    # the directory knows the author (their id and their name "Person <id>"), nothing else does
    known = await occurrences(cdb, AUTHOR)
    assert known == {"people.id": 1, "people.name": 1}
    _, caplog = logs
    caplog.clear()
    buffer = caplog.text

    resp = await care_client.post(
        URL,
        json={"scope": "team", "topic": "shifts", "body": BODY},
        headers=floor.headers(AUTHOR, "agent", ["T1"]),
    )

    assert resp.status_code == 201, resp.text
    assert AUTHOR not in resp.text
    # the scan does see new rows: the body is found, in the entry only
    assert await occurrences(cdb, BODY) == {"feedback_entries.body": 1}
    assert await occurrences(cdb, AUTHOR) == known
    assert await count(cdb, OutboxMessage) == outbox_before
    assert (
        await cdb.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type.ilike("%feedback%"))
        )
        == 0
    )

    # the quota row is keyed by a keyed hash, not by the id (nor a plain hash of it)
    today = datetime.now(UTC).date()
    [quota] = (await cdb.scalars(select(FeedbackQuota))).all()
    assert (quota.day, quota.used) == (today, 1)
    assert AUTHOR.encode() not in quota.key
    assert quota.key != hashlib.sha256(f"{AUTHOR}:{today}".encode()).digest()
    assert quota.key == service.quota_key(care_settings, AUTHOR, today)

    # logs: the access line of this request is captured, so the capture works, and nothing
    # in any captured line names the author or repeats the body
    lines = buffer.getvalue().splitlines()
    assert any(
        "request" in line and f"route={URL} " in line and "status=201" in line for line in lines
    ), lines
    assert any(
        r.name == "access"
        and isinstance(r.msg, dict)
        and (r.msg.get("route"), r.msg.get("status")) == (URL, 201)
        for r in caplog.records
    ), caplog.records
    everything = buffer.getvalue() + "\n".join(
        f"{r.getMessage()} {r.msg!r} {r.args!r} {r.__dict__!r}" for r in caplog.records
    )
    assert AUTHOR not in everything
    assert "kv7w3" not in everything
    assert "shifts" not in everything


async def test_capture_would_see_an_author_in_a_log_line(logs) -> None:
    """The capture used above does catch a (debug) line that names someone."""
    buffer, caplog = logs
    structlog.get_logger("care.feedback").debug("leak", author=AUTHOR)
    assert f"author={AUTHOR}" in buffer.getvalue()
    assert any(AUTHOR in repr(r.msg) for r in caplog.records)


# --- the daily limit -------------------------------------------------------------------------


async def test_daily_limit_per_person_and_day(cdb, floor, care_settings) -> None:
    assert care_settings.feedback_daily_limit == 3
    evening = datetime(2026, 11, 10, 20, 0, tzinfo=UTC)
    for _ in range(3):
        await service.submit(cdb, agent("A1"), note(), care_settings, now=evening)
    with pytest.raises(TooManyRequests) as refused:
        await service.submit(cdb, agent("A1"), note("center"), care_settings, now=evening)
    assert refused.value.retry_after_s == 4 * 3600  # until midnight
    assert "A1" not in refused.value.detail
    # another person is not affected
    await service.submit(cdb, agent("A2"), note(), care_settings, now=evening)
    # the next day is a new day, and yesterday's counts are gone
    await service.submit(cdb, agent("A1"), note(), care_settings, now=evening + timedelta(hours=5))
    days = (await cdb.scalars(select(FeedbackQuota.day))).all()
    assert days == [date(2026, 11, 11)]
    quota = await cdb.get(FeedbackQuota, service.quota_key(care_settings, "A1", date(2026, 11, 11)))
    assert quota is not None and quota.used == 1
    assert await count(cdb, FeedbackEntry) == 5


async def test_the_periodic_scrub_cuts_the_hidden_transaction_link(
    cdb, floor, care_settings
) -> None:
    """An entry and the quota row that admitted it share ``xmin`` until the scrub rewrites
    the quota rows in a transaction of its own; past days' rows go."""
    now = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    async with cdb.begin_nested():
        await service.submit(cdb, agent("A2"), note(), care_settings, now=now - timedelta(days=1))
    async with cdb.begin_nested():
        entry = await service.submit(cdb, agent("A1"), note(), care_settings, now=now)

    async def xmin_of(table: str, column: str, value: object) -> str:
        query = text(f"SELECT xmin::text FROM {table} WHERE {column} = :value")
        return (await cdb.execute(query, {"value": value})).scalar_one()

    key = service.quota_key(care_settings, "A1", now.date())
    assert await xmin_of("feedback_quota", "key", key) == await xmin_of(
        "feedback_entries", "id", entry.id
    )
    async with cdb.begin_nested():
        await service.scrub_quota(cdb, care_settings, now)
    assert await xmin_of("feedback_quota", "key", key) != await xmin_of(
        "feedback_entries", "id", entry.id
    )
    assert (await cdb.scalars(select(FeedbackQuota.day))).all() == [now.date()]
    assert (await cdb.get(FeedbackQuota, key, populate_existing=True)).used == 1


async def test_daily_limit_follows_the_center_day(cdb, floor, care_settings) -> None:
    berlin = care_settings.model_copy(update={"center_timezone": "Europe/Berlin"})
    late = datetime(2026, 11, 10, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    entries = [await service.submit(cdb, agent("A1"), note(), berlin, now=late) for _ in range(3)]
    assert {e.submitted_on for e in entries} == {date(2026, 11, 10)}
    with pytest.raises(TooManyRequests) as refused:
        await service.submit(cdb, agent("A1"), note(), berlin, now=late)
    assert refused.value.retry_after_s == 30 * 60
    after_midnight = await service.submit(
        cdb, agent("A1"), note(), berlin, now=late + timedelta(hours=1)
    )
    assert after_midnight.submitted_on == date(2026, 11, 11)


async def test_fourth_submission_is_429_over_http(care_client, floor, cdb) -> None:
    for i in range(3):
        ok = await care_client.post(
            URL, json={"scope": "center", "body": f"n{i}"}, headers=floor.agent("A2")
        )
        assert ok.status_code == 201
    refused = await care_client.post(
        URL, json={"scope": "center", "body": "n3"}, headers=floor.agent("A2")
    )
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    retry = int(refused.headers["Retry-After"])
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    assert 0 < retry <= (midnight - now).total_seconds() + 2
    assert refused.json()["retry_after_s"] == retry
    assert await count(cdb, FeedbackEntry) == 3
    other = await care_client.post(
        URL, json={"scope": "center", "body": "mine"}, headers=floor.agent("A1")
    )
    assert other.status_code == 201


async def test_concurrent_submissions_never_exceed_the_limit(care_engine, care_settings) -> None:
    """Separate transactions racing for the same person's last slots: exactly the limit win."""
    who = f"race-{uuid.uuid4().hex[:8]}"
    marker = f"race body {who}"
    now = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    async with AsyncSession(care_engine) as s, s.begin():
        await apply_roster_batch(s, [person_event(who, team_id="T9")])

    async def attempt() -> bool:
        async with AsyncSession(care_engine) as s:
            try:
                async with s.begin():
                    await service.submit(
                        s, agent(who), note("center", marker), care_settings, now=now
                    )
            except TooManyRequests:
                return False
            return True

    try:
        results = await asyncio.gather(*(attempt() for _ in range(8)))
        assert results.count(True) == care_settings.feedback_daily_limit
        async with AsyncSession(care_engine) as s:
            stored = await s.scalar(
                select(func.count()).select_from(FeedbackEntry).where(FeedbackEntry.body == marker)
            )
        assert stored == care_settings.feedback_daily_limit
    finally:
        async with AsyncSession(care_engine) as s, s.begin():
            await s.execute(delete(FeedbackEntry).where(FeedbackEntry.body == marker))
            key = service.quota_key(care_settings, who, now.date())
            await s.execute(delete(FeedbackQuota).where(FeedbackQuota.key == key))
            await s.execute(delete(Person).where(Person.id == who))


# --- the threshold and who reads -------------------------------------------------------------


async def test_team_feedback_shows_from_five_entries(care_client, floor, cdb) -> None:
    await seed(cdb, 4)
    await seed(cdb, 3, team_id="T2")
    params = {"scope": "team", "team_id": "T1"}
    four = await care_client.get(URL, params=params, headers=floor.lead())
    assert four.status_code == 200
    assert four.json() == {
        "scope": "team",
        "team_id": "T1",
        "entries": 4,
        "threshold": 5,
        "visible": False,
        "items": [],
        "next_cursor": None,
    }
    fifth = await care_client.post(
        URL, json={"scope": "team", "body": "the fifth"}, headers=floor.agent("A3")
    )
    assert fifth.status_code == 201
    five = (await care_client.get(URL, params=params, headers=floor.lead())).json()
    assert (five["entries"], five["visible"], len(five["items"])) == (5, True, 5)
    assert {i["team_id"] for i in five["items"]} == {"T1"}
    assert five["items"][0]["body"] == "the fifth"  # today is the newest day
    assert set(five["items"][0]) == {
        "id",
        "scope",
        "team_id",
        "topic",
        "body",
        "submitted_on",
        "response",
        "responded_by",
        "responded_at",
    }


async def test_center_feedback_has_the_threshold_too(care_client, floor, cdb) -> None:
    await seed(cdb, 4, scope="center")
    await seed(cdb, 6)  # team entries do not count for the center
    manager = floor.role("M", "manager")
    body = (await care_client.get(URL, params={"scope": "center"}, headers=manager)).json()
    assert (body["entries"], body["visible"], body["items"]) == (4, False, [])
    await seed(cdb, 1, scope="center", day=date(2026, 11, 20))
    body = (await care_client.get(URL, params={"scope": "center"}, headers=manager)).json()
    assert (body["entries"], body["visible"], len(body["items"])) == (5, True, 5)
    assert {i["scope"] for i in body["items"]} == {"center"}


async def test_items_are_newest_first_and_page(care_client, floor, cdb) -> None:
    rows = await seed(cdb, 6)
    rows += await seed(cdb, 2, day=date(2026, 11, 8))  # two share a day with earlier rows
    expected = [r.id for r in sorted(rows, key=lambda r: (r.submitted_on, r.id), reverse=True)]
    seen: list[str] = []
    params: dict = {"scope": "team", "team_id": "T1", "limit": 3}
    while True:
        page = (await care_client.get(URL, params=params, headers=floor.lead())).json()
        assert page["entries"] == 8
        seen += [i["id"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == expected
    bad = await care_client.get(URL, params={**params, "cursor": "WzEsMl0"}, headers=floor.lead())
    assert bad.status_code == 422


TEAM_READERS = [
    ("agent of the team", lambda f: f.agent("A1"), 200, "public"),
    ("agent of another team", lambda f: f.agent("B1", "T2"), 404, None),
    ("agent claiming the team in the token", lambda f: f.agent("B1", "T1"), 404, None),
    ("lead of the team", lambda f: f.lead("L1"), 200, "all"),
    ("lead of another team", lambda f: f.lead("L2", ("T2",)), 404, None),
    ("manager", lambda f: f.role("M", "manager"), 200, "all"),
    ("admin", lambda f: f.role("AD", "admin"), 200, "all"),
    ("ops", lambda f: f.role("OP", "ops"), 404, None),
    ("qa", lambda f: f.role("QA", "qa"), 404, None),
    ("trainer", lambda f: f.role("TR", "trainer"), 404, None),
]

CENTER_READERS = [
    ("agent", lambda f: f.agent("B1", "T2"), 200, "public"),
    ("lead", lambda f: f.lead("L1"), 404, None),
    ("manager", lambda f: f.role("M", "manager"), 200, "all"),
    ("admin", lambda f: f.role("AD", "admin"), 200, "all"),
    ("ops", lambda f: f.role("OP", "ops"), 404, None),
    ("qa", lambda f: f.role("QA", "qa"), 404, None),
    ("unknown agent", lambda f: f.agent("ZZ"), 404, None),
]


@pytest.mark.parametrize(
    ("who", "headers", "expected", "sees"), TEAM_READERS, ids=[r[0] for r in TEAM_READERS]
)
async def test_team_access_matrix(care_client, floor, cdb, who, headers, expected, sees) -> None:
    await seed(cdb, 4)
    await seed(cdb, 1, response="Agreed, from next week.")
    resp = await care_client.get(
        URL, params={"scope": "team", "team_id": "T1"}, headers=headers(floor)
    )
    assert resp.status_code == expected, resp.text
    if expected == 404:
        assert resp.headers["content-type"] == "application/problem+json"
        assert "entry" not in resp.text
        return
    body = resp.json()
    assert (body["entries"], body["visible"]) == (5, True)
    responses = [i["response"] for i in body["items"]]
    if sees == "all":
        assert len(responses) == 5
    else:
        assert responses == ["Agreed, from next week."]


@pytest.mark.parametrize(
    ("who", "headers", "expected", "sees"), CENTER_READERS, ids=[r[0] for r in CENTER_READERS]
)
async def test_center_access_matrix(care_client, floor, cdb, who, headers, expected, sees) -> None:
    await seed(cdb, 3, scope="center")
    await seed(cdb, 2, scope="center", response="We are on it.")
    resp = await care_client.get(URL, params={"scope": "center"}, headers=headers(floor))
    assert resp.status_code == expected, resp.text
    if expected == 200:
        body = resp.json()
        assert body["entries"] == 5
        assert len(body["items"]) == (5 if sees == "all" else 2)


async def test_agents_see_nothing_below_the_threshold(care_client, floor, cdb) -> None:
    await seed(cdb, 4, response="answered")
    body = (await care_client.get(URL, params={"scope": "team"}, headers=floor.agent("A2"))).json()
    assert (body["team_id"], body["entries"], body["visible"], body["items"]) == (
        "T1",
        4,
        False,
        [],
    )


async def test_departed_agent_reads_nothing(care_client, floor, cdb) -> None:
    await seed(cdb, 5, scope="center", response="answered")
    await apply_roster_batch(
        cdb,
        [
            person_event(
                "A2",
                team_id="T1",
                status="departed",
                at=T0 + timedelta(days=3),
                type_=EventType.PERSON_DEPARTED,
            )
        ],
    )
    resp = await care_client.get(URL, params={"scope": "center"}, headers=floor.agent("A2"))
    assert resp.status_code == 404


async def test_team_id_rules(care_client, floor) -> None:
    center_with_team = await care_client.get(
        URL, params={"scope": "center", "team_id": "T1"}, headers=floor.role("M", "manager")
    )
    assert center_with_team.status_code == 422
    lead_without_team = await care_client.get(URL, params={"scope": "team"}, headers=floor.lead())
    assert lead_without_team.status_code == 422
    no_scope = await care_client.get(URL, headers=floor.lead())
    assert no_scope.status_code == 422
    own_team = await care_client.get(URL, params={"scope": "team"}, headers=floor.agent("B1", "T2"))
    assert (own_team.status_code, own_team.json()["team_id"]) == (200, "T2")


# --- public responses ------------------------------------------------------------------------


async def test_public_response_reaches_the_team_only(care_client, floor, cdb) -> None:
    rows = await seed(cdb, 5)
    await seed(cdb, 5, team_id="T2")
    target = rows[2]
    resp = await care_client.post(
        f"{URL}/{target.id}/response",
        json={"response": "  We will add a second break.  "},
        headers=floor.lead("L1"),
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["id"], body["response"], body["responded_by"]) == (
        target.id,
        "We will add a second break.",
        "L1",
    )
    assert datetime.fromisoformat(body["responded_at"]) <= datetime.now(UTC)

    mine = (await care_client.get(URL, params={"scope": "team"}, headers=floor.agent("A3"))).json()
    assert [(i["id"], i["response"]) for i in mine["items"]] == [
        (target.id, "We will add a second break.")
    ]
    other = (
        await care_client.get(URL, params={"scope": "team"}, headers=floor.agent("B1", "T2"))
    ).json()
    assert (other["team_id"], other["visible"], other["items"]) == ("T2", True, [])
    sneaking = await care_client.get(
        URL, params={"scope": "team", "team_id": "T1"}, headers=floor.agent("B1", "T2")
    )
    assert sneaking.status_code == 404


RESPONDERS = [
    ("lead of the team", lambda f: f.lead("L1"), 200),
    ("lead of another team", lambda f: f.lead("L2", ("T2",)), 404),
    ("manager", lambda f: f.role("M", "manager"), 200),
    ("admin", lambda f: f.role("AD", "admin"), 200),
    ("agent of the team, entry unanswered", lambda f: f.agent("A1"), 404),
    ("agent of another team", lambda f: f.agent("B1", "T2"), 404),
    ("ops", lambda f: f.role("OP", "ops"), 404),
    ("qa", lambda f: f.role("QA", "qa"), 404),
]


@pytest.mark.parametrize(("who", "headers", "expected"), RESPONDERS, ids=[r[0] for r in RESPONDERS])
async def test_response_access_matrix(care_client, floor, cdb, who, headers, expected) -> None:
    rows = await seed(cdb, 5)
    resp = await care_client.post(
        f"{URL}/{rows[0].id}/response", json={"response": "Noted."}, headers=headers(floor)
    )
    assert resp.status_code == expected, resp.text
    await cdb.refresh(rows[0])
    assert (rows[0].response is not None) == (expected == 200)


async def test_agent_may_read_but_not_answer(care_client, floor, cdb) -> None:
    rows = await seed(cdb, 5, response="First answer.")
    resp = await care_client.post(
        f"{URL}/{rows[0].id}/response", json={"response": "mine"}, headers=floor.agent("A1")
    )
    assert resp.status_code == 403
    await cdb.refresh(rows[0])
    assert rows[0].response == "First answer."


async def test_response_rules(care_client, floor, cdb) -> None:
    few = await seed(cdb, 4)
    below = await care_client.post(
        f"{URL}/{few[0].id}/response", json={"response": "early"}, headers=floor.lead("L1")
    )
    assert below.status_code == 404  # a lead cannot read it yet, so cannot answer it
    center = await seed(cdb, 5, scope="center")
    lead_on_center = await care_client.post(
        f"{URL}/{center[0].id}/response", json={"response": "hi"}, headers=floor.lead("L1")
    )
    assert lead_on_center.status_code == 404
    manager = floor.role("M", "manager")
    missing = await care_client.post(
        f"{URL}/{uuid.uuid4()}/response", json={"response": "hi"}, headers=manager
    )
    assert missing.status_code == 404
    empty = await care_client.post(
        f"{URL}/{center[0].id}/response", json={"response": " "}, headers=manager
    )
    assert empty.status_code == 422
    first = await care_client.post(
        f"{URL}/{center[0].id}/response", json={"response": "first"}, headers=manager
    )
    again = await care_client.post(
        f"{URL}/{center[0].id}/response",
        json={"response": "second"},
        headers=floor.role("AD", "admin"),
    )
    assert first.status_code == again.status_code == 200
    assert (again.json()["response"], again.json()["responded_by"]) == ("second", "AD")
