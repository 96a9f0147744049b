"""Schedules over HTTP: drafts, rules by name, publishing events, leave blocking, access."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from sqlalchemy import select

from services.roster.db import OutboxMessage
from services.roster.leave.models import LeaveRequest

DAY = date.today() + timedelta(days=3)


def shift(day: date = DAY, *, work: str = "work") -> dict:
    d = day.isoformat()
    return {
        "activities": [
            {"kind": work, "start": f"{d}T08:00:00Z", "end": f"{d}T10:00:00Z"},
            {"kind": "break", "start": f"{d}T10:00:00Z", "end": f"{d}T10:15:00Z"},
            {"kind": work, "start": f"{d}T10:15:00Z", "end": f"{d}T12:00:00Z"},
            {"kind": "lunch", "start": f"{d}T12:00:00Z", "end": f"{d}T12:30:00Z"},
            {"kind": "meeting", "start": f"{d}T12:30:00Z", "end": f"{d}T13:00:00+00:00"},
        ]
    }


async def published_events(db_session) -> list[dict]:
    rows = await db_session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type == "roster.schedule.published")
        .order_by(OutboxMessage.id)
    )
    return [orjson.loads(r)["data"] for r in rows]


async def test_draft_then_publish_emits_the_activities(
    client, token_for, floor, db_session
) -> None:
    lead, team, agent = floor
    headers = token_for(lead, team_ids=[team.id])
    put = await client.put(f"/v1/schedules/{agent.id}/{DAY}", json=shift(), headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["status"] == "draft" and put.json()["version"] == 0
    assert await published_events(db_session) == []

    published = await client.post("/v1/schedules/publish", json={"day": str(DAY)}, headers=headers)
    assert published.status_code == 200
    [schedule] = published.json()["published"]
    assert (schedule["status"], schedule["version"]) == ("published", 1)
    [event] = await published_events(db_session)
    assert event["agent_id"] == agent.id and event["team_id"] == team.id
    assert event["day"] == str(DAY) and event["version"] == 1 and event["timezone"] == "UTC"
    assert [a["kind"] for a in event["activities"]] == ["work", "break", "work", "lunch", "meeting"]

    # editing makes it a draft again; republishing bumps the version
    await client.put(
        f"/v1/schedules/{agent.id}/{DAY}", json=shift(work="training"), headers=headers
    )
    read = (await client.get(f"/v1/schedules/{agent.id}/{DAY}", headers=headers)).json()
    assert (read["status"], read["version"]) == ("draft", 1)
    await client.post("/v1/schedules/publish", json={"day": str(DAY)}, headers=headers)
    assert [e["version"] for e in await published_events(db_session)] == [1, 2]
    nothing = await client.post("/v1/schedules/publish", json={"day": str(DAY)}, headers=headers)
    assert nothing.json()["published"] == []


@pytest.mark.parametrize(
    ("activities", "rule"),
    [
        ([("work", "08:00", "10:00"), ("break", "09:45", "10:15")], "no_overlap"),
        ([("work", "10:00", "09:00")], "activity_order"),
    ],
)
async def test_rules_are_named(client, token_for, floor, activities, rule) -> None:
    lead, team, agent = floor
    body = {
        "activities": [
            {"kind": k, "start": f"{DAY}T{s}:00Z", "end": f"{DAY}T{e}:00Z"}
            for k, s, e in activities
        ]
    }
    response = await client.put(
        f"/v1/schedules/{agent.id}/{DAY}", json=body, headers=token_for(lead, team_ids=[team.id])
    )
    assert response.status_code == 422 and response.json()["rule"] == rule


async def test_activity_must_start_on_the_day(client, token_for, floor) -> None:
    lead, team, agent = floor
    response = await client.put(
        f"/v1/schedules/{agent.id}/{DAY}",
        json=shift(DAY + timedelta(days=1)),
        headers=token_for(lead, team_ids=[team.id]),
    )
    assert response.json()["rule"] == "activity_on_day"


async def test_schema_errors_name_the_field(client, token_for, floor) -> None:
    lead, team, agent = floor
    headers = token_for(lead, team_ids=[team.id])
    bad_kind = {
        "activities": [{"kind": "nap", "start": f"{DAY}T08:00:00Z", "end": f"{DAY}T09:00:00Z"}]
    }
    response = await client.put(f"/v1/schedules/{agent.id}/{DAY}", json=bad_kind, headers=headers)
    assert response.json()["errors"][0]["field"] == "body.activities.0.kind"
    naive = {
        "activities": [{"kind": "work", "start": f"{DAY}T08:00:00", "end": f"{DAY}T09:00:00Z"}]
    }
    response = await client.put(f"/v1/schedules/{agent.id}/{DAY}", json=naive, headers=headers)
    assert response.json()["errors"][0]["field"] == "body.activities.0.start"
    bad_day = await client.put(f"/v1/schedules/{agent.id}/not-a-day", json=shift(), headers=headers)
    assert bad_day.status_code == 422


async def test_work_needs_go_live(client, token_for, factory, floor) -> None:
    lead, team, _ = floor
    trainee = await factory.person(team=team, status="onboarding")
    headers = token_for(lead, team_ids=[team.id])
    refused = await client.put(f"/v1/schedules/{trainee.id}/{DAY}", json=shift(), headers=headers)
    assert refused.status_code == 422 and refused.json()["rule"] == "go_live_required"
    training = await client.put(
        f"/v1/schedules/{trainee.id}/{DAY}", json=shift(work="training"), headers=headers
    )
    assert training.status_code == 200


async def test_approved_leave_blocks_the_day(client, token_for, floor, db_session) -> None:
    lead, team, agent = floor
    db_session.add(
        LeaveRequest(
            agent_id=agent.id, kind="annual", start_date=DAY, end_date=DAY, status="approved"
        )
    )
    await db_session.flush()
    response = await client.put(
        f"/v1/schedules/{agent.id}/{DAY}", json=shift(), headers=token_for(lead, team_ids=[team.id])
    )
    assert response.status_code == 422 and response.json()["rule"] == "leave_approved"


async def test_departed_and_non_agents_are_not_scheduled(client, token_for, factory, floor) -> None:
    _, team, _ = floor
    admin = await factory.person(role="admin")
    gone = await factory.person(team=team, status="departed", go_live=True)
    qa = await factory.person(role="qa", team=team)
    headers = token_for(admin)
    assert (
        await client.put(f"/v1/schedules/{gone.id}/{DAY}", json=shift(), headers=headers)
    ).json()["rule"] == "person_departed"
    assert (await client.put(f"/v1/schedules/{qa.id}/{DAY}", json=shift(), headers=headers)).json()[
        "rule"
    ] == "not_an_agent"


async def test_access(client, token_for, factory, floor) -> None:
    lead, team, agent = floor
    other_lead = await factory.person(role="team_lead")
    other_team = await factory.team(lead=other_lead)
    ops = await factory.person(role="ops")
    await client.put(
        f"/v1/schedules/{agent.id}/{DAY}", json=shift(), headers=token_for(lead, team_ids=[team.id])
    )
    path = f"/v1/schedules/{agent.id}/{DAY}"
    outsider = token_for(other_lead, team_ids=[other_team.id])
    assert (await client.get(path, headers=outsider)).status_code == 404
    assert (await client.put(path, json=shift(), headers=outsider)).status_code == 404
    assert (await client.get(path, headers=token_for(agent, team_ids=[team.id]))).status_code == 200
    assert (
        await client.put(path, json=shift(), headers=token_for(agent, team_ids=[team.id]))
    ).status_code == 403
    assert (await client.get(path, headers=token_for(ops))).status_code == 200
    assert (await client.put(path, json=shift(), headers=token_for(ops))).status_code == 403
    assert (await client.get(path)).status_code == 401
    assert (
        await client.post("/v1/schedules/publish", json={"day": str(DAY)}, headers=token_for(agent))
    ).status_code == 403
    foreign = await client.post(
        "/v1/schedules/publish", json={"day": str(DAY), "team_id": team.id}, headers=outsider
    )
    assert foreign.status_code == 404
    assert (
        await client.get(
            f"/v1/schedules/{agent.id}/{DAY + timedelta(days=1)}", headers=token_for(ops)
        )
    ).status_code == 404


async def test_list_filters_scopes_and_pages_by_day(client, token_for, factory, floor) -> None:
    lead, team, agent = floor
    headers = token_for(lead, team_ids=[team.id])
    for offset in range(3):
        day = DAY + timedelta(days=offset)
        await client.put(f"/v1/schedules/{agent.id}/{day}", json=shift(day), headers=headers)
    stranger = await factory.person(team=await factory.team(), go_live=True)
    admin = await factory.person(role="admin")
    await client.put(f"/v1/schedules/{stranger.id}/{DAY}", json=shift(), headers=token_for(admin))

    first = (await client.get("/v1/schedules", params={"limit": 2}, headers=headers)).json()
    second = (
        await client.get(
            "/v1/schedules", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    days = [s["day"] for s in first["items"] + second["items"]]
    assert days == [str(DAY + timedelta(days=i)) for i in range(3)]
    assert second["next_cursor"] is None

    one_day = (
        await client.get("/v1/schedules", params={"day": str(DAY)}, headers=token_for(admin))
    ).json()
    assert {s["agent_id"] for s in one_day["items"]} == {agent.id, stranger.id}
    ranged = await client.get(
        "/v1/schedules",
        params={
            "from": str(DAY + timedelta(days=1)),
            "to": str(DAY + timedelta(days=2)),
            "team_id": team.id,
        },
        headers=token_for(admin),
    )
    assert [s["day"] for s in ranged.json()["items"]] == [
        str(DAY + timedelta(days=1)),
        str(DAY + timedelta(days=2)),
    ]
    own = (await client.get("/v1/schedules", headers=token_for(stranger))).json()["items"]
    assert [s["agent_id"] for s in own] == [stranger.id]
