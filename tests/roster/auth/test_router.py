"""Local sign-in: tokens with the right claims, constant-time refusal, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from services.roster.people import passwords
from services.roster.people.models import LoginThrottle
from services.roster.people.passwords import DUMMY_HASH, hash_password
from tests.roster.auth.bad_tokens import BAD_AUTH_KINDS, bad_auth_headers

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


async def test_a_nul_character_in_the_employee_number_is_refused_not_a_crash(client) -> None:
    """Found by fuzzing the gateway: PostgreSQL cannot compare with U+0000, and that was a 500."""
    response = await sign_in(client, "L9\u0000", "not the password")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


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


@pytest.mark.parametrize("kind", BAD_AUTH_KINDS)
async def test_me_refuses_bad_credentials(client, roster_settings, kind) -> None:
    response = await client.get("/v1/auth/me", headers=bad_auth_headers(roster_settings)[kind])
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_leads_own_membership_grants_nothing(client, factory) -> None:
    peers = await factory.team()
    lead = await factory.person(
        role="team_lead", team=peers, employee_no="L10", password_hash=await hash_password(PASSWORD)
    )
    led = await factory.team(lead=lead)
    body = (await sign_in(client, "L10", PASSWORD)).json()
    assert body["team_ids"] == [led.id]


class RecordingHasher(PasswordHasher):
    """Records the hash each verification ran against."""

    verified: list[str]

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.fixture
def recording_hasher(monkeypatch) -> RecordingHasher:
    recorder = RecordingHasher()
    recorder.verified = []
    monkeypatch.setattr(passwords, "hasher", recorder)
    return recorder


async def test_every_refusal_costs_one_full_verification(client, factory, recording_hasher) -> None:
    real_hash = await hash_password(PASSWORD)
    await factory.person(employee_no="NOPW")
    await factory.person(employee_no="GONE", status="departed", password_hash=real_hash)
    await factory.person(employee_no="HERE", password_hash=real_hash)
    for employee_no, password, verified_against in (
        ("nobody", PASSWORD, DUMMY_HASH),
        ("NOPW", PASSWORD, DUMMY_HASH),
        ("GONE", PASSWORD, real_hash),
        ("HERE", "wrong password", real_hash),
    ):
        recording_hasher.verified.clear()
        response = await sign_in(client, employee_no, password)
        assert response.status_code == 401, employee_no
        assert response.json()["detail"] == "Wrong employee number or password."
        assert recording_hasher.verified == [verified_against], employee_no


def test_the_dummy_hash_costs_what_a_real_one_costs() -> None:
    assert not passwords.hasher.check_needs_rehash(DUMMY_HASH)


async def test_a_throttled_attempt_is_refused_before_any_verification(
    client, roster_settings, recording_hasher
) -> None:
    for _ in range(roster_settings.login_max_failures):
        await sign_in(client, "ghost", "guess")
    recording_hasher.verified.clear()
    assert (await sign_in(client, "ghost", "guess")).status_code == 429
    assert recording_hasher.verified == []


async def test_failures_older_than_the_window_start_a_new_count(
    client, lead_with_password, roster_settings, db_session
) -> None:
    for _ in range(roster_settings.login_max_failures - 1):
        await sign_in(client, "L9", "guess")
    throttle = await db_session.get(LoginThrottle, "L9")
    assert (throttle.failures, throttle.locked_until) == (
        roster_settings.login_max_failures - 1,
        None,
    )
    throttle.first_failure_at = datetime.now(UTC) - timedelta(
        seconds=roster_settings.login_lockout_s + 1
    )
    await db_session.flush()
    assert (await sign_in(client, "L9", "guess")).status_code == 401
    await db_session.refresh(throttle)
    assert (throttle.failures, throttle.locked_until) == (1, None)


async def test_the_failure_that_reaches_the_limit_locks_for_the_window(
    client, lead_with_password, roster_settings, db_session
) -> None:
    before = datetime.now(UTC)
    for _ in range(roster_settings.login_max_failures):
        await sign_in(client, "L9", "guess")
    throttle = await db_session.get(LoginThrottle, "L9")
    await db_session.refresh(throttle)
    window = timedelta(seconds=roster_settings.login_lockout_s)
    assert throttle.failures == roster_settings.login_max_failures
    assert before + window <= throttle.locked_until <= datetime.now(UTC) + window


async def test_token_responses_carry_no_secret(client, lead_with_password) -> None:
    response = await sign_in(client, "L9", PASSWORD)
    assert set(response.json()) == {
        "access_token",
        "token_type",
        "expires_in",
        "person_id",
        "role",
        "team_ids",
    }
    assert "argon2" not in response.text
    token = response.json()["access_token"]
    me = await client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert "argon2" not in me.text and "password" not in me.text
