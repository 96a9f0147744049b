"""People: create, read, list, update, depart; validation, access and the events they emit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from services.roster.db import OutboxMessage
from services.roster.mentorships.models import Mentorship
from services.roster.people import repository as people_repository
from services.roster.people.models import Person
from shared.events import parse_event
from tests.roster.auth.bad_tokens import BAD_AUTH_KINDS, bad_auth_headers


async def outbox_types(db_session) -> list[str]:
    return list(
        await db_session.scalars(select(OutboxMessage.event_type).order_by(OutboxMessage.id))
    )


async def outbox_payloads(db_session, event_type: str) -> list[dict]:
    """The events as a consumer reads them: ``parse_event`` refuses what a consumer could not."""
    rows = await db_session.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type == event_type)
        .order_by(OutboxMessage.id)
    )
    return [parse_event(r).model_dump(mode="json") for r in rows]


def new_person(**overrides) -> dict:
    body = {
        "employee_no": "A1001",
        "name": "Li Na",
        "email": "li.na@example.com",
        "role": "agent",
        "hire_date": "2026-10-01",
        "external_ids": {"asterisk": "Agent/1001"},
        "skills": [{"skill": "billing", "level": 3}],
        "certifications": [{"name": "go_live", "passed_at": "2026-10-20"}],
        "personality_colour": "blue",
    }
    body.update(overrides)
    return body


@pytest.fixture
async def admin(factory):
    return await factory.person(role="admin")


async def test_admin_creates_a_person_and_the_event_is_in_the_outbox(
    client, token_for, admin, factory, db_session
) -> None:
    team = await factory.team()
    response = await client.post(
        "/v1/people", json=new_person(team_id=team.id), headers=token_for(admin)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["employee_no"] == "A1001"
    assert body["status"] == "onboarding"
    assert body["external_ids"] == {"asterisk": "Agent/1001"}
    assert body["skills"] == [{"skill": "billing", "level": 3}]
    assert body["certifications"][0]["name"] == "go_live"
    assert body["personality_colour"] == "blue"
    assert "password_hash" not in body
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert await outbox_types(db_session) == ["roster.person.created", "roster.team.changed"]
    [created] = await outbox_payloads(db_session, "roster.person.created")
    assert created["data"]["person_id"] == body["id"]
    assert created["data"]["external_ids"] == {"asterisk": "Agent/1001"}
    [team_changed] = await outbox_payloads(db_session, "roster.team.changed")
    assert team_changed["data"]["joined"] == [body["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"employee_no": ""}, "body.employee_no"),
        ({"employee_no": "has space"}, "body.employee_no"),
        ({"role": "wizard"}, "body.role"),
        ({"status": "departed"}, "body.status"),
        ({"email": "not-an-email"}, "body.email"),
        ({"skills": [{"skill": "billing", "level": 6}]}, "body.skills.0.level"),
        ({"skills": [{"skill": "x", "level": 1}, {"skill": "x", "level": 2}]}, "body.skills"),
        (
            {
                "certifications": [
                    {"name": "go_live", "passed_at": "2026-10-20", "expires_at": "2026-01-01"}
                ]
            },
            "body.certifications.0",
        ),
        ({"personality_colour": "purple"}, "body.personality_colour"),
        ({"hire_date": "yesterday"}, "body.hire_date"),
    ],
)
async def test_invalid_fields_are_422_naming_the_field(
    client, token_for, admin, db_session, overrides, field
) -> None:
    response = await client.post(
        "/v1/people", json=new_person(**overrides), headers=token_for(admin)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert await outbox_types(db_session) == []


async def test_duplicates_are_409(client, token_for, admin, factory) -> None:
    await factory.person(employee_no="A1001")
    response = await client.post("/v1/people", json=new_person(), headers=token_for(admin))
    assert response.status_code == 409
    other = await client.post(
        "/v1/people", json=new_person(employee_no="A2"), headers=token_for(admin)
    )
    assert other.status_code == 201
    clash = await client.post(
        "/v1/people",
        json=new_person(employee_no="A3", external_ids={"asterisk": "Agent/1001"}),
        headers=token_for(admin),
    )
    assert clash.status_code == 409
    assert clash.json()["source"] == "asterisk"


async def test_unknown_team_is_a_named_rule(client, token_for, admin) -> None:
    response = await client.post(
        "/v1/people", json=new_person(team_id="no-such-team"), headers=token_for(admin)
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "unknown_team"


@pytest.mark.parametrize("kind", BAD_AUTH_KINDS)
async def test_every_endpoint_refuses_bad_credentials_with_401(
    client, roster_settings, factory, db_session, kind
) -> None:
    person = await factory.person()
    headers = bad_auth_headers(roster_settings)[kind]
    calls = [
        ("GET", "/v1/people", None),
        ("POST", "/v1/people", new_person()),
        ("GET", f"/v1/people/{person.id}", None),
        ("PATCH", f"/v1/people/{person.id}", {"name": "X"}),
        ("POST", f"/v1/people/{person.id}/depart", None),
        ("PUT", f"/v1/people/{person.id}/password", {"password": "long enough password"}),
    ]
    for method, url, body in calls:
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 401, (method, url, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"
    assert await outbox_types(db_session) == []


async def test_only_admins_grant_manager_or_admin(client, token_for, factory) -> None:
    manager = await factory.person(role="manager")
    response = await client.post(
        "/v1/people", json=new_person(role="manager"), headers=token_for(manager)
    )
    assert response.status_code == 403
    ok = await client.post("/v1/people", json=new_person(role="qa"), headers=token_for(manager))
    assert ok.status_code == 201


async def test_team_lead_creates_agents_only_in_their_team(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    mine = await factory.team(lead=lead)
    other = await factory.team()
    headers = token_for(lead, team_ids=[mine.id])
    assert (
        await client.post("/v1/people", json=new_person(team_id=mine.id), headers=headers)
    ).status_code == 201
    assert (
        await client.post(
            "/v1/people", json=new_person(employee_no="B2", team_id=other.id), headers=headers
        )
    ).status_code == 403
    assert (
        await client.post(
            "/v1/people",
            json=new_person(employee_no="B3", team_id=mine.id, role="qa"),
            headers=headers,
        )
    ).status_code == 403
    missing_team = await client.post(
        "/v1/people", json=new_person(employee_no="B4"), headers=headers
    )
    assert missing_team.json()["rule"] == "team_required"


async def test_agent_cannot_create(client, token_for, factory) -> None:
    agent = await factory.person()
    response = await client.post("/v1/people", json=new_person(), headers=token_for(agent))
    assert response.status_code == 403


async def test_read_access_matrix(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    other_team = await factory.team()
    agent = await factory.person(team=team, personality_colour="red")
    colleague = await factory.person(team=team)
    stranger = await factory.person(team=other_team)
    ops = await factory.person(role="ops")
    manager = await factory.person(role="manager")

    async def status(viewer, target, team_ids=None) -> int:
        headers = token_for(viewer, team_ids=team_ids or [])
        return (await client.get(f"/v1/people/{target.id}", headers=headers)).status_code

    assert await status(agent, agent, [team.id]) == 200
    assert await status(agent, colleague, [team.id]) == 404
    assert await status(lead, agent, [team.id]) == 200
    assert await status(lead, stranger, [team.id]) == 404
    assert await status(ops, stranger) == 200
    assert await status(manager, stranger) == 200
    assert (
        await client.get("/v1/people/does-not-exist", headers=token_for(manager))
    ).status_code == 404

    own = (await client.get(f"/v1/people/{agent.id}", headers=token_for(agent))).json()
    assert own["personality_colour"] is None  # a team-leader aid, not shown to the agent
    by_lead = await client.get(
        f"/v1/people/{agent.id}", headers=token_for(lead, team_ids=[team.id])
    )
    assert by_lead.json()["personality_colour"] == "red"
    by_ops = await client.get(f"/v1/people/{agent.id}", headers=token_for(ops))
    assert by_ops.json()["personality_colour"] is None


async def test_list_is_scoped_filtered_and_paginated(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    other = await factory.team()
    mine = [await factory.person(team=team) for _ in range(5)]
    await factory.person(team=other)
    headers = token_for(lead, team_ids=[team.id])

    pages: list[list[str]] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/people", params=params, headers=headers)).json()
        pages.append([p["id"] for p in page["items"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted([p.id for p in mine] + [lead.id])  # a lead sees their teams and themself
    assert pages == [expected[0:2], expected[2:4], expected[4:6]]

    admin = await factory.person(role="admin")
    by_role = await client.get("/v1/people", params={"role": "team_lead"}, headers=token_for(admin))
    assert [p["id"] for p in by_role.json()["items"]] == [lead.id]
    by_team = await client.get("/v1/people", params={"team_id": other.id}, headers=token_for(admin))
    assert len(by_team.json()["items"]) == 1

    bad = await client.get("/v1/people", params={"cursor": "%%%"}, headers=headers)
    assert bad.status_code == 422
    too_big = await client.get("/v1/people", params={"limit": 1000}, headers=headers)
    assert too_big.status_code == 422


async def test_agent_lists_only_themself(client, token_for, factory) -> None:
    team = await factory.team()
    agent = await factory.person(team=team)
    await factory.person(team=team)
    page = (await client.get("/v1/people", headers=token_for(agent, team_ids=[team.id]))).json()
    assert [p["id"] for p in page["items"]] == [agent.id]


async def test_patch_changes_fields_and_emits_changed_fields(
    client, token_for, admin, factory, db_session
) -> None:
    team_a = await factory.team()
    team_b = await factory.team()
    person = await factory.person(team=team_a)
    response = await client.patch(
        f"/v1/people/{person.id}",
        json={"name": "New Name", "team_id": team_b.id, "skills": [{"skill": "tech", "level": 5}]},
        headers=token_for(admin),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["team_id"], body["skills"]) == (
        "New Name",
        team_b.id,
        [{"skill": "tech", "level": 5}],
    )
    [updated] = await outbox_payloads(db_session, "roster.person.updated")
    assert updated["data"]["changed_fields"] == ["name", "skills", "team_id"]
    changes = await outbox_payloads(db_session, "roster.team.changed")
    assert [(c["data"]["team_id"], c["data"]["left"], c["data"]["joined"]) for c in changes] == [
        (team_a.id, [person.id], []),
        (team_b.id, [], [person.id]),
    ]


async def test_patch_rules(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person(team=team)
    headers = token_for(lead, team_ids=[team.id])
    assert (
        await client.patch(f"/v1/people/{agent.id}", json={"role": "manager"}, headers=headers)
    ).status_code == 403
    assert (
        await client.patch(f"/v1/people/{agent.id}", json={"name": None}, headers=headers)
    ).json()["rule"] == "name_required"
    assert (
        await client.patch(f"/v1/people/{agent.id}", json={"status": "departed"}, headers=headers)
    ).status_code == 422
    self_edit = await client.patch(
        f"/v1/people/{agent.id}", json={"name": "Me"}, headers=token_for(agent)
    )
    assert self_edit.status_code == 403


async def test_depart_closes_the_record_and_keeps_it(
    client, token_for, admin, factory, db_session
) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person(team=team)
    response = await client.post(
        f"/v1/people/{lead.id}/depart", json={"reason": "moved on"}, headers=token_for(admin)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "departed" and body["departed_at"] is not None
    assert body["departure_reason"] == "moved on"
    assert (await client.get(f"/v1/people/{lead.id}", headers=token_for(admin))).status_code == 200
    again = await client.post(f"/v1/people/{lead.id}/depart", headers=token_for(admin))
    assert again.status_code == 409
    team_now = (await client.get(f"/v1/teams/{team.id}", headers=token_for(admin))).json()
    assert team_now["lead_id"] is None
    assert "roster.person.departed" in await outbox_types(db_session)
    closed = await client.patch(
        f"/v1/people/{lead.id}", json={"name": "x"}, headers=token_for(admin)
    )
    assert closed.json()["rule"] == "person_departed"
    assert agent.team_id == team.id


async def test_set_password_is_admin_only_and_never_returned(
    client, token_for, admin, factory, db_session
) -> None:
    person = await factory.person()
    manager = await factory.person(role="manager")
    body = {"password": "correct horse battery"}
    assert (
        await client.put(f"/v1/people/{person.id}/password", json=body, headers=token_for(manager))
    ).status_code == 403
    short = await client.put(
        f"/v1/people/{person.id}/password", json={"password": "short"}, headers=token_for(admin)
    )
    assert short.status_code == 422
    ok = await client.put(f"/v1/people/{person.id}/password", json=body, headers=token_for(admin))
    assert ok.status_code == 204
    stored = await db_session.scalar(select(Person.password_hash).where(Person.id == person.id))
    assert stored.startswith("$argon2id$")
    read = await client.get(f"/v1/people/{person.id}", headers=token_for(admin))
    assert "argon2" not in read.text


async def test_hire_date_in_future_is_allowed_for_planned_hires(client, token_for, admin) -> None:
    future = (date.today() + timedelta(days=14)).isoformat()
    response = await client.post(
        "/v1/people", json=new_person(hire_date=future), headers=token_for(admin)
    )
    assert response.status_code == 201


async def test_patch_replaces_nested_lists_wholesale(client, token_for, admin) -> None:
    created = (await client.post("/v1/people", json=new_person(), headers=token_for(admin))).json()
    response = await client.patch(
        f"/v1/people/{created['id']}",
        json={
            "external_ids": {"amazon-connect": "4f1c2a"},
            "skills": [{"skill": "retention", "level": 2}, {"skill": "tech", "level": 4}],
            "certifications": [],
        },
        headers=token_for(admin),
    )
    body = response.json()
    assert body["external_ids"] == {"amazon-connect": "4f1c2a"}
    assert body["skills"] == [
        {"skill": "retention", "level": 2},
        {"skill": "tech", "level": 4},
    ]
    assert body["certifications"] == []
    cleared = await client.patch(
        f"/v1/people/{created['id']}", json={"skills": None}, headers=token_for(admin)
    )
    assert cleared.json()["skills"] == []


async def test_patch_that_changes_nothing_emits_nothing(
    client, token_for, admin, db_session
) -> None:
    created = (await client.post("/v1/people", json=new_person(), headers=token_for(admin))).json()
    same = {
        key: new_person()[key]
        for key in ("name", "email", "external_ids", "skills", "certifications")
    }
    response = await client.patch(
        f"/v1/people/{created['id']}", json=same, headers=token_for(admin)
    )
    assert response.status_code == 200
    assert response.json()["updated_at"] == created["updated_at"]
    assert await outbox_types(db_session) == ["roster.person.created"]


async def test_patch_external_id_of_someone_else_is_409_and_changes_nothing(
    client, token_for, admin, factory, db_session
) -> None:
    owner = (await client.post("/v1/people", json=new_person(), headers=token_for(admin))).json()
    other = await factory.person(name="Before")
    response = await client.patch(
        f"/v1/people/{other.id}",
        json={"name": "After", "external_ids": {"asterisk": "Agent/1001"}},
        headers=token_for(admin),
    )
    assert response.status_code == 409
    assert response.json()["source"] == "asterisk"
    assert (await client.get(f"/v1/people/{other.id}", headers=token_for(admin))).json()[
        "name"
    ] == "Before"
    assert await outbox_types(db_session) == ["roster.person.created"]
    assert owner["external_ids"] == {"asterisk": "Agent/1001"}


async def test_a_concurrent_duplicate_is_409_not_500(
    client, token_for, admin, factory, monkeypatch
) -> None:
    await factory.person(employee_no="A1001")

    async def looks_free(session, employee_no: str) -> bool:  # the other request not committed
        return False

    monkeypatch.setattr(people_repository, "employee_no_taken", looks_free)
    response = await client.post("/v1/people", json=new_person(), headers=token_for(admin))
    assert response.status_code == 409


async def test_team_lead_manages_only_the_agents_of_their_teams(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    other_team = await factory.team()
    agent = await factory.person(team=team)
    qa_in_team = await factory.person(team=team, role="qa")
    stranger = await factory.person(team=other_team)
    headers = token_for(lead, team_ids=[team.id])

    ok = await client.patch(f"/v1/people/{agent.id}", json={"status": "on_leave"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["status"] == "on_leave"
    assert (
        await client.patch(f"/v1/people/{qa_in_team.id}", json={"name": "X"}, headers=headers)
    ).status_code == 403
    assert (
        await client.patch(f"/v1/people/{stranger.id}", json={"name": "X"}, headers=headers)
    ).status_code == 404
    away = await client.patch(
        f"/v1/people/{agent.id}", json={"team_id": other_team.id}, headers=headers
    )
    assert away.status_code == 403
    out = await client.patch(f"/v1/people/{agent.id}", json={"team_id": None}, headers=headers)
    assert out.status_code == 422 and out.json()["rule"] == "team_required"


async def test_only_admins_take_away_admin_or_manager_roles(client, token_for, factory) -> None:
    manager = await factory.person(role="manager")
    other_admin = await factory.person(role="admin")
    other_manager = await factory.person(role="manager")
    headers = token_for(manager)
    for target in (other_admin, other_manager):
        demoted = await client.patch(
            f"/v1/people/{target.id}", json={"role": "agent"}, headers=headers
        )
        assert demoted.status_code == 403
    renamed = await client.patch(
        f"/v1/people/{other_manager.id}", json={"name": "Renamed"}, headers=headers
    )
    assert renamed.status_code == 200


async def test_the_last_active_admin_stays(client, token_for, factory) -> None:
    only_admin = await factory.person(role="admin")
    headers = token_for(only_admin)
    demoted = await client.patch(
        f"/v1/people/{only_admin.id}", json={"role": "manager"}, headers=headers
    )
    assert demoted.status_code == 422 and demoted.json()["rule"] == "last_admin"
    departed = await client.post(f"/v1/people/{only_admin.id}/depart", headers=headers)
    assert departed.status_code == 422 and departed.json()["rule"] == "last_admin"

    second_admin = await factory.person(role="admin")
    assert (
        await client.post(f"/v1/people/{second_admin.id}/depart", headers=headers)
    ).status_code == 200


async def test_a_lead_keeps_a_lead_role_while_leading_teams(client, token_for, factory) -> None:
    admin = await factory.person(role="admin")
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    refused = await client.patch(
        f"/v1/people/{lead.id}", json={"role": "agent"}, headers=token_for(admin)
    )
    assert refused.status_code == 422 and refused.json()["rule"] == "leads_teams"
    assert team.id in refused.json()["detail"]
    promoted = await client.patch(
        f"/v1/people/{lead.id}", json={"role": "manager"}, headers=token_for(admin)
    )
    assert promoted.status_code == 200


async def test_who_may_depart_whom(client, token_for, factory) -> None:
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person(team=team)
    colleague = await factory.person(team=team)
    trainer_in_team = await factory.person(team=team, role="trainer")
    manager = await factory.person(role="manager")
    other_manager = await factory.person(role="manager")
    lead_headers = token_for(lead, team_ids=[team.id])

    assert (
        await client.post(f"/v1/people/{agent.id}/depart", headers=token_for(agent))
    ).status_code == 403
    assert (
        await client.post(
            f"/v1/people/{colleague.id}/depart", headers=token_for(agent, team_ids=[team.id])
        )
    ).status_code == 404
    assert (
        await client.post(f"/v1/people/{trainer_in_team.id}/depart", headers=lead_headers)
    ).status_code == 403
    assert (
        await client.post(f"/v1/people/{other_manager.id}/depart", headers=token_for(manager))
    ).status_code == 403
    by_lead = await client.post(
        f"/v1/people/{agent.id}/depart", json={"reason": "resigned"}, headers=lead_headers
    )
    assert by_lead.status_code == 200 and by_lead.json()["status"] == "departed"
    # the departed agent left the team, and with it the lead's view; managers keep the record
    assert (await client.get(f"/v1/people/{agent.id}", headers=lead_headers)).status_code == 404
    kept = await client.get(f"/v1/people/{agent.id}", headers=token_for(manager))
    assert kept.json()["departure_reason"] == "resigned"


async def test_departure_events_and_what_it_closes(
    client, token_for, admin, factory, db_session
) -> None:
    senior = await factory.person(role="team_lead")
    lead = await factory.person(role="team_lead")
    peers = await factory.team(lead=senior)
    led = await factory.team(lead=lead)
    lead.team_id = peers.id
    apprentice = await factory.person(team=led, status="onboarding")
    db_session.add(
        Mentorship(mentor_id=lead.id, mentee_id=apprentice.id, started_at=datetime.now(UTC))
    )
    await db_session.flush()

    response = await client.post(
        f"/v1/people/{lead.id}/depart", json={"reason": "  relocating  "}, headers=token_for(admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["team_id"] is None
    assert response.json()["departure_reason"] == "relocating"
    assert await outbox_types(db_session) == [
        "roster.team.changed",
        "roster.mentorship.ended",
        "roster.person.departed",
        "roster.team.changed",
    ]
    [departed] = await outbox_payloads(db_session, "roster.person.departed")
    assert departed["subject"] == lead.id
    assert departed["data"] | {"hire_date": None} == {
        "person_id": lead.id,
        "employee_no": lead.employee_no,
        "name": lead.name,
        "role": "team_lead",
        "status": "departed",
        "team_id": None,
        "hire_date": None,
        "external_ids": {},
        "changed_fields": ["status", "team_id"],
    }
    lead_removed, member_left = await outbox_payloads(db_session, "roster.team.changed")
    assert (lead_removed["data"]["team_id"], lead_removed["data"]["lead_id"]) == (led.id, None)
    assert (member_left["data"]["team_id"], member_left["data"]["left"]) == (peers.id, [lead.id])
    [ended] = await outbox_payloads(db_session, "roster.mentorship.ended")
    assert ended["data"]["end_reason"] == "departed"

    seen_by_ops = await client.get(
        f"/v1/people/{lead.id}", headers=token_for(await factory.person(role="ops"))
    )
    assert seen_by_ops.json()["departure_reason"] is None


async def test_no_response_ever_carries_a_password_hash(client, token_for, admin, factory) -> None:
    team = await factory.team()
    headers = token_for(admin)
    created = (
        await client.post("/v1/people", json=new_person(team_id=team.id), headers=headers)
    ).json()
    url = f"/v1/people/{created['id']}"
    set_pw = await client.put(
        f"{url}/password", json={"password": "correct horse battery"}, headers=headers
    )
    responses = [
        set_pw,
        await client.get(url, headers=headers),
        await client.get("/v1/people", headers=headers),
        await client.patch(url, json={"name": "Renamed"}, headers=headers),
        await client.get(f"/v1/teams/{team.id}", headers=headers),
        await client.post(f"{url}/depart", headers=headers),
    ]
    for response in responses:
        assert response.status_code in (200, 204), response.text
        assert "argon2" not in response.text and "password" not in response.text


async def test_list_filters_by_status_and_rejects_unknown_values(
    client, token_for, admin, factory
) -> None:
    on_leave = await factory.person(status="on_leave")
    await factory.person(status="active")
    listed = await client.get("/v1/people", params={"status": "on_leave"}, headers=token_for(admin))
    assert [p["id"] for p in listed.json()["items"]] == [on_leave.id]
    for params in ({"status": "retired"}, {"role": "wizard"}, {"limit": 0}):
        bad = await client.get("/v1/people", params=params, headers=token_for(admin))
        assert bad.status_code == 422, params
        assert bad.headers["content-type"] == "application/problem+json"


async def test_created_and_updated_at_are_rfc3339_with_offset(client, token_for, admin) -> None:
    body = (await client.post("/v1/people", json=new_person(), headers=token_for(admin))).json()
    for field in ("created_at", "updated_at"):
        parsed = datetime.fromisoformat(body[field].replace("Z", "+00:00"))
        assert parsed.utcoffset() is not None


async def test_password_rules(client, token_for, admin, factory) -> None:
    person = await factory.person()
    url = f"/v1/people/{person.id}/password"
    nine = await client.put(url, json={"password": "123456789"}, headers=token_for(admin))
    assert nine.status_code == 422 and nine.json()["errors"][0]["field"] == "body.password"
    assert (
        await client.put(url, json={"password": "1234567890"}, headers=token_for(admin))
    ).status_code == 204
    assert (
        await client.put(
            "/v1/people/nobody/password", json={"password": "1234567890"}, headers=token_for(admin)
        )
    ).status_code == 404
