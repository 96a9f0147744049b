"""Care records: access matrix, private notes, the coaching structure, the warning rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import select

from services.care.db import OutboxMessage

NOW = datetime.now(UTC)


def one_on_one(agent="A1", **extra):
    return {
        "agent_id": agent,
        "kind": "one_on_one",
        "summary": "Weekly one-on-one",
        "private_notes": "Seems tired; ask about the night shifts.",
        **extra,
    }


async def write(client, headers, body):
    return await client.post("/v1/care/records", json=body, headers=headers)


async def test_lead_writes_agent_reads_without_private_notes(care_client, floor):
    created = await write(care_client, floor.lead(), one_on_one())
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["author_id"] == "L1" and record["team_id"] == "T1"
    assert record["category"] == "wellbeing"  # the default for a one-on-one
    assert record["private_notes"].startswith("Seems tired")
    own = await care_client.get(f"/v1/care/records/{record['id']}", headers=floor.agent("A1"))
    assert own.status_code == 200 and own.json()["private_notes"] is None
    listed = (await care_client.get("/v1/care/records", headers=floor.agent("A1"))).json()
    assert [r["id"] for r in listed["items"]] == [record["id"]]
    assert listed["items"][0]["private_notes"] is None


@pytest.mark.parametrize(
    ("who", "status", "notes"),
    [
        (("A1", "agent", ["T1"]), 200, False),
        (("A2", "agent", ["T1"]), 404, None),
        (("L1", "team_lead", ["T1"]), 200, True),
        (("L2", "team_lead", ["T2"]), 404, None),
        (("M", "manager", []), 200, True),
        (("AD", "admin", []), 200, True),
        (("OP", "ops", []), 404, None),
        (("QA", "qa", []), 404, None),
    ],
)
async def test_read_matrix(care_client, floor, who, status, notes):
    record = (await write(care_client, floor.lead(), one_on_one())).json()
    response = await care_client.get(
        f"/v1/care/records/{record['id']}", headers=floor.headers(*who)
    )
    assert response.status_code == status
    if status == 200:
        assert (response.json()["private_notes"] is not None) is notes
    listing = await care_client.get("/v1/care/records?agent_id=A1", headers=floor.headers(*who))
    assert listing.status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (("A1", "agent", ["T1"]), 403),  # about themselves: may read, not write
        (("A2", "agent", ["T1"]), 404),
        (("L2", "team_lead", ["T2"]), 404),
        (("OP", "ops", []), 404),
        (("QA", "qa", []), 404),
        (("M", "manager", []), 201),
        (("AD", "admin", []), 201),
    ],
)
async def test_write_matrix(care_client, floor, cdb, who, status):
    response = await write(care_client, floor.headers(*who), one_on_one())
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(
        "application/json" if status == 201 else "application/problem+json"
    )


async def test_team_lead_lists_only_their_teams(care_client, floor):
    await write(care_client, floor.lead(), one_on_one("A1"))
    await write(care_client, floor.lead("L2", ("T2",)), one_on_one("B1"))
    mine = (await care_client.get("/v1/care/records", headers=floor.lead())).json()
    assert {r["agent_id"] for r in mine["items"]} == {"A1"}
    everything = (
        await care_client.get("/v1/care/records", headers=floor.role("M", "manager"))
    ).json()
    assert {r["agent_id"] for r in everything["items"]} == {"A1", "B1"}
    refused = await care_client.get("/v1/care/records", headers=floor.role("OP", "ops"))
    assert refused.status_code == 404


async def test_coaching_structure_is_the_default(care_client, floor):
    bare = {"agent_id": "A1", "kind": "coaching", "summary": "Talked about lateness"}
    refused = await write(care_client, floor.lead(), bare)
    assert refused.status_code == 422 and refused.json()["rule"] == "coaching_structure"
    follow_up = (NOW + timedelta(days=7)).isoformat()
    structured = {
        **bare,
        "observation": "Joined the 9:00 briefing after it started on 3 days this week.",
        "impact": "Missed the queue changes announced there.",
        "need": "Reliable start; the bus timetable changed.",
        "request": "Take the earlier bus; we review in a week.",
        "follow_up_at": follow_up,
    }
    created = await write(care_client, floor.lead(), structured)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["category"] == "career"
    assert body["observation"].startswith("Joined the 9:00 briefing")
    assert body["follow_up_at"] is not None


async def test_warning_needs_a_recent_conversation(care_client, floor):
    warning = {"agent_id": "A1", "kind": "warning", "summary": "Third late start this month"}
    missing = await write(care_client, floor.lead(), warning)
    assert missing.status_code == 422
    problem = missing.json()
    assert problem["rule"] == "talk_before_penalty" and "14 days" in problem["detail"]
    # a conversation with someone else does not count
    other = (await write(care_client, floor.lead(), one_on_one("A2"))).json()
    refused = await write(
        care_client, floor.lead(), {**warning, "prior_conversation_id": other["id"]}
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "talk_before_penalty"
    # nor one older than 14 days
    old = (
        await write(
            care_client,
            floor.lead(),
            one_on_one(occurred_at=(NOW - timedelta(days=15)).isoformat()),
        )
    ).json()
    refused = await write(
        care_client, floor.lead(), {**warning, "prior_conversation_id": old["id"]}
    )
    assert refused.status_code == 422
    # nor a recognition
    praise = (
        await write(
            care_client,
            floor.lead(),
            {"agent_id": "A1", "kind": "recognition", "summary": "Service star"},
        )
    ).json()
    refused = await write(
        care_client, floor.lead(), {**warning, "prior_conversation_id": praise["id"]}
    )
    assert refused.status_code == 422
    recent = (
        await write(
            care_client,
            floor.lead(),
            one_on_one(occurred_at=(NOW - timedelta(days=13)).isoformat()),
        )
    ).json()
    accepted = await write(
        care_client, floor.lead(), {**warning, "prior_conversation_id": recent["id"]}
    )
    assert accepted.status_code == 201, accepted.text


async def test_bad_input_changes_nothing(care_client, floor, cdb):
    cases = [
        {"agent_id": "A1", "kind": "gossip", "summary": "x"},
        {"agent_id": "A1", "kind": "one_on_one", "summary": ""},
        {"agent_id": "A1", "kind": "one_on_one", "summary": "x", "category": "money"},
        {"agent_id": "A1", "kind": "care_action", "summary": "x"},
        {"agent_id": "A1", "kind": "one_on_one", "summary": "x", "action": "care_break"},
        {"agent_id": "A1", "kind": "one_on_one", "summary": "x", "surprise": 1},
        one_on_one(occurred_at=(NOW + timedelta(days=1)).isoformat()),
        one_on_one(occurred_at="2026-11-20T10:00:00"),  # no offset
    ]
    for body in cases:
        response = await write(care_client, floor.lead(), body)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")
    listed = (await care_client.get("/v1/care/records", headers=floor.lead())).json()
    assert listed["items"] == []
    unknown = await write(care_client, floor.role("M", "manager"), one_on_one("nobody"))
    assert unknown.status_code == 404


async def test_care_break_is_announced_for_metrics(care_client, floor, cdb, care_settings):
    start = NOW - timedelta(minutes=1)
    granted = await care_client.post(
        "/v1/care/care-breaks",
        json={"agent_id": "A1", "minutes": 20, "start": start.isoformat()},
        headers=floor.lead(),
    )
    assert granted.status_code == 201, granted.text
    record = granted.json()
    assert (record["kind"], record["action"], record["category"], record["break_minutes"]) == (
        "care_action",
        "care_break",
        "wellbeing",
        20,
    )
    rows = list(
        await cdb.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "care.care_break.granted")
        )
    )
    [row] = rows
    event = orjson.loads(row.payload)
    assert row.topic == "care.events" and row.key == "A1"
    assert event["data"]["agent_id"] == "A1" and event["data"]["granted_by"] == "L1"
    assert datetime.fromisoformat(event["data"]["end"]) - datetime.fromisoformat(
        event["data"]["start"]
    ) == timedelta(minutes=20)
    too_long = await care_client.post(
        "/v1/care/care-breaks",
        json={"agent_id": "A1", "minutes": care_settings.care_break_max_minutes + 1},
        headers=floor.lead(),
    )
    assert too_long.status_code == 422
    # record events never carry the summary or private notes
    created = [
        orjson.loads(r.payload)
        for r in await cdb.scalars(
            select(OutboxMessage).where(OutboxMessage.event_type == "care.record.created")
        )
    ]
    assert created and all("summary" not in e["data"] for e in created)


async def test_ops_and_qa_never_read_care_records_even_about_themselves(care_client, floor, cdb):
    from services.care.records.models import CareRecord

    for who in ("OP", "QA"):
        cdb.add(
            CareRecord(
                id=f"r-{who}",
                agent_id=who,
                author_id="M",
                kind="recognition",
                category="career",
                occurred_at=NOW - timedelta(days=1),
                summary="Thanks for covering the night",
            )
        )
    await cdb.flush()
    for who, role in (("OP", "ops"), ("QA", "qa")):
        headers = floor.role(who, role)
        assert (
            await care_client.get(f"/v1/care/records/r-{who}", headers=headers)
        ).status_code == 404
        listing = await care_client.get(f"/v1/care/records?agent_id={who}", headers=headers)
        assert listing.status_code == 404
