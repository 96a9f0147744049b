"""Teams: leads, members, span of control, events, access."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.roster.db import OutboxMessage
from shared.events import parse_event
from tests.roster.auth.bad_tokens import BAD_AUTH_KINDS, bad_auth_headers


async def team_events(db_session) -> list[dict]:
    rows = await db_session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type == "roster.team.changed")
        .order_by(OutboxMessage.id)
    )
    return [parse_event(r).data.model_dump(mode="json") for r in rows]


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


async def outbox_types(db_session) -> list[str]:
    return list(
        await db_session.scalars(select(OutboxMessage.event_type).order_by(OutboxMessage.id))
    )


@pytest.mark.parametrize("kind", BAD_AUTH_KINDS)
async def test_every_endpoint_refuses_bad_credentials_with_401(
    client, roster_settings, factory, kind
) -> None:
    team = await factory.team()
    person = await factory.person(team=team)
    headers = bad_auth_headers(roster_settings)[kind]
    calls = [
        ("GET", "/v1/teams", None),
        ("POST", "/v1/teams", {"name": "X"}),
        ("GET", f"/v1/teams/{team.id}", None),
        ("PATCH", f"/v1/teams/{team.id}", {"name": "Y"}),
        ("POST", f"/v1/teams/{team.id}/members", {"person_ids": [person.id]}),
        ("DELETE", f"/v1/teams/{team.id}/members/{person.id}", None),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_patch_rules_and_events(client, token_for, factory, db_session) -> None:
    admin = await factory.person(role="admin")
    agent = await factory.person()
    manager_lead = await factory.person(role="manager")
    departed_lead = await factory.person(role="team_lead", status="departed")
    taken = await factory.team(name="Retention")
    team = await factory.team(name="Billing")
    url = f"/v1/teams/{team.id}"
    headers = token_for(admin)

    for body, rule in (
        ({"lead_id": agent.id}, "lead_role"),
        ({"lead_id": departed_lead.id}, "lead_role"),
        ({"lead_id": "nobody"}, "lead_role"),
        ({"name": None}, "name_required"),
    ):
        refused = await client.patch(url, json=body, headers=headers)
        assert refused.status_code == 422 and refused.json()["rule"] == rule, body
    assert (await client.patch(url, json={"name": " "}, headers=headers)).status_code == 422
    clash = await client.patch(url, json={"name": taken.name.upper()}, headers=headers)
    assert clash.status_code == 409
    assert await outbox_types(db_session) == []

    unchanged = await client.patch(url, json={"name": "Billing", "lead_id": None}, headers=headers)
    assert unchanged.status_code == 200
    assert await outbox_types(db_session) == []

    led = await client.patch(url, json={"lead_id": manager_lead.id}, headers=headers)
    assert led.json()["lead_id"] == manager_lead.id
    [event] = await team_events(db_session)
    assert (event["team_id"], event["lead_id"], event["name"]) == (
        team.id,
        manager_lead.id,
        "Billing",
    )


async def test_members_rules(client, token_for, factory, db_session) -> None:
    admin = await factory.person(role="admin")
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person()
    agent_id = agent.id  # the failed request below rolls back, expiring the loaded row
    gone = await factory.person(status="departed")
    url = f"/v1/teams/{team.id}/members"

    by_lead = await client.post(
        url, json={"person_ids": [agent_id]}, headers=token_for(lead, team_ids=[team.id])
    )
    assert by_lead.status_code == 403
    empty = await client.post(url, json={"person_ids": []}, headers=token_for(admin))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "body.person_ids"
    departed = await client.post(url, json={"person_ids": [gone.id]}, headers=token_for(admin))
    assert departed.status_code == 422 and departed.json()["rule"] == "person_departed"

    half_bad = await client.post(
        url, json={"person_ids": [agent_id, "nobody"]}, headers=token_for(admin)
    )
    assert half_bad.status_code == 422 and half_bad.json()["rule"] == "unknown_person"
    unchanged = await client.get(f"/v1/people/{agent_id}", headers=token_for(admin))
    assert unchanged.json()["team_id"] is None  # the whole request changed nothing
    assert await outbox_types(db_session) == []

    again = [agent_id, agent_id]
    added = await client.post(url, json={"person_ids": again}, headers=token_for(admin))
    assert added.json()["member_ids"] == [agent_id]
    assert await outbox_types(db_session) == ["roster.person.updated", "roster.team.changed"]
    same = await client.post(url, json={"person_ids": [agent_id]}, headers=token_for(admin))
    assert same.status_code == 200
    assert len(await outbox_types(db_session)) == 2  # already a member: nothing to tell


async def test_moving_a_member_updates_their_person_record(
    client, token_for, factory, db_session
) -> None:
    admin = await factory.person(role="admin")
    team = await factory.team()
    agent = await factory.person()
    await client.post(
        f"/v1/teams/{team.id}/members", json={"person_ids": [agent.id]}, headers=token_for(admin)
    )
    rows = await db_session.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.event_type == "roster.person.updated")
    )
    [updated] = [parse_event(r).data for r in rows]
    assert (updated.person_id, updated.team_id, updated.changed_fields) == (
        agent.id,
        team.id,
        ["team_id"],
    )
    removed = await client.delete(
        f"/v1/teams/{team.id}/members/{agent.id}", headers=token_for(admin)
    )
    assert removed.status_code == 200
    [left] = (await team_events(db_session))[1:]
    assert (left["left"], left["member_ids"]) == ([agent.id], [])


async def test_team_without_lead_has_no_span(client, token_for, factory) -> None:
    manager = await factory.person(role="manager")
    created = await client.post("/v1/teams", json={"name": "Nights"}, headers=token_for(manager))
    body = created.json()
    assert (body["lead_id"], body["span_of_control"], body["warnings"]) == (None, None, [])
    assert body["created_at"].endswith(("Z", "+00:00"))


async def test_list_rejects_a_bad_cursor_or_limit(client, token_for, factory) -> None:
    headers = token_for(await factory.person(role="ops"))
    for params in ({"cursor": "not-a-cursor"}, {"cursor": "bm90IGEgbGlzdA"}, {"limit": 0}):
        response = await client.get("/v1/teams", params=params, headers=headers)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"


async def test_agents_see_only_their_own_team(client, token_for, factory) -> None:
    mine = await factory.team()
    other = await factory.team()
    agent = await factory.person(team=mine)
    headers = token_for(agent, team_ids=[mine.id])
    assert [t["id"] for t in (await client.get("/v1/teams", headers=headers)).json()["items"]] == [
        mine.id
    ]
    assert (await client.get(f"/v1/teams/{other.id}", headers=headers)).status_code == 404
    assert (
        await client.patch(f"/v1/teams/{other.id}", json={"name": "Z"}, headers=headers)
    ).status_code == 404
    assert (
        await client.patch(f"/v1/teams/{mine.id}", json={"name": "Z"}, headers=headers)
    ).status_code == 403
