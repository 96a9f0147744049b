"""Local sign-in: tokens with the right claims, constant-time refusal, throttling."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from services.roster.people.models import LoginThrottle
from services.roster.people.passwords import hash_password

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def lead_with_password(factory, db_session):
    lead = await factory.person(
        role="team_lead", employee_no="L9", password_hash=await hash_password(PASSWORD)
    )
    led = await factory.team(lead=lead)
    await factory.team()
    return lead, led


async def sign_in(client, employee_no: str, password: str):
    return await client.post(
        "/v1/auth/token", json={"employee_no": employee_no, "password": password}
    )


async def test_token_carries_role_and_led_teams(
    client, lead_with_password, roster_settings
) -> None:
    lead, led = lead_with_password
    response = await sign_in(client, "L9", PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["team_ids"] == [led.id]
    assert body["expires_in"] == roster_settings.access_token_ttl_s
    claims = jwt.decode(
        body["access_token"],
        roster_settings.jwt_secret.get_secret_value(),
        algorithms=["HS256"],
        issuer="callpulse",
    )
    assert (claims["sub"], claims["role"], claims["team_ids"]) == (lead.id, "team_lead", [led.id])
    me = await client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json() == {"person_id": lead.id, "role": "team_lead", "team_ids": [led.id]}


async def test_agent_token_names_their_own_team(client, factory) -> None:
    team = await factory.team()
    await factory.person(team=team, employee_no="A77", password_hash=await hash_password(PASSWORD))
    body = (await sign_in(client, "A77", PASSWORD)).json()
    assert body["role"] == "agent" and body["team_ids"] == [team.id]


async def test_wrong_password_and_unknown_account_look_the_same(client, lead_with_password) -> None:
    wrong = await sign_in(client, "L9", "not the password")
    unknown = await sign_in(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_no_password_set_and_departed_cannot_sign_in(client, factory) -> None:
    await factory.person(employee_no="NOPW")
    assert (await sign_in(client, "NOPW", PASSWORD)).status_code == 401
    await factory.person(
        employee_no="GONE", status="departed", password_hash=await hash_password(PASSWORD)
    )
    assert (await sign_in(client, "GONE", PASSWORD)).status_code == 401


async def test_repeated_failures_are_throttled_then_reset_by_success(
    client, lead_with_password, roster_settings, db_session
) -> None:
    for _ in range(roster_settings.login_max_failures):
        assert (await sign_in(client, "L9", "guess")).status_code == 401
    throttled = await sign_in(client, "L9", PASSWORD)  # even the right password waits now
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= roster_settings.login_lockout_s
    assert throttled.headers["content-type"] == "application/problem+json"

    throttle = await db_session.get(LoginThrottle, "L9")
    throttle.locked_until = None
    throttle.failures = 1
    await db_session.flush()
    assert (await sign_in(client, "L9", PASSWORD)).status_code == 200
    assert (
        await db_session.scalar(select(LoginThrottle).where(LoginThrottle.employee_no == "L9"))
        is None
    )


async def test_unknown_accounts_are_throttled_too(client, roster_settings) -> None:
    for _ in range(roster_settings.login_max_failures):
        await sign_in(client, "ghost", "guess")
    assert (await sign_in(client, "ghost", "guess")).status_code == 429


@pytest.mark.parametrize(
    "body", [{}, {"employee_no": "x"}, {"password": "x"}, {"employee_no": "", "password": "x"}]
)
async def test_malformed_requests_are_422(client, body) -> None:
    response = await client.post("/v1/auth/token", json=body)
    assert response.status_code == 422


async def test_me_requires_a_token(client) -> None:
    assert (await client.get("/v1/auth/me")).status_code == 401


async def test_a_leads_own_membership_grants_nothing(client, factory) -> None:
    peers = await factory.team()
    lead = await factory.person(
        role="team_lead", team=peers, employee_no="L10", password_hash=await hash_password(PASSWORD)
    )
    led = await factory.team(lead=lead)
    body = (await sign_in(client, "L10", PASSWORD)).json()
    assert body["team_ids"] == [led.id]
