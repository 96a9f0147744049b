"""Leave requests: own requests only, leads decide for their team, decisions emit events."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
import pytest
from sqlalchemy import select

from services.roster.db import OutboxMessage

START = date.today() + timedelta(days=10)


def ask(days: int = 2, **overrides) -> dict:
    body = {
        "kind": "annual",
        "start_date": str(START),
        "end_date": str(START + timedelta(days=days - 1)),
        "note": "family visit",
    }
    body.update(overrides)
    return body


async def decided_events(db_session) -> list[dict]:
    rows = await db_session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.event_type == "roster.leave.decided")
    )
    return [orjson.loads(r)["data"] for r in rows]


async def test_agent_requests_and_lead_approves(client, token_for, floor, db_session) -> None:
    lead, team, agent = floor
    mine = token_for(agent, team_ids=[team.id])
    created = await client.post("/v1/leave-requests", json=ask(), headers=mine)
    assert created.status_code == 201, created.text
    leave = created.json()
    assert (leave["agent_id"], leave["status"]) == (agent.id, "pending")

    approved = await client.post(
        f"/v1/leave-requests/{leave['id']}/approve", headers=token_for(lead, team_ids=[team.id])
    )
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", lead.id)
    [event] = await decided_events(db_session)
    assert (event["agent_id"], event["status"], event["team_id"]) == (agent.id, "approved", team.id)

    again = await client.post(
        f"/v1/leave-requests/{leave['id']}/deny",
        json={"reason": "late"},
        headers=token_for(lead, team_ids=[team.id]),
    )
    assert again.status_code == 409


async def test_deny_needs_a_reason(client, token_for, floor, db_session) -> None:
    lead, team, agent = floor
    leave = (
        await client.post(
            "/v1/leave-requests", json=ask(), headers=token_for(agent, team_ids=[team.id])
        )
    ).json()
    path = f"/v1/leave-requests/{leave['id']}/deny"
    headers = token_for(lead, team_ids=[team.id])
    assert (await client.post(path, json={}, headers=headers)).status_code == 422
    assert (await client.post(path, json={"reason": ""}, headers=headers)).status_code == 422
    denied = await client.post(path, json={"reason": "peak week"}, headers=headers)
    assert denied.json()["status"] == "denied" and denied.json()["decision_reason"] == "peak week"
    [event] = await decided_events(db_session)
    assert event["status"] == "denied" and event["reason"] == "peak week"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (ask(end_date=str(START - timedelta(days=1))), "body"),
        (ask(kind="holiday"), "body.kind"),
        (ask(end_date=str(START + timedelta(days=400))), "body"),
        (ask(start_date="soon"), "body.start_date"),
    ],
)
async def test_validation(client, token_for, floor, body, field) -> None:
    _, team, agent = floor
    response = await client.post(
        "/v1/leave-requests", json=body, headers=token_for(agent, team_ids=[team.id])
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_overlapping_requests_are_refused(client, token_for, floor) -> None:
    _, team, agent = floor
    headers = token_for(agent, team_ids=[team.id])
    await client.post("/v1/leave-requests", json=ask(days=3), headers=headers)
    overlap = await client.post(
        "/v1/leave-requests",
        json=ask(
            start_date=str(START + timedelta(days=2)), end_date=str(START + timedelta(days=5))
        ),
        headers=headers,
    )
    assert overlap.status_code == 422 and overlap.json()["rule"] == "overlapping_leave"


async def test_approval_clears_published_schedules(client, token_for, floor, db_session) -> None:
    lead, team, agent = floor
    lead_headers = token_for(lead, team_ids=[team.id])
    d = START.isoformat()
    day_plan = {
        "activities": [{"kind": "work", "start": f"{d}T08:00:00Z", "end": f"{d}T16:00:00Z"}]
    }
    await client.put(f"/v1/schedules/{agent.id}/{d}", json=day_plan, headers=lead_headers)
    await client.post("/v1/schedules/publish", json={"day": d}, headers=lead_headers)
    leave = (
        await client.post(
            "/v1/leave-requests", json=ask(), headers=token_for(agent, team_ids=[team.id])
        )
    ).json()
    await client.post(f"/v1/leave-requests/{leave['id']}/approve", headers=lead_headers)

    schedule = (await client.get(f"/v1/schedules/{agent.id}/{d}", headers=lead_headers)).json()
    assert (schedule["activities"], schedule["version"]) == ([], 2)
    rows = await db_session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.event_type == "roster.schedule.published")
    )
    assert [orjson.loads(r)["data"]["activities"] == [] for r in rows] == [False, True]


async def test_access(client, token_for, factory, floor) -> None:
    lead, team, agent = floor
    colleague = await factory.person(team=team)
    other_lead = await factory.person(role="team_lead")
    other_team = await factory.team(lead=other_lead)
    manager = await factory.person(role="manager")
    leave = (
        await client.post(
            "/v1/leave-requests", json=ask(), headers=token_for(agent, team_ids=[team.id])
        )
    ).json()
    path = f"/v1/leave-requests/{leave['id']}"
    assert (
        await client.get(path, headers=token_for(colleague, team_ids=[team.id]))
    ).status_code == 404
    outsider = token_for(other_lead, team_ids=[other_team.id])
    assert (await client.get(path, headers=outsider)).status_code == 404
    assert (await client.post(f"{path}/approve", headers=outsider)).status_code == 404
    assert (
        await client.post(f"{path}/approve", headers=token_for(agent, team_ids=[team.id]))
    ).status_code == 403
    assert (await client.get(path, headers=token_for(manager))).status_code == 200
    assert (await client.get(path)).status_code == 401

    colleague_list = await client.get(
        "/v1/leave-requests", headers=token_for(colleague, team_ids=[team.id])
    )
    assert colleague_list.json()["items"] == []
    lead_list = await client.get("/v1/leave-requests", headers=token_for(lead, team_ids=[team.id]))
    assert [r["id"] for r in lead_list.json()["items"]] == [leave["id"]]
    pending = await client.get(
        "/v1/leave-requests", params={"status": "approved"}, headers=token_for(manager)
    )
    assert pending.json()["items"] == []


async def test_a_lead_cannot_approve_their_own_leave(client, token_for, floor) -> None:
    lead, team, _ = floor
    headers = token_for(lead, team_ids=[team.id])
    own = (await client.post("/v1/leave-requests", json=ask(), headers=headers)).json()
    assert (
        await client.post(f"/v1/leave-requests/{own['id']}/approve", headers=headers)
    ).status_code == 403


async def test_cancel_by_the_requester_only_while_pending(client, token_for, floor) -> None:
    lead, team, agent = floor
    mine = token_for(agent, team_ids=[team.id])
    leave = (await client.post("/v1/leave-requests", json=ask(), headers=mine)).json()
    path = f"/v1/leave-requests/{leave['id']}/cancel"
    assert (await client.post(path, headers=token_for(lead, team_ids=[team.id]))).status_code == 403
    assert (await client.post(path, headers=mine)).json()["status"] == "cancelled"
    assert (await client.post(path, headers=mine)).status_code == 409


async def test_pagination(client, token_for, floor) -> None:
    _, team, agent = floor
    headers = token_for(agent, team_ids=[team.id])
    for i in range(3):
        start = START + timedelta(days=10 * i)
        await client.post(
            "/v1/leave-requests",
            json=ask(start_date=str(start), end_date=str(start)),
            headers=headers,
        )
    first = (await client.get("/v1/leave-requests", params={"limit": 2}, headers=headers)).json()
    second = (
        await client.get(
            "/v1/leave-requests",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert len(first["items"]) == 2 and len(second["items"]) == 1 and second["next_cursor"] is None
