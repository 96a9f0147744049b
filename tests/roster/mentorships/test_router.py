"""Mentorships over HTTP: rules by name, one active mentor, history kept, events, access."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
from sqlalchemy import select

from services.roster.db import OutboxMessage


async def setup(factory):
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    mentor = await factory.person(team=team, hire_date=date.today() - timedelta(days=400))
    mentee = await factory.person(
        team=team, status="onboarding", hire_date=date.today() - timedelta(days=10)
    )
    return lead, team, mentor, mentee


async def test_lead_pairs_a_mentor_and_ends_it_keeping_history(
    client, token_for, factory, db_session
) -> None:
    lead, team, mentor, mentee = await setup(factory)
    headers = token_for(lead, team_ids=[team.id])
    started = await client.post(
        "/v1/mentorships", json={"mentor_id": mentor.id, "mentee_id": mentee.id}, headers=headers
    )
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["active"] is True and body["ended_at"] is None

    second = await client.post(
        "/v1/mentorships", json={"mentor_id": mentor.id, "mentee_id": mentee.id}, headers=headers
    )
    assert second.status_code == 422 and second.json()["rule"] == "one_active_mentor"

    ended = await client.post(
        f"/v1/mentorships/{body['id']}/end", json={"reason": "graduated"}, headers=headers
    )
    assert ended.status_code == 200
    assert ended.json()["active"] is False and ended.json()["end_reason"] == "graduated"
    assert (
        await client.post(f"/v1/mentorships/{body['id']}/end", headers=headers)
    ).status_code == 409
    again = await client.post(
        "/v1/mentorships", json={"mentor_id": mentor.id, "mentee_id": mentee.id}, headers=headers
    )
    assert again.status_code == 201
    history = (
        await client.get("/v1/mentorships", params={"mentee_id": mentee.id}, headers=headers)
    ).json()["items"]
    assert [m["active"] for m in history] == [False, True]
    active = (
        await client.get("/v1/mentorships", params={"active": "true"}, headers=headers)
    ).json()["items"]
    assert [m["id"] for m in active] == [again.json()["id"]]

    rows = await db_session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type.like("roster.mentorship.%"))
        .order_by(OutboxMessage.id)
    )
    events = [orjson.loads(r) for r in rows]
    assert [e["type"] for e in events] == [
        "roster.mentorship.started",
        "roster.mentorship.ended",
        "roster.mentorship.started",
    ]
    assert events[1]["data"]["end_reason"] == "graduated"


async def test_rules_are_named(client, token_for, factory) -> None:
    admin = await factory.person(role="admin")
    junior = await factory.person(hire_date=date.today() - timedelta(days=30))
    veteran_mentee = await factory.person(hire_date=date.today() - timedelta(days=500))
    mentor = await factory.person(hire_date=date.today() - timedelta(days=500))
    headers = token_for(admin)

    async def rule(mentor_id: str, mentee_id: str) -> str:
        response = await client.post(
            "/v1/mentorships",
            json={"mentor_id": mentor_id, "mentee_id": mentee_id},
            headers=headers,
        )
        assert response.status_code == 422
        return response.json()["rule"]

    assert await rule(junior.id, junior.id) == "not_self"
    assert await rule(junior.id, veteran_mentee.id) == "mentor_tenure"
    assert await rule(mentor.id, veteran_mentee.id) == "mentee_eligible"
    assert await rule("nope", junior.id) == "unknown_mentor"
    assert await rule(mentor.id, "nope") == "unknown_mentee"
    missing = await client.post("/v1/mentorships", json={"mentor_id": mentor.id}, headers=headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.mentee_id"


async def test_access(client, token_for, factory) -> None:
    _, team, mentor, mentee = await setup(factory)
    other_lead = await factory.person(role="team_lead")
    other_team = await factory.team(lead=other_lead)
    admin = await factory.person(role="admin")
    created = await client.post(
        "/v1/mentorships",
        json={"mentor_id": mentor.id, "mentee_id": mentee.id},
        headers=token_for(admin),
    )
    mentorship_id = created.json()["id"]
    outsider = token_for(other_lead, team_ids=[other_team.id])
    assert (
        await client.get(f"/v1/mentorships/{mentorship_id}", headers=outsider)
    ).status_code == 404
    assert (
        await client.post(f"/v1/mentorships/{mentorship_id}/end", headers=outsider)
    ).status_code == 404
    assert (
        await client.get(f"/v1/mentorships/{mentorship_id}", headers=token_for(mentee))
    ).status_code == 200
    assert (
        await client.post(f"/v1/mentorships/{mentorship_id}/end", headers=token_for(mentee))
    ).status_code == 403
    assert (await client.get("/v1/mentorships", headers=outsider)).json()["items"] == []
    agent_pairs = await client.post(
        "/v1/mentorships",
        json={"mentor_id": mentor.id, "mentee_id": mentee.id},
        headers=token_for(mentor, team_ids=[team.id]),
    )
    assert agent_pairs.status_code == 403
    assert (await client.get("/v1/mentorships")).status_code == 401
    paged = (
        await client.get("/v1/mentorships", params={"limit": 1}, headers=token_for(admin))
    ).json()
    assert len(paged["items"]) == 1 and paged["next_cursor"] is None
