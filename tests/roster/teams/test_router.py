"""Teams: leads, members, span of control, events, access."""

from __future__ import annotations

import orjson
from sqlalchemy import select

from services.roster.db import OutboxMessage


async def team_events(db_session) -> list[dict]:
    rows = await db_session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type == "roster.team.changed")
        .order_by(OutboxMessage.id)
    )
    return [orjson.loads(r)["data"] for r in rows]


async def test_manager_creates_a_team_with_a_lead(client, token_for, factory, db_session) -> None:
    manager = await factory.person(role="manager")
    lead = await factory.person(role="team_lead")
    response = await client.post(
        "/v1/teams", json={"name": "Night shift", "lead_id": lead.id}, headers=token_for(manager)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["name"], body["lead_id"], body["member_ids"]) == ("Night shift", lead.id, [])
    assert body["span_of_control"] == 0 and body["warnings"] == []
    [event] = await team_events(db_session)
    assert event["team_id"] == body["id"] and event["lead_id"] == lead.id


async def test_team_rules(client, token_for, factory) -> None:
    manager = await factory.person(role="manager")
    agent = await factory.person()
    headers = token_for(manager)
    not_a_lead = await client.post(
        "/v1/teams", json={"name": "X", "lead_id": agent.id}, headers=headers
    )
    assert not_a_lead.status_code == 422 and not_a_lead.json()["rule"] == "lead_role"
    assert (await client.post("/v1/teams", json={"name": ""}, headers=headers)).status_code == 422
    assert (
        await client.post("/v1/teams", json={"name": "Dup"}, headers=headers)
    ).status_code == 201
    assert (
        await client.post("/v1/teams", json={"name": "dup"}, headers=headers)
    ).status_code == 409


async def test_only_managers_and_admins_change_teams(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person(team=team)
    headers = token_for(lead, team_ids=[team.id])
    assert (
        await client.post("/v1/teams", json={"name": "Mine"}, headers=headers)
    ).status_code == 403
    assert (
        await client.patch(f"/v1/teams/{team.id}", json={"name": "Renamed"}, headers=headers)
    ).status_code == 403
    assert (
        await client.get(f"/v1/teams/{team.id}", headers=token_for(agent, team_ids=[team.id]))
    ).status_code == 200
    assert (await client.post("/v1/teams", json={"name": "Mine"})).status_code == 401


async def test_team_visibility(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    mine = await factory.team(lead=lead)
    other = await factory.team()
    headers = token_for(lead, team_ids=[mine.id])
    assert (await client.get(f"/v1/teams/{other.id}", headers=headers)).status_code == 404
    listed = (await client.get("/v1/teams", headers=headers)).json()["items"]
    assert [t["id"] for t in listed] == [mine.id]
    ops = await factory.person(role="ops")
    assert len((await client.get("/v1/teams", headers=token_for(ops))).json()["items"]) == 2
    agent = await factory.person()
    assert (await client.get("/v1/teams", headers=token_for(agent))).json()["items"] == []


async def test_members_move_between_teams_and_both_teams_hear(
    client, token_for, factory, db_session
) -> None:
    admin = await factory.person(role="admin")
    first = await factory.team()
    second = await factory.team()
    person = await factory.person(team=first)
    headers = token_for(admin)
    response = await client.post(
        f"/v1/teams/{second.id}/members", json={"person_ids": [person.id]}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["member_ids"] == [person.id]
    events = await team_events(db_session)
    assert [(e["team_id"], e["joined"], e["left"]) for e in events] == [
        (first.id, [], [person.id]),
        (second.id, [person.id], []),
    ]
    removed = await client.delete(f"/v1/teams/{second.id}/members/{person.id}", headers=headers)
    assert removed.json()["member_ids"] == []
    again = await client.delete(f"/v1/teams/{second.id}/members/{person.id}", headers=headers)
    assert again.status_code == 404
    unknown = await client.post(
        f"/v1/teams/{second.id}/members", json={"person_ids": ["nope"]}, headers=headers
    )
    assert unknown.json()["rule"] == "unknown_person"


async def test_span_of_control_warns_above_twenty_agents(client, token_for, factory) -> None:
    admin = await factory.person(role="admin")
    lead = await factory.person(role="team_lead")
    north = await factory.team(lead=lead)
    south = await factory.team(lead=lead)
    for team in (north, south):
        for _ in range(10):
            await factory.person(team=team)
    await factory.person(team=north, role="qa")  # not an agent: does not count
    body = (await client.get(f"/v1/teams/{north.id}", headers=token_for(admin))).json()
    assert (body["agent_count"], body["span_of_control"], body["warnings"]) == (10, 20, [])

    await factory.person(team=south)
    body = (await client.get(f"/v1/teams/{north.id}", headers=token_for(admin))).json()
    assert body["span_of_control"] == 21
    assert [w["code"] for w in body["warnings"]] == ["span_of_control_exceeded"]
    assert "1:20" in body["warnings"][0]["message"]


async def test_lead_change_and_pagination(client, token_for, factory) -> None:
    admin = await factory.person(role="admin")
    lead = await factory.person(role="team_lead")
    teams = [await factory.team() for _ in range(3)]
    headers = token_for(admin)
    patched = await client.patch(
        f"/v1/teams/{teams[0].id}", json={"lead_id": lead.id}, headers=headers
    )
    assert patched.json()["lead_id"] == lead.id
    cleared = await client.patch(
        f"/v1/teams/{teams[0].id}", json={"lead_id": None}, headers=headers
    )
    assert cleared.json()["lead_id"] is None
    first = (await client.get("/v1/teams", params={"limit": 2}, headers=headers)).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = (
        await client.get(
            "/v1/teams", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
        )
    ).json()
    assert len(second["items"]) == 1 and second["next_cursor"] is None
